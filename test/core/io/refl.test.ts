import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode, encode as encodeGeneric } from '@msgpack/msgpack';
import { decodeRefl, encodeRefl, readRefl, readReflSync, writeRefl, writeReflSync } from '../../../src/core/io/refl.js';
import { ReflectionTable, makeShoeboxColumn, type ShoeboxColumn } from '../../../src/core/reflections/table.js';
import { FileFormatError, UserError } from '../../../src/core/errors.js';
import { SHARED, findRefl, referenceFigures, regressionBytes, regressionPath, rng } from '../reflections/data.js';

const REGRESSION = [
  'centroid_test_data_strong.refl.gz',
  'centroid_test_data_indexed.refl.gz',
  'centroid_test_data_integrated.refl.gz',
  'l_cysteine_strong.refl.gz',
];

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Column payloads as stored, decoded with the msgpack library alone (independent of our reader). */
function rawColumns(bytes: Uint8Array): Map<string, { type: string; n: number; payload: Buffer }> {
  const [, , body] = decode(bytes) as [string, number, { data: Record<string, [string, [number, Uint8Array]]> }];
  const out = new Map<string, { type: string; n: number; payload: Buffer }>();
  for (const [name, [type, [n, p]]] of Object.entries(body.data)) out.set(name, { type, n, payload: bytesOf(p) });
  return out;
}

function assertTablesEqual(a: ReflectionTable, b: ReflectionTable): void {
  assert.equal(a.nrows, b.nrows);
  assert.deepEqual([...a.identifiers].sort(), [...b.identifiers].sort());
  assert.deepEqual(a.columnNames().sort(), b.columnNames().sort());
  for (const name of a.columnNames()) {
    assert.equal(a.typeOf(name), b.typeOf(name), name);
    const x = a.get(name), y = b.get(name);
    if ('kind' in x) {
      const sy = y as ShoeboxColumn;
      for (const k of ['panel', 'bbox', 'allocated', 'offset', 'data', 'mask', 'background'] as const) {
        assert.ok(bytesOf(x[k]).equals(bytesOf(sy[k])), `${name}.${k}`);
      }
    } else {
      assert.ok(bytesOf(x).equals(bytesOf(y as ArrayBufferView)), name);
    }
  }
}

/** read → write gives the same file, the same column payloads, and the same values on re-read. */
function checkRoundTrip(bytes: Uint8Array, label: string): ReflectionTable {
  const t = decodeRefl(bytes, label);
  const out = encodeRefl(t);
  const before = rawColumns(bytes), after = rawColumns(out);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), `${label}: column names`);
  for (const [name, c] of before) {
    const d = after.get(name)!;
    assert.equal(d.type, c.type, `${label}:${name} type`);
    assert.equal(d.n, c.n, `${label}:${name} nrows`);
    assert.ok(d.payload.equals(c.payload), `${label}:${name} payload bytes differ`);
  }
  assert.ok(bytesOf(out).equals(bytesOf(bytes)), `${label}: file bytes differ`);
  assertTablesEqual(t, decodeRefl(out, label + ' (re-read)'));
  return t;
}

test('regression .refl files round-trip byte-for-byte and value-for-value', () => {
  for (const name of REGRESSION) checkRoundTrip(regressionBytes(name), name);
});

test('columns, types, rows and identifiers match the DIALS reference summary', () => {
  const ref = referenceFigures();
  for (const stem of ['strong', 'indexed', 'integrated']) {
    const t = readReflSync(regressionPath(`centroid_test_data_${stem}.refl.gz`));
    const r = ref[`${stem}.refl`];
    assert.equal(t.nrows, r.rows, stem);
    assert.deepEqual(t.columnNames().sort(), [...r.columns].sort(), stem);
    const ids = [...new Set(t.int('id'))].sort((a, b) => a - b);
    assert.deepEqual(ids, r.ids, stem);
  }
  const indexed = readReflSync(regressionPath('centroid_test_data_indexed.refl.gz'));
  assert.deepEqual([...indexed.identifiers], [[0, 'd6c88837-e8dd-467f-beff-356887317c56']]);
  assert.equal(indexed.typeOf('flags'), 'std::size_t');
  assert.equal(indexed.typeOf('miller_index'), 'cctbx::miller::index<>');
  assert.equal(indexed.typeOf('bbox'), 'int6');
  assert.equal(indexed.typeOf('entering'), 'bool');
  assert.equal(indexed.typeOf('shoebox'), 'Shoebox<>');
  const lcys = readReflSync(regressionPath('l_cysteine_strong.refl.gz'));
  assert.equal(lcys.nrows, 160); // 54 + 33 + 43 + 30 strong spots in the four sweeps (data README)
  assert.equal(lcys.identifiers.size, 4);
  const perSweep = [0, 0, 0, 0];
  for (const id of lcys.int('id')) perSweep[id]++;
  assert.deepEqual(perSweep, [54, 33, 43, 30]);
});

test('shoebox pixels reproduce the spot-finder intensity and centroid of every strong spot', () => {
  // Independent physics check of the decoded Shoebox<> layout (x fastest, then y, then z; mask
  // bit 4 = foreground): summed foreground counts equal intensity.sum.value and their weighted
  // mean pixel centre equals xyzobs.px.value, both written by DIALS' spot finder.
  const t = readReflSync(regressionPath('centroid_test_data_indexed.refl.gz'));
  const sb = t.shoebox('shoebox'), I = t.double('intensity.sum.value'), xyz = t.vec3('xyzobs.px.value');
  const bbox = t.int6('bbox'), panel = t.sizeT('panel');
  assert.deepEqual([...sb.bbox.subarray(0, 6)], [1398, 1400, 513, 515, 0, 1]);
  assert.deepEqual([...sb.data.subarray(0, 4)], [0, 12, 16, 14]);
  assert.deepEqual([...sb.mask.subarray(0, 4)], [0, 5, 5, 5]);
  for (let i = 0; i < t.nrows; i++) {
    assert.equal(sb.panel[i], panel[i]);
    assert.deepEqual([...sb.bbox.subarray(6 * i, 6 * i + 6)], [...bbox.subarray(6 * i, 6 * i + 6)]);
    const [x0, x1, y0, y1, z0, z1] = sb.bbox.subarray(6 * i, 6 * i + 6);
    let s = 0, sx = 0, sy = 0, sz = 0, p = sb.offset[i];
    for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, p++) {
      if (!(sb.mask[p] & 4)) continue;
      const v = sb.data[p] - sb.background[p];
      s += v; sx += v * (x + 0.5); sy += v * (y + 0.5); sz += v * (z + 0.5);
    }
    assert.equal(p, sb.offset[i + 1]);
    assert.equal(s, I[i], `row ${i} intensity`);
    assert.ok(Math.abs(sx / s - xyz[3 * i]) < 1e-9 && Math.abs(sy / s - xyz[3 * i + 1]) < 1e-9 && Math.abs(sz / s - xyz[3 * i + 2]) < 1e-9, `row ${i} centroid`);
  }
});

test('every .refl in the shared data round-trips exactly (pickles rejected clearly)', { skip: SHARED ? false : 'shared data absent' }, () => {
  const files = findRefl(SHARED!);
  assert.ok(files.length >= 50, `found only ${files.length} .refl files`);
  let msgpack = 0, pickle = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    if (bytes[0] === 0x80) {
      assert.throws(() => decodeRefl(bytes, f), (e: Error) => e instanceof FileFormatError && e.message.startsWith(f) && /pickle/.test(e.message));
      pickle++;
      continue;
    }
    checkRoundTrip(bytes, f);
    msgpack++;
  }
  assert.equal(msgpack + pickle, files.length);
  assert.equal(pickle, 3); // spots/l_cysteine_scaled_reference/*.refl are Python pickles despite the README
});

test('async and sync read/write go through files atomically', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-refl-'));
  try {
    const t = await readRefl(regressionPath('centroid_test_data_indexed.refl.gz'));
    const a = path.join(dir, 'a.refl'), b = path.join(dir, 'b.refl');
    await writeRefl(a, t);
    writeReflSync(b, t);
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.ok(readFileSync(a).equals(bytesOf(regressionBytes('centroid_test_data_indexed.refl.gz'))));
    assertTablesEqual(t, await readRefl(a));
    assert.deepEqual(readdirSync(dir).sort(), ['a.refl', 'b.refl']); // no temporary files left
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a table built in memory with every column type round-trips', () => {
  const n = 3;
  const t = ReflectionTable.empty(n);
  t.identifiers.set(0, 'uuid-a').set(2, 'uuid-c');
  t.setInt('id', [0, 2, -1]);
  t.setDouble('d', [1.5, NaN, -Infinity]);
  t.setBool('entering', [true, false, true]);
  t.setSizeT('flags', [0, 2 ** 40 + 5, 2 ** 53 - 1]);
  t.setVec2('xy', [1, 2, 3, 4, 5, 6]);
  t.setVec3('s1', [0.1, 0.2, 0.3, 1, 2, 3, -1, -2, -3]);
  t.setMat3('U', Array.from({ length: 27 }, (_, i) => i / 7));
  t.setMiller('miller_index', [1, 2, 3, -4, 5, -6, 0, 0, 1]);
  t.setInt6('bbox', [0, 2, 0, 1, 0, 1, 5, 6, 5, 6, 3, 4, 0, 0, 0, 0, 0, 0]);
  t.setRaw('opaque', 'vec3<int>', Uint8Array.from({ length: 36 }, (_, i) => i), 12);
  t.setShoebox('shoebox', makeShoeboxColumn({
    panel: Uint32Array.from([0, 1, 0]),
    bbox: Int32Array.from([0, 2, 0, 1, 0, 1, 5, 6, 5, 6, 3, 4, 0, 0, 0, 0, 0, 0]),
    allocated: Uint8Array.from([1, 1, 0]),
    data: Float32Array.from([1, 2, 3]), mask: Int32Array.from([5, 5, 3]), background: Float32Array.from([0.5, 0.25, 0.125]),
  }));
  const bytes = encodeRefl(t);
  const back = decodeRefl(bytes, 'memory');
  assertTablesEqual(t, back);
  assert.deepEqual([...back.sizeT('flags')], [0, 2 ** 40 + 5, 2 ** 53 - 1]);
  assert.deepEqual([...back.mat3('U')], Array.from({ length: 27 }, (_, i) => i / 7));
  assert.equal(back.typeOf('opaque'), 'vec3<int>');
  assert.equal(back.strideOf('opaque'), 12);
  // identifier keys are msgpack integers, as DIALS writes them
  const raw = decode(bytes) as [string, number, { identifiers: Record<string, string> }];
  assert.deepEqual(raw[2].identifiers, { 0: 'uuid-a', 2: 'uuid-c' });
  assert.ok(bytesOf(encodeRefl(back)).equals(bytesOf(bytes)));
  // empty table
  const e = decodeRefl(encodeRefl(ReflectionTable.empty(0)), 'empty');
  assert.equal(e.nrows, 0);
  assert.deepEqual(e.columnNames(), []);
});

test('invalid std::size_t values are refused before anything is written', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-refl-'));
  try {
    const t = ReflectionTable.empty(2).setSizeT('flags', [1, -1]);
    const out = path.join(dir, 'bad.refl');
    assert.throws(() => writeReflSync(out, t), (e: Error) => e instanceof UserError && /flags/.test(e.message));
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function expectFileFormatError(bytes: Uint8Array, label: string, pattern?: RegExp): void {
  assert.throws(() => decodeRefl(bytes, label), (e: Error) => {
    assert.ok(e instanceof FileFormatError, `${label}: got ${e.constructor.name}: ${e.message}`);
    assert.ok(e.message.startsWith(label + ': '), e.message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('corrupt, truncated and foreign files give a FileFormatError naming the file', () => {
  const good = regressionBytes('l_cysteine_strong.refl.gz');
  expectFileFormatError(new Uint8Array(0), 'empty.refl', /empty/);
  for (const cut of [1, 10, 40, 100, 1000, good.length - 1]) expectFileFormatError(good.subarray(0, cut), `cut${cut}.refl`);
  const r = rng(7);
  expectFileFormatError(Uint8Array.from({ length: 5000 }, () => Math.floor(r() * 256)), 'random.refl');
  expectFileFormatError(Buffer.from('{"__id__": "ExperimentList"}'), 'indexed.expt');
  expectFileFormatError(Buffer.from([0x80, 0x02, 0x63, 0x64]), 'old.pickle', /pickle/);
  expectFileFormatError(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]), 'bad.gz', /gzip/);
  // structurally valid msgpack that is not a table as DIALS writes it
  const mutate = (f: (top: unknown[]) => void): Uint8Array => {
    const top = decode(good) as unknown[];
    f(top);
    return encodeGeneric(top);
  };
  expectFileFormatError(mutate((t) => { t[0] = 'dials::af::something_else'; }), 'magic.refl', /not a DIALS reflection table/);
  expectFileFormatError(mutate((t) => { t[1] = 2; }), 'version.refl', /version 2/);
  expectFileFormatError(mutate((t) => { (t[2] as { nrows: number }).nrows = 161; }), 'nrows.refl', /161/);
  expectFileFormatError(mutate((t) => { (t[2] as { data: Record<string, [string, unknown[]]> }).data.flags[0] = 'int'; }), 'type.refl', /flags/);
  expectFileFormatError(mutate((t) => { (t[2] as { data: Record<string, unknown> }).data.panel = 'oops'; }), 'col.refl', /panel/);
  expectFileFormatError(mutate((t) => { (t[2] as { identifiers: Record<string, unknown> }).identifiers['x'] = 'y'; }), 'ids.refl', /identifiers/);
  // size_t beyond 2^53: not representable exactly, so refused rather than rounded
  const huge = mutate((t) => {
    const col = (t[2] as { data: Record<string, [string, [number, Uint8Array]]> }).data.flags;
    const p = new Uint8Array(col[1][1]); p[7] = 0x01; col[1][1] = p;
  });
  expectFileFormatError(huge, 'huge.refl', /2\^53/);
  assert.throws(() => readReflSync('/nonexistent/dir/x.refl'), (e: Error) => e instanceof FileFormatError && /\/nonexistent\/dir\/x\.refl/.test(e.message));
});

test('shoebox payloads that do not add up are rejected', () => {
  const good = regressionBytes('centroid_test_data_indexed.refl.gz');
  const withPayload = (f: (p: Uint8Array) => Uint8Array): Uint8Array => {
    const top = decode(good) as [string, number, { data: Record<string, [string, [number, Uint8Array]]> }];
    const col = top[2].data.shoebox;
    col[1][1] = f(new Uint8Array(col[1][1]));
    return encodeGeneric(top);
  };
  expectFileFormatError(withPayload((p) => p.subarray(0, p.length - 1)), 'short.refl', /shoebox/);
  expectFileFormatError(withPayload((p) => { const q = new Uint8Array(p.length + 3); q.set(p); return q; }), 'long.refl', /shoebox/);
  expectFileFormatError(withPayload((p) => { p[28] = 7; return p; }), 'flag.refl', /shoebox/);
  expectFileFormatError(withPayload((p) => { new DataView(p.buffer).setInt32(4, 2000, true); return p; }), 'bbox.refl', /shoebox/);
  expectFileFormatError(withPayload((p) => { new DataView(p.buffer).setInt32(8, 0x7fffffff, true); return p; }), 'big.refl', /shoebox/);
});

test('fuzz: random byte mutations give a table or a UserError, never anything else (3 s)', () => {
  // Two targets, a plain spot list and a table with shoeboxes: a fixed seed and at least 200
  // mutations each (reproducible whatever the load), then more while 1.5 s last.
  const seed = 20261121;
  const r = rng(seed);
  for (const name of ['l_cysteine_strong.refl.gz', 'centroid_test_data_indexed.refl.gz']) {
    const good = regressionBytes(name);
    const deadline = Date.now() + 1500;
    let runs = 0, ok = 0, rejected = 0;
    while (runs < 200 || Date.now() < deadline) {
      const b = new Uint8Array(good);
      const edits = 1 + Math.floor(r() * 8);
      for (let k = 0; k < edits; k++) {
        // bias half of the edits to the header, where the msgpack structure lives
        const at = r() < 0.5 ? Math.floor(r() * 300) : Math.floor(r() * b.length);
        b[at] = Math.floor(r() * 256);
      }
      const cut = r() < 0.1 ? Math.floor(r() * b.length) : b.length;
      try {
        const t = decodeRefl(b.subarray(0, cut), 'fuzz.refl');
        encodeRefl(t); // whatever was accepted must also be writable
        ok++;
      } catch (e) {
        if (!(e instanceof UserError)) assert.fail(`${name}, seed ${seed}, run ${runs}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
        assert.ok((e as Error).message.startsWith('fuzz.refl: ') && !(e as Error).message.includes('\n'), (e as Error).message);
        rejected++;
      }
      runs++;
    }
    assert.ok(rejected > 0 && ok > 0, `${name}: ok ${ok}, rejected ${rejected}`);
  }
});
