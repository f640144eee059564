import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA, HAVE_SHARED } from '../../helpers/data.js';
import { batchHeader, BatchReal, readMtz, reciprocalMetric, writeMtz, type Mtz } from '../../../src/core/io/mtz.js';
import { FileFormatError, UserError } from '../../../src/core/errors.js';

function sample(): Mtz {
  const n = 5;
  const col = (label: string, type: string, datasetId: number, v: number[]) => ({ label, type, datasetId, data: Float32Array.from(v) });
  const cell = [5.4815, 8.2158, 12.1457, 90, 90, 90];
  return {
    title: 'round trip',
    cell,
    symmetry: {
      number: 19, hm: 'P 21 21 21', lattice: 'P', pointGroup: '222', nPrimitive: 4,
      ops: ['x,y,z', '-x+1/2,-y,z+1/2', 'x+1/2,-y+1/2,-z', '-x,y+1/2,-z+1/2'],
    },
    datasets: [
      { id: 0, project: 'HKL_base', crystal: 'HKL_base', dataset: 'HKL_base', cell, wavelength: 0 },
      { id: 1, project: 'AUTOMATIC', crystal: 'XTAL', dataset: 'NATIVE', cell, wavelength: 0.6889 },
    ],
    columns: [
      col('H', 'H', 0, [1, 0, 2, 3, 1]),
      col('K', 'H', 0, [0, 1, 2, 0, 1]),
      col('L', 'H', 0, [0, 0, 1, 4, 1]),
      col('M_ISYM', 'Y', 0, [1, 2, 1, 3, 4]),
      col('BATCH', 'B', 0, [1, 1, 2, 2, 2]),
      col('I', 'J', 1, [100.5, -3.25, 2000, 0, 12]),
      col('SIGI', 'Q', 1, [10, 1.5, 40, 1, NaN]),
    ],
    batches: [1, 2].map((b) => batchHeader({
      number: b, cell, U: [0, 1, 0, -1, 0, 0, 0, 0, 1], phiStartDeg: (b - 1) * 0.1, phiEndDeg: b * 0.1,
      scanAxis: [1, 0, 0], wavelength: 0.6889, datasetId: 1, detectorDistanceMm: 120,
    })),
    history: ['From xtalflow test'],
    nReflections: n,
  };
}

test('MTZ written then read back gives the same header, columns, values and batches', () => {
  const m = sample();
  const bytes = writeMtz(m);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'MTZ ');
  assert.equal(bytes[8], 0x44);
  const r = readMtz(bytes, 'mem.mtz');
  assert.equal(r.title, 'round trip');
  assert.deepEqual(r.cell, m.cell);
  assert.equal(r.symmetry.number, 19);
  assert.equal(r.symmetry.hm, 'P 21 21 21');
  assert.equal(r.symmetry.pointGroup, '222');
  assert.deepEqual(r.symmetry.ops, m.symmetry.ops);
  assert.equal(r.nReflections, 5);
  assert.deepEqual(r.columns.map((c) => `${c.label}:${c.type}:${c.datasetId}`), m.columns.map((c) => `${c.label}:${c.type}:${c.datasetId}`));
  for (let c = 0; c < m.columns.length; c++) {
    const a = m.columns[c].data, b = r.columns[c].data;
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]) || a[i] === b[i], `${m.columns[c].label}[${i}]`);
  }
  assert.equal(r.datasets.length, 2);
  assert.equal(r.datasets[1].dataset, 'NATIVE');
  assert.equal(r.datasets[1].wavelength, 0.6889);
  assert.equal(r.batches.length, 2);
  assert.equal(r.batches[1].number, 2);
  assert.ok(Math.abs(r.batches[1].floats[BatchReal.phiStart] - 0.1) < 1e-6);
  assert.ok(Math.abs(r.batches[1].floats[BatchReal.wavelength] - 0.6889) < 1e-6);
  // U is stored column-major: U[0][1] = 1 sits at word U + 3.
  assert.equal(r.batches[0].floats[BatchReal.U + 3], 1);
  assert.deepEqual(r.history, ['From xtalflow test']);
});

test('RESO holds 1/d² of the lowest and highest resolution reflections', () => {
  const g = reciprocalMetric([10, 20, 30, 90, 90, 90]);
  assert.ok(Math.abs(g[0] - 0.01) < 1e-12 && Math.abs(g[4] - 1 / 400) < 1e-12 && Math.abs(g[1]) < 1e-15);
  // monoclinic: d(001) = c·sin β
  const gm = reciprocalMetric([10, 20, 30, 90, 100, 90]);
  const d001 = 1 / Math.sqrt(gm[8]);
  assert.ok(Math.abs(d001 - 30 * Math.sin((100 * Math.PI) / 180)) < 1e-9);
});

test('bad MTZ input gives one-line errors naming the file', () => {
  assert.throws(() => readMtz(new Uint8Array(100), 'junk.mtz'), (e: Error) => e instanceof FileFormatError && /junk\.mtz/.test(e.message));
  const bytes = writeMtz(sample());
  assert.throws(() => readMtz(bytes.subarray(0, bytes.length - 200), 'cut.mtz'), FileFormatError);
  const m = sample();
  m.columns[5].data = new Float32Array(3);
  assert.throws(() => writeMtz(m), UserError);
});

const dialsMerged = path.join(SHARED_DATA, 'simulated/lysozyme_sweep/dials_reference/merged.mtz');
test('reads a DIALS merged.mtz', { skip: !HAVE_SHARED || !existsSync(dialsMerged) }, () => {
  const m = readMtz(dialsMerged);
  assert.equal(m.nReflections, 16104);
  assert.equal(m.symmetry.number, 89);
  assert.equal(m.symmetry.ops.length, 8);
  assert.equal(m.columns.length, 19);
  assert.deepEqual(m.cell, [79.1148, 79.1148, 38.2082, 90, 90, 90]);
});

test('SYMINF/SYMM from the symmetry library: all operators (centring included), lattice and point group', async () => {
  const { mtzSymmetry } = await import('../../../src/core/io/mtz_symmetry.js');
  const { SpaceGroup } = await import('../../../src/core/symmetry/spacegroup.js');
  const cases: [string, string, string, number, number][] = [
    ['C 1 2 1', 'C', '2', 4, 2], ['R 3 :H', 'H', '3', 9, 3], ['I 41 2 2', 'I', '422', 16, 8],
    ['F 2 3', 'F', '23', 48, 12], ['P 1 21 1', 'P', '2', 2, 2], ['P 65 2 2', 'P', '622', 12, 12], ['P 43 21 2', 'P', '422', 8, 8],
  ];
  for (const [name, lattice, pg, nOps, nPrim] of cases) {
    const sy = mtzSymmetry(SpaceGroup.find(name));
    assert.deepEqual([sy.lattice, sy.pointGroup, sy.ops.length, sy.nPrimitive], [lattice, pg, nOps, nPrim], name);
    const m = sample();
    m.symmetry = sy;
    const r = readMtz(writeMtz(m));
    assert.equal(r.symmetry.number, SpaceGroup.find(name).number);
    assert.equal(r.symmetry.ops.length, nOps);
  }
});
