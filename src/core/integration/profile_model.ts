/**
 * The Gaussian reflection-profile model of Kabsch (2010) as DIALS uses it (`gaussian_rs`): in the
 * Kabsch frame a reflection is a Gaussian of width σ_b (beam divergence, ε1 and ε2) and σ_m
 * (reflecting range / mosaicity, ε3). Both are estimated from the strong spots, the way DIALS'
 * "E.S.D. beam divergence" and "E.S.D. reflecting range" do (Kabsch 2010; checked against DIALS
 * 3.12 as a black box: `dials.create_profile_model` on subsets of the simulated sweep's spots,
 * fed the same strong pixels, prints σ_b within 0.1 % and σ_m within 0.1–1 % of these formulas):
 *  - σ_b² = Σ_spots v / (N − 1), with v = Σ c·δ² / Σ c over the spot's strong pixels (raw
 *    counts c) and δ the angle between the pixel's ray and the calculated s1, so δ² = ε1² + ε2²:
 *    σ_b is the RMS *two-dimensional* angular offset, √2 times a one-axis Gaussian width;
 *  - σ_m maximises the likelihood of each spot's counts per frame for a Gaussian rocking curve
 *    of width σ_m in ε3 = ζ·(φ − φ_calc): frame f receives the fraction
 *    P_f = ½[erf(ζ(φ_f+1 − φ)/√2σ_m) − erf(ζ(φ_f − φ)/√2σ_m)], normalised over the spot's own
 *    frames (the spot finder cuts a spot's weak frames, so its total is not known), and
 *    log L = Σ_spots Σ_f C_f·log(P_f / Σ_f P_f).
 * The foreground of a reflection is then the n_sigma·σ_b disc on each frame of its ±n_sigma·σ_m
 * rotation range (see integrator.ts), and its shoebox that region mapped to the detector and scan
 * plus a background margin.
 */
import { epsilon12, pixelOfEpsilon, type KabschFrame, type PanelGeometry } from './kabsch.js';

/**
 * What the strong spots say about σ_b and σ_m, accumulated block by block and concatenated in
 * block order. Spots are grouped into resolution shells only to print how the widths vary with
 * resolution; the profile model itself is one σ_b, σ_m for the experiment, as in DIALS.
 */
export interface SigmaMoments {
  /** per shell: Σ over spots of v = Σ c·(ε1² + ε2²) / Σ c (radians²), and the number of spots */
  sumVarB: Float64Array;
  nSpots: Int32Array;
  /**
   * every spot's counts per frame, flat: shell, |ζ|, φ at the start of its first frame minus the
   * calculated φ (radians), number of frames n, then the n frame sums of its strong pixels
   */
  rocking: number[];
  /** rotation per frame (radians); 0 until a spot is added */
  dPhiRad: number;
}

export function emptyMoments(nShells = 1): SigmaMoments {
  return { sumVarB: new Float64Array(nShells), nSpots: new Int32Array(nShells), rocking: [], dPhiRad: 0 };
}

export function addMoments(a: SigmaMoments, b: SigmaMoments): SigmaMoments {
  const out = emptyMoments(a.sumVarB.length);
  for (let i = 0; i < a.sumVarB.length; i++) { out.sumVarB[i] = a.sumVarB[i] + b.sumVarB[i]; out.nSpots[i] = a.nSpots[i] + b.nSpots[i]; }
  out.rocking = a.rocking.concat(b.rocking);
  out.dPhiRad = a.dPhiRad || b.dPhiRad;
  return out;
}

const R2D = 180 / Math.PI;

/**
 * σ_b, σ_m in degrees from the spots of `shell` (all shells when null); NaN where the spots
 * cannot tell (fewer than 2 spots; no spot recorded on more than one frame).
 */
export function sigmasFromMoments(m: SigmaMoments, shell: number | null = null): { sigmaBDeg: number; sigmaMDeg: number; nSpots: number } {
  let sum = 0, n = 0;
  for (let i = 0; i < m.sumVarB.length; i++) if (shell === null || i === shell) { sum += m.sumVarB[i]; n += m.nSpots[i]; }
  const sigmaB = n > 1 ? Math.sqrt(sum / (n - 1)) : NaN;
  return { sigmaBDeg: sigmaB * R2D, sigmaMDeg: reflectingRange(m, shell) * R2D, nSpots: n };
}

/** log erfc(x) for x ≥ 0 (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7 everywhere). */
function logErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return Math.log(t) - x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
}

/** log(½(erf(b) − erf(a))) for a < b, accurate far in the tails (where 1 − erf underflows). */
export function logHalfErfDiff(a: number, b: number): number {
  if (a >= 0) { const la = logErfc(a), lb = logErfc(b); return la + Math.log1p(-Math.exp(lb - la)) - Math.LN2; }
  if (b <= 0) return logHalfErfDiff(-b, -a);
  // erf(b) − erf(a) = 2 − erfc(b) − erfc(−a)
  return Math.log(1 - 0.5 * (Math.exp(logErfc(b)) + Math.exp(logErfc(-a))));
}

const lp = new Float64Array(4096);

/** log L(σ_m) of the rocking curves (see the file comment). */
function rockingLogLikelihood(m: SigmaMoments, shell: number | null, sigmaRad: number): number {
  const r = m.rocking, d = m.dPhiRad;
  let sum = 0;
  for (let o = 0; o < r.length; o += 4 + r[o + 3]) {
    const n = r[o + 3];
    if (n < 2 || (shell !== null && r[o] !== shell)) continue;
    const k = r[o + 1] / (Math.SQRT2 * sigmaRad), a0 = r[o + 2];
    let top = -Infinity;
    for (let f = 0; f < n && f < lp.length; f++) {
      const a = (a0 + f * d) * k, b = (a0 + (f + 1) * d) * k;
      lp[f] = logHalfErfDiff(Math.min(a, b), Math.max(a, b));
      if (lp[f] > top) top = lp[f];
    }
    let norm = 0;
    for (let f = 0; f < n && f < lp.length; f++) norm += Math.exp(lp[f] - top);
    const logNorm = top + Math.log(norm);
    for (let f = 0; f < n && f < lp.length; f++) sum += r[o + 4 + f] * (lp[f] - logNorm);
  }
  return sum;
}

/** σ_m (radians) of maximum likelihood: golden-section search in log σ over 0.001°–20°. */
function reflectingRange(m: SigmaMoments, shell: number | null): number {
  let informative = 0;
  for (let o = 0; o < m.rocking.length; o += 4 + m.rocking[o + 3]) if (m.rocking[o + 3] >= 2 && (shell === null || m.rocking[o] === shell)) informative++;
  if (informative < 2 || !(m.dPhiRad > 0)) return NaN;
  const g = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(0.001 / R2D), b = Math.log(20 / R2D);
  let c = b - g * (b - a), d = a + g * (b - a);
  let fc = rockingLogLikelihood(m, shell, Math.exp(c)), fd = rockingLogLikelihood(m, shell, Math.exp(d));
  for (let it = 0; it < 60; it++) {
    if (fc > fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = rockingLogLikelihood(m, shell, Math.exp(c)); }
    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = rockingLogLikelihood(m, shell, Math.exp(d)); }
  }
  return Math.exp(0.5 * (a + b));
}

const eps = new Float64Array(2);
/** marks a pixel of a neighbouring spot (real invalid pixels are −1, −2) */
const EXCLUDED = -0x40000000;
const ring: number[] = [];
const frameSums: number[] = [];

/**
 * Add one strong spot. `data` is the spot's shoebox over `box` (x0, x1, y0, y1, z0, z1; pixel and
 * frame coordinates), which extends the spot-finder's bbox `inner` by a margin. The margin's
 * pixels give the local background b (a mean after dropping outliers such as neighbours); the
 * spot's strong pixels are those of `inner` above b + 3√b, the spot finder's criterion for
 * Poisson counts (DIALS keeps the spot finder's own pixel masks; the spot lists handed to
 * integrate here carry none). `phi0Rad`, `dPhiRad`: rotation angle at frame 0 and per frame.
 */
export function addSpotMoments(m: SigmaMoments, shell: number, f: KabschFrame, g: PanelGeometry, box: ArrayLike<number>, inner: ArrayLike<number>, data: Int32Array, phi0Rad: number, dPhiRad: number, others?: ArrayLike<number>): void {
  const x0 = box[0], x1 = box[1], y0 = box[2], y1 = box[3], z0 = box[4], z1 = box[5];
  const nx = x1 - x0, ny = y1 - y0;
  // neighbouring strong spots inside the margin would inflate the background: their
  // spot-finder boxes are marked first
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
  const bg = s / k, strong = bg + 3 * Math.sqrt(bg);
  const za = Math.max(z0, inner[4]), zb = Math.min(z1, inner[5]);
  let sw = 0, swb = 0;
  frameSums.length = 0;
  for (let z = za; z < zb; z++) {
    let fs = 0;
    for (let y = Math.max(y0, inner[2]); y < Math.min(y1, inner[3]); y++) for (let x = Math.max(x0, inner[0]); x < Math.min(x1, inner[1]); x++) {
      const c = data[((z - z0) * ny + (y - y0)) * nx + (x - x0)];
      if (c < 0 && c !== EXCLUDED) return; // a spot touching invalid pixels would be cut short: leave it out
      if (c <= strong) continue;
      epsilon12(f, g, x + 0.5, y + 0.5, eps);
      sw += c; swb += c * (eps[0] * eps[0] + eps[1] * eps[1]); fs += c;
    }
    frameSums.push(fs);
  }
  // a spot whose calculated position is undefined (NaN s1 or φ) or without strong pixels says nothing
  if (!(sw > 0) || !Number.isFinite(swb) || !Number.isFinite(f.zeta) || !Number.isFinite(f.phi)) return;
  // frames without strong pixels at either end are not part of the spot
  let fa = 0, fb = frameSums.length;
  while (fa < fb && frameSums[fa] === 0) fa++;
  while (fb > fa && frameSums[fb - 1] === 0) fb--;
  m.sumVarB[shell] += swb / sw; m.nSpots[shell]++;
  m.dPhiRad = dPhiRad;
  m.rocking.push(shell, Math.abs(f.zeta), phi0Rad + (za + fa) * dPhiRad - f.phi, fb - fa);
  for (let q = fa; q < fb; q++) m.rocking.push(frameSums[q]);
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
