/**
 * DIALS `.refl` reflection tables (msgpack):
 *   ["dials::af::reflection_table", 1, {identifiers: {<int id>: <str>}, nrows: <uint>,
 *     data: {<column>: [<type name>, [<nrows>, <bin: little-endian payload>]]}}]
 * Columns are written in byte order of their names and every msgpack item in its shortest form,
 * which is how DIALS writes them: a table read from a DIALS file is written back byte-identical.
 *
 * Shoebox<> payload, per row (worked out from the real files, all little-endian):
 *   u32 panel, i32[6] bbox (x0 x1 y0 y1 z0 z1), u8 allocated,
 *   then if allocated: f32 data[n], i32 mask[n], f32 background[n], n = (x1−x0)(y1−y0)(z1−z0).
 * A file in which these sizes do not add up exactly to the payload is rejected.
 */
import { readFileSync, promises as fs } from 'node:fs';
import { endianness } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { decode } from '@msgpack/msgpack';
import { FileFormatError, UserError } from '../errors.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import {
  COLUMN_TYPES, ReflectionTable, SHOEBOX_TYPE, makeShoeboxColumn,
  type NumericArray, type ShoeboxColumn,
} from '../reflections/table.js';

const MAGIC = 'dials::af::reflection_table';
const VERSION = 1;
const TWO32 = 4294967296;
/** std::size_t values at or above this cannot be held exactly in a double */
const HI_LIMIT = 0x200000; // 2^53 / 2^32

if (endianness() !== 'LE') {
  // typed-array views below assume the host order equals the file order
  throw new Error('xtalflow .refl I/O needs a little-endian host');
}

const BYTES_PER_VALUE: Record<string, number> = {
  'int': 4, 'double': 8, 'bool': 1, 'std::size_t': 8,
  'vec2<double>': 8, 'vec3<double>': 8, 'mat3<double>': 8,
  'cctbx::miller::index<>': 4, 'int6': 4,
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Copy bytes into a fresh, aligned typed array (the msgpack payload may sit at any offset). */
function copyInto<T extends ArrayBufferView>(out: T, bytes: Uint8Array, byteOffset = 0): T {
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(byteOffset, byteOffset + out.byteLength));
  return out;
}

function looksLikePickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

/** Decode the bytes of a `.refl` file; `path` only names the file in error messages. */
export function decodeRefl(bytes: Uint8Array, path: string): ReflectionTable {
  if (bytes.length === 0) throw new FileFormatError(path, 'empty file, not a DIALS reflection table');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // gzip-compressed table (how small regression inputs are stored); DIALS itself never writes this
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: 2 ** 31 - 1 });
    } catch (e) {
      throw new FileFormatError(path, `corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (looksLikePickle(bytes)) {
    throw new FileFormatError(path, 'old Python-pickle reflection table; only the msgpack .refl format (DIALS ≥ 2) is supported — re-save it with DIALS');
  }
  let top: unknown;
  try {
    top = decode(bytes);
  } catch (e) {
    throw new FileFormatError(path, `not a msgpack DIALS reflection table (${(e as Error).message ?? String(e)})`);
  }
  const bad = (detail: string): never => { throw new FileFormatError(path, detail); };
  if (!Array.isArray(top) || top.length !== 3 || top[0] !== MAGIC) bad(`not a DIALS reflection table (expected a msgpack ["${MAGIC}", ${VERSION}, {...}])`);
  const [, version, body] = top as unknown[];
  if (version !== VERSION) bad(`unsupported reflection table version ${String(version)} (expected ${VERSION})`);
  if (!isPlainObject(body)) bad('reflection table body is not a map');
  const { identifiers, nrows, data } = body as Record<string, unknown>;
  if (typeof nrows !== 'number' || !Number.isSafeInteger(nrows) || nrows < 0) bad(`bad nrows ${String(nrows)}`);
  const n = nrows as number;
  // every row needs at least one byte per column, so nrows can never exceed the file size
  if (n > bytes.length) bad(`nrows ${n} is larger than the file`);
  if (!isPlainObject(data)) bad('reflection table "data" is not a map');
  const table = ReflectionTable.empty(n);

  if (identifiers !== undefined) {
    if (!isPlainObject(identifiers)) bad('"identifiers" is not a map');
    for (const [k, v] of Object.entries(identifiers as Record<string, unknown>)) {
      const id = Number(k);
      if (!Number.isSafeInteger(id) || String(id) !== k) bad(`experiment id ${JSON.stringify(k)} in identifiers is not an integer`);
      if (typeof v !== 'string') bad(`identifier of experiment ${k} is not a string`);
      table.identifiers.set(id, v as string);
    }
  }

  for (const [name, col] of Object.entries(data as Record<string, unknown>)) {
    if (!Array.isArray(col) || col.length !== 2 || typeof col[0] !== 'string' || !Array.isArray(col[1]) || col[1].length !== 2) {
      bad(`column '${name}' is not [type, [nrows, bytes]]`);
    }
    const type = (col as [string, unknown[]])[0];
    const [count, payload] = (col as [string, unknown[]])[1];
    if (count !== n) bad(`column '${name}' has ${String(count)} rows, table has ${n}`);
    if (!(payload instanceof Uint8Array)) bad(`column '${name}' payload is not binary`);
    const raw = payload as Uint8Array;
    if (type === SHOEBOX_TYPE) {
      table.setShoebox(name, decodeShoeboxes(raw, n, (d) => bad(`column '${name}': ${d}`)));
      continue;
    }
    const spec = COLUMN_TYPES[type];
    if (!spec) {
      // a type we do not interpret: keep its bytes so it survives select/concat/write
      if (n === 0 ? raw.length !== 0 : raw.length % n !== 0) bad(`column '${name}' of unknown type ${type}: ${raw.length} bytes do not divide into ${n} rows`);
      table.setRaw(name, type, raw.slice(), n === 0 ? 0 : raw.length / n);
      continue;
    }
    const values = n * spec.stride;
    const want = values * BYTES_PER_VALUE[type];
    if (raw.length !== want) bad(`column '${name}' (${type}) has ${raw.length} bytes, expected ${want} for ${n} rows`);
    if (type === 'std::size_t') {
      const words = copyInto(new Uint32Array(2 * n), raw);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const hi = words[2 * i + 1];
        if (hi >= HI_LIMIT) bad(`column '${name}' row ${i}: std::size_t value ≥ 2^53 cannot be represented exactly`);
        out[i] = words[2 * i] + hi * TWO32;
      }
      table.setSizeT(name, out);
      continue;
    }
    const arr = spec.kind === 'i32' ? new Int32Array(values) : spec.kind === 'f64' ? new Float64Array(values) : new Uint8Array(values);
    table.setColumn(name, type, copyInto(arr, raw));
  }
  return table;
}

function decodeShoeboxes(raw: Uint8Array, n: number, bad: (d: string) => never): ShoeboxColumn {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const panel = new Uint32Array(n), bbox = new Int32Array(6 * n), allocated = new Uint8Array(n);
  const start = new Float64Array(n); // byte offset of each row's pixel arrays
  let pos = 0, total = 0;
  for (let i = 0; i < n; i++) {
    if (pos + 29 > raw.length) bad(`shoebox payload ends inside row ${i}`);
    panel[i] = view.getUint32(pos, true);
    for (let c = 0; c < 6; c++) bbox[6 * i + c] = view.getInt32(pos + 4 + 4 * c, true);
    const flag = raw[pos + 28];
    if (flag > 1) bad(`shoebox row ${i}: unexpected allocation flag ${flag}`);
    allocated[i] = flag;
    pos += 29;
    start[i] = pos;
    if (flag) {
      const o = 6 * i;
      const nx = bbox[o + 1] - bbox[o], ny = bbox[o + 3] - bbox[o + 2], nz = bbox[o + 5] - bbox[o + 4];
      if (nx < 0 || ny < 0 || nz < 0) bad(`shoebox row ${i}: inverted bbox`);
      const pixels = nx * ny * nz; // exact in doubles: each factor < 2^32
      if (pos + 12 * pixels > raw.length) bad(`shoebox row ${i}: ${pixels} pixels run past the end of the payload`);
      pos += 12 * pixels;
      total += pixels;
    }
  }
  if (pos !== raw.length) bad(`shoebox payload has ${raw.length - pos} bytes after the last row`);
  const data = new Float32Array(total), mask = new Int32Array(total), background = new Float32Array(total);
  // byte views made once; each row is then three plain byte copies (bit patterns kept, NaNs included)
  const data8 = new Uint8Array(data.buffer), mask8 = new Uint8Array(mask.buffer), bg8 = new Uint8Array(background.buffer);
  let px = 0;
  for (let i = 0; i < n; i++) {
    if (!allocated[i]) continue;
    const o = 6 * i;
    const bytes = 4 * (bbox[o + 1] - bbox[o]) * (bbox[o + 3] - bbox[o + 2]) * (bbox[o + 5] - bbox[o + 4]);
    const at = start[i];
    data8.set(raw.subarray(at, at + bytes), px);
    mask8.set(raw.subarray(at + bytes, at + 2 * bytes), px);
    bg8.set(raw.subarray(at + 2 * bytes, at + 3 * bytes), px);
    px += bytes;
  }
  return makeShoeboxColumn({ panel, bbox, allocated, data, mask, background });
}

export function readReflSync(path: string): ReflectionTable {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new FileFormatError(path, `cannot read reflection table: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeRefl(bytes, path);
}

export async function readRefl(path: string): Promise<ReflectionTable> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new FileFormatError(path, `cannot read reflection table: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeRefl(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Writing. A small msgpack writer of our own: @msgpack/msgpack cannot write integer map keys
// (DIALS' identifiers map uses them), and knowing the exact size up front avoids regrowing a
// buffer of tens of MB.

function uintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < TWO32 ? 5 : 9;
}
function intSize(v: number): number {
  if (v >= 0) return uintSize(v);
  return v >= -32 ? 1 : v >= -0x80 ? 2 : v >= -0x8000 ? 3 : v >= -0x80000000 ? 5 : 9;
}
function headerSize(len: number, fix: number): number {
  return len < fix ? 1 : len < 0x10000 ? 3 : 5;
}
function strSize(s: string): number {
  const b = Buffer.byteLength(s, 'utf8');
  return (b < 32 ? 1 : b < 0x100 ? 2 : b < 0x10000 ? 3 : 5) + b;
}
function binSize(len: number): number {
  return (len < 0x100 ? 2 : len < 0x10000 ? 3 : 5) + len;
}

class MsgpackWriter {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(v: number) { this.buf[this.pos++] = v; }
  uint(v: number) {
    if (v < 0x80) this.u8(v);
    else if (v < 0x100) { this.u8(0xcc); this.u8(v); }
    else if (v < 0x10000) { this.u8(0xcd); this.view.setUint16(this.pos, v); this.pos += 2; }
    else if (v < TWO32) { this.u8(0xce); this.view.setUint32(this.pos, v); this.pos += 4; }
    else { this.u8(0xcf); this.view.setBigUint64(this.pos, BigInt(v)); this.pos += 8; }
  }
  int(v: number) {
    if (v >= 0) return this.uint(v);
    if (v >= -32) this.u8(v & 0xff);
    else if (v >= -0x80) { this.u8(0xd0); this.view.setInt8(this.pos, v); this.pos += 1; }
    else if (v >= -0x8000) { this.u8(0xd1); this.view.setInt16(this.pos, v); this.pos += 2; }
    else if (v >= -0x80000000) { this.u8(0xd2); this.view.setInt32(this.pos, v); this.pos += 4; }
    else { this.u8(0xd3); this.view.setBigInt64(this.pos, BigInt(v)); this.pos += 8; }
  }
  private header(len: number, fix: number, fixBase: number, c16: number, c32: number) {
    if (len < fix) this.u8(fixBase + len);
    else if (len < 0x10000) { this.u8(c16); this.view.setUint16(this.pos, len); this.pos += 2; }
    else { this.u8(c32); this.view.setUint32(this.pos, len); this.pos += 4; }
  }
  array(len: number) { this.header(len, 16, 0x90, 0xdc, 0xdd); }
  map(len: number) { this.header(len, 16, 0x80, 0xde, 0xdf); }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    const len = b.length;
    if (len < 32) this.u8(0xa0 + len);
    else if (len < 0x100) { this.u8(0xd9); this.u8(len); }
    else if (len < 0x10000) { this.u8(0xda); this.view.setUint16(this.pos, len); this.pos += 2; }
    else { this.u8(0xdb); this.view.setUint32(this.pos, len); this.pos += 4; }
    this.buf.set(b, this.pos); this.pos += len;
  }
  /** bin header only; the caller fills `len` bytes at `pos` and advances */
  binHeader(len: number) {
    if (len < 0x100) { this.u8(0xc4); this.u8(len); }
    else if (len < 0x10000) { this.u8(0xc5); this.view.setUint16(this.pos, len); this.pos += 2; }
    else { this.u8(0xc6); this.view.setUint32(this.pos, len); this.pos += 4; }
  }
}

function shoeboxPayloadSize(sb: ShoeboxColumn): number {
  return 29 * sb.panel.length + 12 * sb.data.length;
}

function writeShoeboxPayload(w: MsgpackWriter, sb: ShoeboxColumn) {
  const view = new DataView(w.buf.buffer);
  const n = sb.panel.length;
  const bytesOf = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const data8 = bytesOf(sb.data), mask8 = bytesOf(sb.mask), bg8 = bytesOf(sb.background);
  for (let i = 0; i < n; i++) {
    let p = w.pos;
    view.setUint32(p, sb.panel[i], true);
    for (let c = 0; c < 6; c++) view.setInt32(p + 4 + 4 * c, sb.bbox[6 * i + c], true);
    w.buf[p + 28] = sb.allocated[i];
    p += 29;
    const a = 4 * sb.offset[i], b = 4 * sb.offset[i + 1];
    if (b > a) {
      w.buf.set(data8.subarray(a, b), p); p += b - a;
      w.buf.set(mask8.subarray(a, b), p); p += b - a;
      w.buf.set(bg8.subarray(a, b), p); p += b - a;
    }
    w.pos = p;
  }
}

/** Payload byte length of a column as DIALS stores it. */
function payloadSize(table: ReflectionTable, name: string): number {
  const type = table.typeOf(name);
  if (type === SHOEBOX_TYPE) return shoeboxPayloadSize(table.shoebox(name));
  const data = table.get(name) as NumericArray;
  if (!COLUMN_TYPES[type]) return data.byteLength;
  return data.length * BYTES_PER_VALUE[type];
}

/** Rows of a std::size_t column converted per chunk when streaming (8 bytes each). */
const SIZE_T_CHUNK_ROWS = 1 << 16;

/**
 * A table as `.refl` bytes (msgpack, DIALS layout), in pieces: the msgpack framing in small
 * buffers and each column's payload as a view of the column itself (std::size_t columns converted
 * a chunk at a time), so writing a table never holds a second copy of it.
 */
export function* reflChunks(table: ReflectionTable): Generator<Uint8Array> {
  const n = table.nrows;
  const names = table.columnNames().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    if (table.typeOf(name) !== 'std::size_t') continue;
    const v = table.sizeT(name);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (!(x >= 0 && x < 9007199254740992 && Math.floor(x) === x)) {
        throw new UserError(`reflection column '${name}' (std::size_t) row ${i} holds ${x}, not a non-negative integer`, 'bad_column');
      }
    }
  }
  const ids = [...table.identifiers.entries()].sort((a, b) => a[0] - b[0]);
  let size = 1 + strSize(MAGIC) + 1 + 1;
  size += strSize('identifiers') + headerSize(ids.length, 16);
  for (const [id, s] of ids) size += intSize(id) + strSize(s);
  size += strSize('nrows') + uintSize(n);
  size += strSize('data') + headerSize(names.length, 16);
  const head = new MsgpackWriter(size);
  head.array(3); head.str(MAGIC); head.uint(VERSION);
  head.map(3);
  head.str('identifiers'); head.map(ids.length);
  for (const [id, s] of ids) { head.int(id); head.str(s); }
  head.str('nrows'); head.uint(n);
  head.str('data'); head.map(names.length);
  if (head.pos !== size) throw new Error(`internal: .refl header size mismatch ${head.pos} != ${size}`);
  yield head.buf;
  for (const name of names) {
    const type = table.typeOf(name);
    const payload = payloadSize(table, name);
    const colSize = strSize(name) + 1 + strSize(type) + 1 + uintSize(n) + binSize(payload) - payload;
    const w = new MsgpackWriter(colSize);
    w.str(name); w.array(2); w.str(type); w.array(2); w.uint(n);
    w.binHeader(payload);
    if (w.pos !== colSize) throw new Error(`internal: .refl column header size mismatch ${w.pos} != ${colSize}`);
    yield w.buf;
    if (type === SHOEBOX_TYPE) {
      const sb = new MsgpackWriter(payload);
      writeShoeboxPayload(sb, table.shoebox(name));
      yield sb.buf;
    } else if (type === 'std::size_t') {
      const data = table.get(name) as NumericArray;
      for (let a = 0; a < n; a += SIZE_T_CHUNK_ROWS) {
        const b = Math.min(n, a + SIZE_T_CHUNK_ROWS);
        const chunk = new Uint8Array(8 * (b - a)), view = new DataView(chunk.buffer);
        for (let i = a; i < b; i++) {
          const x = data[i];
          view.setUint32(8 * (i - a), x >>> 0, true);
          view.setUint32(8 * (i - a) + 4, Math.floor(x / TWO32), true);
        }
        yield chunk;
      }
    } else if (payload > 0) {
      const data = table.get(name) as NumericArray;
      yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
  }
}

/** Encode a table as `.refl` bytes (msgpack, DIALS layout) in one buffer. */
export function encodeRefl(table: ReflectionTable): Uint8Array {
  const chunks = [...reflChunks(table)];
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) { out.set(c, pos); pos += c.length; }
  return out;
}

/**
 * Write a `.refl` atomically (readers never see a half-written file), streaming the columns to
 * the temporary file rather than encoding the whole table in memory first.
 */
export async function writeRefl(path: string, table: ReflectionTable): Promise<void> {
  await writeFileAtomic(path, reflChunks(table));
}

export function writeReflSync(path: string, table: ReflectionTable): void {
  writeFileAtomicSync(path, encodeRefl(table));
}
