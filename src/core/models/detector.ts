/**
 * Panel and Detector functions: lab geometry of flat detector modules and the pixel ↔ mm mapping.
 *
 * A panel's mm coordinates (x, y) name the point origin + x·fast + y·slow on the sensor's front
 * surface, where a diffracted ray enters. Pixel coordinates name where the photon is detected.
 * With a thick sensor the two differ (parallax): the photon travels on along the ray before it is
 * absorbed, so the recorded position is displaced away from the beam. DIALS' parallax-corrected
 * strategy models the mean distance travelled inside a sensor of thickness t0 (mm) with linear
 * attenuation coefficient μ (1/mm) along a ray at angle θ to the panel normal as
 *   o = 1/μ − (t0/cosθ + 1/μ)·exp(−μ·t0/cosθ)
 * (the mean of the absorption depth along the ray, photons passing straight through counting as
 * zero; Parkhurst et al. 2014, J. Appl. Cryst. 47, 1459), and the detected position is the entry
 * point moved by o along the ray: pixel·size = (x, y) + o·(r̂·fast, r̂·slow). mm → px is
 * therefore explicit and px → mm is solved by fixed-point iteration (|∂o/∂x| ≪ 1 converges in a
 * few steps). The sample sits at the lab origin.
 */
import { Vec3 } from '../math/vec3.js';
import { Mat3 } from '../math/mat3.js';
import type { Detector as DetectorModel, Panel as PanelModel } from './types.js';

export type Panel = PanelModel;
export type Detector = DetectorModel;

/** Scratch for the allocation-free core routines (module-local; JS is single-threaded per worker). */
const scratch = new Float64Array(2);

export namespace Panel {
  export interface CreateOptions {
    fastAxis?: Vec3;
    slowAxis?: Vec3;
    origin: Vec3;
    pixelSize: [number, number];
    imageSize: [number, number];
    trustedRange?: [number, number];
    thickness?: number;
    material?: string;
    mu?: number;
    name?: string;
    type?: string;
    /** Apply DIALS' parallax correction (needs mu > 0 and thickness > 0). */
    parallax?: boolean;
  }

  export function create(o: CreateOptions): Panel {
    const mu = o.mu ?? 0, t0 = o.thickness ?? 0;
    return {
      name: o.name ?? 'Panel',
      type: o.type ?? 'SENSOR_PAD',
      identifier: '',
      fastAxis: Vec3.normalize(o.fastAxis ?? [1, 0, 0]),
      slowAxis: Vec3.normalize(o.slowAxis ?? [0, -1, 0]),
      origin: Vec3.clone(o.origin),
      pixelSize: [o.pixelSize[0], o.pixelSize[1]],
      imageSize: [o.imageSize[0], o.imageSize[1]],
      trustedRange: o.trustedRange ?? [-1, 1e9],
      thickness: t0,
      material: o.material ?? '',
      mu,
      gain: 1,
      pedestal: 0,
      rawImageOffset: [0, 0],
      mask: [],
      pxMmStrategy: o.parallax ? { type: 'ParallaxCorrectedPxMmStrategy', mu, t0 } : { type: 'SimplePxMmStrategy' },
    };
  }

  /** Unit normal fast × slow (DIALS' convention); with fast +x and slow −y it is −z, pointing from the sample to the detector. */
  export function normal(p: Panel): Vec3 {
    return Vec3.normalize(Vec3.cross(p.fastAxis, p.slowAxis));
  }

  /** Signed distance (mm) from the sample to the panel plane along the normal. */
  export function distance(p: Panel): number {
    return Vec3.dot(p.origin, normal(p));
  }

  /** The foot of the perpendicular from the sample on the panel plane, in panel mm. */
  export function normalOriginMm(p: Panel): [number, number] {
    const n = normal(p);
    const foot = Vec3.scale(n, Vec3.dot(p.origin, n));
    const d = Vec3.sub(foot, p.origin);
    return [Vec3.dot(d, p.fastAxis), Vec3.dot(d, p.slowAxis)];
  }

  /** The D matrix columns [fast | slow | origin]: lab = d·(x, y, 1). */
  export function dMatrix(p: Panel): Mat3 {
    return Mat3.fromColumns(p.fastAxis, p.slowAxis, p.origin);
  }

  /** Lab position (mm) of panel point (x_mm, y_mm). */
  export function labCoord(p: Panel, xMm: number, yMm: number): Vec3 {
    const { fastAxis: f, slowAxis: s, origin: o } = p;
    return [o[0] + xMm * f[0] + yMm * s[0], o[1] + xMm * f[1] + yMm * s[1], o[2] + xMm * f[2] + yMm * s[2]];
  }

  /** Panel size in mm [fast, slow]. */
  export function sizeMm(p: Panel): [number, number] {
    return [p.imageSize[0] * p.pixelSize[0], p.imageSize[1] * p.pixelSize[1]];
  }

  /**
   * Where the ray along s1 from the sample meets the panel plane, in panel mm, or null when it
   * runs parallel to or away from the plane. The point may lie outside the panel (isInsideMm).
   */
  export function rayIntersection(p: Panel, s1: Vec3): [number, number] | null {
    return rayIntersectionInto(p, s1[0], s1[1], s1[2], scratch) ? [scratch[0], scratch[1]] : null;
  }

  /** Allocation-free rayIntersection: writes (x_mm, y_mm) into out[0..1]; false when no hit. */
  export function rayIntersectionInto(p: Panel, sx: number, sy: number, sz: number, out: Float64Array | number[]): boolean {
    // Solve s1·λ = origin + x·fast + y·slow with Cramer's rule on the D matrix.
    const { fastAxis: f, slowAxis: s, origin: o } = p;
    const det = f[0] * (s[1] * o[2] - s[2] * o[1]) - s[0] * (f[1] * o[2] - f[2] * o[1]) + o[0] * (f[1] * s[2] - f[2] * s[1]);
    // Components of D⁻¹·s1 (a, b, c): point = s1 / c, x = a / c, y = b / c.
    const a = (sx * (s[1] * o[2] - s[2] * o[1]) - s[0] * (sy * o[2] - sz * o[1]) + o[0] * (sy * s[2] - sz * s[1])) / det;
    const b = (f[0] * (sy * o[2] - sz * o[1]) - sx * (f[1] * o[2] - f[2] * o[1]) + o[0] * (f[1] * sz - f[2] * sy)) / det;
    const c = (f[0] * (s[1] * sz - s[2] * sy) - s[0] * (f[1] * sz - f[2] * sy) + sx * (f[1] * s[2] - f[2] * s[1])) / det;
    if (!(c > 0) || !Number.isFinite(c)) return false;
    out[0] = a / c;
    out[1] = b / c;
    return true;
  }

  export function isInsideMm(p: Panel, xMm: number, yMm: number): boolean {
    return xMm >= 0 && yMm >= 0 && xMm <= p.imageSize[0] * p.pixelSize[0] && yMm <= p.imageSize[1] * p.pixelSize[1];
  }

  export function isInsidePx(p: Panel, xPx: number, yPx: number): boolean {
    return xPx >= 0 && yPx >= 0 && xPx <= p.imageSize[0] && yPx <= p.imageSize[1];
  }

  /** μ (1/mm) and t0 (mm) of the parallax correction, or null when the panel uses none. */
  export function parallaxParameters(p: Panel): { mu: number; t0: number } | null {
    const mu = parallaxMu(p), t0 = parallaxT0(p);
    return mu > 0 && t0 > 0 ? { mu, t0 } : null;
  }

  /** μ of the correction (strategy value, else the panel's); 0 when the panel has no parallax correction. */
  function parallaxMu(p: Panel): number {
    const st = p.pxMmStrategy;
    return st.type === 'ParallaxCorrectedPxMmStrategy' ? st.mu ?? p.mu : 0;
  }

  function parallaxT0(p: Panel): number {
    const st = p.pxMmStrategy;
    return st.type === 'ParallaxCorrectedPxMmStrategy' ? st.t0 ?? p.thickness : 0;
  }

  /**
   * Mean distance (mm) a photon travels inside the sensor along a ray at angle θ to the normal
   * before absorption (zero for those passing through); see the module comment.
   */
  export function attenuationLength(mu: number, t0: number, cosTheta: number): number {
    const path = t0 / cosTheta;
    return 1 / mu - (path + 1 / mu) * Math.exp(-mu * path);
  }

  /** Writes the parallax shift (mm, fast and slow) of the entry point (x, y) into out. */
  function parallaxShiftInto(p: Panel, mu: number, t0: number, x: number, y: number, out: Float64Array | number[]): void {
    const { fastAxis: f, slowAxis: s, origin: o } = p;
    const lx = o[0] + x * f[0] + y * s[0], ly = o[1] + x * f[1] + y * s[1], lz = o[2] + x * f[2] + y * s[2];
    const len = Math.hypot(lx, ly, lz);
    // normal = fast × slow
    const nx = f[1] * s[2] - f[2] * s[1], ny = f[2] * s[0] - f[0] * s[2], nz = f[0] * s[1] - f[1] * s[0];
    const cosTheta = Math.abs(lx * nx + ly * ny + lz * nz) / (len * Math.hypot(nx, ny, nz));
    const o2 = attenuationLength(mu, t0, cosTheta);
    out[0] = (o2 * (lx * f[0] + ly * f[1] + lz * f[2])) / len;
    out[1] = (o2 * (lx * s[0] + ly * s[1] + lz * s[2])) / len;
  }

  /** Allocation-free mm → px; writes into out[0..1]. */
  export function mmToPixelInto(p: Panel, xMm: number, yMm: number, out: Float64Array | number[]): void {
    const mu = parallaxMu(p), t0 = parallaxT0(p);
    let x = xMm, y = yMm;
    if (mu > 0 && t0 > 0) {
      parallaxShiftInto(p, mu, t0, xMm, yMm, out);
      x += out[0];
      y += out[1];
    }
    out[0] = x / p.pixelSize[0];
    out[1] = y / p.pixelSize[1];
  }

  /** Allocation-free px → mm; writes into out[0..1]. */
  export function pixelToMmInto(p: Panel, xPx: number, yPx: number, out: Float64Array | number[]): void {
    const xd = xPx * p.pixelSize[0], yd = yPx * p.pixelSize[1];
    const mu = parallaxMu(p), t0 = parallaxT0(p);
    if (!(mu > 0 && t0 > 0)) { out[0] = xd; out[1] = yd; return; }
    let x = xd, y = yd;
    for (let it = 0; it < 50; it++) {
      parallaxShiftInto(p, mu, t0, x, y, out);
      const nx = xd - out[0], ny = yd - out[1];
      const done = Math.abs(nx - x) < 1e-12 && Math.abs(ny - y) < 1e-12;
      x = nx; y = ny;
      if (done) break;
    }
    out[0] = x;
    out[1] = y;
  }

  /** Pixel coordinates (fast, slow) → panel mm (ray entry point), parallax-corrected if the panel says so. */
  export function pixelToMm(p: Panel, xy: readonly [number, number] | readonly number[]): [number, number] {
    const out: [number, number] = [0, 0];
    pixelToMmInto(p, xy[0], xy[1], out);
    return out;
  }

  export function mmToPixel(p: Panel, xy: readonly [number, number] | readonly number[]): [number, number] {
    const out: [number, number] = [0, 0];
    mmToPixelInto(p, xy[0], xy[1], out);
    return out;
  }

  /** Lab position (mm) of the ray entry point recorded at pixel (x, y). */
  export function pixelToLab(p: Panel, xPx: number, yPx: number): Vec3 {
    const [x, y] = pixelToMm(p, [xPx, yPx]);
    return labCoord(p, x, y);
  }
}

export namespace Detector {
  export function create(panels: Panel[]): Detector {
    if (panels.length === 0) throw new RangeError('a detector needs at least one panel');
    return { panels };
  }

  export function numPanels(d: Detector): number {
    return d.panels.length;
  }

  /**
   * The panel the ray along s1 hits and where (mm), or null when it misses every panel. Panels
   * are tried in order; for the nearest-hit rule of overlapping panels the first listed wins,
   * as panels in real detectors do not overlap.
   */
  export function panelForRay(d: Detector, s1: Vec3): { panel: number; xyMm: [number, number] } | null {
    for (let i = 0; i < d.panels.length; i++) {
      const p = d.panels[i];
      if (Panel.rayIntersectionInto(p, s1[0], s1[1], s1[2], scratch) && Panel.isInsideMm(p, scratch[0], scratch[1])) {
        return { panel: i, xyMm: [scratch[0], scratch[1]] };
      }
    }
    return null;
  }

  /** Distance (mm) of panel i (default 0) from the sample along its normal. */
  export function distance(d: Detector, panel = 0): number {
    return Panel.distance(d.panels[panel]);
  }

  export function normal(d: Detector, panel = 0): Vec3 {
    return Panel.normal(d.panels[panel]);
  }
}
