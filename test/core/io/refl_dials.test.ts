/**
 * Interoperability with DIALS itself: files DIALS wrote (kept in regression-data/refl, made by the
 * scripts in regression-data/refl/make) read as DIALS meant them, and — when a DIALS Python is
 * installed — DIALS reads back what we write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeRefl, encodeRefl, writeReflSync } from '../../../src/core/io/refl.js';
import { ReflectionTable, makeShoeboxColumn } from '../../../src/core/reflections/table.js';
import { Flags, setFlags } from '../../../src/core/reflections/flags.js';
import { ROOT, regressionBytes, regressionPath } from '../reflections/data.js';

test('a DIALS-written table with every column type DIALS supports', () => {
  // values from regression-data/refl/make/dials_all_column_types.py
  const bytes = readFileSync(regressionPath('dials_all_column_types.refl'));
  const t = decodeRefl(bytes, 'dials_all_column_types.refl');
  assert.equal(t.nrows, 3);
  assert.deepEqual([...t.identifiers], [[0, 'abc'], [5, 'def']]);
  assert.deepEqual([...t.int('i')], [1, -2, 3]);
  assert.deepEqual([...t.double('d')], [1.5, -2.25, 3e100]);
  assert.deepEqual([...t.bool('b')], [1, 0, 1]);
  assert.deepEqual([...t.sizeT('z')], [0, 7, 2 ** 31 + 5]);
  assert.deepEqual([...t.vec2('v2')], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...t.vec3('v3')], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...t.mat3('m3')], [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...t.miller('hkl')], [1, 2, 3, -1, 0, 2, 0, 0, 1]);
  assert.deepEqual([...t.int6('i6')], [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
  // DIALS stores std::string columns as the raw 32-byte std::string objects (heap pointers
  // included), not as text: kept opaque, byte for byte
  assert.equal(t.typeOf('s'), 'std::string');
  assert.equal(t.strideOf('s'), 32);
  assert.ok(Buffer.from(encodeRefl(t)).equals(bytes));
  assert.ok(Buffer.from(encodeRefl(t.selectIndices([2, 0, 1]).sortBy('i'))).equals(Buffer.from(encodeRefl(t.sortBy('i')))));
});

test('DIALS shoeboxes: the allocation byte decides whether pixel arrays follow', () => {
  // made by regression-data/refl/make/dials_shoebox_allocation.py
  const bytes = readFileSync(regressionPath('dials_shoebox_allocation.refl'));
  const t = decodeRefl(bytes, 'dials_shoebox_allocation.refl');
  const sb = t.shoebox('shoebox');
  assert.deepEqual([...sb.panel], [0, 2, 1]);
  assert.deepEqual([...sb.allocated], [1, 0, 1]);
  assert.deepEqual([...sb.bbox], [0, 2, 0, 1, 0, 1, 5, 6, 5, 7, 3, 4, 1, 2, 1, 2, 1, 2]);
  assert.deepEqual([...sb.offset], [0, 2, 2, 3]);
  assert.deepEqual([...sb.data], [1.5, 2.5, 0]);
  assert.deepEqual([...sb.mask], [0, 0, 5]);
  assert.deepEqual([...sb.background], [0, 0, 0.25]);
  assert.ok(Buffer.from(encodeRefl(t)).equals(bytes));
});

test('Flags equal the values DIALS reports for flex.reflection_table.flags', () => {
  const dials = JSON.parse(readFileSync(regressionPath('dials_flags.json'), 'utf8')).flags as Record<string, number>;
  const ours = Flags as Record<string, number>;
  for (const [name, v] of Object.entries(dials)) assert.equal(ours[name], v, name);
  for (const name of Object.keys(ours)) assert.ok(name in dials || name === 'overlapped', `${name} is not a DIALS flag`);
  assert.equal(Flags.overlapped, dials.overlapped_bg);
});

function dialsPython(): string | null {
  for (const py of ['/usr/bin/python3', 'dials.python']) {
    const r = spawnSync(py, ['-c', 'import dials.array_family.flex'], { encoding: 'utf8', timeout: 60000 });
    if (r.status === 0) return py;
  }
  return null;
}
const PY = dialsPython();

test('DIALS reads the files we write, value for value', { skip: PY ? false : 'no DIALS Python installed' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-refl-dials-'));
  try {
    const t = ReflectionTable.empty(3);
    t.identifiers.set(0, 'uuid-a').set(2, 'uuid-c');
    t.setInt('id', [0, 2, -1]);
    t.setDouble('intensity.sum.value', [1.5, -2.25, 1e300]);
    t.setBool('entering', [true, false, true]);
    t.setSizeT('panel', [0, 1, 2]);
    setFlags(t, [true, true, false], Flags.indexed | Flags.strong);
    setFlags(t, [false, false, true], Flags.scaled | Flags.bad_for_refinement);
    t.setVec2('v2', [1, 2, 3, 4, 5, 6]);
    t.setVec3('s1', [0.1, 0.2, 0.3, 1, 2, 3, -1, -2, -3]);
    t.setMat3('m3', Array.from({ length: 27 }, (_, i) => i + 1));
    t.setMiller('miller_index', [1, 2, 3, -4, 5, -6, 0, 0, 1]);
    t.setInt6('bbox', [0, 2, 0, 1, 0, 1, 5, 6, 5, 7, 3, 4, 1, 2, 1, 2, 1, 2]);
    t.setShoebox('shoebox', makeShoeboxColumn({
      panel: Uint32Array.from([0, 1, 2]),
      bbox: Int32Array.from([0, 2, 0, 1, 0, 1, 5, 6, 5, 7, 3, 4, 1, 2, 1, 2, 1, 2]),
      allocated: Uint8Array.from([1, 0, 1]),
      data: Float32Array.from([1.5, 2.5, 7]), mask: Int32Array.from([5, 1, 3]), background: Float32Array.from([0.5, 0.25, 0.125]),
    }));
    const mine = path.join(dir, 'ours.refl');
    writeReflSync(mine, t);
    // also a real table that went through select, concat and sort in our code
    const real = decodeRefl(regressionBytes('centroid_test_data_indexed.refl.gz'), 'indexed.refl');
    const third = real.sizeT('panel').map((_, i) => (i % 3 === 0 ? 1 : 0));
    const mixed = ReflectionTable.concat([real.select(Uint8Array.from(third)), real.select(Uint8Array.from(third, (v) => 1 - v))]).sortBy('miller_index');
    const mixedPath = path.join(dir, 'mixed.refl');
    writeReflSync(mixedPath, mixed);

    const dump = (p: string) => {
      const r = spawnSync(PY!, [path.join(ROOT, 'regression-data/refl/make/dials_dump_json.py'), p], { encoding: 'utf8', timeout: 120000, maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const d = dump(mine);
    assert.equal(d.nrows, 3);
    assert.deepEqual(d.identifiers, { 0: 'uuid-a', 2: 'uuid-c' });
    const col = (k: string) => d.columns[k].values;
    assert.deepEqual(col('id'), [0, 2, -1]);
    assert.deepEqual(col('intensity.sum.value'), [1.5, -2.25, 1e300]);
    assert.deepEqual(col('entering'), [true, false, true]);
    assert.deepEqual(col('panel'), [0, 1, 2]);
    assert.deepEqual(col('flags'), [36, 36, Flags.scaled + Flags.bad_for_refinement]);
    assert.deepEqual(col('v2'), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(col('s1'), [[0.1, 0.2, 0.3], [1, 2, 3], [-1, -2, -3]]);
    assert.deepEqual(col('m3')[2], Array.from({ length: 9 }, (_, i) => 19 + i));
    assert.deepEqual(col('miller_index'), [[1, 2, 3], [-4, 5, -6], [0, 0, 1]]);
    assert.deepEqual(col('bbox')[1], [5, 6, 5, 7, 3, 4]);
    assert.deepEqual(col('shoebox'), [
      { panel: 0, bbox: [0, 2, 0, 1, 0, 1], allocated: true, data: [1.5, 2.5], mask: [5, 1], background: [0.5, 0.25] },
      { panel: 1, bbox: [5, 6, 5, 7, 3, 4], allocated: false, data: null, mask: null, background: null },
      { panel: 2, bbox: [1, 2, 1, 2, 1, 2], allocated: true, data: [7], mask: [3], background: [0.125] },
    ]);
    const m = dump(mixedPath);
    assert.equal(m.nrows, mixed.nrows);
    const hkl = mixed.miller('miller_index'), sb = mixed.shoebox('shoebox'), I = mixed.double('intensity.sum.value');
    for (let i = 0; i < mixed.nrows; i++) {
      assert.deepEqual(m.columns.miller_index.values[i], [hkl[3 * i], hkl[3 * i + 1], hkl[3 * i + 2]]);
      assert.equal(m.columns['intensity.sum.value'].values[i], I[i]);
      assert.deepEqual(m.columns.shoebox.values[i].data, [...sb.data.subarray(sb.offset[i], sb.offset[i + 1])]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

