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
 * few % of pixels that need them. For the extended algorithm the two passes that touch every
 * pixel or every core pixel run in WebAssembly (wasm.ts; the TypeScript versions below remain
 * for the other algorithms, very wide kernels and runtimes without WebAssembly, with identical
 * results). Speed and its measurement: bench/find_spots.ts.
 */
import { ParameterError } from '../../core/errors.js';
import { firstPassKernel, PARAM, PARAM_BYTES, UNUSABLE, WASM_AVAILABLE, wasmMemory, type FirstPassKernel, type WasmMemory } from './wasm.js';

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
 * The arrays the extended algorithm's first pass works on live in one WebAssembly memory (see
 * wasm.ts), laid out when the kernel's padding is first known; the rest are plain typed arrays.
 * The memory never grows (growing would detach the views).
 */
export class ThresholdWorkspace {
  /**
   * The panel's usable values of the last call (static mask and trusted range), UNUSABLE for the
   * others, with `pad` rows and columns of UNUSABLE all round: pixel (x, y) is at
   * (y + pad)·stride + pad + x. Windows reaching beyond the panel then read UNUSABLE, which
   * counts for nothing, so the window loops need no edge cases; and one array says both whether
   * a pixel is usable and its value.
   */
  masked: Int32Array;
  pad = -1;
  stride = 0;
  /** Number of usable pixels of the last call. */
  usable = 0;
  /** The strong pixels of the last call, as y·width + x in ascending order, and their counts. */
  strong: Int32Array;
  strongValue: Int32Array;
  /**
   * Column sums over the window's rows. dispersionPass (TypeScript): colP = Σ(v + shift) (count
   * and Σv packed) and colQ = Σv², column x at pad + x of `masked`. Background pass: colN =
   * usable-pixel count, colS = Σv, column x at x + bx + 1 with zero columns on both sides.
   */
  colP: Float64Array;
  colQ: Float64Array;
  colN: Int32Array;
  colS: Float64Array;
  /** Row for which the background column sums of a column are current (−2: none). */
  validRow: Int32Array;
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
  /** Dispersion cut-off times (n − 1) for every possible n, filled per call. */
  cut: Float64Array;
  /** The panel's counts and static mask as the WebAssembly first pass reads them. */
  imageIn: Int32Array;
  staticMaskIn: Uint8Array;
  /** The static mask last copied into staticMaskIn (masks are the same object image after image). */
  staticMaskSource: Uint8Array | null = null;
  /** Byte offsets of the arrays above in `memory`. */
  readonly at = { cut: 0, cols: 0, imageIn: 0, masked: 0, signalBits: 0, staticMaskIn: 0, ring: 0, coreBits: 0, validRow: 0, need: 0, colBg: 0, strongOut: 0 };
  /**
   * The WebAssembly first pass's data: per-pixel contributions to the window sums, the pair
   * (v + shift, v²), 0 for unusable pixels, of the rows in the window, one slot per row (row r in
   * slot (r + ky + 1) mod (2ky + 2)) laid out like a `masked` row; and the column sums, the pair
   * (colP, colQ) per padded column.
   */
  ring: Float64Array;
  cols: Float64Array;
  /** The WebAssembly background pass's packed column sums (see wasm.ts background) and strong-pixel list. */
  colBg: Float64Array;
  strongOut: Int32Array;
  strongCap = 0;
  /** The parameter block of the WebAssembly first pass (wasm.ts PARAM), as i32 and f64. */
  params32: Int32Array;
  params64: Float64Array;
  memory: WasmMemory | null = null;
  private kernelOfMemory: FirstPassKernel | null = null;

  constructor(readonly width: number, readonly height: number) {
    this.masked = new Int32Array(0);
    this.strong = new Int32Array(16);
    this.strongValue = new Int32Array(16);
    this.colP = new Float64Array(0);
    this.colQ = new Float64Array(0);
    this.colN = new Int32Array(0);
    this.colS = new Float64Array(0);
    this.validRow = new Int32Array(width);
    this.signalBits = new Int32Array(0);
    this.coreBits = new Int32Array(0);
    this.rowBits = new Int32Array(0);
    this.cut = new Float64Array(0);
    this.imageIn = new Int32Array(0);
    this.staticMaskIn = new Uint8Array(0);
    this.ring = new Float64Array(0);
    this.cols = new Float64Array(0);
    this.colBg = new Float64Array(0);
    this.strongOut = new Int32Array(0);
    this.params32 = new Int32Array(0);
    this.params64 = new Float64Array(0);
  }

  /**
   * Buffers for kernels that need at most `pad` rows and columns of padding (and bit rows with
   * pad words for shifts up to pad − 1 pixels), laid out in one WebAssembly memory. Only the
   * panel's own pixels of `masked` are written per call; the padding stays UNUSABLE.
   */
  padded(pad: number): void {
    if (pad <= this.pad) return;
    const { width: w, height: h } = this;
    this.pad = pad;
    this.stride = w + 2 * pad;
    this.bitPad = (pad >>> 5) + 1;
    this.bitStride = ((w + 31) >>> 5) + 2 * this.bitPad;
    // Kernels this padding serves have (2k + 1)² < (2·pad)² pixels.
    const cutLength = 4 * pad * pad + 1;
    let end = PARAM_BYTES;
    const take = (bytes: number, align: number): number => {
      const o = Math.ceil(end / align) * align;
      end = o + bytes;
      return o;
    };
    const at = this.at;
    at.cut = take(8 * cutLength, 8);
    at.cols = take(16 * this.stride, 8);
    at.imageIn = take(4 * w * h, 4);
    at.masked = take(4 * this.stride * (h + 2 * pad), 4);
    at.signalBits = take(4 * this.bitStride * h, 4);
    // Kernels this padding serves have 2ky + 2 < 2·pad rows in their ring.
    const ringLength = 2 * pad * 2 * this.stride;
    at.ring = take(8 * ringLength, 8);
    const words = (w + 31) >>> 5;
    at.coreBits = take(4 * this.bitStride * h, 4);
    at.validRow = take(4 * w, 4);
    at.need = take(4 * words, 4);
    // Background half-widths up to pad − 1, with that many + 1 zero columns each side.
    at.colBg = take(8 * (w + 2 * pad + 1), 8);
    // Room for a quarter of the pixels strong: more and the image is rejected by default
    // (max_strong_pixel_fraction); the rare panel beyond takes the TypeScript background pass.
    this.strongCap = Math.ceil(w * h / 4);
    at.strongOut = take(8 * this.strongCap, 4);
    at.staticMaskIn = take(w * h, 1);
    const memory = wasmMemory(end);
    const buf = memory.buffer;
    this.memory = memory;
    this.kernelOfMemory = null;
    this.cut = new Float64Array(buf, at.cut, cutLength);
    this.cols = new Float64Array(buf, at.cols, 2 * this.stride);
    this.colP = new Float64Array(this.stride);
    this.colQ = new Float64Array(this.stride);
    this.imageIn = new Int32Array(buf, at.imageIn, w * h);
    this.masked = new Int32Array(buf, at.masked, this.stride * (h + 2 * pad)).fill(UNUSABLE);
    this.signalBits = new Int32Array(buf, at.signalBits, this.bitStride * h);
    this.staticMaskIn = new Uint8Array(buf, at.staticMaskIn, w * h);
    this.ring = new Float64Array(buf, at.ring, ringLength);
    this.params32 = new Int32Array(buf, 0, PARAM_BYTES / 4);
    this.params64 = new Float64Array(buf, 0, PARAM_BYTES / 8);
    this.staticMaskSource = null;
    this.coreBits = new Int32Array(buf, at.coreBits, this.bitStride * h);
    this.validRow = new Int32Array(buf, at.validRow, w);
    this.colBg = new Float64Array(buf, at.colBg, w + 2 * pad + 1);
    this.strongOut = new Int32Array(buf, at.strongOut, 2 * this.strongCap);
    this.rowBits = new Int32Array(this.bitStride);
  }

  /** The WebAssembly kernel (wasm.ts) bound to this workspace's memory. */
  kernel(): FirstPassKernel {
    if (!this.memory) throw new Error('ThresholdWorkspace.kernel before padded');
    this.kernelOfMemory ??= firstPassKernel(this.memory);
    return this.kernelOfMemory;
  }

  /** 1 where the last call found the pixel usable (for tests and diagnostics; allocates). */
  usableMask(): Uint8Array {
    const { width: w, height: h, masked, stride, pad } = this;
    const m = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = masked[(y + pad) * stride + pad + x] !== UNUSABLE ? 1 : 0;
    return m;
  }

  /** Zeroed background column sums with `pad` zero columns left and right of the panel. */
  columns(pad: number): void {
    const need = this.width + 2 * pad + 1;
    if (this.colN.length < need) {
      this.colN = new Int32Array(need);
      this.colS = new Float64Array(need);
    } else {
      this.colN.fill(0);
      this.colS.fill(0);
    }
  }

  /** Signal bits cleared: panel bits 0, pad words and the bits beyond the panel's width 1. */
  clearSignalBits(): void {
    const { signalBits: sig, bitStride: stride, bitPad: pad } = this;
    const words = (this.width + 31) >>> 5;
    const tail = (this.width & 31) === 0 ? 0 : ~((1 << (this.width & 31)) - 1);
    for (let y = 0; y < this.height; y++) {
      const r = y * stride;
      sig.fill(-1, r, r + pad);
      sig.fill(0, r + pad, r + pad + words);
      sig[r + pad + words - 1] |= tail;
      sig.fill(-1, r + pad + words, r + stride);
    }
  }

  /** Append strong pixel n (index i, count v), doubling the lists when full. */
  push(n: number, i: number, v: number): void {
    if (n === this.strong.length) this.reserve(2 * n);
    this.strong[n] = i;
    this.strongValue[n] = v;
  }

  /** Room for n strong pixels (contents kept). */
  reserve(n: number): void {
    if (this.strong.length >= n) return;
    const index = new Int32Array(n), value = new Int32Array(n);
    index.set(this.strong);
    value.set(this.strongValue);
    this.strong = index;
    this.strongValue = value;
  }
}

const ANY_VALUE: readonly [number, number] = [-Infinity, Infinity];

export { UNUSABLE };

/**
 * Largest padding the passes need: the first pass reads kx + 1 columns and ky + 1 rows beyond
 * a pixel, the extended algorithm's background k + 2 (EXTENDED.backgroundHalfWidth) + 1.
 */
function paddingFor(p: ThresholdParams): number {
  return Math.max(p.kernelSize[0], p.kernelSize[1]) + 3;
}

/**
 * Row y of the panel into ws.masked: its usable values (static mask set, trustedMin < v <
 * trustedMax), UNUSABLE elsewhere. Returns the row's number of usable pixels.
 */
function maskRow(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, y: number, w: number,
  masked: Int32Array, stride: number, pad: number): number {
  const o = y * w, r = (y + pad) * stride + pad;
  const unusable = UNUSABLE; // see globalThreshold
  let usable = 0;
  for (let x = 0; x < w; x++) {
    const v = image[o + x];
    if (v > lo && v < hi && staticMask[o + x] !== 0) {
      masked[r + x] = v;
      usable++;
    } else {
      masked[r + x] = unusable;
    }
  }
  return usable;
}

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
  if (!warmedUp.has(p.algorithm)) { warmedUp.add(p.algorithm); warmUp(p.algorithm); }
  if (ws.width !== w || ws.height !== h) throw new Error(`workspace is ${ws.width}×${ws.height}, panel ${w}×${h}`);
  if (image.length !== w * h || staticMask.length !== w * h) throw new Error(`panel ${w}×${h} given ${image.length} pixels and a ${staticMask.length}-pixel mask`);
  if (out) out.fill(0, 0, w * h);
  p = canonical(p);
  // Plain numbers: trusted-range arrays arrive in different shapes too (see canonical). The
  // lower bound excludes UNUSABLE itself.
  const lo = Math.max(+trustedRange[0], UNUSABLE), hi = +trustedRange[1];
  ws.padded(paddingFor(p));
  switch (p.algorithm) {
    case 'global': return globalThreshold(image, staticMask, lo, hi, w, h, p.globalThreshold, out, ws);
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

function globalThreshold(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, w: number, h: number, t: number,
  out: Uint8Array | null, ws: ThresholdWorkspace): number {
  const { masked, stride, pad } = ws;
  // A local copy: the module constant is a heap number behind a context slot, loaded and checked on every use.
  const unusable = UNUSABLE;
  let count = 0, usable = 0;
  for (let y = 0; y < h; y++) {
    usable += maskRow(image, staticMask, lo, hi, y, w, masked, stride, pad);
    const r = (y + pad) * stride + pad;
    for (let x = 0; x < w; x++) {
      const v = masked[r + x];
      if (v !== unusable && v > t) {
        if (out) out[y * w + x] = 1;
        ws.push(count++, y * w + x, v);
      }
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
 * Each row of the panel is copied into `ws.masked` (its usable values, UNUSABLE elsewhere) as
 * the window reaches it; then one sweep along the output row updates the column entering the
 * window (add the entering row's pixel, drop the leaving row's) just before the horizontal window
 * sums take it. The usable-pixel count n and Σv travel packed in one number, P = Σ(v + shift) =
 * Σv + n·shift, with shift a power of two above twice the largest possible |Σv|: n = round(P /
 * shift), Σv = P − n·shift. That halves the typed-array traffic for them, and typed-array
 * accesses, each with its own checks in V8's optimised code, are what the loop's time goes on.
 * Every sum is an integer below 2⁵³ (shift is chosen so; squared counts of real images stay far
 * below), exact in a double, so the order of summation does not matter.
 */
function dispersionPass(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, w: number, h: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace, strongTest: boolean): number {
  const [kx, ky] = p.kernelSize;
  const nMin = requiredLocal(p, kx, ky);
  const { gain, sigmaBackground: sb, sigmaStrong: ss, globalThreshold: gt } = p;
  const area = (2 * kx + 1) * (2 * ky + 1);
  const cut = cutOffs(ws, area, gain, sb);
  const cutArea = cut[area];
  const shift = packingShift(lo, hi, area, p);
  const invShift = 1 / shift;
  const { colP, colQ, masked, stride, pad } = ws;
  const unusable = UNUSABLE; // see globalThreshold
  colP.fill(0);
  colQ.fill(0);
  // Without the strong test the caller (dispersionExtended) has cleared ws.signalBits.
  const sig = ws.signalBits, bitStride = ws.bitStride, bitPad = ws.bitPad;
  let usable = 0;
  // Column sums over rows −ky−1 … ky−1 (the first rows padding), so that output row 0, like
  // every other, moves them down by one row.
  for (let y = 0; y < Math.min(ky, h); y++) usable += maskRow(image, staticMask, lo, hi, y, w, masked, stride, pad);
  for (let j = pad - kx - 1; j < pad + w + kx; j++) {
    let cp = 0, cq = 0;
    for (let r = -ky - 1; r < ky; r++) {
      const v = masked[(r + pad) * stride + j];
      if (v !== unusable) { cp += v + shift; cq += v * v; }
    }
    colP[j] = cp; colQ[j] = cq;
  }
  let count = 0;
  for (let y = 0; y < h; y++) {
    if (y + ky < h) usable += maskRow(image, staticMask, lo, hi, y + ky, w, masked, stride, pad);
    // Rows entering and leaving the window, as offsets into masked.
    const re = (y + ky + pad) * stride, rl = (y - ky - 1 + pad) * stride;
    const centre = (y + pad) * stride + pad, bitRow = y * bitStride + bitPad;
    let P = 0, Q = 0;
    // Columns −kx−1 … kx−1 (padded: pad − kx − 1 …): the window of x = −1.
    for (let j = pad - kx - 1; j < pad + kx; j++) {
      const e = masked[re + j], l = masked[rl + j];
      colP[j] += (e !== unusable ? e + shift : 0) - (l !== unusable ? l + shift : 0);
      colQ[j] += (e !== unusable ? e * e : 0) - (l !== unusable ? l * l : 0);
      P += colP[j]; Q += colQ[j];
    }
    for (let x = 0; x < w; x++) {
      const j = pad + x + kx, k = j - 2 * kx - 1;
      const e = masked[re + j], l = masked[rl + j];
      const cp = colP[j] + ((e !== unusable ? e + shift : 0) - (l !== unusable ? l + shift : 0));
      const cq = colQ[j] + ((e !== unusable ? e * e : 0) - (l !== unusable ? l * l : 0));
      colP[j] = cp; colQ[j] = cq;
      P += cp - colP[k];
      Q += cq - colQ[k];
      const n = Math.round(P * invShift);
      const s = P - n * shift;
      // The dispersion test first: it rejects most pixels, so their own value is never loaded.
      // Most windows are whole, and their cut-off needs no table look-up.
      if (n * Q - s * s <= (n === area ? cutArea : cut[n]) * s || s <= 0 || n < nMin) continue;
      const v = masked[centre + x];
      if (v === unusable) continue;
      if (strongTest) {
        const mean = s / n;
        if (!(v > mean + ss * Math.sqrt(gain * mean) && v > gt)) continue;
        const i = y * w + x;
        if (out) out[i] = 1;
        ws.push(count, i, v);
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
 * The power of two that packs a window's usable-pixel count with its Σv (see dispersionPass):
 * above twice the largest |Σv| a window of `area` usable counts within (lo, hi) can have, and
 * small enough that area·shift stays exact. Real kernels are far inside the limit.
 */
function packingShift(lo: number, hi: number, area: number, p: ThresholdParams): number {
  const bound = Math.min(2 ** 31, Math.max(Math.abs(lo), Math.abs(hi)) + 1);
  const shift = 2 ** Math.ceil(Math.log2(2 * area * bound + 1));
  if (area * shift >= 2 ** 52) {
    throw new ParameterError(`kernel_size=${p.kernelSize.join(',')}: window of ${area} pixels too large for exact sums of counts up to ${bound}`);
  }
  return shift;
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
  ws.clearSignalBits();
  // The TypeScript passes where WebAssembly is unavailable (the same results, slower).
  const first = WASM_AVAILABLE ? signalPass(image, staticMask, lo, hi, w, h, p, ws) : dispersionPass(image, staticMask, lo, hi, w, h, p, null, ws, false);
  if (first === 0) return 0;
  erode(ws, w, h, EXTENDED.erodeHalfWidth(kx), EXTENDED.erodeHalfWidth(ky));
  // The WebAssembly background pass handles half-widths below one 32-bit word.
  if (bx >= 32 || !WASM_AVAILABLE) return strongOverBackground(image, w, h, bx, by, p, out, ws);
  return strongOverBackgroundWasm(image, lo, hi, w, h, bx, by, p, out, ws);
}

/**
 * strongOverBackground by the WebAssembly kernel (wasm.ts background); bx < 32. A panel with
 * more strong pixels than the kernel's list holds is done again by strongOverBackground.
 */
function strongOverBackgroundWasm(image: Int32Array, lo: number, hi: number, w: number, h: number, bx: number, by: number,
  p: ThresholdParams, out: Uint8Array | null, ws: ThresholdWorkspace): number {
  const { params32: p32, params64: p64, at } = ws;
  const shift = packingShift(lo, hi, (2 * bx + 1) * (2 * by + 1), p);
  ws.validRow.fill(-2);
  ws.colBg.fill(0);
  p32[PARAM.core / 4] = at.coreBits; p32[PARAM.bx / 4] = bx; p32[PARAM.by / 4] = by; p32[PARAM.colBg / 4] = at.colBg;
  p32[PARAM.validRow / 4] = at.validRow; p32[PARAM.need / 4] = at.need; p32[PARAM.strongOut / 4] = at.strongOut;
  p32[PARAM.strongCap / 4] = ws.strongCap;
  p32[PARAM.words / 4] = (w + 31) >>> 5; p32[PARAM.tail / 4] = (w & 31) === 0 ? -1 : (1 << (w & 31)) - 1;
  p64[PARAM.shiftBg / 8] = shift; p64[PARAM.invShiftBg / 8] = 1 / shift;
  p64[PARAM.gain / 8] = p.gain; p64[PARAM.sigmaStrong / 8] = p.sigmaStrong; p64[PARAM.globalThreshold / 8] = p.globalThreshold;
  const count = ws.kernel().background();
  if (count > ws.strongCap) return strongOverBackground(image, w, h, bx, by, p, out, ws);
  // The kernel lists (index, count) pairs.
  const list = ws.strongOut;
  ws.reserve(count);
  const { strong, strongValue } = ws;
  for (let k = 0; k < count; k++) {
    strong[k] = list[2 * k];
    strongValue[k] = list[2 * k + 1];
  }
  if (out) for (let k = 0; k < count; k++) out[strong[k]] = 1;
  return count;
}

/**
 * The extended algorithm's first pass: dispersionPass without the strong test, setting
 * ws.signalBits, run by the WebAssembly kernel (wasm.ts) row by row. Returns the number of
 * over-dispersed pixels; sets ws.masked and ws.usable.
 */
function signalPass(image: Int32Array, staticMask: Uint8Array, lo: number, hi: number, w: number, h: number,
  p: ThresholdParams, ws: ThresholdWorkspace): number {
  const [kx, ky] = p.kernelSize;
  const area = (2 * kx + 1) * (2 * ky + 1);
  const nMin = requiredLocal(p, kx, ky);
  cutOffs(ws, area, p.gain, p.sigmaBackground);
  const shift = packingShift(lo, hi, area, p), invShift = 1 / shift;
  const { masked, cols, stride, pad, at } = ws;
  const unusable = UNUSABLE; // see globalThreshold
  // Usable counts as one unsigned range test: vmin ≤ v ≤ vmax ⟺ (v − vmin) ≤ (vmax − vmin) unsigned.
  const vmin = Math.max(Math.floor(lo) + 1, unusable + 1), vmax = Math.min(Math.ceil(hi) - 1, 0x7fffffff);
  if (vmin > vmax) {
    for (let y = 0; y < h; y++) masked.fill(unusable, (y + pad) * stride + pad, (y + pad) * stride + pad + w);
    ws.usable = 0;
    return 0;
  }
  const span = (vmax - vmin) | 0;
  ws.imageIn.set(image);
  if (ws.staticMaskSource !== staticMask) {
    ws.staticMaskIn.set(staticMask);
    ws.staticMaskSource = staticMask;
  }
  const k = ws.kernel();
  const p32 = ws.params32, p64 = ws.params64;
  const slots = 2 * ky + 2;
  p32[PARAM.w / 4] = w; p32[PARAM.h / 4] = h; p32[PARAM.pad / 4] = pad; p32[PARAM.stride / 4] = stride;
  p32[PARAM.kx / 4] = kx; p32[PARAM.ky / 4] = ky; p32[PARAM.nMin / 4] = nMin;
  p32[PARAM.img / 4] = at.imageIn; p32[PARAM.sm / 4] = at.staticMaskIn; p32[PARAM.mk / 4] = at.masked;
  p32[PARAM.cols / 4] = at.cols; p32[PARAM.cut / 4] = at.cut; p32[PARAM.sig / 4] = at.signalBits;
  p32[PARAM.bitStride / 4] = ws.bitStride; p32[PARAM.bitPad / 4] = ws.bitPad; p32[PARAM.vmin / 4] = vmin; p32[PARAM.span / 4] = span;
  p32[PARAM.ring / 4] = at.ring; p32[PARAM.slots / 4] = slots; p32[PARAM.usable / 4] = 0;
  p64[PARAM.shift / 8] = shift; p64[PARAM.invShift / 8] = invShift;
  p64[PARAM.area / 8] = area; p64[PARAM.wholeP / 8] = (area - 0.5) * shift; p64[PARAM.areaShift / 8] = area * shift;
  p64[PARAM.cutArea / 8] = ws.cut[area];
  // Rows −ky−1 … −1 (and any beyond a panel shorter than ky) contribute nothing.
  const ring = ws.ring;
  ring.fill(0);
  let usable = 0;
  for (let y = 0; y < Math.min(ky, h); y++) usable += k.maskRow(y);
  // Column sums over rows −ky−1 … ky−1, so that output row 0 moves them down like every other.
  for (let j = pad - kx - 1; j < pad + w + kx; j++) {
    let cp = 0, cq = 0;
    for (let r = -ky - 1; r < ky; r++) {
      const o = 2 * (((r + ky + 1) % slots) * stride + j);
      cp += ring[o]; cq += ring[o + 1];
    }
    cols[2 * j] = cp; cols[2 * j + 1] = cq;
  }
  const count = k.rows();
  usable += p32[PARAM.usable / 4];
  ws.usable = usable;
  return count;
}

/** ws.cut[n] = gain·(1 + σ_b·√(2/(n−1)))·(n−1) for n = 2 … area (see dispersionPass). */
function cutOffs(ws: ThresholdWorkspace, area: number, gain: number, sigmaBackground: number): Float64Array {
  const cut = ws.cut;
  if (cut.length <= area) throw new Error(`workspace cut-off table holds ${cut.length} entries, kernel needs ${area + 1}`);
  for (let n = 2; n <= area; n++) cut[n] = gain * (1 + sigmaBackground * Math.sqrt(2 / (n - 1))) * (n - 1);
  return cut;
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
  const { colN, colS, coreBits: core, bitStride: stride, bitPad: pad, rowBits: need, validRow, masked } = ws;
  // Pixel (x, y) of masked is at (y + mp)·ms + mp + x.
  const ms = ws.stride, mp = ws.pad, m0 = mp * ms + mp;
  const unusable = UNUSABLE; // see globalThreshold
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
    // need = core row dilated by bx (OR of shifts), bits beyond the panel cleared. Core pixels
    // are sparse: a word whose reach (bx pixels either side) holds none stays 0.
    const reach = (bx >>> 5) + 1;
    for (let k = 0; k < words; k++) {
      const j = cr + k;
      let v = core[j];
      let near = v;
      for (let q = 1; q <= reach; q++) near |= core[j + q] | core[j - q];
      if (near === 0) { need[k] = 0; continue; }
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
            const v = masked[m0 + enter * ms + x];
            const m = (v !== unusable ? 1 : 0) & (((core[enter * stride + word] >>> x) & 1) ^ 1);
            dn += m; ds += v & -m;
          }
          if (leave >= 0) {
            const v = masked[m0 + leave * ms + x];
            const m = (v !== unusable ? 1 : 0) & (((core[leave * stride + word] >>> x) & 1) ^ 1);
            dn -= m; ds -= v & -m;
          }
          colN[x + off] += dn;
          colS[x + off] += ds;
        } else {
          let n = 0, s = 0;
          for (let yy = y0; yy <= y1; yy++) {
            const v = masked[m0 + yy * ms + x];
            const m = (v !== unusable ? 1 : 0) & (((core[yy * stride + word] >>> x) & 1) ^ 1);
            n += m; s += v & -m;
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
          ws.push(count++, o + x, v);
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

/** Algorithms warmed up in this thread. */
const warmedUp = new Set<ThresholdAlgorithm>();

/** Calls per function in the warm-up (V8 allocates type feedback on about the 8th call). */
const WARM_UP_CALLS = 10;

/**
 * Run an algorithm on a small synthetic panel before its first real panel (in each worker too;
 * on first use rather than at load, and only the algorithm asked for, so threads do not compile
 * code they never run).
 * The optimising compiler specialises on what the code has seen: without this, code compiled
 * while the first real image is still in its first loop has never run the code after it, nor
 * seen a squared count overflow 32 bits, and is thrown away and recompiled several times, at a
 * cost in compile time comparable to spot finding on tens of images. The panel has a blob
 * brighter than 46 341 counts (its square overflows int32), a fainter one, one in the corner, a
 * masked column, an untrusted pixel and empty columns on the right, so every branch of the
 * passes runs; the strong list
 * starts short so that its growth runs too.
 */
function warmUp(algorithm: ThresholdAlgorithm): void {
  // Wide enough that some 32-pixel words of a row are far from every spot.
  const w = 100, h = 36;
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
    findStrongPixelsPanel(image, mask, [-1, 1e6], w, h, { ...DEFAULT_THRESHOLD, algorithm }, rep % 2 === 0 ? out : null, ws);
  }
}
