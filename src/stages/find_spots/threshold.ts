/**
 * Strong-pixel thresholds on one detector panel: the dispersion (index-of-dispersion) test, its
 * two-pass "extended" variant (DIALS' default), and a plain global threshold.
 *
 * The dispersion test asks, for every pixel, whether the counts in the surrounding kernel look
 * like Poisson background: for Poisson counts the variance equals gain·mean, so a window whose
 * variance/mean ratio exceeds gain·(1 + σ_b·√(2/(n−1))) holds signal, and a pixel in it is strong
 * when it also exceeds mean + σ_s·√(gain·mean).
 *
 * Window sums come from running sums: vertical column sums updated as the window slides down
 * (add the entering row, subtract the leaving one) and a horizontal running sum across them, so
 * the first pass costs the same per pixel whatever the kernel size. Counts are integers, so every
 * partial sum is an exact integer in a double (rows of squared counts stay far below 2⁵³) and
 * the result does not depend on the order of summation. The extended algorithm's erosion works
 * on one bit per pixel, 32 pixels per operation, and its background sums are kept only near the
 * few % of pixels that need them. Speed and its measurement: bench/find_spots.ts.
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
 * Parts whose size depends on the kernel grow on first use.
 */
export class ThresholdWorkspace {
  /** Usable pixels of the last call (static mask and trusted range), 1 = usable. */
  readonly mask: Uint8Array;
  /** Number of usable pixels of the last call. */
  usable = 0;
  /** The strong pixels of the last call, as y·width + x in ascending order. */
  strong: Int32Array;
  /**
   * Column sums over the window's rows (usable-pixel count, Σv, Σv²), column x at x + pad, with
   * zero columns on both sides so the horizontal window never needs a bounds test.
   */
  colN: Int32Array;
  colS: Float64Array;
  colQ: Float64Array;
  /** Row for which the background column sums of a column are current (−2: none). */
  readonly validRow: Int32Array;
  /**
   * First-pass (over-dispersed) and eroded-core flags of the extended algorithm, one bit per
   * pixel: bit x & 31 of word bitPad + (x >> 5) in row y's `bitStride` words. Pad words are all
   * ones, as are the bits beyond the panel's width, because the image border does not erode.
   */
  signalBits: Int32Array;
  coreBits: Int32Array;
  bitStride = 0;
  bitPad = -1;
  /** One row of bit words: the AND of signal rows (erosion), the dilated core row (background). */
  rowBits: Int32Array;
  /** Stands in for the mask of rows beyond the panel edge, so edge rows need no separate loop. */
  readonly zeroRow: Uint8Array;
  /** Where the mask of rows beyond the panel edge is "written". */
  readonly scratchRow: Uint8Array;
  /** Dispersion cut-off times (n − 1) for every possible n, filled per call. */
  cut: Float64Array;

  constructor(readonly width: number, readonly height: number) {
    this.mask = new Uint8Array(width * height);
    this.strong = new Int32Array(16);
    this.colN = new Int32Array(0);
    this.colS = new Float64Array(0);
    this.colQ = new Float64Array(0);
    this.validRow = new Int32Array(width);
    this.signalBits = new Int32Array(0);
    this.coreBits = new Int32Array(0);
    this.rowBits = new Int32Array(0);
    this.zeroRow = new Uint8Array(width);
    this.scratchRow = new Uint8Array(width);
    this.cut = new Float64Array(64);
  }

  /** Zeroed column sums with `pad` zero columns left and right of the panel. */
  columns(pad: number): void {
    const need = this.width + 2 * pad + 1;
    if (this.colN.length < need) {
      this.colN = new Int32Array(need);
      this.colS = new Float64Array(need);
      this.colQ = new Float64Array(need);
    } else {
      this.colN.fill(0);
      this.colS.fill(0);
      this.colQ.fill(0);
    }
  }

  /** Bit rows with pad words for shifts up to `maxShift` pixels; signal bits cleared. */
  bits(maxShift: number): void {
    const pad = Math.max(this.bitPad, (maxShift >>> 5) + 1);
    const words = (this.width + 31) >>> 5;
    const stride = words + 2 * pad;
    if (pad !== this.bitPad) {
      this.bitPad = pad;
      this.bitStride = stride;
      this.signalBits = new Int32Array(stride * this.height);
      this.coreBits = new Int32Array(stride * this.height);
      this.rowBits = new Int32Array(stride);
    }
    const sig = this.signalBits;
    const tail = (this.width & 31) === 0 ? 0 : ~((1 << (this.width & 31)) - 1);
    for (let y = 0; y < this.height; y++) {
      const r = y * stride;
      sig.fill(-1, r, r + pad);
      sig.fill(0, r + pad, r + pad + words);
      sig[r + pad + words - 1] |= tail;
      sig.fill(-1, r + pad + words, r + stride);
    }
  }

  /** Append a strong pixel, doubling the list when full. */
  push(n: number, i: number): void {
    if (n === this.strong.length) {
      const grown = new Int32Array(2 * n);
      grown.set(this.strong);
      this.strong = grown;
    }
    this.strong[n] = i;
  }
}

const ANY_VALUE: readonly [number, number] = [-Infinity, Infinity];

/**
 * Classify the pixels of one panel. `mask[i] ≠ 0` marks pixels that may be used (trusted,
 * unmasked); `out[i]` is set to 1 for strong pixels, 0 otherwise, and `ws.strong` lists them in
 * ascending order. Returns the number of strong pixels.
 */
export function thresholdPanel(image: Int32Array, mask: Uint8Array, w: number, h: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace): number {
  return findStrongPixelsPanel(image, mask, ANY_VALUE, w, h, p, out, ws);
}

/**
 * As thresholdPanel, but from the static mask and the trusted range: a pixel is usable when
 * `staticMask[i] ≠ 0` and trustedMin < v < trustedMax. The usable mask is built row by row as
 * the window reaches each row, in the same sweep as the first pass, and left in `ws.mask` (its
 * count in `ws.usable`).
 */
export function findStrongPixelsPanel(image: Int32Array, staticMask: Uint8Array, trustedRange: readonly [number, number],
  w: number, h: number, p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace): number {
  if (!warmedUp) { warmedUp = true; warmUp(); }
  if (ws.width !== w || ws.height !== h) throw new Error(`workspace is ${ws.width}×${ws.height}, panel ${w}×${h}`);
  if (image.length !== w * h || staticMask.length !== w * h) throw new Error(`panel ${w}×${h} given ${image.length} pixels and a ${staticMask.length}-pixel mask`);
  if (out) out.fill(0, 0, w * h);
  p = canonical(p);
  // Plain numbers: trusted-range arrays arrive in different shapes too (see canonical).
  const lo = +trustedRange[0], hi = +trustedRange[1];
  switch (p.algorithm) {
    case 'global': return globalThreshold(image, staticMask, lo, hi, w * h, p.globalThreshold, out, ws);
    case 'dispersion': return dispersionPass(image, staticMask, lo, hi, w, h, p, out, ws, true);
    case 'dispersion_extended': return dispersionExtended(image, staticMask, lo, hi, w, h, p, out, ws);
    default: throw new ParameterError(`threshold.algorithm=${String(p.algorithm)}: unknown algorithm`);
  }
}

/**
 * The parameters as an object of one fixed shape. Parameters arrive built in different ways
 * (literals, spread copies, structured clones in workers), and optimised code that met one
 * shape is discarded when it meets another.
 */
function canonical(p: ThresholdParams): ThresholdParams {
  return {
    algorithm: p.algorithm, kernelSize: [p.kernelSize[0], p.kernelSize[1]], gain: p.gain,
    sigmaBackground: p.sigmaBackground, sigmaStrong: p.sigmaStrong, minLocal: p.minLocal, globalThreshold: p.globalThreshold,
  };
}

function globalThreshold(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, n: number, t: number,
  out: Uint8Array | null, ws: ThresholdWorkspace): number {
  const mask = ws.mask;
  let count = 0, usable = 0;
  for (let i = 0; i < n; i++) {
    const v = image[i];
    const m = v > lo && v < hi ? staticMask[i] : 0;
    mask[i] = m;
    usable += m;
    if (m !== 0 && v > t) {
      if (out) out[i] = 1;
      ws.push(count++, i);
    }
  }
  ws.usable = usable;
  return count;
}

function requiredLocal(p: ThresholdParams, kx: number, ky: number): number {
  const full = (2 * kx + 1) * (2 * ky + 1);
  return Math.max(2, p.minLocal > 0 ? Math.min(p.minLocal, full) : full);
}

/**
 * The dispersion test over the whole panel. With `strongTest` it is DIALS' `dispersion`
 * algorithm (also requiring v > mean + σ_s·√(gain·mean) and v > global threshold, results in
 * `out` and `ws.strong`); without, it only marks over-dispersed windows in `ws.signalBits` (the
 * extended algorithm's first pass).
 *
 * Var/mean > gain·(1 + σ_b·√(2/(n−1))) with var = (nΣv² − (Σv)²)/(n(n−1)) and mean = Σv/n is
 * tested as nΣv² − (Σv)² > cut[n]·Σv, cut[n] = gain·(1 + σ_b·√(2/(n−1)))·(n−1): no division or
 * square root per pixel.
 *
 * One sweep per row does everything: the column entering the window on the right is updated for
 * the row (the entering row's pixel added, its usable flag computed on the way; the leaving
 * row's removed) just before the horizontal window sums take it, so nothing is reloaded.
 * Unusable pixels drop out of the value sums by AND with −mask (0 or all ones) rather than a
 * branch; rows beyond the panel edge read `ws.zeroRow` as their mask. Every sum is an integer
 * (exact in a double: rows of squared counts stay far below 2⁵³), so the order of summation
 * does not matter.
 */
function dispersionPass(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, w: number, h: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace, strongTest: boolean): number {
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
  const { colN, colS, colQ, zeroRow, scratchRow, mask } = ws;
  // Without the strong test the caller (dispersionExtended) has cleared ws.signalBits.
  const sig = ws.signalBits, stride = ws.bitStride, pad = ws.bitPad;
  let usable = 0;
  for (let y = 0; y < Math.min(ky, h); y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const v = image[o + x];
      const m = v > lo && v < hi ? staticMask[o + x] : 0;
      mask[o + x] = m;
      usable += m;
      const a = v & -m;
      colN[x + off] += m; colS[x + off] += a; colQ[x + off] += a * a;
    }
  }
  let count = 0;
  const pre = Math.min(kx, w);
  for (let y = 0; y < h; y++) {
    const enter = y + ky, leave = y - ky - 1;
    const se = enter < h ? staticMask : zeroRow, me = enter < h ? mask : scratchRow, oe = enter < h ? enter * w : 0;
    const ml = leave >= 0 ? mask : zeroRow, ol = leave >= 0 ? leave * w : 0;
    let n = 0, s = 0, q = 0;
    // Columns 0 … kx−1 first: the window of x = −1 is columns −kx−1 … kx−1.
    for (let c = 0; c < pre; c++) {
      const v = image[oe + c];
      const e = v > lo && v < hi ? se[oe + c] : 0;
      me[oe + c] = e;
      usable += e;
      const l = ml[ol + c];
      const a = v & -e, b = image[ol + c] & -l;
      const j = c + off;
      n += (colN[j] += e - l);
      s += (colS[j] += a - b);
      q += (colQ[j] += a * a - b * b);
    }
    const o = y * w, bitRow = y * stride + pad;
    for (let x = 0; x < w; x++) {
      const c = x + kx;
      let cn = 0, cs = 0, cq = 0;
      if (c < w) {
        const v = image[oe + c];
        const e = v > lo && v < hi ? se[oe + c] : 0;
        me[oe + c] = e;
        usable += e;
        const l = ml[ol + c];
        const a = v & -e, b = image[ol + c] & -l;
        const j = c + off;
        cn = colN[j] + e - l; colN[j] = cn;
        cs = colS[j] + (a - b); colS[j] = cs;
        cq = colQ[j] + (a * a - b * b); colQ[j] = cq;
      }
      const k = x - kx - 1 + off;
      n += cn - colN[k];
      s += cs - colS[k];
      q += cq - colQ[k];
      const i = o + x;
      // The dispersion test first: it rejects most pixels, so their mask is never loaded.
      if (n * q - s * s <= cut[n] * s || s <= 0 || n < nMin || mask[i] === 0) continue;
      if (strongTest) {
        const v = image[i];
        const mean = s / n;
        if (!(v > mean + ss * Math.sqrt(gain * mean) && v > gt)) continue;
        if (out) out[i] = 1;
        ws.push(count, i);
      } else {
        sig[bitRow + (x >> 5)] |= 1 << x;
      }
      count++;
    }
  }
  ws.usable = usable;
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
 */
function dispersionExtended(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, w: number, h: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace): number {
  const [kx, ky] = p.kernelSize;
  const bx = EXTENDED.backgroundHalfWidth(kx), by = EXTENDED.backgroundHalfWidth(ky);
  ws.bits(Math.max(bx, EXTENDED.erodeHalfWidth(kx)));
  if (dispersionPass(image, staticMask, lo, hi, w, h, p, out, ws, false) === 0) return 0;
  erode(ws, w, h, EXTENDED.erodeHalfWidth(kx), EXTENDED.erodeHalfWidth(ky));
  return strongOverBackground(image, w, h, bx, by, p, out, ws);
}

/**
 * core = signal pixels with no non-signal pixel (masked pixels count as non-signal) within the
 * half-widths (ex, ey); pixels beyond the image border do not erode. On bit rows this is an AND
 * of the 2ey + 1 signal rows followed by an AND of that row shifted by −ex … ex pixels, 32
 * pixels per operation.
 */
function erode(ws: ThresholdWorkspace, w: number, h: number, ex: number, ey: number): void {
  const { signalBits: sig, coreBits: core, bitStride: stride, bitPad: pad, rowBits: acc } = ws;
  const words = (w + 31) >>> 5;
  const tail = (w & 31) === 0 ? -1 : (1 << (w & 31)) - 1;
  for (let y = 0; y < h; y++) {
    const y0 = y - ey > 0 ? y - ey : 0, y1 = y + ey < h ? y + ey : h - 1;
    acc.set(sig.subarray(y0 * stride, (y0 + 1) * stride));
    for (let yy = y0 + 1; yy <= y1; yy++) {
      const r = yy * stride;
      for (let k = 0; k < stride; k++) acc[k] &= sig[r + k];
    }
    const o = y * stride + pad;
    for (let k = 0; k < words; k++) {
      const j = pad + k;
      let v = acc[j];
      for (let d = 1; d <= ex && v !== 0; d++) {
        const q = d >>> 5, r = d & 31;
        // Flags of the pixels d to the right, then d to the left, moved to this pixel's bit.
        v &= r === 0 ? acc[j + q] : (acc[j + q] >>> r) | (acc[j + q + 1] << (32 - r));
        v &= r === 0 ? acc[j - q] : (acc[j - q] << r) | (acc[j - q - 1] >>> (32 - r));
      }
      core[o + k] = v;
    }
    core[o + words - 1] &= tail;
  }
}

/**
 * Background = usable pixels outside the core within (bx, by), needed at core pixels only. Their
 * column sums (count, Σv) are kept just for the columns within bx of a core pixel of the row
 * (the core row dilated by bx, as bits): a column that was current for the row above moves down
 * by one row (add the entering pixel, drop the leaving one), any other is summed afresh. Core
 * pixels are a few % of the panel and come in compact spots, so this touches a fraction of the
 * columns a full running sum would. Along the row, runs of core pixels slide the window.
 */
function strongOverBackground(image: Int32Array, w: number, h: number, bx: number, by: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace): number {
  const off = bx + 1;
  ws.columns(off);
  const { colN, colS, coreBits: core, bitStride: stride, bitPad: pad, rowBits: need, validRow, mask } = ws;
  validRow.fill(-2);
  const words = (w + 31) >>> 5;
  const tail = (w & 31) === 0 ? -1 : (1 << (w & 31)) - 1;
  const { gain, sigmaStrong: ss, globalThreshold: gt } = p;
  let count = 0;
  for (let y = 0; y < h; y++) {
    const cr = y * stride + pad;
    let any = 0;
    for (let k = 0; k < words; k++) any |= core[cr + k];
    if (any === 0) continue;
    // need = core row dilated by bx (OR of shifts), bits beyond the panel cleared.
    for (let k = 0; k < words; k++) {
      const j = cr + k;
      let v = core[j];
      for (let d = 1; d <= bx; d++) {
        const q = d >>> 5, r = d & 31;
        v |= r === 0 ? core[j + q] : (core[j + q] >>> r) | (core[j + q + 1] << (32 - r));
        v |= r === 0 ? core[j - q] : (core[j - q] << r) | (core[j - q - 1] >>> (32 - r));
      }
      need[k] = v;
    }
    need[words - 1] &= tail;
    const y0 = y - by > 0 ? y - by : 0, y1 = y + by < h ? y + by : h - 1;
    const enter = y + by, leave = y - by - 1;
    for (let k = 0; k < words; k++) {
      let bits = need[k];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const x = (k << 5) + 31 - Math.clz32(low);
        const word = pad + (x >> 5);
        if (validRow[x] === y - 1) {
          let dn = 0, ds = 0;
          if (enter < h) {
            const i = enter * w + x;
            const m = mask[i] & (((core[enter * stride + word] >>> x) & 1) ^ 1);
            dn += m; ds += image[i] & -m;
          }
          if (leave >= 0) {
            const i = leave * w + x;
            const m = mask[i] & (((core[leave * stride + word] >>> x) & 1) ^ 1);
            dn -= m; ds -= image[i] & -m;
          }
          colN[x + off] += dn;
          colS[x + off] += ds;
        } else {
          let n = 0, s = 0;
          for (let yy = y0; yy <= y1; yy++) {
            const i = yy * w + x;
            const m = mask[i] & (((core[yy * stride + word] >>> x) & 1) ^ 1);
            n += m; s += image[i] & -m;
          }
          colN[x + off] = n;
          colS[x + off] = s;
        }
        validRow[x] = y;
      }
    }
    const o = y * w;
    let last = -2, n = 0, s = 0;
    for (let k = 0; k < words; k++) {
      let bits = core[cr + k];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const x = (k << 5) + 31 - Math.clz32(low);
        if (x === last + 1) {
          const a = x + bx + off, b = x - bx - 1 + off;
          n += colN[a] - colN[b];
          s += colS[a] - colS[b];
        } else {
          n = 0; s = 0;
          for (let c = x - bx + off; c <= x + bx + off; c++) { n += colN[c]; s += colS[c]; }
        }
        last = x;
        const v = image[o + x];
        const mean = n > 0 ? s / n : 0;
        if (v >= mean + ss * Math.sqrt(gain * mean) && v > gt) {
          if (out) out[o + x] = 1;
          ws.push(count++, o + x);
        }
      }
    }
  }
  return count;
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

let warmedUp = false;

/** Calls per function in the warm-up (V8 allocates type feedback on about the 8th call). */
const WARM_UP_CALLS = 10;

/**
 * Run every algorithm on a small synthetic panel before the first real panel (in each worker
 * too; on first use rather than at load, so threads that never find spots do not pay for it).
 * The optimising compiler specialises on what the code has seen: without this, code compiled
 * while the first real image is still in its first loop has never run the code after it, nor
 * seen a squared count overflow 32 bits, and is thrown away and recompiled several times, at a
 * cost in compile time comparable to spot finding on tens of images. The panel has a blob
 * brighter than 46 341 counts (its square overflows int32), a fainter one, one in the corner, a
 * masked column and an untrusted pixel, so every branch of the passes runs; the strong list
 * starts short so that its growth runs too.
 */
function warmUp(): void {
  const w = 40, h = 36;
  const image = new Int32Array(w * h), mask = new Uint8Array(w * h).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      image[i] = (x * 7 + y * 13) % 5;
      if (x >= 8 && x < 16 && y >= 8 && y < 16) image[i] = 60000 + 1000 * ((x + y) % 3);
      if (x >= 26 && x < 29 && y >= 20 && y < 23) image[i] = 40;
      if (x < 7 && y >= 27) image[i] = 500 + 10 * (x % 2);
    }
  }
  for (let y = 0; y < h; y++) mask[y * w + 33] = 0;
  image[5 * w + 30] = -1;
  const out = new Uint8Array(w * h);
  let ws = new ThresholdWorkspace(w, h);
  for (let rep = 0; rep < WARM_UP_CALLS; rep++) {
    // Fresh workspaces now and then, so that the buffers' first-use paths run too.
    if (rep % 3 === 2) ws = new ThresholdWorkspace(w, h);
    for (const algorithm of THRESHOLD_ALGORITHMS) {
      findStrongPixelsPanel(image, mask, [-1, 1e6], w, h, { ...DEFAULT_THRESHOLD, algorithm }, rep % 2 === 0 ? out : null, ws);
    }
  }
}
