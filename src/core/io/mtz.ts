/**
 * CCP4 MTZ reflection files: writer and reader, written from the published CCP4 format
 * description (mtzformat), not from any library's source.
 *
 * Layout: bytes 0–3 "MTZ ", bytes 4–7 the 1-based 4-byte-word position of the header, bytes
 * 8–11 the machine stamp (0x44 0x41 = IEEE little-endian reals and integers); reflection data
 * start at word 21 (byte 80) as float32 rows, `nColumns` values per reflection, NaN for
 * missing (VALM NAN). The header is a sequence of 80-character ASCII records (VERS, TITLE,
 * NCOL, CELL, SORT, SYMINF, SYMM…, RESO, VALM, COLUMN/COLSRC…, NDIF, PROJECT, CRYSTAL,
 * DATASET, DCELL, DWAVEL, BATCH, END), then MTZHIST with history lines, then for unmerged
 * files MTZBATS with one orientation block per batch (BH record, TITLE record, the binary
 * block of `nwords` 4-byte words — integers first, then reals — and a BHCH record with the
 * goniostat axis names), and finally MTZENDOFHEADERS.
 */
import { readFileSync } from 'node:fs';
import { FileFormatError, UserError } from '../errors.js';

/** CCP4 column type letters (H index, J intensity, F amplitude, Q sigma, K/M I±/σ, G/L F±/σ, D anomalous difference, B batch, Y M/ISYM, I integer, R real, W weight, P phase, A HL coefficient). */
export type MtzColumnType = 'H' | 'J' | 'F' | 'Q' | 'K' | 'M' | 'G' | 'L' | 'D' | 'B' | 'Y' | 'I' | 'R' | 'W' | 'P' | 'A' | 'E';

export interface MtzColumn {
  label: string;
  type: MtzColumnType | string;
  /** DATASET id this column belongs to (0 is the HKL base dataset). */
  datasetId: number;
  /** One value per reflection; NaN = missing. */
  data: Float32Array;
}

export interface MtzDataset {
  id: number;
  project: string;
  crystal: string;
  dataset: string;
  /** a, b, c (Å), α, β, γ (degrees) */
  cell: number[];
  /** Å */
  wavelength: number;
}

/**
 * The two datasets every file we write carries: CCP4's HKL_base (id 0, for H K L) and the data's
 * own project/crystal/dataset (id 1).
 */
export function mtzDatasets(cell: number[], names: { project: string; crystal: string; dataset: string }, wavelength: number): MtzDataset[] {
  return [
    { id: 0, project: 'HKL_base', crystal: 'HKL_base', dataset: 'HKL_base', cell, wavelength: 0 },
    { id: 1, project: names.project, crystal: names.crystal, dataset: names.dataset, cell, wavelength },
  ];
}

export interface MtzSymmetry {
  /** International Tables number. */
  number: number;
  /** Hermann–Mauguin symbol with spaces, e.g. "P 21 21 21". */
  hm: string;
  /** Lattice centring letter (P, A, B, C, I, F, R, H). */
  lattice: string;
  /** Point group symbol, e.g. "222", "422", "4/mmm" is NOT used: MTZ stores the point group. */
  pointGroup: string;
  /** All symmetry operators as coordinate triplets, primitive ones first ("x,y,z", "-x+1/2,-y,z+1/2"). */
  ops: string[];
  /** Number of primitive operators (the first nPrimitive of `ops`). */
  nPrimitive: number;
}

/**
 * An orientation block (one per image batch in unmerged files). `ints` (29) and `floats` (156)
 * are the raw words; `batchHeader()` builds one from named quantities.
 */
export interface MtzBatch {
  number: number;
  title: string;
  ints: Int32Array;
  floats: Float32Array;
  /** Names of the goniostat axes (up to 3). */
  axisNames: string[];
}

export interface Mtz {
  title: string;
  /** Global cell (a, b, c, α, β, γ). */
  cell: number[];
  symmetry: MtzSymmetry;
  datasets: MtzDataset[];
  columns: MtzColumn[];
  batches: MtzBatch[];
  history: string[];
  nReflections: number;
  /** Column sort order (1-based column numbers, 0 = none), 5 entries. */
  sortOrder?: number[];
}

const BATCH_INTS = 29;
const BATCH_REALS = 156;
const BATCH_WORDS = BATCH_INTS + BATCH_REALS;

/**
 * Positions of the named quantities inside a batch block's real words (0-based), following the
 * CCP4 orientation-block layout.
 */
export const BatchReal = {
  cell: 0, // 6
  U: 6, // 9, column-major (Fortran) orientation matrix
  phiXyz: 15, // 2×3 missetting angles
  crystalData: 21, // 12: mosaicity at 21
  datum: 33, // 3
  phiStart: 36,
  phiEnd: 37,
  scanAxis: 38, // 3
  timeStart: 41,
  timeEnd: 42,
  bScale: 43,
  bFactor: 44,
  sdBScale: 45,
  sdBFactor: 46,
  phiRange: 47,
  e1: 59, // 3 goniostat axis vectors
  e2: 62,
  e3: 65,
  source: 80, // 3 idealised source vector
  s0: 83, // 3 source vector including tilts
  wavelength: 86,
  wavelengthSpread: 87,
  dispersionCorrelation: 88,
  divergenceH: 89,
  divergenceV: 90,
  detectorDistance: 111, // 2
  detectorTheta: 113, // 2
  detectorLimits: 115, // 8: xmin, xmax, ymin, ymax per detector
} as const;

export const BatchInt = {
  nWords: 0,
  nInts: 1,
  nReals: 2,
  orientationType: 3,
  refinedCellFlags: 4, // 6
  missettingFlag: 10,
  jumpAxis: 11,
  crystalNumber: 12,
  mosaicityModel: 13,
  dataType: 14, // 2 = rotation (oscillation) data
  scanAxisNumber: 15,
  nBScale: 16,
  nGonioAxes: 17,
  beamInfoFlag: 18,
  nDetectors: 19,
  datasetId: 20,
} as const;

export interface BatchHeaderInput {
  number: number;
  title?: string;
  cell: number[];
  /** Orientation matrix U (row-major, as our models store it); written column-major. */
  U?: number[];
  phiStartDeg: number;
  phiEndDeg: number;
  scanAxis: number[];
  wavelength: number;
  datasetId: number;
  crystalNumber?: number;
  /** Goniostat axes (unit vectors) and their names, up to three. */
  axes?: number[][];
  axisNames?: string[];
  /** Idealised source vector (towards the source, as the beam direction). */
  source?: number[];
  /** Detector distance (mm) and the detector's pixel limits [xmin, xmax, ymin, ymax]. */
  detectorDistanceMm?: number;
  detectorLimits?: number[];
  mosaicityDeg?: number;
}

export function batchHeader(b: BatchHeaderInput): MtzBatch {
  const ints = new Int32Array(BATCH_INTS);
  const floats = new Float32Array(BATCH_REALS);
  ints[BatchInt.nWords] = BATCH_WORDS;
  ints[BatchInt.nInts] = BATCH_INTS;
  ints[BatchInt.nReals] = BATCH_REALS;
  ints[BatchInt.orientationType] = 3;
  ints[BatchInt.crystalNumber] = b.crystalNumber ?? 1;
  ints[BatchInt.mosaicityModel] = 1;
  ints[BatchInt.dataType] = 2;
  ints[BatchInt.scanAxisNumber] = 0;
  ints[BatchInt.nGonioAxes] = b.axes?.length ?? 1;
  ints[BatchInt.nDetectors] = 1;
  ints[BatchInt.datasetId] = b.datasetId;
  ints[BatchInt.refinedCellFlags] = -1; // cell refined flags (all refined)
  for (let i = 1; i < 6; i++) ints[BatchInt.refinedCellFlags + i] = -1;
  floats.set(b.cell.slice(0, 6), BatchReal.cell);
  const U = b.U ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
  // Fortran column-major: element (r, c) at 3c + r.
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) floats[BatchReal.U + 3 * c + r] = U[3 * r + c];
  floats[BatchReal.crystalData] = b.mosaicityDeg ?? 0;
  floats[BatchReal.phiStart] = b.phiStartDeg;
  floats[BatchReal.phiEnd] = b.phiEndDeg;
  floats.set(b.scanAxis.slice(0, 3), BatchReal.scanAxis);
  floats[BatchReal.bScale] = 1;
  floats[BatchReal.phiRange] = b.phiEndDeg - b.phiStartDeg;
  const axes = b.axes ?? [b.scanAxis];
  const slots = [BatchReal.e1, BatchReal.e2, BatchReal.e3];
  for (let i = 0; i < Math.min(3, axes.length); i++) floats.set(axes[i].slice(0, 3), slots[i]);
  if (b.source) { floats.set(b.source.slice(0, 3), BatchReal.source); floats.set(b.source.slice(0, 3), BatchReal.s0); }
  floats[BatchReal.wavelength] = b.wavelength;
  if (b.detectorDistanceMm !== undefined) floats[BatchReal.detectorDistance] = b.detectorDistanceMm;
  if (b.detectorLimits) floats.set(b.detectorLimits.slice(0, 4), BatchReal.detectorLimits);
  return { number: b.number, title: b.title ?? '', ints, floats, axisNames: b.axisNames ?? (axes.length === 1 ? ['PHI'] : []) };
}

/** 1/d² of (h, k, l) for a cell (a, b, c, α, β, γ) — via the reciprocal metric tensor. */
export function reciprocalMetric(cell: readonly number[]): number[] {
  const [a, b, c] = cell;
  const r = Math.PI / 180;
  const ca = Math.cos(cell[3] * r), cb = Math.cos(cell[4] * r), cg = Math.cos(cell[5] * r);
  // direct metric G, then its inverse
  const G = [a * a, a * b * cg, a * c * cb, a * b * cg, b * b, b * c * ca, a * c * cb, b * c * ca, c * c];
  const det = G[0] * (G[4] * G[8] - G[5] * G[7]) - G[1] * (G[3] * G[8] - G[5] * G[6]) + G[2] * (G[3] * G[7] - G[4] * G[6]);
  return [
    (G[4] * G[8] - G[5] * G[7]) / det, (G[2] * G[7] - G[1] * G[8]) / det, (G[1] * G[5] - G[2] * G[4]) / det,
    (G[5] * G[6] - G[3] * G[8]) / det, (G[0] * G[8] - G[2] * G[6]) / det, (G[2] * G[3] - G[0] * G[5]) / det,
    (G[3] * G[7] - G[4] * G[6]) / det, (G[1] * G[6] - G[0] * G[7]) / det, (G[0] * G[4] - G[1] * G[3]) / det,
  ];
}

function pad80(s: string): string {
  return s.length >= 80 ? s.slice(0, 80) : s + ' '.repeat(80 - s.length);
}

/** Fortran-ish fixed number formatting that always fits the field. */
function num(v: number, width: number, digits: number): string {
  let s = v.toFixed(digits);
  if (s.length > width) s = v.toPrecision(Math.max(1, width - 6));
  return s.padStart(width);
}

/** A column limit that fits the 17-character field of the COLUMN record (readers parse it by position). */
function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return 'NaN';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  for (let p = 9; p >= 3; p--) {
    const s = String(Number(v.toPrecision(p)));
    if (s.length <= 17) return s;
  }
  return v.toExponential(6);
}

/** Upper-case, spaced triplet as CCP4 programs print it ("X,  -Y+1/2,  Z"). */
function symmRecord(op: string): string {
  const parts = op.replace(/\s+/g, '').toUpperCase().split(',');
  if (parts.length !== 3) throw new UserError(`MTZ: bad symmetry operator '${op}'`);
  return 'SYMM ' + parts.join(',  ');
}

function validate(mtz: Mtz): void {
  const n = mtz.nReflections;
  if (mtz.columns.length === 0) throw new UserError('MTZ: no columns to write');
  const seen = new Set<string>();
  for (const c of mtz.columns) {
    if (c.data.length !== n) throw new UserError(`MTZ: column ${c.label} has ${c.data.length} values, expected ${n}`);
    if (c.label.length === 0 || c.label.length > 30 || /\s/.test(c.label)) throw new UserError(`MTZ: bad column label '${c.label}'`);
    if (seen.has(c.label)) throw new UserError(`MTZ: duplicate column label ${c.label}`);
    seen.add(c.label);
    if (c.type.length !== 1) throw new UserError(`MTZ: bad column type '${c.type}' for ${c.label}`);
    if (!mtz.datasets.some((d) => d.id === c.datasetId)) throw new UserError(`MTZ: column ${c.label} refers to unknown dataset ${c.datasetId}`);
  }
  if (mtz.cell.length !== 6 || mtz.cell.some((v) => !(v > 0))) throw new UserError(`MTZ: bad cell ${mtz.cell.join(' ')}`);
}

/** Serialise an MTZ in memory (little-endian IEEE). */
export function writeMtz(mtz: Mtz): Uint8Array {
  validate(mtz);
  const nCol = mtz.columns.length;
  const nRef = mtz.nReflections;
  const dataWords = nCol * nRef;
  const headerWord = 21 + dataWords; // 1-based word index where the header starts

  const recs: string[] = [];
  recs.push('VERS MTZ:V1.1');
  recs.push('TITLE ' + mtz.title.slice(0, 70));
  recs.push(`NCOL ${String(nCol).padStart(8)} ${String(nRef).padStart(12)} ${String(mtz.batches.length).padStart(8)}`);
  recs.push('CELL ' + mtz.cell.map((v) => num(v, 9, 4)).join(' '));
  const sort = mtz.sortOrder ?? [0, 0, 0, 0, 0];
  recs.push('SORT ' + sort.map((v) => String(v).padStart(3)).join(' '));
  const sy = mtz.symmetry;
  recs.push(`SYMINF ${String(sy.ops.length).padStart(3)} ${String(sy.nPrimitive).padStart(2)} ${sy.lattice} ${String(sy.number).padStart(5)} ${("'" + sy.hm + "'").padStart(22)} ${sy.pointGroup.padStart(5)}`);
  for (const op of sy.ops) recs.push(symmRecord(op));

  // Resolution range from H, K, L and the cell.
  const h = mtz.columns.filter((c) => c.type === 'H');
  let minS = Infinity, maxS = 0;
  if (h.length === 3) {
    const g = reciprocalMetric(mtz.cell);
    const [H, K, L] = h.map((c) => c.data);
    for (let i = 0; i < nRef; i++) {
      const x = H[i], y = K[i], z = L[i];
      const s = g[0] * x * x + g[4] * y * y + g[8] * z * z + 2 * (g[1] * x * y + g[2] * x * z + g[5] * y * z);
      if (s > 0) { if (s < minS) minS = s; if (s > maxS) maxS = s; }
    }
  }
  if (!Number.isFinite(minS)) { minS = 0; maxS = 0; }
  recs.push(`RESO ${minS.toPrecision(16)}   ${maxS.toPrecision(16)}`);
  recs.push('VALM NAN');
  const created = new Date();
  const stamp = `CREATED_${String(created.getUTCDate()).padStart(2, '0')}/${String(created.getUTCMonth() + 1).padStart(2, '0')}/${created.getUTCFullYear()}_${created.toISOString().slice(11, 19)}`;
  for (const c of mtz.columns) {
    let lo = Infinity, hi = -Infinity;
    const d = c.data;
    for (let i = 0; i < d.length; i++) { const v = d[i]; if (v === v) { if (v < lo) lo = v; if (v > hi) hi = v; } }
    if (lo === Infinity) { lo = 0; hi = 0; }
    recs.push(`COLUMN ${c.label.padEnd(30)} ${c.type} ${compactNumber(lo).padStart(17)} ${compactNumber(hi).padStart(17)} ${String(c.datasetId).padStart(4)}`);
    recs.push(`COLSRC ${c.label.padEnd(30)} ${stamp.padEnd(36)} ${String(c.datasetId).padStart(4)}`);
  }
  recs.push(`NDIF ${String(mtz.datasets.length).padStart(8)}`);
  for (const ds of mtz.datasets) {
    recs.push(`PROJECT ${String(ds.id).padStart(7)} ${ds.project}`);
    recs.push(`CRYSTAL ${String(ds.id).padStart(7)} ${ds.crystal}`);
    recs.push(`DATASET ${String(ds.id).padStart(7)} ${ds.dataset}`);
    recs.push(`DCELL ${String(ds.id).padStart(9)} ${ds.cell.map((v) => num(v, 10, 4)).join(' ')}`);
    recs.push(`DWAVEL ${String(ds.id).padStart(8)} ${num(ds.wavelength, 10, 5)}`);
  }
  // BATCH records: up to 12 batch numbers per record.
  for (let i = 0; i < mtz.batches.length; i += 12) {
    recs.push('BATCH ' + mtz.batches.slice(i, i + 12).map((b) => String(b.number).padStart(6)).join(''));
  }
  recs.push('END');
  recs.push(`MTZHIST ${String(Math.min(30, mtz.history.length)).padStart(3)}`);
  for (const line of mtz.history.slice(0, 30)) recs.push(line);

  const blocks: Uint8Array[] = [];
  const enc = new TextEncoder();
  const textBlock = (lines: string[]) => enc.encode(lines.map(pad80).join(''));
  blocks.push(textBlock(recs));
  if (mtz.batches.length > 0) {
    blocks.push(textBlock(['MTZBATS']));
    for (const b of mtz.batches) {
      if (b.ints.length !== BATCH_INTS || b.floats.length !== BATCH_REALS) throw new UserError(`MTZ: batch ${b.number} has a malformed orientation block`);
      blocks.push(textBlock([
        `BH ${String(b.number).padStart(8)} ${String(BATCH_WORDS).padStart(7)} ${String(BATCH_INTS).padStart(7)} ${String(BATCH_REALS).padStart(7)}`,
        'TITLE ' + b.title.slice(0, 70),
      ]));
      const words = new Uint8Array(BATCH_WORDS * 4);
      const dv = new DataView(words.buffer);
      for (let i = 0; i < BATCH_INTS; i++) dv.setInt32(4 * i, b.ints[i], true);
      for (let i = 0; i < BATCH_REALS; i++) dv.setFloat32(4 * (BATCH_INTS + i), b.floats[i], true);
      blocks.push(words);
      blocks.push(textBlock(['BHCH ' + [0, 1, 2].map((i) => (b.axisNames[i] ?? '').slice(0, 8).padEnd(8)).join(' ')]));
    }
  }
  blocks.push(textBlock(['MTZENDOFHEADERS']));

  const headerBytes = blocks.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(80 + dataWords * 4 + headerBytes);
  const dv = new DataView(out.buffer);
  out.set(enc.encode('MTZ '), 0);
  dv.setInt32(4, headerWord, true);
  out[8] = 0x44; out[9] = 0x41; out[10] = 0; out[11] = 0;
  // Reflection rows.
  const cols = mtz.columns.map((c) => c.data);
  let p = 80;
  for (let i = 0; i < nRef; i++) {
    for (let c = 0; c < nCol; c++) { dv.setFloat32(p, cols[c][i], true); p += 4; }
  }
  for (const b of blocks) { out.set(b, p); p += b.length; }
  return out;
}

/** Read an MTZ file (either byte order); errors name the file. */
export function readMtz(bytesOrPath: Uint8Array | string, name = typeof bytesOrPath === 'string' ? bytesOrPath : 'MTZ'): Mtz {
  let bytes: Uint8Array;
  if (typeof bytesOrPath === 'string') {
    try { bytes = readFileSync(bytesOrPath); } catch (e) { throw new FileFormatError(name, `cannot read: ${(e as Error).message}`); }
  } else bytes = bytesOrPath;
  const bad = (why: string) => new FileFormatError(name, why);
  if (bytes.length < 80) throw bad('too short for an MTZ file');
  const dec = new TextDecoder('latin1');
  if (dec.decode(bytes.subarray(0, 3)) !== 'MTZ') throw bad('not an MTZ file (no "MTZ" magic)');
  const little = (bytes[8] >> 4) !== 1; // 1 = IEEE big-endian, 4 = IEEE little-endian
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerWord = dv.getInt32(4, little);
  let headerByte = (headerWord - 1) * 4;
  if (headerWord === -1) headerByte = Number(dv.getBigInt64(12, little)) * 4 - 4;
  if (!(headerByte >= 80 && headerByte < bytes.length)) throw bad(`header position ${headerWord} outside the file`);

  const mtz: Mtz = {
    title: '', cell: [], symmetry: { number: 0, hm: '', lattice: 'P', pointGroup: '', ops: [], nPrimitive: 0 },
    datasets: [], columns: [], batches: [], history: [], nReflections: 0,
  };
  const colDefs: { label: string; type: string; datasetId: number }[] = [];
  let nCol = 0;
  let pos = headerByte;
  const rec = () => {
    if (pos + 80 > bytes.length) throw bad('header ends without MTZENDOFHEADERS');
    const s = dec.decode(bytes.subarray(pos, pos + 80));
    pos += 80;
    return s;
  };
  const dsById = new Map<number, MtzDataset>();
  const ds = (id: number) => {
    let d = dsById.get(id);
    if (!d) { d = { id, project: '', crystal: '', dataset: '', cell: [], wavelength: 0 }; dsById.set(id, d); mtz.datasets.push(d); }
    return d;
  };
  const rest = (s: string, nWords: number) => s.trim().split(/\s+/).slice(nWords).join(' ');
  for (;;) {
    const r = rec();
    const key = r.slice(0, 4);
    const words = r.trim().split(/\s+/);
    if (key === 'VERS') continue;
    if (key === 'TITL') { mtz.title = r.slice(6).trim(); continue; }
    if (key === 'NCOL') { nCol = Number(words[1]); mtz.nReflections = Number(words[2]); continue; }
    if (key === 'CELL') { mtz.cell = words.slice(1, 7).map(Number); continue; }
    if (key === 'SORT') { mtz.sortOrder = words.slice(1, 6).map(Number); continue; }
    if (key === 'SYMI') {
      const m = /^SYMINF\s+(\d+)\s+(\d+)\s+(\S)\s+(\d+)\s+'([^']*)'\s*'?([^'\s]*)'?/.exec(r.trim());
      if (m) Object.assign(mtz.symmetry, { nPrimitive: Number(m[2]), lattice: m[3], number: Number(m[4]), hm: m[5].trim(), pointGroup: m[6] });
      continue;
    }
    if (key === 'SYMM') { mtz.symmetry.ops.push(r.slice(5).replace(/\s+/g, '').toLowerCase()); continue; }
    if (key === 'COLU') { colDefs.push({ label: words[1], type: words[2], datasetId: Number(words[5] ?? 0) }); continue; }
    if (key === 'PROJ') { ds(Number(words[1])).project = rest(r, 2); continue; }
    if (key === 'CRYS') { ds(Number(words[1])).crystal = rest(r, 2); continue; }
    if (key === 'DATA') { ds(Number(words[1])).dataset = rest(r, 2); continue; }
    if (key === 'DCEL') { ds(Number(words[1])).cell = words.slice(2, 8).map(Number); continue; }
    if (key === 'DWAV') { ds(Number(words[1])).wavelength = Number(words[2]); continue; }
    if (key === 'END ' || r.trim() === 'END') break;
  }
  if (colDefs.length !== nCol) throw bad(`NCOL says ${nCol} columns but ${colDefs.length} COLUMN records found`);
  // History and batches.
  for (;;) {
    if (pos + 80 > bytes.length) break;
    const r = rec();
    if (r.startsWith('MTZHIST')) {
      const n = Number(r.slice(7).trim());
      for (let i = 0; i < n; i++) mtz.history.push(rec().trimEnd());
    } else if (r.startsWith('MTZBATS')) {
      continue;
    } else if (r.startsWith('BH ')) {
      const w = r.trim().split(/\s+/).map(Number);
      const [number, nWords, nInts, nReals] = w.slice(1);
      const title = rec().slice(6).trim();
      if (pos + 4 * nWords > bytes.length) throw bad(`batch ${number} orientation block truncated`);
      const ints = new Int32Array(nInts), floats = new Float32Array(nReals);
      for (let i = 0; i < nInts; i++) ints[i] = dv.getInt32(pos + 4 * i, little);
      for (let i = 0; i < nReals; i++) floats[i] = dv.getFloat32(pos + 4 * (nInts + i), little);
      pos += 4 * nWords;
      const bhch = rec();
      const axisNames = bhch.startsWith('BHCH') ? bhch.slice(5).trim().split(/\s+/).filter((s) => s.length > 0) : [];
      mtz.batches.push({ number, title, ints, floats, axisNames });
    } else if (r.startsWith('MTZENDOFHEADERS')) break;
  }
  const nRef = mtz.nReflections;
  if (80 + nRef * nCol * 4 > headerByte) throw bad(`data (${nRef} × ${nCol}) overlap the header`);
  mtz.columns = colDefs.map((c) => ({ ...c, data: new Float32Array(nRef) }));
  let p = 80;
  for (let i = 0; i < nRef; i++) for (let c = 0; c < nCol; c++) { mtz.columns[c].data[i] = dv.getFloat32(p, little); p += 4; }
  return mtz;
}

/** The column with this label, or a FileFormatError naming the file. */
export function mtzColumn(mtz: Mtz, label: string, file = 'MTZ'): MtzColumn {
  const c = mtz.columns.find((x) => x.label === label);
  if (!c) throw new FileFormatError(file, `no column ${label} (have ${mtz.columns.map((x) => x.label).join(' ')})`);
  return c;
}
