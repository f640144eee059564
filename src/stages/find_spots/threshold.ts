/**
 * Strong-pixel thresholds on one detector panel: the dispersion (index-of-dispersion) test, its
 * two-pass "extended" variant (DIALS' default), and a plain global threshold.
 *
 * The dispersion test asks, for every pixel, whether the counts in the surrounding kernel look
 * like Poisson background: for Poisson counts the variance equals gain·mean, so a window whose
 * variance/mean ratio exceeds gain·(1 + σ_b·√(2/(n−1))) holds signal, and a pixel in it is strong
 * when it also exceeds mean + σ_s·√(gain·mean).
 *
 * Window sums come from a running summed-area scheme: vertical column sums updated as the window
 * slides down (add the entering row, subtract the leaving one) and a 1-row prefix sum across them.
 * Cost per pixel is constant whatever the kernel size, and because counts are integers every
 * partial sum is an exact integer in a double (rows of squared counts stay far below 2⁵³), so
 * the result does not depend on image size or the order of summation.
 */
import { ParameterError } from '../../core/errors.js';

export type ThresholdAlgorithm = 'dispersion' | 'dispersion_extended' | 'global';

export const THRESHOLD_ALGORITHMS: readonly ThresholdAlgorithm[] = ['dispersion', 'dispersion_extended', 'global'];

export interface ThresholdParams {
  algorithm: ThresholdAlgorithm;
  /** Half-widths [fast, slow] of the kernel: 3,3 is a 7×7 window. */
  kernelSize: [number, number];
  /** Detector gain (variance/mean of pure background); 1 for photon counters. */
  gain: number;
  sigmaBackground: number;
  sigmaStrong: number;
  /** Minimum valid pixels under the kernel; ≤ 0 means all of the kernel. */
  minLocal: number;
  /** Pixels must also exceed this many counts. For `global` it is the only test. */
  globalThreshold: number;
}

export const DEFAULT_THRESHOLD: ThresholdParams = {
  algorithm: 'dispersion_extended',
  kernelSize: [3, 3],
  gain: 1,
  sigmaBackground: 6,
  sigmaStrong: 3,
  minLocal: 2,
  globalThreshold: 0,
};

export function checkThresholdParams(p: ThresholdParams): void {
  if (!THRESHOLD_ALGORITHMS.includes(p.algorithm)) {
    throw new ParameterError(`threshold.algorithm=${p.algorithm}: expected one of ${THRESHOLD_ALGORITHMS.join(', ')}`);
  }
  if (p.kernelSize.length !== 2 || p.kernelSize.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new ParameterError(`kernel_size=${p.kernelSize.join(',')}: expected two integers ≥ 1`);
  }
  if (!(p.gain > 0)) throw new ParameterError(`gain=${p.gain}: must be > 0`);
}

/**
 * Scratch buffers for one panel size, reused image after image so the hot loops allocate nothing.
 */
export class ThresholdWorkspace {
  readonly colN: Float64Array;
  readonly colS: Float64Array;
  readonly colSS: Float64Array;
  readonly preN: Float64Array;
  readonly preS: Float64Array;
  readonly preSS: Float64Array;
  /** Per-pixel flags for the extended algorithm's first pass and the background it leaves. */
  readonly signal: Uint8Array;
  readonly core: Uint8Array;
  readonly background: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    this.colN = new Float64Array(width);
    this.colS = new Float64Array(width);
    this.colSS = new Float64Array(width);
    this.preN = new Float64Array(width + 1);
    this.preS = new Float64Array(width + 1);
    this.preSS = new Float64Array(width + 1);
    this.signal = new Uint8Array(width * height);
    this.core = new Uint8Array(width * height);
    this.background = new Uint8Array(width * height);
  }
}

/** Called once per image row with the prefix sums of the kernel's column sums for that row. */
type RowVisitor = (y: number, preN: Float64Array, preS: Float64Array, preSS: Float64Array) => void;

/**
 * Slide a (2kx+1)×(2ky+1) window (clipped at the edges) over the pixels with include[i] ≠ 0 and
 * hand each row's prefix sums to `visit`; the window sum for column x is
 * pre[min(x+kx+1, w)] − pre[max(x−kx, 0)].
 */
function slideWindow(image: ArrayLike<number>, include: Uint8Array, w: number, h: number, kx: number, ky: number,
  ws: ThresholdWorkspace, visit: RowVisitor, squares = true): void {
  const { colN, colS, colSS, preN, preS, preSS } = ws;
  colN.fill(0); colS.fill(0); colSS.fill(0);
  const addRow = (y: number, sign: number) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      if (include[o + x] !== 0) {
        const v = image[o + x];
        colN[x] += sign;
        colS[x] += sign * v;
        if (squares) colSS[x] += sign * v * v;
      }
    }
  };
  for (let y = 0; y < Math.min(ky, h); y++) addRow(y, 1);
  for (let y = 0; y < h; y++) {
    const enter = y + ky;
    if (enter < h) addRow(enter, 1);
    const leave = y - ky - 1;
    if (leave >= 0) addRow(leave, -1);
    preN[0] = 0; preS[0] = 0; preSS[0] = 0;
    for (let x = 0; x < w; x++) {
      preN[x + 1] = preN[x] + colN[x];
      preS[x + 1] = preS[x] + colS[x];
      preSS[x + 1] = preSS[x] + colSS[x];
    }
    visit(y, preN, preS, preSS);
  }
}

/**
 * Classify the pixels of one panel. `mask[i] ≠ 0` marks pixels that may be used (trusted,
 * unmasked); `out[i]` is set to 1 for strong pixels, 0 otherwise. Returns the number of strong pixels.
 */
export function thresholdPanel(image: ArrayLike<number>, mask: Uint8Array, w: number, h: number,
  p: ThresholdParams, out: Uint8Array, ws: ThresholdWorkspace): number {
  if (ws.width !== w || ws.height !== h) throw new Error(`workspace is ${ws.width}×${ws.height}, panel ${w}×${h}`);
  out.fill(0, 0, w * h);
  switch (p.algorithm) {
    case 'global': return globalThreshold(image, mask, w * h, p.globalThreshold, out);
    case 'dispersion': return dispersion(image, mask, w, h, p, out, ws);
    case 'dispersion_extended': return dispersionExtended(image, mask, w, h, p, out, ws);
    default: throw new ParameterError(`threshold.algorithm=${String(p.algorithm)}: unknown algorithm`);
  }
}

function globalThreshold(image: ArrayLike<number>, mask: Uint8Array, n: number, t: number, out: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0 && image[i] > t) { out[i] = 1; count++; }
  }
  return count;
}

function requiredLocal(p: ThresholdParams, kx: number, ky: number): number {
  const full = (2 * kx + 1) * (2 * ky + 1);
  return Math.max(2, p.minLocal > 0 ? Math.min(p.minLocal, full) : full);
}

function dispersion(image: ArrayLike<number>, mask: Uint8Array, w: number, h: number, p: ThresholdParams,
  out: Uint8Array, ws: ThresholdWorkspace): number {
  const [kx, ky] = p.kernelSize;
  const nMin = requiredLocal(p, kx, ky);
  const { gain, sigmaBackground: sb, sigmaStrong: ss, globalThreshold: gt } = p;
  let count = 0;
  slideWindow(image, mask, w, h, kx, ky, ws, (y, preN, preS, preSS) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const i = o + x;
      if (mask[i] === 0) continue;
      const hi = x + kx + 1 < w ? x + kx + 1 : w;
      const lo = x - kx > 0 ? x - kx : 0;
      const n = preN[hi] - preN[lo];
      if (n < nMin) continue;
      const s = preS[hi] - preS[lo];
      if (s <= 0) continue;
      const sq = preSS[hi] - preSS[lo];
      const mean = s / n;
      const variance = (n * sq - s * s) / (n * (n - 1));
      const v = image[i];
      if (variance / mean > gain * (1 + sb * Math.sqrt(2 / (n - 1))) &&
          v > mean + ss * Math.sqrt(gain * mean) && v > gt) {
        out[i] = 1;
        count++;
      }
    }
  });
  return count;
}

/**
 * Two passes. The dispersion test alone flags every window that touches a spot, i.e. the spot grown
 * by the kernel; eroding that region by the kernel half-width leaves the spot itself. The local
 * background is then the mean of the remaining (non-signal) pixels in a slightly larger window,
 * so bright neighbours no longer inflate it, and a pixel of the eroded region is strong when it
 * exceeds that background by σ_s standard deviations. Deep inside a large blob the window may hold
 * no background at all; the background is then 0 and the pixel counts as strong (DIALS keeps such
 * blobs whole, e.g. the 714-pixel direct-beam halo on the Timepix 512 test image).
 */
function dispersionExtended(image: ArrayLike<number>, mask: Uint8Array, w: number, h: number, p: ThresholdParams,
  out: Uint8Array, ws: ThresholdWorkspace): number {
  const [kx, ky] = p.kernelSize;
  const nMin = requiredLocal(p, kx, ky);
  const { gain, sigmaBackground: sb, sigmaStrong: ss, globalThreshold: gt } = p;
  const { signal, core, background } = ws;
  const npx = w * h;
  signal.fill(0, 0, npx);
  // Pass 1: windows whose counts are over-dispersed.
  slideWindow(image, mask, w, h, kx, ky, ws, (y, preN, preS, preSS) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const i = o + x;
      if (mask[i] === 0) continue;
      const hi = x + kx + 1 < w ? x + kx + 1 : w;
      const lo = x - kx > 0 ? x - kx : 0;
      const n = preN[hi] - preN[lo];
      if (n < nMin) continue;
      const s = preS[hi] - preS[lo];
      if (s <= 0) continue;
      const sq = preSS[hi] - preSS[lo];
      const mean = s / n;
      const variance = (n * sq - s * s) / (n * (n - 1));
      if (variance / mean > gain * (1 + sb * Math.sqrt(2 / (n - 1)))) signal[i] = 1;
    }
  });
  // Erosion: keep a signal pixel only if no in-image pixel within the erosion half-widths is
  // non-signal (masked pixels count as non-signal; the image border does not erode).
  const ex = EXTENDED.erodeHalfWidth(kx), ey = EXTENDED.erodeHalfWidth(ky);
  for (let i = 0; i < npx; i++) background[i] = signal[i] === 0 ? 1 : 0;
  core.fill(0, 0, npx);
  slideWindow(signal, background, w, h, ex, ey, ws, (y, preN) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const i = o + x;
      if (signal[i] === 0) continue;
      const hi = x + ex + 1 < w ? x + ex + 1 : w;
      const lo = x - ex > 0 ? x - ex : 0;
      if (preN[hi] - preN[lo] === 0) core[i] = 1;
    }
  }, false);
  // Pass 2: background = usable pixels outside the eroded signal, in an enlarged kernel.
  for (let i = 0; i < npx; i++) background[i] = mask[i] !== 0 && core[i] === 0 ? 1 : 0;
  const bx = EXTENDED.backgroundHalfWidth(kx), by = EXTENDED.backgroundHalfWidth(ky);
  let count = 0;
  slideWindow(image, background, w, h, bx, by, ws, (y, preN, preS) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const i = o + x;
      if (core[i] === 0) continue;
      const hi = x + bx + 1 < w ? x + bx + 1 : w;
      const lo = x - bx > 0 ? x - bx : 0;
      const n = preN[hi] - preN[lo];
      const mean = n > 0 ? (preS[hi] - preS[lo]) / n : 0;
      const v = image[i];
      if (v > mean + ss * Math.sqrt(gain * (mean > 0 ? mean : 0)) && v > gt) {
        out[i] = 1;
        count++;
      }
    }
  }, false);
  return count;
}

/**
 * The extended algorithm's geometry. DIALS documents it as "erode by half the kernel size, expand
 * the kernel slightly"; these readings (erosion half-width ⌈k/2⌉, background half-width k+2,
 * masked pixels eroding, the image border not) reproduce DIALS 3.12's per-image strong-pixel
 * counts on the simulated lysozyme sweep to within 0.05 % (e.g. 21 227 vs 21 229 on image 1), where
 * the nearest alternatives are 0.3–30 % off.
 */
export const EXTENDED = {
  erodeHalfWidth: (k: number): number => Math.ceil(k / 2),
  backgroundHalfWidth: (k: number): number => k + 2,
} as const;
