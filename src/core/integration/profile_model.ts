/**
 * The Gaussian reflection-profile model of Kabsch (2010) as DIALS uses it (`gaussian_rs`): in the
 * Kabsch frame a reflection is a Gaussian of width σ_b (beam divergence, ε1 and ε2) and σ_m
 * (reflecting range / mosaicity, ε3). Both are estimated from the strong spots' pixels: each
 * spot's background-subtracted counts weight the squared ε of its pixels about the predicted
 * centre, pooled over all spots (an intensity-weighted second moment, so weak noisy spots count
 * for little). The shoebox of a reflection is then ±n_sigma·σ in each ε, mapped to the detector
 * and the scan.
 */
import { epsilon12, pixelOfEpsilon, type KabschFrame, type PanelGeometry } from './kabsch.js';

/**
 * σ_b here is the width along each of ε1 and ε2, which is what the foreground ellipsoid uses.
 * DIALS' σ_b is the RMS of the two-dimensional offset (ε1, ε2), √2 × that width: its printed
 * value, its parameter `sigma_b` and the `gaussian_rs` profile in .expt files. Every interface
 * (parameters, log, integrated.expt, figures) speaks DIALS' σ_b, so values pass between the
 * programs unchanged; only the numerics use the per-axis width.
 */
export function sigmaBToDials(perAxisDeg: number): number {
  return perAxisDeg * Math.SQRT2;
}

export function sigmaBFromDials(dialsDeg: number): number {
  return dialsDeg / Math.SQRT2;
}

/**
 * Pooled moments, per resolution shell of the strong spots: the reflection profile of real
 * crystals is not the same size everywhere (a finite domain size, for one, broadens every
 * reciprocal-lattice point by the same Δr*, which is a wider rotation at low resolution), so
 * σ_b and σ_m are estimated per shell and interpolated in 1/d² for each reflection.
 */
export interface SigmaMoments {
  /** Σ w, Σ w·(ε1² + ε2²)/2, Σ w·ε3² over pixels of the spots of each shell (radians²). */
  sumW: Float64Array;
  sumWb: Float64Array;
  sumWm: Float64Array;
  nSpots: Int32Array;
}

export function emptyMoments(nShells = 1): SigmaMoments {
  return { sumW: new Float64Array(nShells), sumWb: new Float64Array(nShells), sumWm: new Float64Array(nShells), nSpots: new Int32Array(nShells) };
}

export function addMoments(a: SigmaMoments, b: SigmaMoments): SigmaMoments {
  const out = emptyMoments(a.sumW.length);
  for (let i = 0; i < a.sumW.length; i++) {
    out.sumW[i] = a.sumW[i] + b.sumW[i]; out.sumWb[i] = a.sumWb[i] + b.sumWb[i];
    out.sumWm[i] = a.sumWm[i] + b.sumWm[i]; out.nSpots[i] = a.nSpots[i] + b.nSpots[i];
  }
  return out;
}

/** σ_b, σ_m in degrees pooled over all shells (the figure DIALS prints). */
export function sigmasFromMoments(m: SigmaMoments): { sigmaBDeg: number; sigmaMDeg: number; nSpots: number } {
  const r = 180 / Math.PI, sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
  return { sigmaBDeg: Math.sqrt(sum(m.sumWb) / sum(m.sumW)) * r, sigmaMDeg: Math.sqrt(sum(m.sumWm) / sum(m.sumW)) * r, nSpots: sum(m.nSpots) };
}

/** σ_b and σ_m (degrees) of each shell; shells without spots borrow the pooled values. */
export function sigmasByShell(m: SigmaMoments): { sigmaBDeg: number[]; sigmaMDeg: number[] } {
  const all = sigmasFromMoments(m), r = 180 / Math.PI;
  const b: number[] = [], s: number[] = [];
  for (let i = 0; i < m.sumW.length; i++) {
    const ok = m.nSpots[i] >= 10 && m.sumW[i] > 0 && m.sumWb[i] > 0 && m.sumWm[i] > 0;
    b.push(ok ? Math.sqrt(m.sumWb[i] / m.sumW[i]) * r : all.sigmaBDeg);
    s.push(ok ? Math.sqrt(m.sumWm[i] / m.sumW[i]) * r : all.sigmaMDeg);
  }
  return { sigmaBDeg: b, sigmaMDeg: s };
}

/**
 * A profile width model: σ at shell centres (in 1/d²), linearly interpolated between them in σ²
 * and held constant beyond the first and last centre. One shell = a constant model.
 */
export interface SigmaModel {
  /** shell centres in 1/d² (Å⁻²), increasing */
  s2: number[];
  sigmaBDeg: number[];
  sigmaMDeg: number[];
}

export function sigmaAt(model: SigmaModel, dSpacing: number, out: Float64Array): void {
  const x = 1 / (dSpacing * dSpacing), c = model.s2, n = c.length;
  if (n === 1 || x <= c[0]) { out[0] = model.sigmaBDeg[0]; out[1] = model.sigmaMDeg[0]; return; }
  if (x >= c[n - 1]) { out[0] = model.sigmaBDeg[n - 1]; out[1] = model.sigmaMDeg[n - 1]; return; }
  let i = 0;
  while (x > c[i + 1]) i++;
  const t = (x - c[i]) / (c[i + 1] - c[i]);
  out[0] = Math.sqrt(model.sigmaBDeg[i] ** 2 * (1 - t) + model.sigmaBDeg[i + 1] ** 2 * t);
  out[1] = Math.sqrt(model.sigmaMDeg[i] ** 2 * (1 - t) + model.sigmaMDeg[i + 1] ** 2 * t);
}

const eps = new Float64Array(2);
/** marks a pixel of a neighbouring spot (real invalid pixels are −1, −2) */
const EXCLUDED = -0x40000000;
const ring: number[] = [];

/**
 * Add one strong spot to the moments. `data` is the spot's shoebox over `box` (x0, x1, y0, y1, z0,
 * z1; pixel and frame coordinates), which extends the spot-finder's bbox `inner` by a margin: the
 * margin's pixels give the background level (a mean after dropping outliers such as neighbours),
 * the whole box gives the moments, so the profile's tails are not cut at the threshold.
 * `phiOfFrame(z)` is the rotation angle (radians) at frame coordinate z.
 */
export function addSpotMoments(m: SigmaMoments, shell: number, f: KabschFrame, g: PanelGeometry, box: ArrayLike<number>, inner: ArrayLike<number>, data: Int32Array, phi0Rad: number, dPhiRad: number, others?: ArrayLike<number>): void {
  const x0 = box[0], x1 = box[1], y0 = box[2], y1 = box[3], z0 = box[4], z1 = box[5];
  const nx = x1 - x0, ny = y1 - y0;
  // neighbouring strong spots inside the margin would inflate both the background and the
  // moments: their spot-finder boxes are marked invalid first
  if (others) {
    for (let q = 0; q + 5 < others.length; q += 6) {
      for (let z = Math.max(z0, others[q + 4]); z < Math.min(z1, others[q + 5]); z++)
        for (let y = Math.max(y0, others[q + 2]); y < Math.min(y1, others[q + 3]); y++)
          for (let x = Math.max(x0, others[q]); x < Math.min(x1, others[q + 1]); x++) {
            const inside = x >= inner[0] && x < inner[1] && y >= inner[2] && y < inner[3] && z >= inner[4] && z < inner[5];
            if (!inside) data[((z - z0) * ny + (y - y0)) * nx + (x - x0)] = EXCLUDED;
          }
    }
  }
  ring.length = 0;
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const inside = x >= inner[0] && x < inner[1] && y >= inner[2] && y < inner[3] && z >= inner[4] && z < inner[5];
    if (inside) continue;
    const c = data[((z - z0) * ny + (y - y0)) * nx + (x - x0)];
    if (c >= 0) ring.push(c);
  }
  if (ring.length < 10) return;
  ring.sort((a, b) => a - b);
  const median = ring[ring.length >> 1];
  const cut = median + 4 * Math.sqrt(median + 1);
  let s = 0, k = 0;
  for (const c of ring) if (c <= cut) { s += c; k++; }
  const bg = s / k;
  let sw = 0, swb = 0, swm = 0;
  for (let z = z0; z < z1; z++) {
    const e3 = f.zeta * (phi0Rad + (z + 0.5) * dPhiRad - f.phi);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
      const c = data[((z - z0) * ny + (y - y0)) * nx + (x - x0)];
      if (c === EXCLUDED) continue;
      if (c < 0) return; // a spot touching invalid pixels would bias the moments: leave it out
      const w = c - bg;
      epsilon12(f, g, x + 0.5, y + 0.5, eps);
      sw += w;
      swb += w * 0.5 * (eps[0] * eps[0] + eps[1] * eps[1]);
      swm += w * e3 * e3;
    }
  }
  // a spot whose calculated position is undefined (NaN s1 or φ) or whose signal is all noise says nothing
  if (!(sw > 0) || !Number.isFinite(swb) || !Number.isFinite(swm)) return;
  m.sumW[shell] += sw; m.sumWb[shell] += swb; m.sumWm[shell] += swm; m.nSpots[shell]++;
}

const corner = new Float64Array(2);

/**
 * Detector/scan bounding box (x0, x1, y0, y1, z0, z1; pixels and frames, unclipped) of the region
 * |ε1|, |ε2| ≤ δb, |ε3| ≤ δm around a reflection; false when a corner misses the panel plane.
 * `frameOfPhi` maps radians to frame coordinates.
 */
export function boundingBox(f: KabschFrame, Dinv: ArrayLike<number>, pixelSize: readonly [number, number], deltaB: number, deltaM: number, phi0Rad: number, dPhiRad: number, out: Int32Array, o: number): boolean {
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (let i = -1; i <= 1; i += 2) for (let j = -1; j <= 1; j += 2) {
    if (!pixelOfEpsilon(f, Dinv, pixelSize, i * deltaB, j * deltaB, corner)) return false;
    xmin = Math.min(xmin, corner[0]); xmax = Math.max(xmax, corner[0]);
    ymin = Math.min(ymin, corner[1]); ymax = Math.max(ymax, corner[1]);
  }
  const za = (f.phi - deltaM / Math.abs(f.zeta) - phi0Rad) / dPhiRad, zb = (f.phi + deltaM / Math.abs(f.zeta) - phi0Rad) / dPhiRad;
  out[o] = Math.floor(xmin); out[o + 1] = Math.ceil(xmax);
  out[o + 2] = Math.floor(ymin); out[o + 3] = Math.ceil(ymax);
  out[o + 4] = Math.floor(Math.min(za, zb)); out[o + 5] = Math.ceil(Math.max(za, zb));
  return true;
}

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1, a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/**
 * Fraction of a reflection's Gaussian rocking curve (ε3 of width σ_m) recorded between rotation
 * angles phiA and phiB (radians): DIALS' `partiality`.
 */
export function partiality(f: KabschFrame, sigmaMRad: number, phiA: number, phiB: number): number {
  const k = Math.abs(f.zeta) / (Math.SQRT2 * sigmaMRad);
  const a = Math.min(phiA, phiB), b = Math.max(phiA, phiB);
  return 0.5 * (erf((b - f.phi) * k) - erf((a - f.phi) * k));
}
