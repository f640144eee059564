import { UserError } from '../errors.js';

/**
 * Reflection table: named columns in typed arrays, one row per reflection, as DIALS' flex
 * reflection_table. Each column remembers its DIALS type name so a `.refl` round trip is
 * lossless and a file we write reads back in DIALS with the same column types.
 *
 * In-memory representation per DIALS type (stride = values per row):
 *   int                     Int32Array,   stride 1
 *   double                  Float64Array, stride 1
 *   bool                    Uint8Array,   stride 1 (the stored byte is kept as is, normally 0/1)
 *   std::size_t             Float64Array, stride 1. Chosen over BigUint64Array because flags,
 *                           panel and partial_id are used in ordinary arithmetic and bit tests;
 *                           every integer below 2^53 is exact in a double, and the reader rejects
 *                           larger values instead of rounding them, so round trips are exact.
 *   vec2<double>            Float64Array, stride 2
 *   vec3<double>            Float64Array, stride 3
 *   mat3<double>            Float64Array, stride 9 (row-major, as Mat3 in core/math)
 *   cctbx::miller::index<>  Int32Array,   stride 3
 *   int6                    Int32Array,   stride 6 (bbox: x0, x1, y0, y1, z0, z1)
 *   Shoebox<>               ShoeboxColumn (ragged pixel arrays, see below)
 *   anything else           Uint8Array of the raw little-endian bytes, stride = bytes per row,
 *                           so a type we do not know still survives select/concat/write.
 */
export type ColumnType =
  | 'int' | 'double' | 'bool' | 'std::size_t'
  | 'vec2<double>' | 'vec3<double>' | 'mat3<double>'
  | 'cctbx::miller::index<>' | 'int6' | 'Shoebox<>'
  | (string & {});

/**
 * Shoebox column: per row the panel, bbox, whether pixel arrays are present, and the pixel
 * arrays themselves, concatenated for all rows (row i owns pixels offset[i] .. offset[i+1]).
 * A row's pixel count is (x1−x0)(y1−y0)(z1−z0) from its bbox, ordered z slowest, x fastest.
 * Kept ragged and flat so selecting 10⁵ shoeboxes does not allocate 10⁵ objects.
 */
export interface ShoeboxColumn {
  readonly kind: 'shoebox';
  readonly panel: Uint32Array;
  readonly bbox: Int32Array;
  /** 1 when data/mask/background arrays are stored for the row, 0 when the shoebox is empty. */
  readonly allocated: Uint8Array;
  /** length nrows + 1; pixel offsets into data/mask/background. */
  readonly offset: Float64Array;
  readonly data: Float32Array;
  readonly mask: Int32Array;
  readonly background: Float32Array;
}

export type NumericArray = Int32Array | Float64Array | Uint8Array;
export type ColumnData = NumericArray | ShoeboxColumn;

interface Column {
  type: ColumnType;
  /** values per row for numeric columns (bytes per row for raw unknown types); 0 for shoeboxes */
  stride: number;
  data: ColumnData;
}

type ArrayKind = 'i32' | 'f64' | 'u8';
interface TypeSpec { kind: ArrayKind; stride: number }

/** The DIALS column types with a fixed per-row layout that we know. */
export const COLUMN_TYPES: Readonly<Record<string, TypeSpec>> = {
  'int': { kind: 'i32', stride: 1 },
  'double': { kind: 'f64', stride: 1 },
  'bool': { kind: 'u8', stride: 1 },
  'std::size_t': { kind: 'f64', stride: 1 },
  'vec2<double>': { kind: 'f64', stride: 2 },
  'vec3<double>': { kind: 'f64', stride: 3 },
  'mat3<double>': { kind: 'f64', stride: 9 },
  'cctbx::miller::index<>': { kind: 'i32', stride: 3 },
  'int6': { kind: 'i32', stride: 6 },
};

export const SHOEBOX_TYPE = 'Shoebox<>';

function allocate(kind: ArrayKind, length: number): NumericArray {
  switch (kind) {
    case 'i32': return new Int32Array(length);
    case 'f64': return new Float64Array(length);
    case 'u8': return new Uint8Array(length);
  }
}

function isShoebox(d: ColumnData): d is ShoeboxColumn {
  return (d as ShoeboxColumn).kind === 'shoebox';
}

function shoeboxPixels(bbox: Int32Array, i: number): number {
  const o = 6 * i;
  return (bbox[o + 1] - bbox[o]) * (bbox[o + 3] - bbox[o + 2]) * (bbox[o + 5] - bbox[o + 4]);
}

/**
 * Views (no copies) of one row's pixels and bbox. Convenient outside hot loops; a loop over many
 * rows should index data/mask/background through `offset` directly instead of creating views.
 */
export function shoeboxRow(sb: ShoeboxColumn, i: number): { panel: number; bbox: Int32Array; allocated: boolean; data: Float32Array; mask: Int32Array; background: Float32Array } {
  if (!(i >= 0 && i < sb.panel.length)) throw new RangeError(`shoebox row ${i} out of range for ${sb.panel.length} rows`);
  const a = sb.offset[i], b = sb.offset[i + 1];
  return {
    panel: sb.panel[i], bbox: sb.bbox.subarray(6 * i, 6 * i + 6), allocated: sb.allocated[i] === 1,
    data: sb.data.subarray(a, b), mask: sb.mask.subarray(a, b), background: sb.background.subarray(a, b),
  };
}

/** Build a shoebox column from per-row parts; pixel arrays are concatenated in row order. */
export function makeShoeboxColumn(parts: {
  panel: Uint32Array; bbox: Int32Array; allocated: Uint8Array;
  data: Float32Array; mask: Int32Array; background: Float32Array;
}): ShoeboxColumn {
  const n = parts.panel.length;
  if (parts.bbox.length !== 6 * n || parts.allocated.length !== n) {
    throw new RangeError(`shoebox column: panel has ${n} rows but bbox/allocated lengths are ${parts.bbox.length}/${parts.allocated.length}`);
  }
  const offset = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const p = parts.allocated[i] ? shoeboxPixels(parts.bbox, i) : 0;
    if (!(p >= 0)) throw new RangeError(`shoebox column: row ${i} has an inverted bbox`);
    offset[i + 1] = offset[i] + p;
  }
  const total = offset[n];
  if (parts.data.length !== total || parts.mask.length !== total || parts.background.length !== total) {
    throw new RangeError(`shoebox column: bboxes need ${total} pixels, arrays hold ${parts.data.length}/${parts.mask.length}/${parts.background.length}`);
  }
  return { kind: 'shoebox', ...parts, offset };
}

function gatherShoebox(sb: ShoeboxColumn, idx: ArrayLike<number>): ShoeboxColumn {
  const m = idx.length;
  const panel = new Uint32Array(m);
  const bbox = new Int32Array(6 * m);
  const allocated = new Uint8Array(m);
  const offset = new Float64Array(m + 1);
  for (let k = 0; k < m; k++) {
    const i = idx[k];
    panel[k] = sb.panel[i];
    allocated[k] = sb.allocated[i];
    for (let c = 0; c < 6; c++) bbox[6 * k + c] = sb.bbox[6 * i + c];
    offset[k + 1] = offset[k] + (sb.offset[i + 1] - sb.offset[i]);
  }
  const total = offset[m];
  const data = new Float32Array(total);
  const mask = new Int32Array(total);
  const background = new Float32Array(total);
  for (let k = 0; k < m; k++) {
    const i = idx[k];
    const a = sb.offset[i], b = sb.offset[i + 1], at = offset[k];
    if (b > a) {
      data.set(sb.data.subarray(a, b), at);
      mask.set(sb.mask.subarray(a, b), at);
      background.set(sb.background.subarray(a, b), at);
    }
  }
  return { kind: 'shoebox', panel, bbox, allocated, offset, data, mask, background };
}

function concatShoeboxes(parts: ShoeboxColumn[]): ShoeboxColumn {
  let n = 0, total = 0;
  for (const p of parts) { n += p.panel.length; total += p.data.length; }
  const panel = new Uint32Array(n), bbox = new Int32Array(6 * n), allocated = new Uint8Array(n);
  const offset = new Float64Array(n + 1);
  const data = new Float32Array(total), mask = new Int32Array(total), background = new Float32Array(total);
  let row = 0, px = 0;
  for (const p of parts) {
    const m = p.panel.length;
    panel.set(p.panel, row); bbox.set(p.bbox, 6 * row); allocated.set(p.allocated, row);
    for (let k = 1; k <= m; k++) offset[row + k] = px + p.offset[k];
    data.set(p.data, px); mask.set(p.mask, px); background.set(p.background, px);
    row += m; px += p.data.length;
  }
  return { kind: 'shoebox', panel, bbox, allocated, offset, data, mask, background };
}

function cloneShoebox(sb: ShoeboxColumn): ShoeboxColumn {
  return {
    kind: 'shoebox', panel: sb.panel.slice(), bbox: sb.bbox.slice(), allocated: sb.allocated.slice(),
    offset: sb.offset.slice(), data: sb.data.slice(), mask: sb.mask.slice(), background: sb.background.slice(),
  };
}

function gatherNumeric(src: NumericArray, stride: number, idx: ArrayLike<number>): NumericArray {
  const m = idx.length;
  const out = new (src.constructor as { new(n: number): NumericArray })(m * stride);
  if (stride === 1) {
    for (let k = 0; k < m; k++) out[k] = src[idx[k]];
  } else {
    for (let k = 0; k < m; k++) {
      const a = idx[k] * stride, b = k * stride;
      for (let c = 0; c < stride; c++) out[b + c] = src[a + c];
    }
  }
  return out;
}

/**
 * Comparison of rows i and j of a strided numeric column, lexicographic over the stride,
 * ascending for sign 1 and descending for sign −1; NaN sorts last either way.
 */
function compareRows(a: NumericArray, stride: number, i: number, j: number, sign: number): number {
  for (let c = 0; c < stride; c++) {
    const x = a[i * stride + c], y = a[j * stride + c];
    if (x < y) return -sign;
    if (x > y) return sign;
    if (x !== y) { // at least one NaN
      const xn = Number.isNaN(x), yn = Number.isNaN(y);
      if (xn !== yn) return xn ? 1 : -1;
    }
  }
  return 0;
}

export class ReflectionTable {
  /** experiment id (the `id` column's value) → experiment identifier (uuid in the .expt) */
  identifiers: Map<number, string> = new Map();
  private columns: Map<string, Column> = new Map();
  private _nrows: number;

  private constructor(nrows: number) {
    if (!Number.isInteger(nrows) || nrows < 0) throw new RangeError(`nrows must be a non-negative integer, got ${nrows}`);
    this._nrows = nrows;
  }

  /** A table of n rows with no columns yet. */
  static empty(n: number): ReflectionTable {
    return new ReflectionTable(n);
  }

  get nrows(): number { return this._nrows; }

  has(name: string): boolean { return this.columns.has(name); }

  columnNames(): string[] { return [...this.columns.keys()]; }

  typeOf(name: string): ColumnType { return this.column(name).type; }

  /** Values per row of a numeric column (bytes per row for an unknown raw type; 0 for shoeboxes). */
  strideOf(name: string): number { return this.column(name).stride; }

  /** The column's storage (typed array, or ShoeboxColumn); shared, not copied. */
  get(name: string): ColumnData { return this.column(name).data; }

  private column(name: string): Column {
    const c = this.columns.get(name);
    if (!c) throw new UserError(`reflection table has no column '${name}' (columns: ${this.columnNames().join(', ') || 'none'})`, 'missing_column');
    return c;
  }

  private typed<T extends ColumnData>(name: string, type: ColumnType): T {
    const c = this.column(name);
    if (c.type !== type) throw new UserError(`reflection table column '${name}' has type ${c.type}, expected ${type}`, 'column_type');
    return c.data as T;
  }

  int(name: string): Int32Array { return this.typed(name, 'int'); }
  double(name: string): Float64Array { return this.typed(name, 'double'); }
  bool(name: string): Uint8Array { return this.typed(name, 'bool'); }
  /** std::size_t values as doubles (exact: < 2^53). */
  sizeT(name: string): Float64Array { return this.typed(name, 'std::size_t'); }
  /** Flat, stride 2. */
  vec2(name: string): Float64Array { return this.typed(name, 'vec2<double>'); }
  /** Flat, stride 3: row i is [3i, 3i+1, 3i+2]. */
  vec3(name: string): Float64Array { return this.typed(name, 'vec3<double>'); }
  /** Flat, stride 9, row-major per row. */
  mat3(name: string): Float64Array { return this.typed(name, 'mat3<double>'); }
  /** Flat (h, k, l) triples. */
  miller(name: string): Int32Array { return this.typed(name, 'cctbx::miller::index<>'); }
  /** Flat, stride 6 (e.g. bbox x0, x1, y0, y1, z0, z1). */
  int6(name: string): Int32Array { return this.typed(name, 'int6'); }
  shoebox(name: string): ShoeboxColumn { return this.typed(name, SHOEBOX_TYPE); }

  /**
   * Set a column of a known numeric type. A typed array of the right class is adopted (not
   * copied); a plain array is converted. Length must be nrows × stride.
   */
  setColumn(name: string, type: ColumnType, values: ArrayLike<number> | ShoeboxColumn): this {
    if (type === SHOEBOX_TYPE) {
      const sb = values as ShoeboxColumn;
      if (!sb || sb.kind !== 'shoebox') throw new TypeError(`column '${name}': Shoebox<> needs a ShoeboxColumn`);
      if (sb.panel.length !== this._nrows) throw new RangeError(`column '${name}': ${sb.panel.length} shoeboxes for ${this._nrows} rows`);
      this.columns.set(name, { type, stride: 0, data: sb });
      return this;
    }
    const spec = COLUMN_TYPES[type];
    if (!spec) throw new TypeError(`column '${name}': unknown column type ${type} (use setRaw for opaque types)`);
    const want = this._nrows * spec.stride;
    const arr = values as ArrayLike<number>;
    if (arr.length !== want) throw new RangeError(`column '${name}' (${type}): expected ${want} values (${this._nrows} rows × ${spec.stride}), got ${arr.length}`);
    let data: NumericArray;
    const ctor = spec.kind === 'i32' ? Int32Array : spec.kind === 'f64' ? Float64Array : Uint8Array;
    if (arr instanceof ctor) data = arr as NumericArray;
    else { data = allocate(spec.kind, want); for (let i = 0; i < want; i++) data[i] = arr[i]; }
    this.columns.set(name, { type, stride: spec.stride, data });
    return this;
  }

  /** An opaque column of a DIALS type we do not interpret: raw little-endian bytes, bytesPerRow each. */
  setRaw(name: string, type: string, bytes: Uint8Array, bytesPerRow: number): this {
    if (bytes.length !== this._nrows * bytesPerRow) throw new RangeError(`column '${name}' (${type}): ${bytes.length} bytes for ${this._nrows} rows × ${bytesPerRow}`);
    this.columns.set(name, { type, stride: bytesPerRow, data: bytes });
    return this;
  }

  setInt(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'int', v); }
  setDouble(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'double', v); }
  setBool(name: string, v: ArrayLike<number> | ArrayLike<boolean>): this {
    if (v instanceof Uint8Array) return this.setColumn(name, 'bool', v);
    const a = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = v[i] ? 1 : 0;
    return this.setColumn(name, 'bool', a);
  }
  setSizeT(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'std::size_t', v); }
  setVec2(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'vec2<double>', v); }
  setVec3(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'vec3<double>', v); }
  setMat3(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'mat3<double>', v); }
  setMiller(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'cctbx::miller::index<>', v); }
  setInt6(name: string, v: ArrayLike<number>): this { return this.setColumn(name, 'int6', v); }
  setShoebox(name: string, v: ShoeboxColumn): this { return this.setColumn(name, SHOEBOX_TYPE, v); }

  del(name: string): boolean { return this.columns.delete(name); }

  /** Rows where mask is true, in order, as a new table (identifiers copied). */
  select(mask: Uint8Array | readonly boolean[]): ReflectionTable {
    if (mask.length !== this._nrows) throw new RangeError(`select: mask has ${mask.length} entries for ${this._nrows} rows`);
    let m = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i]) m++;
    const idx = new Int32Array(m);
    for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) idx[k++] = i;
    return this.selectIndices(idx);
  }

  /** Rows idx[0], idx[1], … (repeats allowed) as a new table. */
  selectIndices(idx: Int32Array | readonly number[]): ReflectionTable {
    const n = this._nrows;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      if (!(i >= 0 && i < n && Number.isInteger(i))) throw new RangeError(`selectIndices: index ${i} out of range for ${n} rows`);
    }
    const out = new ReflectionTable(idx.length);
    out.identifiers = new Map(this.identifiers);
    for (const [name, c] of this.columns) {
      const data = isShoebox(c.data) ? gatherShoebox(c.data, idx) : gatherNumeric(c.data, c.stride, idx);
      out.columns.set(name, { type: c.type, stride: c.stride, data });
    }
    return out;
  }

  /** Put row perm[k] at position k, in place (perm must be a permutation of 0..nrows−1). */
  reorder(perm: Int32Array | readonly number[]): this {
    if (perm.length !== this._nrows) throw new RangeError(`reorder: permutation has ${perm.length} entries for ${this._nrows} rows`);
    const seen = new Uint8Array(this._nrows);
    for (let k = 0; k < perm.length; k++) {
      const i = perm[k];
      if (!(i >= 0 && i < this._nrows) || seen[i]) throw new RangeError('reorder: not a permutation');
      seen[i] = 1;
    }
    const t = this.selectIndices(perm);
    this.columns = t.columns;
    return this;
  }

  /**
   * The permutation that sorts rows by a numeric column (lexicographic for vector columns such as
   * miller_index), stable, NaN last.
   */
  sortPermutation(name: string, opts: { reverse?: boolean } = {}): Int32Array {
    const c = this.column(name);
    if (isShoebox(c.data) || !COLUMN_TYPES[c.type]) throw new UserError(`cannot sort by column '${name}' of type ${c.type}`, 'column_type');
    const a = c.data, s = c.stride, sign = opts.reverse ? -1 : 1;
    const idx = Array.from({ length: this._nrows }, (_, i) => i);
    idx.sort((i, j) => compareRows(a, s, i, j, sign) || i - j);
    return Int32Array.from(idx);
  }

  /** Sort rows in place by a column (see sortPermutation); returns this. */
  sortBy(name: string, opts: { reverse?: boolean } = {}): this {
    return this.reorder(this.sortPermutation(name, opts));
  }

  clone(): ReflectionTable {
    const out = new ReflectionTable(this._nrows);
    out.identifiers = new Map(this.identifiers);
    for (const [name, c] of this.columns) {
      out.columns.set(name, { type: c.type, stride: c.stride, data: isShoebox(c.data) ? cloneShoebox(c.data) : c.data.slice() });
    }
    return out;
  }

  /**
   * Rows of all tables, one after the other. Every table must have the same column names and
   * types; identifiers are merged and must agree where ids coincide (DIALS' rule for combining
   * tables of the same experiments).
   */
  static concat(tables: readonly ReflectionTable[]): ReflectionTable {
    if (tables.length === 0) return new ReflectionTable(0);
    const first = tables[0];
    const names = first.columnNames();
    let n = 0;
    const identifiers = new Map<number, string>();
    for (const [ti, t] of tables.entries()) {
      n += t._nrows;
      const tn = t.columnNames();
      const missing = names.filter((x) => !t.has(x)), extra = tn.filter((x) => !first.has(x));
      if (missing.length || extra.length) {
        throw new UserError(`cannot concatenate reflection tables: table ${ti} ${missing.length ? `lacks ${missing.join(', ')}` : ''}${missing.length && extra.length ? ' and ' : ''}${extra.length ? `has extra ${extra.join(', ')}` : ''}`, 'column_mismatch');
      }
      for (const x of names) {
        if (t.typeOf(x) !== first.typeOf(x)) throw new UserError(`cannot concatenate reflection tables: column '${x}' is ${first.typeOf(x)} in table 0 but ${t.typeOf(x)} in table ${ti}`, 'column_mismatch');
      }
      for (const [id, ident] of t.identifiers) {
        const prev = identifiers.get(id);
        if (prev !== undefined && prev !== ident) throw new UserError(`cannot concatenate reflection tables: experiment id ${id} is '${prev}' in one table and '${ident}' in another`, 'identifier_mismatch');
        identifiers.set(id, ident);
      }
    }
    const out = new ReflectionTable(n);
    out.identifiers = identifiers;
    for (const x of names) {
      const c0 = first.column(x);
      if (isShoebox(c0.data)) {
        out.columns.set(x, { type: c0.type, stride: 0, data: concatShoeboxes(tables.map((t) => t.column(x).data as ShoeboxColumn)) });
        continue;
      }
      // raw columns of a zero-row table carry stride 0; take the stride from any non-empty one
      let stride = c0.stride;
      for (const t of tables) if (t._nrows > 0) { stride = t.column(x).stride; break; }
      for (const [ti, t] of tables.entries()) {
        if (t._nrows > 0 && t.column(x).stride !== stride) throw new UserError(`cannot concatenate reflection tables: column '${x}' has ${t.column(x).stride} values per row in table ${ti}, ${stride} elsewhere`, 'column_mismatch');
      }
      const data = new (c0.data.constructor as { new(n: number): NumericArray })(n * stride);
      let at = 0;
      for (const t of tables) { const d = t.column(x).data as NumericArray; data.set(d, at); at += d.length; }
      out.columns.set(x, { type: c0.type, stride, data });
    }
    return out;
  }
}
