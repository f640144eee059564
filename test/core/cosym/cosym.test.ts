import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosym } from '../../../src/core/cosym/index.js';
import { simulateDatasets } from '../../../src/core/cosym/simulate.js';
import { invRot, mulRot, opProductTable, pairwiseCorrelations } from '../../../src/core/cosym/correlation.js';
import { elbow, embed } from '../../../src/core/cosym/embed.js';
import { minimiseLbfgs } from '../../../src/core/cosym/lbfgs.js';
import { mulberry32 } from '../../../src/core/math/random.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';
import { latticeGroup } from '../../../src/core/laue/lattice.js';
import { CbOp } from '../../../src/core/symmetry/cbop.js';
import { minimumCellTransform } from '../../../src/core/symmetry/niggli.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import type { IntMat3 } from '../../../src/core/symmetry/op.js';

const key = (r: readonly number[]) => r.join(',');

test('L-BFGS finds the minimum of the Rosenbrock function', () => {
  const x = Float64Array.from([-1.2, 1]);
  const r = minimiseLbfgs(x, (v, g) => {
    const [a, b] = v;
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a); g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  }, { maxIterations: 1000, relTolerance: 0 });
  assert.ok(Math.abs(x[0] - 1) < 1e-4 && Math.abs(x[1] - 1) < 1e-4, `x = ${x[0]}, ${x[1]} after ${r.iterations}`);
});

test('elbow of a functional curve', () => {
  assert.equal(elbow([0.2, 0.002, 0.0018, 0.0017]), 1);
  assert.equal(elbow([0.2, 0.1, 0.002, 0.0019, 0.0018]), 2);
  assert.equal(elbow([0.01]), 0);
});

test('embedding reproduces an exact rank-2 correlation structure', () => {
  // two datasets × two ops with r = ρ_i ρ_j c(k): c(identity) = 1, c(twin) = 0
  const t = { nDatasets: 3, nOps: 2, nUnique: 0, cc: new Float64Array(3 * 3 * 2), count: new Float64Array(3 * 3 * 2).fill(100) };
  const rho = [0.9, 0.7, 0.5];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) { t.cc[(i * 3 + j) * 2] = rho[i] * rho[j]; t.cc[(i * 3 + j) * 2 + 1] = 0; }
  const prod = opProductTable([[1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 0, 1, 0, 0, 0, 0, -1]]);
  const rand = mulberry32(3);
  const r = embed(t, prod, 2, Float64Array.from({ length: 12 }, () => rand()));
  assert.ok(r.functional < 1e-10, `Φ = ${r.functional}`);
  for (let i = 0; i < 3; i++) {
    const a = r.x.subarray(i * 4, i * 4 + 2), b = r.x.subarray(i * 4 + 2, i * 4 + 4);
    assert.ok(Math.abs(Math.hypot(a[0], a[1]) - rho[i]) < 1e-4, 'length = data quality');
    assert.ok(Math.abs(a[0] * b[0] + a[1] * b[1]) < 1e-4, 'twin-related vectors orthogonal');
  }
});

test('pairwise correlation under an operation pairs h with h·R', () => {
  const hkl = Int32Array.from([1, 2, 3, 2, 1, -3, 4, 0, 1, 0, 4, -1, 2, 2, 2]);
  const E2 = Float64Array.from([1, 2, 3, 4, 5]);
  // second dataset: the first one reindexed by the twin (k,h,−l)
  const twin = [0, 1, 0, 1, 0, 0, 0, 0, -1] as const;
  const hkl2 = new Int32Array(hkl.length);
  for (let r = 0; r < 5; r++) { const m = mulRot([hkl[3 * r], hkl[3 * r + 1], hkl[3 * r + 2], 0, 0, 0, 0, 0, 0], twin); hkl2.set(m.slice(0, 3), 3 * r); }
  const t = pairwiseCorrelations([{ hkl, E2 }, { hkl: hkl2, E2 }], [[1, 0, 0, 0, 1, 0, 0, 0, 1], [...twin] as never]);
  // cc(0, 1, twin) = 1 over all 5 reflections
  assert.equal(t.count[(0 * 2 + 1) * 2 + 1], 5);
  assert.ok(Math.abs(t.cc[(0 * 2 + 1) * 2 + 1] - 1) < 1e-12);
  assert.deepEqual(invRot(twin), [0, 1, 0, 1, 0, 0, 0, 0, -1]);
});

test('20/20 random P41 trials: cosym restores one consistent setting and finds P 4/m', () => {
  const cell = UnitCell.create(68, 68, 105);
  const lattice = latticeGroup(cell, 5).rotations;
  assert.equal(lattice.length, 8);
  const p4 = SpaceGroup.find('P 4').symOps.map((o) => o.rot);
  const p4k = new Set(p4.map(key));
  const rand = mulberry32(2018);
  let ok = 0;
  const t0 = Date.now();
  for (let trial = 0; trial < 20; trial++) {
    const N = 8 + Math.floor(rand() * 25); // 8–32 datasets
    const sim = simulateDatasets({ cell, symmetry: p4, settings: lattice, nDatasets: N, dMin: 6, seed: 1000 + trial, bandHalfWidth: 0.15 + 0.25 * rand() });
    const nOther = sim.settingOps.filter((R) => !p4k.has(key(R))).length;
    const r = cosym(sim.datasets, cell, { seed: trial });
    // h_final = h_true·S_i·R_i: all S_i·R_i must lie in one coset of the true group
    const total = sim.settingOps.map((S, i) => mulRot(S, r.reindex[i]));
    const ref = invRot(total[0]);
    const consistent = total.every((T) => p4k.has(key(mulRot(T, ref))));
    const group = r.setting.patterson.hm;
    if (consistent && group === 'P 4/m') ok++;
    else console.log(`trial ${trial}: N=${N} (${nOther} in the other setting) consistent=${consistent} group=${group}`);
  }
  console.log(`20 trials in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(ok, 20);
});

test('I 21 3 (insulin-like, body-centred cubic lattice): 3 random trials in the primitive reduced cell', () => {
  const conv = UnitCell.create(78, 78, 78);
  const red = minimumCellTransform(conv, 'I');
  const lattice = latticeGroup(red.cell, 5).rotations;
  assert.equal(lattice.length, 24);
  const P = CbOp.basis(red.cbOp);
  const toReduced = (R: readonly number[]) => Mat3.mul(Mat3.mul(Mat3.inverse(P), R as Mat3), P).map((x) => Math.round(x)) as unknown as IntMat3;
  const sym = SpaceGroup.find('I 21 3').symOps.map((o) => toReduced(o.rot));
  const symk = new Set(sym.map(key));
  for (let trial = 0; trial < 3; trial++) {
    const sim = simulateDatasets({ cell: red.cell, symmetry: sym, settings: lattice, nDatasets: 8 + 2 * trial, dMin: 6, seed: 77 + trial, bandHalfWidth: 0.15 });
    const r = cosym(sim.datasets, red.cell, { seed: trial });
    const total = sim.settingOps.map((S, i) => mulRot(S, r.reindex[i]));
    const ref = invRot(total[0]);
    assert.ok(total.every((T) => symk.has(key(mulRot(T, ref)))), `trial ${trial}: inconsistent`);
    assert.equal(r.setting.patterson.hm, 'I m -3');
  }
});
