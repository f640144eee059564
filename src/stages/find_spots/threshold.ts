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
  /**
   * Column sums over the kernel's rows (usable-pixel count, Σv, Σv²), with zero padding on both
   * sides so the horizontal window never needs a bounds test; grown on demand for wide kernels.
   */
  col: Float64Array;
  /** Per-pixel flags for the extended algorithm's first pass and its eroded core. */
  readonly signal: Uint8Array;
  readonly core: Uint8Array;
  /** Dispersion cut-off times (n − 1) for every possible n, filled per call. */
  cut: Float64Array;

  constructor(readonly width: number, readonly height: number) {
    this.col = new Float64Array(3 * (width + 16));
    this.signal = new Uint8Array(width * height);
    this.core = new Uint8Array(width * height);
    this.cut = new Float64Array(64);
  }

  private holeCounts: Int32Array | null = null;
  private prefix: Float64Array | null = null;

  /** Per-pixel hole counts for the dense erosion (allocated on first use). */
  holes(): Int32Array {
    if (!this.holeCounts) this.holeCounts = new Int32Array(this.width * this.height);
    return this.holeCounts;
  }

  /** Row prefix sums (count, Σv) for the dense background pass (allocated on first use). */
  rowPrefix(): Float64Array {
    if (!this.prefix) this.prefix = new Float64Array(2 * (this.width + 1));
    return this.prefix;
  }

  /** Column arrays with room for `pad` zero columns on the left and right. */
  columns(pad: number): void {
    const need = this.width + 2 * pad + 1;
    if (this.col.length < 3 * need) this.col = new Float64Array(3 * need);
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
    case 'dispersion': return dispersionPass(image, mask, w, h, p, out, ws, true);
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

/**
 * Add (sign = 1) or remove (sign = −1) row y's usable pixels from the column sums. Columns are
 * interleaved (count, Σv, Σv²) so one column's three sums share a cache line; column x at x + off.
 */
function addRow(image: ArrayLike<number>, include: Uint8Array, w: number, y: number, sign: number, off: number, col: Float64Array): void {
  const o = y * w;
  for (let x = 0; x < w; x++) {
    if (include[o + x] !== 0) {
      const v = image[o + x];
      const c = 3 * (x + off);
      col[c] += sign;
      col[c + 1] += sign * v;
      col[c + 2] += sign * v * v;
    }
  }
}

/** Add row `enter` and remove row `leave` in one sweep (the window sliding down by one row). */
function swapRows(image: ArrayLike<number>, include: Uint8Array, w: number, enter: number, leave: number, off: number, col: Float64Array): void {
  const oe = enter * w, ol = leave * w;
  for (let x = 0; x < w; x++) {
    const ie = include[oe + x] !== 0 ? 1 : 0, il = include[ol + x] !== 0 ? 1 : 0;
    if ((ie | il) === 0) continue;
    const ve = ie !== 0 ? image[oe + x] : 0, vl = il !== 0 ? image[ol + x] : 0;
    const c = 3 * (x + off);
    col[c] += ie - il;
    col[c + 1] += ve - vl;
    col[c + 2] += ve * ve - vl * vl;
  }
}

/**
 * The dispersion test over the whole panel. With `strongTest` it is DIALS' `dispersion`
 * algorithm (also requiring v > mean + σ_s·√(gain·mean) and v > global threshold); without, it
 * only marks over-dispersed windows (the extended algorithm's first pass).
 *
 * Var/mean > gain·(1 + σ_b·√(2/(n−1))) with var = (nΣv² − (Σv)²)/(n(n−1)) and mean = Σv/n is
 * tested as nΣv² − (Σv)² > cut[n]·Σv, cut[n] = gain·(1 + σ_b·√(2/(n−1)))·(n−1): no division or
 * square root per pixel. The horizontal window sums run along the row (add the entering column,
 * subtract the leaving one), exact because every sum is an integer.
 */
function dispersionPass(image: ArrayLike<number>, mask: Uint8Array, w: number, h: number, p: ThresholdParams,
  out: Uint8Array, ws: ThresholdWorkspace, strongTest: boolean): number {
  const [kx, ky] = p.kernelSize;
  const nMin = requiredLocal(p, kx, ky);
  const { gain, sigmaBackground: sb, sigmaStrong: ss, globalThreshold: gt } = p;
  const area = (2 * kx + 1) * (2 * ky + 1);
  if (ws.cut.length <= area) ws.cut = new Float64Array(area + 1);
  const cut = ws.cut;
  for (let n = 2; n <= area; n++) cut[n] = gain * (1 + sb * Math.sqrt(2 / (n - 1))) * (n - 1);
  // Column x lives at x + off; columns −kx−1 … −1 and w … w+kx−1 stay zero.
  const off = kx + 1;
  ws.columns(off);
  const col = ws.col;
  col.fill(0);
  for (let y = 0; y < Math.min(ky, h); y++) addRow(image, mask, w, y, 1, off, col);
  let count = 0;
  for (let y = 0; y < h; y++) {
    if (y + ky < h && y - ky - 1 >= 0) swapRows(image, mask, w, y + ky, y - ky - 1, off, col);
    else if (y + ky < h) addRow(image, mask, w, y + ky, 1, off, col);
    else if (y - ky - 1 >= 0) addRow(image, mask, w, y - ky - 1, -1, off, col);
    // Window of x = −1: columns −kx−1 … kx−1.
    let n = 0, s = 0, sq = 0;
    for (let c = 0; c < 2 * kx + 1; c++) { n += col[3 * c]; s += col[3 * c + 1]; sq += col[3 * c + 2]; }
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const enter = 3 * (x + kx + off), leave = 3 * (x - kx - 1 + off);
      n += col[enter] - col[leave];
      s += col[enter + 1] - col[leave + 1];
      sq += col[enter + 2] - col[leave + 2];
      const i = o + x;
      if (mask[i] === 0 || n < nMin || s <= 0) continue;
      if (n * sq - s * s <= cut[n] * s) continue;
      if (strongTest) {
        const v = image[i];
        const mean = s / n;
        if (!(v > mean + ss * Math.sqrt(gain * mean) && v > gt)) continue;
      }
      out[i] = 1;
      count++;
    }
  }
  return count;
}

/**
 * Two passes. The dispersion test alone flags every window that touches a spot, i.e. the spot grown
 * by the kernel; eroding that region leaves the spot itself. The local background is then the mean
 * of the remaining (non-signal) usable pixels in a slightly larger window, so bright neighbours no
 * longer inflate it, and a pixel of the eroded region is strong when it exceeds that background by
 * σ_s standard deviations (v ≥ mean + σ_s·√(gain·mean): with "≥" rather than ">" the per-image
 * strong-pixel counts equal DIALS 3.12's on all 120 images of the simulated sweep). Deep inside a
 * large blob the window may hold no background at all; the background is then 0 and the pixel
 * counts as strong (DIALS keeps such blobs whole, e.g. the 714-pixel direct-beam halo on the
 * Timepix 512 test image).
 *
 * Erosion and background sums each have two exact implementations: a sparse one that visits only
 * signal/core pixels (sliding a window along each run; fastest for the default kernel, where
 * those pixels are a few % of the panel) and a dense one with running sums whose cost does not
 * depend on the kernel size, used when the window is large.
 */
function dispersionExtended(image: ArrayLike<number>, mask: Uint8Array, w: number, h: number, p: ThresholdParams,
  out: Uint8Array, ws: ThresholdWorkspace): number {
  const [kx, ky] = p.kernelSize;
  const { signal, core } = ws;
  signal.fill(0, 0, w * h);
  if (dispersionPass(image, mask, w, h, p, signal, ws, false) === 0) return 0;
  const ex = EXTENDED.erodeHalfWidth(kx), ey = EXTENDED.erodeHalfWidth(ky);
  if ((2 * ex + 1) * (2 * ey + 1) <= SPARSE_MAX_EROSION) erodeSparse(signal, core, w, h, ex, ey);
  else erodeDense(signal, core, w, h, ex, ey, ws);
  const bx = EXTENDED.backgroundHalfWidth(kx), by = EXTENDED.backgroundHalfWidth(ky);
  return (2 * bx + 1) * (2 * by + 1) <= SPARSE_MAX_BACKGROUND
    ? strongOverBackgroundSparse(image, mask, core, w, h, bx, by, p, out)
    : strongOverBackgroundDense(image, mask, core, w, h, bx, by, p, out, ws);
}

/**
 * Largest windows (pixels) for which the sparse run-sliding variants are used: the default kernel's
 * 5×5 erosion and 11×11 background. Signal pixels are several times more numerous than core
 * pixels, hence the smaller limit for erosion (measured on the simulated sweep: sparse is faster
 * up to these sizes, dense beyond).
 */
const SPARSE_MAX_EROSION = 25;
const SPARSE_MAX_BACKGROUND = 121;

/** The pixel test of the second pass, shared by both variants. */
function strongOver(v: number, n: number, sum: number, p: ThresholdParams): boolean {
  const mean = n > 0 ? sum / n : 0;
  return v >= mean + p.sigmaStrong * Math.sqrt(p.gain * mean) && v > p.globalThreshold;
}

/**
 * Background = usable pixels outside the core within (bx, by). Core pixels come in runs along
 * rows: each run sums its first window directly and then slides it (add the entering column,
 * drop the leaving one).
 */
function strongOverBackgroundSparse(image: ArrayLike<number>, mask: Uint8Array, core: Uint8Array, w: number, h: number,
  bx: number, by: number, p: ThresholdParams, out: Uint8Array): number {
  let count = 0;
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const y0 = y - by > 0 ? y - by : 0, y1 = y + by < h ? y + by : h - 1;
    let x = 0;
    while (x < w) {
      if (core[o + x] === 0) { x++; continue; }
      let n = 0, sum = 0;
      const x0 = x - bx > 0 ? x - bx : 0, x1 = x + bx < w ? x + bx : w - 1;
      for (let yy = y0; yy <= y1; yy++) {
        const r = yy * w;
        for (let xx = x0; xx <= x1; xx++) {
          const j = r + xx;
          if (mask[j] !== 0 && core[j] === 0) { n++; sum += image[j]; }
        }
      }
      for (;;) {
        if (strongOver(image[o + x], n, sum, p)) { out[o + x] = 1; count++; }
        x++;
        if (x >= w || core[o + x] === 0) break;
        const enter = x + bx, leave = x - bx - 1;
        for (let yy = y0; yy <= y1; yy++) {
          const r = yy * w;
          if (enter < w) { const j = r + enter; if (mask[j] !== 0 && core[j] === 0) { n++; sum += image[j]; } }
          if (leave >= 0) { const j = r + leave; if (mask[j] !== 0 && core[j] === 0) { n--; sum -= image[j]; } }
        }
      }
    }
  }
  return count;
}

/**
 * The same sums from running column sums (updated as the window slides down) and, on rows that
 * hold core pixels, a prefix sum along the row: constant cost per pixel for any window size.
 */
function strongOverBackgroundDense(image: ArrayLike<number>, mask: Uint8Array, core: Uint8Array, w: number, h: number,
  bx: number, by: number, p: ThresholdParams, out: Uint8Array, ws: ThresholdWorkspace): number {
  ws.columns(0);
  const col = ws.col; // (count, Σv) per column, stride 3
  col.fill(0);
  const pre = ws.rowPrefix();
  const addRow = (y: number, sign: number) => {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      if (mask[o + x] !== 0 && core[o + x] === 0) { col[3 * x] += sign; col[3 * x + 1] += sign * image[o + x]; }
    }
  };
  for (let y = 0; y < Math.min(by, h); y++) addRow(y, 1);
  let count = 0;
  for (let y = 0; y < h; y++) {
    if (y + by < h) addRow(y + by, 1);
    if (y - by - 1 >= 0) addRow(y - by - 1, -1);
    const o = y * w;
    let any = false;
    for (let x = 0; x < w; x++) if (core[o + x] !== 0) { any = true; break; }
    if (!any) continue;
    pre[0] = 0; pre[1] = 0;
    for (let x = 0; x < w; x++) { pre[2 * x + 2] = pre[2 * x] + col[3 * x]; pre[2 * x + 3] = pre[2 * x + 1] + col[3 * x + 1]; }
    for (let x = 0; x < w; x++) {
      if (core[o + x] === 0) continue;
      const hi = x + bx + 1 < w ? x + bx + 1 : w, lo = x - bx > 0 ? x - bx : 0;
      if (strongOver(image[o + x], pre[2 * hi] - pre[2 * lo], pre[2 * hi + 1] - pre[2 * lo + 1], p)) { out[o + x] = 1; count++; }
    }
  }
  return count;
}

/**
 * core = signal pixels with no non-signal pixel (masked pixels count as non-signal) within the
 * half-widths (ex, ey); pixels beyond the image border do not erode. Signal comes in runs along
 * rows: each run counts the holes in its first window directly, then slides the window.
 */
function erodeSparse(signal: Uint8Array, core: Uint8Array, w: number, h: number, ex: number, ey: number): void {
  core.fill(0, 0, w * h);
  for (let y = 0; y < h; y++) {
    const y0 = y - ey > 0 ? y - ey : 0, y1 = y + ey < h ? y + ey : h - 1;
    const o = y * w;
    let x = 0;
    while (x < w) {
      if (signal[o + x] === 0) { x++; continue; }
      let holes = 0;
      const x0 = x - ex > 0 ? x - ex : 0, x1 = x + ex < w ? x + ex : w - 1;
      for (let yy = y0; yy <= y1; yy++) {
        const r = yy * w;
        for (let xx = x0; xx <= x1; xx++) holes += signal[r + xx] === 0 ? 1 : 0;
      }
      for (;;) {
        if (holes === 0) core[o + x] = 1;
        x++;
        if (x >= w || signal[o + x] === 0) break;
        const enter = x + ex, leave = x - ex - 1;
        for (let yy = y0; yy <= y1; yy++) {
          const r = yy * w;
          if (enter < w && signal[r + enter] === 0) holes++;
          if (leave >= 0 && signal[r + leave] === 0) holes--;
        }
      }
    }
  }
}

/** The same erosion, separable: hole counts along each row's window, then summed down columns. */
function erodeDense(signal: Uint8Array, core: Uint8Array, w: number, h: number, ex: number, ey: number, ws: ThresholdWorkspace): void {
  const rowHoles = ws.holes();
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let holes = 0;
    for (let x = 0; x < Math.min(ex, w); x++) holes += 1 - signal[o + x];
    for (let x = 0; x < w; x++) {
      if (x + ex < w) holes += 1 - signal[o + x + ex];
      if (x - ex - 1 >= 0) holes -= 1 - signal[o + x - ex - 1];
      rowHoles[o + x] = holes;
    }
  }
  ws.columns(0);
  const colHoles = ws.col;
  colHoles.fill(0);
  for (let y = 0; y < Math.min(ey, h); y++) for (let x = 0; x < w; x++) colHoles[x] += rowHoles[y * w + x];
  for (let y = 0; y < h; y++) {
    if (y + ey < h) { const o = (y + ey) * w; for (let x = 0; x < w; x++) colHoles[x] += rowHoles[o + x]; }
    if (y - ey - 1 >= 0) { const o = (y - ey - 1) * w; for (let x = 0; x < w; x++) colHoles[x] -= rowHoles[o + x]; }
    const o = y * w;
    for (let x = 0; x < w; x++) core[o + x] = signal[o + x] !== 0 && colHoles[x] === 0 ? 1 : 0;
  }
}

/**
 * The extended algorithm's geometry. DIALS documents it as "erode by half the kernel size, expand
 * the kernel slightly"; these readings (erosion half-width ⌈k/2⌉, background half-width k+2,
 * masked pixels eroding, the image border not) reproduce DIALS 3.12's per-image strong-pixel
 * counts on the simulated lysozyme sweep exactly (e.g. 21 229 on image 1, all 120 images), where
 * the nearest alternatives are 0.3–30 % off.
 */
export const EXTENDED = {
  erodeHalfWidth: (k: number): number => Math.ceil(k / 2),
  backgroundHalfWidth: (k: number): number => k + 2,
} as const;
