import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReflectionTable, makeShoeboxColumn, shoeboxRow } from '../../../src/core/reflections/table.js';
import { decodeRefl, encodeRefl } from '../../../src/core/io/refl.js';
import { UserError } from '../../../src/core/errors.js';
import { regressionBytes } from './data.js';

function small(): ReflectionTable {
  const t = ReflectionTable.empty(5);
  t.identifiers.set(0, 'a');
  t.setInt('id', [0, 0, 0, 0, 0]);
  t.setDouble('d', [3, 1, NaN, 2, 1]);
  t.setMiller('miller_index', [1, 0, 0, -1, 2, 3, 0, 0, 1, -1, 1, 0, 1, 0, -2]);
  t.setVec3('s1', Array.from({ length: 15 }, (_, i) => i));
  t.setBool('entering', [true, false, true, false, true]);
  t.setSizeT('flags', [1, 2, 4, 8, 32]);
  t.setShoebox('shoebox', makeShoeboxColumn({
    panel: Uint32Array.from([0, 1, 2, 3, 4]),
    bbox: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 3, 0, 1, 0, 1, 0, 1]),
    allocated: Uint8Array.from([1, 1, 0, 1, 1]),
    data: Float32Array.from([10, 20, 21, 30, 31, 32, 40]),
    mask: Int32Array.from([1, 2, 2, 3, 3, 3, 4]),
    background: Float32Array.from([0, 0, 0, 0, 0, 0, 0]),
  }));
  return t;
}

test('columns: names, types, typed getters and setters with length checks', () => {
  const t = small();
  assert.equal(t.nrows, 5);
  assert.deepEqual(t.columnNames(), ['id', 'd', 'miller_index', 's1', 'entering', 'flags', 'shoebox']);
  assert.equal(t.typeOf('miller_index'), 'cctbx::miller::index<>');
  assert.ok(t.has('d') && !t.has('nope'));
  assert.ok(t.vec3('s1') instanceof Float64Array && t.vec3('s1').length === 15);
  assert.ok(t.miller('miller_index') instanceof Int32Array);
  assert.ok(t.bool('entering') instanceof Uint8Array);
  assert.ok(t.sizeT('flags') instanceof Float64Array);
  assert.equal(t.get('s1'), t.vec3('s1')); // no copies
  const adopted = new Float64Array(5);
  t.setDouble('x', adopted);
  assert.equal(t.double('x'), adopted);
  assert.throws(() => t.setDouble('y', [1, 2]), RangeError);
  assert.throws(() => t.setVec3('y', new Float64Array(5)), RangeError);
  assert.throws(() => t.double('id'), (e: Error) => e instanceof UserError && /'id' has type int/.test(e.message));
  assert.throws(() => t.int('nope'), (e: Error) => e instanceof UserError && (e as UserError).code === 'missing_column' && /nope/.test(e.message));
  assert.ok(t.del('x'));
  assert.ok(!t.has('x'));
  assert.throws(() => ReflectionTable.empty(-1), RangeError);
});

test('select by mask and by indices carries every column, shoeboxes included', () => {
  const t = small();
  const s = t.select([false, true, true, false, true]);
  assert.equal(s.nrows, 3);
  assert.deepEqual([...s.double('d')], [1, NaN, 1]);
  assert.deepEqual([...s.miller('miller_index')], [-1, 2, 3, 0, 0, 1, 1, 0, -2]);
  assert.deepEqual([...s.vec3('s1')], [3, 4, 5, 6, 7, 8, 12, 13, 14]);
  assert.deepEqual([...s.identifiers], [[0, 'a']]);
  const sb = s.shoebox('shoebox');
  assert.deepEqual([...sb.panel], [1, 2, 4]);
  assert.deepEqual([...sb.data], [20, 21, 40]);
  assert.deepEqual([...sb.offset], [0, 2, 2, 3]);
  const u = t.select(Uint8Array.from([0, 0, 0, 1, 0]));
  assert.deepEqual([...u.shoebox('shoebox').data], [30, 31, 32]);
  const r = t.selectIndices([4, 4, 0]);
  assert.deepEqual([...r.sizeT('flags')], [32, 32, 1]);
  assert.deepEqual([...r.shoebox('shoebox').data], [40, 40, 10]);
  assert.throws(() => t.select([true]), RangeError);
  assert.throws(() => t.selectIndices([5]), RangeError);
  assert.throws(() => t.selectIndices([-1]), RangeError);
  assert.equal(t.select(new Uint8Array(5)).nrows, 0);
});

test('sortBy: scalar with NaN last, lexicographic miller index, reverse, stable; reorder checks permutations', () => {
  const t = small();
  assert.deepEqual([...t.sortPermutation('d')], [1, 4, 3, 0, 2]); // 1,1 (stable), 2, 3, NaN
  assert.deepEqual([...t.sortPermutation('d', { reverse: true })], [0, 3, 1, 4, 2]);
  const m = small().sortBy('miller_index');
  assert.deepEqual([...m.miller('miller_index')], [-1, 1, 0, -1, 2, 3, 0, 0, 1, 1, 0, -2, 1, 0, 0]);
  assert.deepEqual([...m.shoebox('shoebox').panel], [3, 1, 2, 4, 0]);
  assert.throws(() => t.sortBy('shoebox'), UserError);
  assert.throws(() => t.reorder([0, 0, 1, 2, 3]), RangeError);
  assert.throws(() => t.reorder([0, 1]), RangeError);
});

test('clone is deep', () => {
  const t = small();
  const c = t.clone();
  c.double('d')[0] = 99;
  c.shoebox('shoebox').data[0] = 99;
  c.identifiers.set(1, 'b');
  assert.equal(t.double('d')[0], 3);
  assert.equal(t.shoebox('shoebox').data[0], 10);
  assert.equal(t.identifiers.size, 1);
});

test('concat of the halves of a real table rebuilds it byte for byte; sort then unsort too', () => {
  const bytes = regressionBytes('centroid_test_data_indexed.refl.gz');
  const t = decodeRefl(bytes, 'indexed.refl');
  const mask = new Uint8Array(t.nrows);
  for (let i = 0; i < 300; i++) mask[i] = 1;
  const inv = mask.map((v) => 1 - v);
  const joined = ReflectionTable.concat([t.select(mask), t.select(inv)]);
  assert.ok(Buffer.from(encodeRefl(joined)).equals(Buffer.from(bytes)));
  // shuffle by a column, then restore by a row-number column
  const s = t.clone();
  s.setInt('row', Int32Array.from({ length: t.nrows }, (_, i) => i));
  s.sortBy('xyzobs.px.value');
  const z = s.vec3('xyzobs.px.value');
  for (let i = 1; i < s.nrows; i++) assert.ok(z[3 * (i - 1)] <= z[3 * i], 'sorted by x first');
  s.sortBy('row');
  s.del('row');
  assert.ok(Buffer.from(encodeRefl(s)).equals(Buffer.from(bytes)));
});

test('concat refuses mismatched columns and conflicting identifiers, merges others', () => {
  const a = small(), b = small();
  b.identifiers.set(1, 'b');
  const c = ReflectionTable.concat([a, b, ReflectionTable.concat([a.select(new Uint8Array(5))])]);
  assert.equal(c.nrows, 10);
  assert.deepEqual([...c.identifiers].sort(), [[0, 'a'], [1, 'b']]);
  assert.deepEqual([...c.shoebox('shoebox').offset], [0, 1, 3, 3, 6, 7, 8, 10, 10, 13, 14]);
  const d = small(); d.del('d');
  assert.throws(() => ReflectionTable.concat([a, d]), (e: Error) => e instanceof UserError && /lacks d/.test(e.message));
  const e = small(); e.identifiers.set(0, 'other');
  assert.throws(() => ReflectionTable.concat([a, e]), (x: Error) => x instanceof UserError && /experiment id 0/.test(x.message));
  const f = small(); f.del('d'); f.setInt('d', [0, 0, 0, 0, 0]);
  assert.throws(() => ReflectionTable.concat([a, f]), /column 'd' is double/);
  assert.equal(ReflectionTable.concat([]).nrows, 0);
});

test('shoeboxRow gives views of one row', () => {
  const sb = small().shoebox('shoebox');
  const r = shoeboxRow(sb, 3);
  assert.equal(r.panel, 3);
  assert.deepEqual([...r.bbox], [0, 1, 0, 1, 0, 3]);
  assert.deepEqual([...r.data], [30, 31, 32]);
  assert.deepEqual([...r.mask], [3, 3, 3]);
  assert.equal(r.data.buffer, sb.data.buffer);
  const empty = shoeboxRow(sb, 2);
  assert.equal(empty.allocated, false);
  assert.equal(empty.data.length, 0);
  assert.throws(() => shoeboxRow(sb, 5), RangeError);
});
