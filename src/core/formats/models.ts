/**
 * Building blocks for the models a format reader returns: DIALS' defaults for beams, panels and
 * goniometers, sensor attenuation, and the module-gap masks of Pilatus/Eiger detectors.
 */
import type { Beam, Detector, Goniometer, Panel } from '../models/types.js';
import { Mat3 } from '../math/mat3.js';
import { Beam as BeamFns, Goniometer as GoniometerFns, Panel as PanelFns } from '../models/index.js';
import { Vec3 } from '../math/vec3.js';

/** Electron wavelengths are ~0.02–0.04 Å; X-ray MX never goes below ~0.2 Å. */
export function probeOf(wavelengthA: number): 'x-ray' | 'electron' {
  return wavelengthA < 0.1 ? 'electron' : 'x-ray';
}

export function makeBeam(wavelength: number, opts: Partial<Beam> = {}): Beam {
  const electron = probeOf(wavelength) === 'electron';
  return {
    direction: [0, 0, 1],
    wavelength,
    divergence: 0,
    sigmaDivergence: 0,
    polarizationNormal: [0, 1, 0],
    // Synchrotron X-rays are almost fully polarised in the horizontal plane; electrons are not.
    polarizationFraction: electron ? 0.5 : 0.999,
    flux: 0,
    transmission: 1,
    probe: electron ? 'electron' : 'x-ray',
    ...opts,
  };
}

export function singleAxisGoniometer(axis: Vec3 = [1, 0, 0]): Goniometer {
  return GoniometerFns.create({ rotationAxis: Vec3.normalize(axis) });
}

/**
 * A multi-axis goniometer from axes listed innermost (nearest the sample) first, as DIALS'
 * MultiAxisGoniometer stores them: the axes inside the scan axis make the fixed rotation F,
 * those outside it the setting rotation S, so a crystal vector maps to S·R(axis, φ)·F·v.
 */
export function multiAxisGoniometer(axes: Vec3[], anglesDeg: number[], names: string[], scanAxis: number): Goniometer {
  return GoniometerFns.fromMultiAxis(axes, anglesDeg, names, scanAxis);
}

/**
 * Silicon mass attenuation coefficient μ/ρ (cm²/g, total with coherent scattering) above the K
 * edge, from the NIST X-ray attenuation tables; interpolated log–log. Reproduces DIALS' sensor
 * μ to < 0.1 % at 12.7 and 18 keV.
 */
const SI_MU_RHO: [number, number][] = [
  [2, 2777], [3, 978.4], [4, 452.9], [5, 245.0], [6, 147.0], [8, 64.68], [10, 33.89], [15, 10.34],
  [20, 4.464], [30, 1.436], [40, 0.7012], [50, 0.4385], [60, 0.3207], [80, 0.2228], [100, 0.1835],
  [150, 0.1448], [200, 0.1275],
];
const DENSITY: Record<string, number> = { Si: 2.33 };

/** Linear attenuation coefficient (1/mm) of the sensor material for X-rays; 0 for electrons or unknown materials. */
export function sensorMu(material: string, wavelengthA: number): number {
  if (material !== 'Si' || probeOf(wavelengthA) === 'electron' || !(wavelengthA > 0)) return 0;
  const keV = 12.398419843320026 / wavelengthA;
  const t = SI_MU_RHO;
  let k = 0;
  while (k < t.length - 2 && keV > t[k + 1][0]) k++;
  const [e0, m0] = t[k], [e1, m1] = t[k + 1];
  const slope = Math.log(m1 / m0) / Math.log(e1 / e0);
  const muRho = m0 * Math.exp(slope * Math.log(keV / e0));
  return (muRho * DENSITY[material]) / 10;
}

/** Known module layouts: module width/height and gap in pixels, fast and slow. */
const MODULE_LAYOUTS = [
  { name: 'Pilatus', w: 487, h: 195, gx: 7, gy: 17 },
  { name: 'Eiger', w: 1030, h: 514, gx: 10, gy: 37 },
  { name: 'Eiger2', w: 1028, h: 512, gx: 12, gy: 38 },
];

/** Inter-module gap rectangles [x0, y0, x1, y1) (DIALS' panel mask) for a tiled Pilatus/Eiger image. */
export function moduleGapMask(nFast: number, nSlow: number): [number, number, number, number][] {
  for (const m of MODULE_LAYOUTS) {
    const nx = (nFast + m.gx) / (m.w + m.gx);
    const ny = (nSlow + m.gy) / (m.h + m.gy);
    if (!Number.isInteger(nx) || !Number.isInteger(ny)) continue;
    const mask: [number, number, number, number][] = [];
    for (let i = 1; i < nx; i++) { const x0 = i * m.w + (i - 1) * m.gx; mask.push([x0, 0, x0 + m.gx, nSlow]); }
    for (let j = 1; j < ny; j++) { const y0 = j * m.h + (j - 1) * m.gy; mask.push([0, y0, nFast, y0 + m.gy]); }
    return mask;
  }
  return [];
}

export interface PanelSpec {
  name?: string;
  origin: Vec3;
  fastAxis: Vec3;
  slowAxis: Vec3;
  pixelSizeMm: [number, number];
  imageSize: [number, number];
  trustedRange: [number, number];
  thicknessMm: number;
  material?: string;
  wavelengthA: number;
  mask?: [number, number, number, number][];
  /** Use parallax correction (X-ray pixel-array detectors) rather than the simple px↔mm map. */
  parallax?: boolean;
  identifier?: string;
}

export function makePanel(s: PanelSpec): Panel {
  const material = s.material ?? 'Si';
  const mu = sensorMu(material, s.wavelengthA);
  return {
    name: s.name ?? 'Panel',
    type: 'SENSOR_PAD',
    identifier: s.identifier ?? '',
    fastAxis: Vec3.normalize(s.fastAxis),
    slowAxis: Vec3.normalize(s.slowAxis),
    origin: s.origin,
    pixelSize: s.pixelSizeMm,
    imageSize: s.imageSize,
    trustedRange: s.trustedRange,
    thickness: s.thicknessMm,
    material,
    mu,
    gain: 1,
    pedestal: 0,
    rawImageOffset: [0, 0],
    mask: s.mask ?? [],
    pxMmStrategy: s.parallax ? { type: 'ParallaxCorrectedPxMmStrategy' } : { type: 'SimplePxMmStrategy' },
  };
}

/**
 * A flat panel from the usual header numbers: beam centre (mm, fast/slow from the corner of
 * pixel 0,0), distance along the normal, optional 2θ rotation of the whole detector about the
 * rotation (x) axis. Pixel-array convention: fast = +x, slow = −y, detector at −z.
 */
export function flatPanelFromBeamCentre(
  spec: Omit<PanelSpec, 'origin' | 'fastAxis' | 'slowAxis'> & { beamCentreMm: [number, number]; distanceMm: number; twoThetaDeg?: number; fastAxis?: Vec3; slowAxis?: Vec3 },
): Panel {
  const fast: Vec3 = spec.fastAxis ?? [1, 0, 0];
  const slow: Vec3 = spec.slowAxis ?? [0, -1, 0];
  const normal = Vec3.cross(fast, slow);
  let origin = Vec3.add(Vec3.scale(normal, spec.distanceMm), Vec3.add(Vec3.scale(fast, -spec.beamCentreMm[0]), Vec3.scale(slow, -spec.beamCentreMm[1])));
  let f = fast, s = slow;
  if (spec.twoThetaDeg) {
    const r = Mat3.rotation([1, 0, 0], (spec.twoThetaDeg * Math.PI) / 180);
    origin = Mat3.mulVec(r, origin); f = Mat3.mulVec(r, f); s = Mat3.mulVec(r, s);
  }
  return makePanel({ ...spec, origin, fastAxis: f, slowAxis: s });
}

export function singlePanelDetector(panel: Panel): Detector {
  return { panels: [panel] };
}

/**
 * DIALS' detector hierarchy for panels that all hang from one root group (what dials.import writes
 * for single- and multi-panel detectors without a survey hierarchy).
 */
export function flatHierarchy(nPanels: number): Record<string, unknown> {
  return {
    name: '', type: '',
    fast_axis: [1, 0, 0], slow_axis: [0, 1, 0], origin: [0, 0, 0],
    raw_image_offset: [0, 0], image_size: [0, 0], pixel_size: [0, 0], trusted_range: [0, 0],
    thickness: 0, material: '', mu: 0, identifier: '', mask: [], gain: 1, pedestal: 0,
    px_mm_strategy: { type: 'SimplePxMmStrategy' },
    children: Array.from({ length: nPanels }, (_, i) => ({ panel: i })),
  };
}
