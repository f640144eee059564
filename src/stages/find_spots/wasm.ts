/**
 * The two passes of the extended dispersion threshold that touch every pixel or every core pixel
 * (threshold.ts: the usable-pixel mask with the dispersion test, and the background test), as a
 * small WebAssembly module assembled here, instruction by instruction, when first needed. In V8's
 * optimised JavaScript each typed-array access carries its own map, bounds and overflow checks
 * (≈ 180 machine instructions per pixel for the first pass), where WebAssembly's loads are plain
 * loads: these passes run 2–3 times faster than the same loops in TypeScript.
 *
 * No toolchain: the module is written out opcode by opcode (WebAssembly 1.0 binary format, one
 * helper per instruction), so building the repository stays `tsc`. The arithmetic is the same
 * IEEE double arithmetic on exact integers as threshold.ts' TypeScript passes (dispersionPass,
 * strongOverBackground), so results are identical; the tests hold both to a brute-force
 * evaluation of the definitions.
 *
 * Addresses are byte offsets into the imported memory `env.memory` (ThresholdWorkspace lays it
 * out); the parameters are read from a block at its start (PARAM). Exports:
 *  - maskRow(y) → usable pixels of row y, written into the masked image and the ring of window
 *    contributions (for the rows in the first window; see maskRowBody);
 *  - rows() → over-dispersed pixels of the panel, as signal bits, every row swept
 *    (sweepRowBody, which masks the rows below as they enter the window);
 *  - background() → strong pixels among the eroded core pixels, listed with their counts.
 */
/** Marks an unusable pixel in the masked image (a count of −2³¹ is never usable). */
export const UNUSABLE = -0x80000000;

const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

/** Instructions (WebAssembly 1.0 opcodes), each returning its bytes. */
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32c = (n: number) => [0x41, ...sleb(n)];
const f64c0 = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
const load32 = [0x28, 2, 0], load8u = [0x2d, 0, 0], loadF64 = [0x2b, 3, 0];
const store32 = [0x36, 2, 0], storeF64 = [0x39, 3, 0];
/** f64 load / store at a constant byte offset from the address on the stack. */
const loadF64At = (offset: number) => [0x2b, 3, ...uleb(offset)], storeF64At = (offset: number) => [0x39, 3, ...uleb(offset)];
const block = [0x02, 0x40], loop = [0x03, 0x40], ifThen = [0x04, 0x40], orElse = [0x05], end = [0x0b], br = (d: number) => [0x0c, ...uleb(d)], brIf = (d: number) => [0x0d, ...uleb(d)];
const select = [0x1b], drop = [0x1a], call = (f: number) => [0x10, ...uleb(f)];
const i32Eqz = [0x45], i32Eq = [0x46], i32Ne = [0x47], i32LtS = [0x48], i32LtU = [0x49], i32GeS = [0x4e], i32LeS = [0x4c], i32LeU = [0x4d];
const i32Ctz = [0x68], i32ShrU = [0x76], i32Xor = [0x73], i32Add = [0x6a], i32Sub = [0x6b], i32Mul = [0x6c], i32RemU = [0x70], i32And = [0x71], i32Or = [0x72], i32Shl = [0x74], i32ShrS = [0x75];
const f64Gt = [0x64], f64Ge = [0x66];
const f64Add = [0xa0], f64Sub = [0xa1], f64Mul = [0xa2], f64Div = [0xa3], f64Sqrt = [0x9f], f64Nearest = [0x9e];
const i32TruncF64 = [0xaa], f64FromI32 = [0xb7];
/** SIMD (two f64 lanes): loads and stores at a constant offset, splat, lane access, lane-wise add and subtract. */
const simd = (op: number) => [0xfd, ...uleb(op)];
const v128LoadAt = (offset: number) => [...simd(0x00), 3, ...uleb(offset)], v128StoreAt = (offset: number) => [...simd(0x0b), 3, ...uleb(offset)];
const f64x2Splat = simd(0x14), f64x2Extract = (lane: number) => [...simd(0x21), lane], f64x2Replace = (lane: number) => [...simd(0x22), lane];
const f64x2Add = simd(0xf0), f64x2Sub = simd(0xf1);

/** A function body: locals as runs of [count, type], then the code. */
function body(locals: [number, number][], code: number[][]): number[] {
  const bytes = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t]), ...code.flat(), ...end];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/**
 * The parameter block at the start of the memory, written by the caller (FirstPassParams):
 * i32 fields at the byte offsets below, then the f64 fields.
 */
export const PARAM = {
  w: 0, h: 4, pad: 8, stride: 12, kx: 16, ky: 20, nMin: 24, img: 28, sm: 32, mk: 36, cols: 40, cut: 48, sig: 52,
  bitStride: 56, bitPad: 60, vmin: 64, span: 68, ring: 72, slots: 76, usable: 84, shift: 96, invShift: 104,
  // background(): i32 …
  core: 128, bx: 132, by: 136, colBg: 140, validRow: 144, need: 148, strongOut: 152, words: 156, tail: 160, strongCap: 164,
  // … and f64
  shiftBg: 192, invShiftBg: 200, gain: 208, sigmaStrong: 216, globalThreshold: 224,
  // sweepRow's whole windows (n = area): area, the smallest P of one, area·shift, cut[area]
  area: 232, wholeP: 240, areaShift: 248, cutArea: 256,
} as const;
/** Bytes the parameter block takes. */
export const PARAM_BYTES = 320;

/** Locals of every function: the i32 parameters, loaded at entry, then scratch. */
const L = {
  y: 0, w: 1, h: 2, pad: 3, stride: 4, kx: 5, ky: 6, nMin: 7, img: 8, sm: 9, mk: 10, cols: 11, pk: 12, cut: 13, sig: 14,
  bitStride: 15, bitPad: 16, vmin: 17, span: 18, ring: 19, slots: 20, pc: 21,
  x: 22, i: 23, iEnd: 24, o: 25, v: 26, ok: 27, usable: 28, count: 29, j: 30, jEnd: 31, e: 32, l: 33, centre: 34,
  bitRow: 35, addr: 36, dk: 37, t: 38, c: 39, eIn: 40, pimg: 41, psm: 42,
  // f64
  shift: 43, invShift: 44, P: 45, Q: 46, cpv: 47, cqv: 48, n: 49, s: 50, vf: 51, ep: 52, eq: 53,
  area: 54, wholeP: 55, areaShift: 56, cutArea: 57,
  // v128 (sweepRow only): a column's (colP, colQ) pair, the window's (P, Q), the entering pixel's (ep, eq)
  CP: 58, PQ: 59, EPQ: 60,
} as const;
const I32_LOCALS = 42, F64_LOCALS = 15; // beyond the one parameter (y)

/** Load the parameter block into the locals. */
function loadParams(): number[][] {
  const fields = ['w', 'h', 'pad', 'stride', 'kx', 'ky', 'nMin', 'img', 'sm', 'mk', 'cols', 'cut', 'sig', 'bitStride', 'bitPad', 'vmin', 'span', 'ring', 'slots'] as const;
  return [
    ...fields.map((f) => [...i32c(PARAM[f]), ...load32, ...set(L[f])]),
    [...i32c(PARAM.shift), ...loadF64, ...set(L.shift)],
    [...i32c(PARAM.invShift), ...loadF64, ...set(L.invShift)],
    ...(['area', 'wholeP', 'areaShift', 'cutArea'] as const).map((f) => [...i32c(PARAM[f]), ...loadF64, ...set(L[f])]),
  ];
}

/** Byte address of the ring slot of row `row` (code leaving it on the stack), column 0: ring + ((row + ky + 1) mod slots)·stride·16. */
function slotOf(row: number[]): number[][] {
  return [row, get(L.ky), i32Add, i32c(1), i32Add, get(L.slots), i32RemU, get(L.stride), i32Mul, i32c(4), i32Shl, get(L.ring), i32Add];
}

/**
 * maskRow(y) → usable pixels of row y. Writes row y of the padded masked image: the count where
 * sm ≠ 0 and vmin ≤ v ≤ vmin + span (unsigned: one compare), UNUSABLE elsewhere; and the row's
 * contributions to the window sums into its ring slot: the pair (v + shift, v²) per pixel, 0 for
 * unusable pixels.
 */
function maskRowBody(): number[] {
  return body([[I32_LOCALS, I32], [F64_LOCALS, F64]], [
    ...loadParams(),
    get(L.y), get(L.w), i32Mul, tee(L.i), get(L.w), i32Add, set(L.iEnd),
    get(L.y), get(L.pad), i32Add, get(L.stride), i32Mul, get(L.pad), i32Add, i32c(2), i32Shl, get(L.mk), i32Add, set(L.o),
    ...slotOf(get(L.y)), get(L.pad), i32c(4), i32Shl, i32Add, set(L.addr),
    loop,
    get(L.img), get(L.i), i32c(2), i32Shl, i32Add, load32, set(L.v),
    get(L.v), get(L.vmin), i32Sub, get(L.span), i32LeU, get(L.sm), get(L.i), i32Add, load8u, i32c(0), i32Ne, i32And, set(L.ok),
    get(L.o), get(L.v), i32c(UNUSABLE), get(L.ok), select, store32,
    get(L.v), f64FromI32, set(L.vf),
    get(L.addr), get(L.vf), get(L.shift), f64Add, f64c0, get(L.ok), select, storeF64At(0),
    get(L.addr), get(L.vf), get(L.vf), f64Mul, f64c0, get(L.ok), select, storeF64At(8),
    get(L.usable), get(L.ok), i32Add, set(L.usable),
    get(L.o), i32c(4), i32Add, set(L.o),
    get(L.addr), i32c(16), i32Add, set(L.addr),
    get(L.i), i32c(1), i32Add, tee(L.i), get(L.iEnd), i32LtS, brIf(0),
    end,
    get(L.usable),
  ]);
}

/**
 * sweepRow(y) → over-dispersed pixels of row y: moves the column sums (pairs Σ(v + shift), Σv²
 * per column in `cols`) down by one row (row y + ky enters, y − ky − 1 leaves) and slides the
 * window along the row, setting signal bits; threshold.ts' dispersionPass without the strong
 * test. The entering row is masked on the way (as maskRow would, in the same sweep, so its
 * pixels are loaded once); its usable pixels are added to PARAM.usable. Walks byte pointers (e, l: ring rows; pc: column sums of the entering column, pk of the
 * leaving one; centre: the pixel in `masked`) rather than indexing, so every load is a pointer
 * plus a constant.
 */
function sweepRowBody(): number[] {
  /**
   * Column at pc (panel column c) moves down one row: the entering row's pixel is masked here
   * (masked image at o, ring at e, as maskRow does) when it lies in the panel, and contributes
   * (ep, eq); the leaving row's contributions come from the ring at l. CP = the new (colP, colQ)
   * pair, also stored; pairs are added and subtracted two lanes at a time, each lane the same
   * double arithmetic as one at a time.
   */
  const updateColumn = [
    get(L.c), get(L.w), i32LtU, get(L.eIn), i32And,
    ifThen,
    get(L.pimg), load32, set(L.v),
    get(L.v), get(L.vmin), i32Sub, get(L.span), i32LeU, get(L.psm), load8u, i32c(0), i32Ne, i32And, set(L.ok),
    get(L.o), get(L.v), i32c(UNUSABLE), get(L.ok), select, store32,
    get(L.v), f64FromI32, set(L.vf),
    get(L.vf), get(L.shift), f64Add, f64c0, get(L.ok), select, set(L.ep),
    get(L.vf), get(L.vf), f64Mul, f64c0, get(L.ok), select, set(L.eq),
    get(L.ep), f64x2Splat, get(L.eq), f64x2Replace(1), set(L.EPQ),
    get(L.e), get(L.EPQ), v128StoreAt(0),
    get(L.usable), get(L.ok), i32Add, set(L.usable),
    orElse,
    f64c0, f64x2Splat, set(L.EPQ),
    end,
    get(L.pc), v128LoadAt(0), get(L.EPQ), get(L.l), v128LoadAt(0), f64x2Sub, f64x2Add, set(L.CP),
    get(L.pc), get(L.CP), v128StoreAt(0),
  ];
  const advance = [
    get(L.pc), i32c(16), i32Add, set(L.pc),
    get(L.e), i32c(16), i32Add, set(L.e),
    get(L.l), i32c(16), i32Add, set(L.l),
    get(L.c), i32c(1), i32Add, set(L.c),
    get(L.pimg), i32c(4), i32Add, set(L.pimg),
    get(L.psm), i32c(1), i32Add, set(L.psm),
    get(L.o), i32c(4), i32Add, set(L.o),
  ];
  return body([[I32_LOCALS, I32], [F64_LOCALS, F64], [3, V128]], [
    ...loadParams(),
    // First column: −kx−1 (padded pad − kx − 1); j counts the columns left before x = 0.
    get(L.pad), get(L.kx), i32Sub, i32c(1), i32Sub, i32c(4), i32Shl, set(L.t),
    ...slotOf([...get(L.y), ...get(L.ky), ...i32Add]), get(L.t), i32Add, set(L.e),
    ...slotOf([...get(L.y), ...get(L.ky), ...i32Sub, ...i32c(1), ...i32Sub]), get(L.t), i32Add, set(L.l),
    get(L.cols), get(L.t), i32Add, set(L.pc),
    // The entering row y + ky, from panel column c = −kx − 1: in the panel? its pixels in the image, static mask, masked image.
    get(L.y), get(L.ky), i32Add, get(L.h), i32LtS, set(L.eIn),
    i32c(0), get(L.kx), i32Sub, i32c(1), i32Sub, set(L.c),
    get(L.y), get(L.ky), i32Add, get(L.w), i32Mul, get(L.c), i32Add, tee(L.psm), i32c(2), i32Shl, get(L.img), i32Add, set(L.pimg),
    get(L.psm), get(L.sm), i32Add, set(L.psm),
    get(L.y), get(L.ky), i32Add, get(L.pad), i32Add, get(L.stride), i32Mul, get(L.pad), i32Add, get(L.c), i32Add, i32c(2), i32Shl, get(L.mk), i32Add, set(L.o),
    get(L.y), get(L.pad), i32Add, get(L.stride), i32Mul, get(L.pad), i32Add, i32c(2), i32Shl, get(L.mk), i32Add, set(L.centre),
    get(L.y), get(L.bitStride), i32Mul, get(L.bitPad), i32Add, i32c(2), i32Shl, get(L.sig), i32Add, set(L.bitRow),
    get(L.kx), i32c(1), i32Shl, i32c(1), i32Add, i32c(4), i32Shl, set(L.dk),
    // Columns −kx−1 … kx−1: the window of x = −1.
    get(L.kx), i32c(1), i32Shl, i32c(1), i32Add, set(L.j),
    loop,
    ...updateColumn,
    get(L.PQ), get(L.CP), f64x2Add, set(L.PQ),
    ...advance,
    get(L.j), i32c(1), i32Sub, tee(L.j), brIf(0),
    end,
    // x = 0 … w−1: entering column at pc (pad + x + kx), leaving one at pk = pc − (2kx + 1)·16.
    loop,
    ...updateColumn,
    get(L.PQ), get(L.CP), get(L.pc), get(L.dk), i32Sub, v128LoadAt(0), f64x2Sub, f64x2Add, tee(L.PQ),
    f64x2Extract(0), set(L.P),
    get(L.PQ), f64x2Extract(1), set(L.Q),
    // n·Q − s² > cut[n]·s (false for most pixels: tested first), then s > 0 and n ≥ nMin and the
    // pixel itself usable. Most windows are whole (all n = area pixels usable, P ≥ wholeP): then
    // s = P − area·shift and the cut-off is a constant; otherwise n = round(P / shift),
    // s = P − n·shift (see threshold.ts: never a tie).
    get(L.P), get(L.wholeP), f64Ge,
    ifThen,
    get(L.area), set(L.n),
    get(L.P), get(L.areaShift), f64Sub, set(L.s),
    get(L.area), get(L.Q), f64Mul, get(L.s), get(L.s), f64Mul, f64Sub,
    get(L.cutArea), get(L.s), f64Mul, f64Gt, set(L.t),
    orElse,
    get(L.P), get(L.invShift), f64Mul, f64Nearest, set(L.n),
    get(L.P), get(L.n), get(L.shift), f64Mul, f64Sub, set(L.s),
    get(L.n), get(L.Q), f64Mul, get(L.s), get(L.s), f64Mul, f64Sub,
    get(L.cut), get(L.n), i32TruncF64, i32c(3), i32Shl, i32Add, loadF64, get(L.s), f64Mul, f64Gt, set(L.t),
    end,
    get(L.t),
    ifThen,
    get(L.s), f64c0, f64Gt,
    get(L.n), get(L.nMin), f64FromI32, f64Ge, i32And,
    get(L.centre), load32, i32c(UNUSABLE), i32Ne, i32And,
    ifThen,
    get(L.bitRow), get(L.x), i32c(5), i32ShrS, i32c(2), i32Shl, i32Add, tee(L.addr),
    get(L.addr), load32, i32c(1), get(L.x), i32Shl, i32Or, store32,
    get(L.count), i32c(1), i32Add, set(L.count),
    end,
    end,
    ...advance,
    get(L.centre), i32c(4), i32Add, set(L.centre),
    get(L.x), i32c(1), i32Add, tee(L.x), get(L.w), i32LtS, brIf(0),
    end,
    i32c(PARAM.usable), i32c(PARAM.usable), load32, get(L.usable), i32Add, store32,
    get(L.count),
  ]);
}

/** rows() → over-dispersed pixels of the panel: every row swept (which masks its entering row). */
function rowsBody(): number[] {
  return body([[I32_LOCALS, I32], [F64_LOCALS, F64]], [
    ...loadParams(),
    i32c(0), set(L.y),
    loop,
    get(L.count), get(L.y), call(FN.sweepRow), i32Add, set(L.count),
    get(L.y), i32c(1), i32Add, tee(L.y), get(L.h), i32LtS, brIf(0),
    end,
    get(L.count),
  ]);
}

/** background()'s locals (its parameter, local 0, is unused). */
const B = {
  w: 1, h: 2, pad: 3, stride: 4, mk: 5, core: 6, bitStride: 7, bitPad: 8, bx: 9, by: 10, colBg: 11, validRow: 12, need: 13,
  out: 14, words: 15, tail: 16,
  y: 17, cr: 18, k: 19, any: 20, v: 21, d: 22, bits: 23, x: 24, a: 25, yy: 26, y0: 27, y1: 28, c: 29, count: 30, last: 31,
  cEnd: 32, enter: 33, leave: 34, mk0: 35, rowBytes: 36, col: 37, r: 38, pm: 39, pw: 40, wordBytes: 41, rEnd: 42, cap: 43,
  // f64
  shift: 44, invShift: 45, gain: 46, ss: 47, gt: 48, P: 49, n: 50, s: 51, mean: 52, acc: 53, vf: 54,
} as const;

/**
 * background() → strong pixels of the panel, listed at strongOut as (y·w + x, count) pairs (the
 * first strongCap of them):
 * threshold.ts' strongOverBackground (which documents the method) for background half-widths bx < 32, with
 * the background's count and Σv packed in one column sum, Σ(v + shiftBg), as in the first pass.
 * validRow must hold −2 for every column on entry.
 */
function backgroundBody(): number[] {
  const fields = [['w', 'w'], ['h', 'h'], ['pad', 'pad'], ['stride', 'stride'], ['mk', 'mk'], ['core', 'core'], ['bitStride', 'bitStride'],
    ['bitPad', 'bitPad'], ['bx', 'bx'], ['by', 'by'], ['colBg', 'colBg'], ['validRow', 'validRow'], ['need', 'need'], ['out', 'strongOut'],
    ['words', 'words'], ['tail', 'tail'], ['cap', 'strongCap']] as const;
  const f64Fields = [['shift', 'shiftBg'], ['invShift', 'invShiftBg'], ['gain', 'gain'], ['ss', 'sigmaStrong'], ['gt', 'globalThreshold']] as const;
  /** (value on the stack) + i32 local, … helpers leaving an address on the stack. */
  const colAddr = (xCode: number[][]) => [...xCode, i32c(3), i32Shl, get(B.colBg), i32Add];
  /**
   * Background contribution of pixel x of the row whose masked value is at pm and core-bit word
   * at pw, as f64: v + shift if usable and not core, else 0.
   */
  const contribution = [
    get(B.pm), load32, set(B.v),
    get(B.v), f64FromI32, get(B.shift), f64Add, f64c0,
    get(B.v), i32c(UNUSABLE), i32Ne,
    get(B.pw), load32, get(B.x), i32ShrU, i32c(1), i32And, i32c(1), i32Xor, i32And,
    select,
  ];
  /** pm, pw of pixel x on row r. */
  const pointTo = [
    get(B.mk0), get(B.r), get(B.rowBytes), i32Mul, i32Add, get(B.x), i32c(2), i32Shl, i32Add, set(B.pm),
    get(B.core), get(B.r), get(B.bitStride), i32Mul, get(B.bitPad), i32Add, get(B.x), i32c(5), i32ShrS, i32Add, i32c(2), i32Shl, i32Add, set(B.pw),
  ];
  /** for each set bit of `bits` (word k): x = 32k + bit; `inner` runs with x set. */
  const forEachBit = (inner: number[][]) => [
    block, loop,
    get(B.bits), i32Eqz, brIf(1),
    get(B.k), i32c(5), i32Shl, get(B.bits), i32Ctz, i32Add, set(B.x),
    get(B.bits), get(B.bits), i32c(1), i32Sub, i32And, set(B.bits),
    ...inner,
    br(0),
    end, end,
  ];
  return body([[43, I32], [11, F64]], [
    ...fields.map(([l, f]) => [...i32c(PARAM[f]), ...load32, ...set(B[l])]),
    ...f64Fields.map(([l, f]) => [...i32c(PARAM[f]), ...loadF64, ...set(B[l])]),
    get(B.stride), i32c(2), i32Shl, set(B.rowBytes),
    get(B.bitStride), i32c(2), i32Shl, set(B.wordBytes),
    get(B.pad), get(B.stride), i32Mul, get(B.pad), i32Add, i32c(2), i32Shl, get(B.mk), i32Add, set(B.mk0),
    i32c(0), set(B.y),
    loop, // rows
    get(B.y), get(B.bitStride), i32Mul, get(B.bitPad), i32Add, i32c(2), i32Shl, get(B.core), i32Add, set(B.cr),
    i32c(0), set(B.any), i32c(0), set(B.k),
    loop,
    get(B.any), get(B.cr), get(B.k), i32c(2), i32Shl, i32Add, load32, i32Or, set(B.any),
    get(B.k), i32c(1), i32Add, tee(B.k), get(B.words), i32LtS, brIf(0),
    end,
    get(B.any),
    ifThen, // the row has core pixels
    // need = core row dilated by bx; words with no core pixel within reach stay 0.
    i32c(0), set(B.k),
    loop,
    get(B.cr), get(B.k), i32c(2), i32Shl, i32Add, set(B.a),
    get(B.a), load32, set(B.c),
    get(B.c), set(B.v),
    get(B.a), i32c(4), i32Sub, load32, get(B.c), i32Or, get(B.a), i32c(4), i32Add, load32, i32Or,
    ifThen,
    i32c(1), set(B.d),
    loop,
    get(B.v),
    get(B.c), get(B.d), i32ShrU, get(B.a), i32c(4), i32Add, load32, i32c(32), get(B.d), i32Sub, i32Shl, i32Or,
    get(B.c), get(B.d), i32Shl, i32Or, get(B.a), i32c(4), i32Sub, load32, i32c(32), get(B.d), i32Sub, i32ShrU, i32Or,
    i32Or, set(B.v),
    get(B.d), i32c(1), i32Add, tee(B.d), get(B.bx), i32LeS, brIf(0),
    end,
    end,
    get(B.need), get(B.k), i32c(2), i32Shl, i32Add,
    get(B.v), get(B.v), get(B.tail), i32And, get(B.k), get(B.words), i32c(1), i32Sub, i32Ne, select,
    store32,
    get(B.k), i32c(1), i32Add, tee(B.k), get(B.words), i32LtS, brIf(0),
    end,
    // Background column sums of the needed columns: moved down a row, or summed afresh.
    get(B.y), get(B.by), i32Sub, tee(B.y0), i32c(0), get(B.y0), i32c(0), i32GeS, select, set(B.y0),
    get(B.y), get(B.by), i32Add, tee(B.y1), get(B.h), i32c(1), i32Sub, get(B.y1), get(B.h), i32LtS, select, set(B.y1),
    get(B.y), get(B.by), i32Add, set(B.enter),
    get(B.y), get(B.by), i32Sub, i32c(1), i32Sub, set(B.leave),
    i32c(0), set(B.k),
    loop,
    get(B.need), get(B.k), i32c(2), i32Shl, i32Add, load32, set(B.bits),
    ...forEachBit([
      ...colAddr([get(B.x), get(B.bx), i32Add, i32c(1), i32Add]), set(B.col),
      get(B.validRow), get(B.x), i32c(2), i32Shl, i32Add, load32, get(B.y), i32c(1), i32Sub, i32Eq,
      ifThen,
      f64c0, set(B.acc),
      get(B.enter), get(B.h), i32LtS,
      ifThen, get(B.enter), set(B.r), ...pointTo, get(B.acc), ...contribution, f64Add, set(B.acc), end,
      get(B.leave), i32c(0), i32GeS,
      ifThen, get(B.leave), set(B.r), ...pointTo, get(B.acc), ...contribution, f64Sub, set(B.acc), end,
      get(B.col), get(B.col), loadF64, get(B.acc), f64Add, storeF64,
      orElse,
      // Rows y0 … y1 afresh, the pointers moving down a row at a time.
      f64c0, set(B.acc),
      get(B.y0), set(B.r), ...pointTo,
      get(B.y1), get(B.y0), i32Sub, set(B.rEnd),
      loop,
      get(B.acc), ...contribution, f64Add, set(B.acc),
      get(B.pm), get(B.rowBytes), i32Add, set(B.pm),
      get(B.pw), get(B.wordBytes), i32Add, set(B.pw),
      get(B.rEnd), i32c(1), i32Sub, tee(B.rEnd), i32c(0), i32GeS, brIf(0),
      end,
      get(B.col), get(B.acc), storeF64,
      end,
      get(B.validRow), get(B.x), i32c(2), i32Shl, i32Add, get(B.y), store32,
    ]),
    get(B.k), i32c(1), i32Add, tee(B.k), get(B.words), i32LtS, brIf(0),
    end,
    // Core pixels: background over the window (runs slide it), then the strong test.
    i32c(-2), set(B.last),
    i32c(0), set(B.k),
    loop,
    get(B.cr), get(B.k), i32c(2), i32Shl, i32Add, load32, set(B.bits),
    ...forEachBit([
      get(B.x), get(B.last), i32c(1), i32Add, i32Eq,
      ifThen,
      // + column x + bx (index x + 2bx + 1), − column x − bx − 1 (index x)
      get(B.P), ...colAddr([get(B.x), get(B.bx), i32c(1), i32Shl, i32Add, i32c(1), i32Add]), loadF64, ...colAddr([get(B.x)]), loadF64, f64Sub, f64Add, set(B.P),
      orElse,
      f64c0, set(B.P),
      get(B.x), i32c(1), i32Add, set(B.c),
      get(B.x), get(B.bx), i32c(1), i32Shl, i32Add, i32c(2), i32Add, set(B.cEnd),
      loop,
      get(B.P), ...colAddr([get(B.c)]), loadF64, f64Add, set(B.P),
      get(B.c), i32c(1), i32Add, tee(B.c), get(B.cEnd), i32LtS, brIf(0),
      end,
      end,
      get(B.x), set(B.last),
      get(B.P), get(B.invShift), f64Mul, f64Nearest, set(B.n),
      get(B.P), get(B.n), get(B.shift), f64Mul, f64Sub, set(B.s),
      // mean = n > 0 ? s / n : 0
      get(B.s), get(B.n), f64Div, f64c0, get(B.n), f64c0, f64Gt, select, set(B.mean),
      get(B.mk0), get(B.y), get(B.rowBytes), i32Mul, i32Add, get(B.x), i32c(2), i32Shl, i32Add, load32, f64FromI32, set(B.vf),
      // v ≥ mean + σ_s·√(gain·mean) and v > global threshold
      get(B.vf), get(B.mean), get(B.ss), get(B.gain), get(B.mean), f64Mul, f64Sqrt, f64Mul, f64Add, f64Ge,
      get(B.vf), get(B.gt), f64Gt, i32And,
      ifThen,
      // Listed while the list has room (strongCap pairs); counted always.
      get(B.count), get(B.cap), i32LtS,
      ifThen,
      get(B.out), get(B.count), i32c(3), i32Shl, i32Add, tee(B.a), get(B.y), get(B.w), i32Mul, get(B.x), i32Add, store32,
      get(B.a), i32c(4), i32Add, get(B.vf), i32TruncF64, store32,
      end,
      get(B.count), i32c(1), i32Add, set(B.count),
      end,
    ]),
    get(B.k), i32c(1), i32Add, tee(B.k), get(B.words), i32LtS, brIf(0),
    end,
    end, // row has core pixels
    get(B.y), i32c(1), i32Add, tee(B.y), get(B.h), i32LtS, brIf(0),
    end,
    get(B.count),
  ]);
}

const FN = { maskRow: 0, sweepRow: 1, rows: 2, background: 3 } as const;

function assemble(): Uint8Array {
  const type = [0x60, 1, I32, 1, I32];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, ...type]),
    // import env.memory (kind 2), limits: minimum 0 pages, no maximum
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [4, 0, 0, 0, 0]),
    ...section(7, [3, ...name('maskRow'), 0x00, FN.maskRow, ...name('rows'), 0x00, FN.rows, ...name('background'), 0x00, FN.background]),
    ...section(10, [4, ...maskRowBody(), ...sweepRowBody(), ...rowsBody(), ...backgroundBody()]),
  ];
  return Uint8Array.from(bytes);
}

export interface FirstPassKernel {
  /** Row y into the masked image and its ring slot; returns its usable pixels. */
  maskRow(y: number): number;
  /** All rows (rows 0 … ky−1 masked and the column sums started by the caller); returns the over-dispersed pixels, usable pixels of rows ky … h−1 at PARAM.usable. */
  rows(): number;
  /** The extended algorithm's background test on the core pixels; returns the number of strong pixels, listed at PARAM.strongOut. */
  background(): number;
}

/** What this module uses of the WebAssembly JavaScript API (the project's type libraries do not declare it). */
export interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether this runtime runs WebAssembly (not, e.g., under `node --jitless`). */
export const WASM_AVAILABLE = typeof wasmApi?.Memory === 'function';

/**
 * A memory of `bytes` bytes (rounded up to whole 64 KiB pages); a plain ArrayBuffer where
 * WebAssembly is unavailable (the callers then take their TypeScript paths).
 */
export function wasmMemory(bytes: number): WasmMemory {
  const pages = Math.ceil(bytes / 65536);
  return WASM_AVAILABLE ? new wasmApi!.Memory({ initial: pages }) : { buffer: new ArrayBuffer(pages * 65536) };
}

let compiled: object | null = null;

/** The kernel bound to `memory` (compiled once per thread). */
export function firstPassKernel(memory: WasmMemory): FirstPassKernel {
  if (!WASM_AVAILABLE) throw new Error('WebAssembly is not available in this runtime');
  compiled ??= new wasmApi!.Module(assemble());
  return new wasmApi!.Instance(compiled, { env: { memory } }).exports as FirstPassKernel;
}
