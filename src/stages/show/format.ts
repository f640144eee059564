/**
 * Text for experiment models in the layout `dials.show` uses, so a crystallographer can compare
 * the two outputs line by line: vectors as {x,y,z} with C++ stream formatting (6 significant
 * digits), cells to 3 decimals, U/B/A matrices to 4.
 */
import type { Mat3 } from '../../core/math/mat3.js';
import { Beam } from '../../core/models/beam.js';
import { Detector, Panel } from '../../core/models/detector.js';
import { Goniometer } from '../../core/models/goniometer.js';
import { Scan } from '../../core/models/scan.js';
import { Crystal } from '../../core/models/crystal.js';
import type { Experiment, ImageSetRef } from '../../core/models/types.js';
import { beamCentre } from '../../core/geometry/beam_centre.js';
import { maxResolutionAtCorners, maxResolutionInscribed } from '../../core/geometry/resolution.js';
import { SpaceGroup } from '../../core/symmetry/index.js';

/** A number as a C++ ostream prints it by default (%g with 6 significant digits). */
export function g6(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const ev = Number(e);
    return `${mant}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export function braces(v: readonly number[]): string {
  return `{${v.map(g6).join(',')}}`;
}

function matrixRows(m: Mat3, label: string): string[] {
  const cell = (x: number) => {
    const s = x.toFixed(4);
    return s.startsWith('-') ? s : ' ' + s;
  };
  const rows = [0, 1, 2].map((r) => `{${cell(m[3 * r])}, ${cell(m[3 * r + 1])}, ${cell(m[3 * r + 2])}}`);
  const pad = ' '.repeat(label.length + 1);
  return [`${label} {${rows[0]},`, `${pad} ${rows[1]},`, `${pad} ${rows[2]}}`];
}

export function formatPanel(p: Panel): string[] {
  const lines = [
    'Panel:',
    `  name: ${p.name}`,
    `  type: ${p.type}`,
    `  identifier: ${p.identifier}`,
    `  pixel_size:${braces(p.pixelSize)}`,
    `  image_size: ${braces(p.imageSize)}`,
    `  trusted_range: ${braces(p.trustedRange)}`,
    `  thickness: ${g6(p.thickness)}`,
    `  material: ${p.material}`,
    `  mu: ${g6(p.mu)}`,
    `  gain: ${g6(p.gain)}`,
    `  pedestal: ${g6(p.pedestal)}`,
    `  fast_axis: ${braces(p.fastAxis)}`,
    `  slow_axis: ${braces(p.slowAxis)}`,
    `  origin: ${braces(p.origin)}`,
    `  distance: ${g6(Panel.distance(p))}`,
    `  pixel to millimeter strategy: ${p.pxMmStrategy.type}`,
  ];
  const par = Panel.parallaxParameters(p);
  if (par) lines.push(`    mu: ${g6(par.mu)}`, `    t0: ${g6(par.t0)}`);
  return lines;
}

export function formatDetector(d: Detector, beam?: Beam): string[] {
  const lines = ['Detector:'];
  for (const p of d.panels) lines.push(...formatPanel(p), '');
  if (beam) {
    lines.push(`Max resolution (at corners): ${maxResolutionAtCorners(d, beam).toFixed(6)}`);
    const inscribed = maxResolutionInscribed(d, beam);
    lines.push(`Max resolution (inscribed):  ${Number.isFinite(inscribed) ? inscribed.toFixed(6) : 'none (beam centre off the detector)'}`);
  }
  return lines;
}

export function formatBeam(b: Beam): string[] {
  const lines = ['Beam:'];
  if (b.probe !== undefined) lines.push(`    probe: ${b.probe}`);
  lines.push(
    `    wavelength: ${g6(b.wavelength)}`,
    `    sample to source direction : ${braces(b.direction)}`,
    `    divergence: ${g6(b.divergence)}`,
    `    sigma divergence: ${g6(b.sigmaDivergence)}`,
    `    polarization normal: ${braces(b.polarizationNormal)}`,
    `    polarization fraction: ${g6(b.polarizationFraction)}`,
    `    flux: ${g6(b.flux)}`,
    `    transmission: ${g6(b.transmission)}`,
  );
  return lines;
}

export function formatBeamCentre(d: Detector, b: Beam): string[] {
  const bc = beamCentre(d, b);
  if (!bc) return ['Beam centre: the beam does not meet any panel plane'];
  const where = d.panels.length > 1 ? ` (panel ${bc.panel}${bc.onPanel ? '' : ', outside its area'})` : bc.onPanel ? '' : ' (outside the panel)';
  return [
    `Beam centre${where}:`,
    `    mm: (${bc.xyMm[0].toFixed(2)},${bc.xyMm[1].toFixed(2)})`,
    `    px: (${bc.xyPx[0].toFixed(2)},${bc.xyPx[1].toFixed(2)})`,
  ];
}

export function formatScan(s: Scan): string[] {
  const lines = [
    'Scan:',
    `    number of images:   ${Scan.numImages(s)}`,
    `    image range:   ${braces(s.imageRange)}`,
  ];
  if (s.batchOffset) lines.push(`    batch offset: ${s.batchOffset}`);
  lines.push(`    oscillation:   ${braces(s.oscillation)}`);
  if (s.exposureTimes.length > 0) {
    const first = s.exposureTimes[0];
    const uniform = s.exposureTimes.every((t) => t === first);
    lines.push(`    exposure time: ${uniform ? g6(first) : `${g6(Math.min(...s.exposureTimes))}–${g6(Math.max(...s.exposureTimes))}`}`);
  }
  return lines;
}

export function formatGoniometer(g: Goniometer): string[] {
  const lines = [
    'Goniometer:',
    `    Rotation axis:   ${braces(Goniometer.labRotationAxis(g))}`,
    `    Fixed rotation:  ${braces(g.fixedRotation)}`,
    `    Setting rotation:${braces(g.settingRotation)}`,
  ];
  if (g.axes && g.names && g.angles) {
    g.axes.forEach((a, i) => lines.push(`    Axis #${i} (${g.names![i]}): ${braces(a)}`));
    lines.push(`    Angles: ${g.angles.map(g6).join(',')}`);
    if (g.scanAxis !== undefined) lines.push(`    scan axis: #${g.scanAxis} (${g.names[g.scanAxis]})`);
  }
  return lines;
}

export function spaceGroupName(hall: string): string {
  try {
    return SpaceGroup.fromHall(hall).hm;
  } catch {
    return `Hall '${hall.trim()}'`;
  }
}

const cellText = (cell: readonly number[]) => cell.map((x) => x.toFixed(3)).join(', ');

/**
 * A value with its standard uncertainty in crystallographers' notation, 38.2094(7): as many
 * decimals as it takes for the uncertainty to reach 2 in units of the last digit, so it shows
 * as one digit from 2 to 9 and two digits below that (0.00018 → (18), as DIALS prints it).
 */
export function withEsd(value: number, esd: number): string {
  if (!(esd > 0) || !Number.isFinite(esd)) return String(value);
  let d = 0;
  while (esd * 10 ** d < 2 && d < 12) d++;
  return `${value.toFixed(d)}(${Math.round(esd * 10 ** d)})`;
}

/** The cell, with standard uncertainties when the crystal carries a B covariance (as dials.show). */
export function cellWithEsdText(c: Crystal): string {
  const cell = Crystal.unitCell(c);
  const esd = Crystal.unitCellEsd(c);
  // Parameters fixed by symmetry come out with an uncertainty of rounding noise: print them plainly.
  return esd ? cell.map((x, i) => (esd[i] > 1e-9 ? withEsd(x, esd[i]) : x.toFixed(3))).join(', ') : cellText(cell);
}

export function formatCrystal(c: Crystal, opts: { scanVarying?: boolean } = {}): string[] {
  const lines = [
    'Crystal:',
    `    Unit cell: ${cellWithEsdText(c)}`,
    `    Space group: ${spaceGroupName(c.spaceGroupHall)}`,
    ...matrixRows(Crystal.U(c), '    U matrix: '),
    ...matrixRows(Crystal.B(c), '    B matrix: '),
    ...matrixRows(Crystal.A(c), '    A = UB:   '),
  ];
  if (c.mosaicity !== undefined) lines.push(`    Mosaicity:  ${c.mosaicity.toFixed(6)}`);
  const n = Crystal.numScanPoints(c);
  if (n > 0) {
    lines.push(`    A sampled at ${n} scan points`);
    if (opts.scanVarying) {
      for (let i = 0; i < n; i++) lines.push(`      Cell at scan point ${i}: ${cellText(Crystal.unitCell(Crystal.fromA(Crystal.AAtScanPoint(c, i))))}`);
    }
  }
  return lines;
}

function imagesetLine(s: ImageSetRef): string {
  if (s.template !== undefined) return `Image template: ${s.template}`;
  if (s.images && s.images.length > 0) return `Images: ${s.images[0]}${s.images.length > 1 ? ` … (${s.images.length} files)` : ''}`;
  return `Image set: ${s.kind}`;
}

/** Every model of one experiment, as dials.show prints an experiment. */
export function formatExperiment(e: Experiment, index: number, opts: { scanVarying?: boolean } = {}): string {
  const lines = [`Experiment ${index}:`, `Experiment identifier: ${e.identifier}`];
  if (e.imageset) lines.push(imagesetLine(e.imageset));
  if (e.detector) lines.push(...formatDetector(e.detector, e.beam), '');
  if (e.beam) lines.push(...formatBeam(e.beam), '');
  if (e.detector && e.beam) lines.push(...formatBeamCentre(e.detector, e.beam), '');
  if (e.scan) lines.push(...formatScan(e.scan), '');
  if (e.goniometer) lines.push(...formatGoniometer(e.goniometer), '');
  if (e.crystal) lines.push(...formatCrystal(e.crystal, opts), '');
  return lines.join('\n');
}

