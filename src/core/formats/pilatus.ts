/**
 * Pilatus/Eiger miniCBF: the `_array_data.header_contents` block of `# Key value` lines written
 * by camserver (Dectris' "PILATUS_1.2" convention) gives wavelength, distance, beam centre,
 * oscillation and sensor. Geometry follows DIALS' reading: fast axis +x, slow axis −y, beam
 * along −z, origin = −(beam centre) at the header distance. A few beamline detectors get the
 * special models DIALS gives them (DLS I23 Pilatus 12M barrel, I24 vertical goniometer, I04
 * Eiger 16M multi-axis goniometer).
 */
import type { Beam, Detector, Goniometer, Panel } from '../models/types.js';
import { FileFormatError } from '../errors.js';
import { Vec3 } from '../math/vec3.js';
import type { CbfFile } from './cbf.js';
import { headerContents } from './cbf.js';
import { flatPanelFromBeamCentre, makeBeam, makePanel, moduleGapMask, multiAxisGoniometer, singleAxisGoniometer } from './models.js';
import type { ImageHeader, PanelWindow, ScanPoint } from './header.js';

export interface MiniCbfHeader {
  detector: string;
  serial: string;
  timestamp?: string;
  pixelSizeM: [number, number];
  thicknessM: number;
  /** Sensor material as DIALS names it ('Si', 'CdTe'). */
  material: string;
  exposureTimeS: number;
  countCutoff?: number;
  wavelengthA: number;
  distanceM: number;
  beamXyPx: [number, number];
  startAngleDeg: number;
  angleIncrementDeg: number;
  twoThetaDeg: number;
  /** Every `# Key value` line, key without trailing ':' */
  fields: Map<string, string>;
}

function num(path: string, fields: Map<string, string>, key: string, required = true): number {
  const v = fields.get(key);
  const n = v === undefined ? NaN : parseFloat(v);
  if (!Number.isFinite(n)) {
    if (!required) return NaN;
    throw new FileFormatError(path, `miniCBF header has no valid '${key}'`);
  }
  return n;
}

export function isMiniCbf(cbf: CbfFile): boolean {
  return /#\s*Pixel_size/i.test(headerContents(cbf)) && !cbf.cif.loops.some((l) => l.names.some((n) => n.startsWith('_axis.')));
}

export function parseMiniCbfHeader(path: string, text: string): MiniCbfHeader {
  const fields = new Map<string, string>();
  let timestamp: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*#\s*/, '').trim();
    if (!line) continue;
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(line)) { timestamp = line; continue; }
    const m = /^([A-Za-z_][\w-]*):?\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1])) fields.set(m[1], m[2]);
  }
  const det = fields.get('Detector') ?? '';
  const sn = /S\/N\s*([\w-]+)/.exec(det);
  const px = /([\d.eE+-]+)\s*m\s*x\s*([\d.eE+-]+)\s*m/.exec(fields.get('Pixel_size') ?? '');
  if (!px) throw new FileFormatError(path, "miniCBF header has no valid 'Pixel_size'");
  const sensor = /(\w+)\s+sensor,\s*thickness\s*([\d.eE+-]+)\s*m/.exec(text);
  const bxy = /\(\s*([\d.eE+-]+)\s*,\s*([\d.eE+-]+)\s*\)/.exec(fields.get('Beam_xy') ?? '');
  if (!bxy) throw new FileFormatError(path, "miniCBF header has no valid 'Beam_xy'");
  const cutoff = num(path, fields, 'Count_cutoff', false);
  const tt = num(path, fields, 'Detector_2theta', false);
  const h: MiniCbfHeader = {
    detector: det.split(',')[0].trim(),
    serial: sn ? sn[1] : '',
    timestamp,
    pixelSizeM: [parseFloat(px[1]), parseFloat(px[2])],
    thicknessM: sensor ? parseFloat(sensor[2]) : 0.00032,
    material: !sensor || /^silicon$/i.test(sensor[1]) ? 'Si' : sensor[1],
    exposureTimeS: num(path, fields, 'Exposure_time', false),
    countCutoff: Number.isFinite(cutoff) ? cutoff : undefined,
    wavelengthA: num(path, fields, 'Wavelength'),
    distanceM: num(path, fields, 'Detector_distance'),
    beamXyPx: [parseFloat(bxy[1]), parseFloat(bxy[2])],
    startAngleDeg: num(path, fields, 'Start_angle', false),
    angleIncrementDeg: num(path, fields, 'Angle_increment', false),
    twoThetaDeg: Number.isFinite(tt) ? tt : 0,
    fields,
  };
  if (!(h.pixelSizeM[0] > 0 && h.pixelSizeM[1] > 0)) throw new FileFormatError(path, 'miniCBF pixel size must be positive');
  if (!(h.wavelengthA > 0)) throw new FileFormatError(path, 'miniCBF wavelength must be positive');
  if (!Number.isFinite(h.startAngleDeg)) h.startAngleDeg = 0;
  if (!Number.isFinite(h.angleIncrementDeg)) h.angleIncrementDeg = 0;
  if (!Number.isFinite(h.exposureTimeS)) h.exposureTimeS = 0;
  return h;
}

/** Seconds since 1970 of a camserver timestamp (written without zone; DIALS treats it as UTC). */
export function epochOf(timestamp: string | undefined): number {
  if (!timestamp) return 0;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d(?:\.\d+)?)/.exec(timestamp);
  if (!m) return 0;
  const s = parseFloat(m[6]);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], Math.floor(s));
  return ms / 1000 + (s - Math.floor(s));
}

function headerAngle(h: MiniCbfHeader, key: string): number {
  const v = parseFloat(h.fields.get(key) ?? '');
  return Number.isFinite(v) ? v : 0;
}

/**
 * DLS I23: the Pilatus 12M is 24 rows of modules (195 pixel rows each, 17-row gaps) on a barrel of
 * radius 250 mm around the horizontal (x) axis. Each row is flat and touches the cylinder at its
 * centre; rows follow each other around the barrel by their arc length, and the row holding the
 * header's Beam_xy faces the direct beam. The barrel axis lies the header's Detector_distance
 * downstream of the sample (I23 writes that offset, 10 mm, in place of a distance). As in DIALS'
 * reading, the fast direction runs along −x and row 0 sits below and upstream of the sample; this
 * reproduces DIALS' panel-0 distance to 8e-4 relative (248.53 vs 248.736 mm): the exact survey
 * of the rows is not in the header.
 */
const I23_RADIUS_MM = 250;
const I23_MODULE_ROWS = 195;
const I23_GAP_ROWS = 17;

function i23Barrel(h: MiniCbfHeader, nFast: number, wavelength: number, trusted: [number, number]): Panel[] {
  const [pxF, pxS] = [h.pixelSizeM[0] * 1000, h.pixelSizeM[1] * 1000];
  const axisZ = -h.distanceM * 1000;
  const beamArc = h.beamXyPx[1] * pxS;
  const fast: Vec3 = [-1, 0, 0];
  const panels: Panel[] = [];
  for (let k = 0; k < 24; k++) {
    const firstRow = k * (I23_MODULE_ROWS + I23_GAP_ROWS);
    const centreArc = (firstRow + I23_MODULE_ROWS / 2) * pxS;
    // Angle of the row centre about x, from straight downstream (0) towards −y for rows before the beam.
    const psi = (beamArc - centreArc) / I23_RADIUS_MM;
    const centre: Vec3 = [0, -I23_RADIUS_MM * Math.sin(psi), axisZ - I23_RADIUS_MM * Math.cos(psi)];
    const slow: Vec3 = [0, Math.cos(psi), -Math.sin(psi)];
    const origin = Vec3.add(Vec3.add(centre, Vec3.scale(fast, -h.beamXyPx[0] * pxF)), Vec3.scale(slow, -(I23_MODULE_ROWS / 2) * pxS));
    panels.push(makePanel({
      name: `row-${String(k).padStart(2, '0')}`,
      origin, fastAxis: fast, slowAxis: slow,
      pixelSizeMm: [pxF, pxS], imageSize: [nFast, I23_MODULE_ROWS], trustedRange: trusted,
      thicknessMm: h.thicknessM * 1000, material: h.material, wavelengthA: wavelength, parallax: true,
      mask: moduleGapMask(nFast, I23_MODULE_ROWS),
    }));
  }
  return panels;
}

/** The part of the full 12M image that belongs to each I23 panel. */
export function i23PanelWindows(nFast: number): PanelWindow[] {
  return Array.from({ length: 24 }, (_, k) => ({ x0: 0, y0: k * (I23_MODULE_ROWS + I23_GAP_ROWS), nFast, nSlow: I23_MODULE_ROWS }));
}

/** Models for one miniCBF image. */
export function miniCbfModels(cbf: CbfFile): Omit<ImageHeader, 'path' | 'read'> {
  const h = parseMiniCbfHeader(cbf.path, headerContents(cbf));
  const { nFast, nSlow } = cbf.binary;
  const wavelength = h.wavelengthA;
  const isEiger = /eiger/i.test(h.detector);
  const pixelSizeMm: [number, number] = [h.pixelSizeM[0] * 1000, h.pixelSizeM[1] * 1000];
  let trusted: [number, number] = [-1, h.countCutoff ?? (isEiger ? 65535 : 1e6)];
  const beam: Beam = makeBeam(wavelength);
  let detector: Detector;
  let goniometer: Goniometer = singleAxisGoniometer([1, 0, 0]);
  let format = isEiger ? 'CBFMiniEiger' : 'CBFMiniPilatus';
  const panelWindows = /PILATUS\s*12M/i.test(h.detector) && nSlow === 5071 ? i23PanelWindows(nFast) : undefined;
  if (panelWindows) {
    format = 'CBFMiniPilatusDLS12M';
    // The I23 detector's count cutoff in the header is the rate-corrected limit; DIALS trusts to 1e6.
    trusted = [-1, 1e6];
    detector = { panels: i23Barrel(h, nFast, wavelength, trusted) };
    const alpha = headerAngle(h, 'Alpha') || 50;
    const a = (alpha * Math.PI) / 180;
    goniometer = multiAxisGoniometer(
      [[1, 0, 0], [Math.cos(a), 0, Math.sin(a)], [1, 0, 0]],
      [headerAngle(h, 'Phi'), headerAngle(h, 'Kappa'), h.startAngleDeg],
      ['PHI', 'KAPPA', 'OMEGA'], 2,
    );
  } else {
    const panel = flatPanelFromBeamCentre({
      beamCentreMm: [h.beamXyPx[0] * pixelSizeMm[0], h.beamXyPx[1] * pixelSizeMm[1]],
      distanceMm: h.distanceM * 1000,
      twoThetaDeg: h.twoThetaDeg,
      pixelSizeMm, imageSize: [nFast, nSlow], trustedRange: trusted,
      thicknessMm: h.thicknessM * 1000, material: h.material, wavelengthA: wavelength, parallax: true,
      mask: moduleGapMask(nFast, nSlow),
    });
    detector = { panels: [panel] };
    if (/^60-0119$/.test(h.serial)) {
      // DLS I24's Pilatus 6M S/N 60-0119 sits behind a vertical goniometer.
      format = 'CBFMiniPilatusDLS6MSN119';
      goniometer = singleAxisGoniometer([0, 1, 0]);
    } else if (isEiger && /^160-0001$/.test(h.serial)) {
      // DLS I04 Eiger2 16M: the three-circle (omega, chi, phi) goniometer, scanning omega.
      format = 'CBFMiniEigerDLS16MSN160';
      goniometer = multiAxisGoniometer(
        [[1, 0, 0], [0, 0, 1], [1, 0, 0]],
        [headerAngle(h, 'Phi'), headerAngle(h, 'Chi'), h.startAngleDeg],
        ['PHI', 'CHI', 'OMEGA'], 2,
      );
    }
  }
  // DIALS takes a miniCBF image's exposure from the frame period (shutter-less collection), not the counting time.
  const period = parseFloat(h.fields.get('Exposure_period') ?? '');
  const scan: ScanPoint = {
    oscillation: [h.startAngleDeg, h.angleIncrementDeg],
    exposureTime: Number.isFinite(period) ? period : h.exposureTimeS,
    epoch: epochOf(h.timestamp),
  };
  return { format, beam, detector, goniometer, scan, nImages: 1, panelWindows };
}
