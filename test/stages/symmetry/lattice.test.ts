import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';
import { CbOp } from '../../../src/core/symmetry/cbop.js';
import { minimumCellTransform } from '../../../src/core/symmetry/niggli.js';
import { latticeGroup, subgroups, conventionalSetting, symmetryElements, crystalSystem, latticeTwoFolds, twoFoldGroups, obliquityDeg } from '../../../src/core/laue/lattice.js';

/** Lattice symmetry of a conventional cell, found from its reduced cell. */
function lattice(cell: number[], centring: string, maxDelta = 2) {
  const red = minimumCellTransform(UnitCell.fromParams(cell), centring);
  const g = latticeGroup(red.cell, maxDelta);
  const s = conventionalSetting(g.rotations, red.cell);
  const conv = UnitCell.changeBasis(red.cell, s.cbOp);
  return { red, g, s, conv: [conv.a, conv.b, conv.c, conv.alpha, conv.beta, conv.gamma] };
}

const close = (a: number[], b: number[], tol = 1e-3) => a.every((x, i) => Math.abs(x - b[i]) < tol);

test('Bravais lattices are recognised from their reduced cells, with the conventional cell recovered', () => {
  const cases: [number[], string, string, number][] = [
    [[5.48, 8.22, 12.15, 90, 90, 90], 'P', 'P m m m', 5],
    [[79.1, 79.1, 38.2, 90, 90, 90], 'P', 'P 4/m m m', 10],
    [[10, 14, 20, 90, 90, 90], 'C', 'C m m m', 5],
    [[30, 30, 50, 90, 90, 90], 'I', 'I 4/m m m', 10],
    [[50, 50, 50, 90, 90, 90], 'F', 'F m -3 m', 30],
    [[10, 12, 15, 90, 105, 90], 'C', 'C 1 2/m 1', 2],
    [[60, 60, 90, 90, 90, 120], 'P', 'P 6/m m m', 16],
    [[40, 40, 150, 90, 90, 120], 'R', 'R -3 m :H', 6],
    [[7, 9, 11, 80, 85, 95], 'P', 'P -1', 1],
  ];
  for (const [cell, centring, hm, nSub] of cases) {
    const { g, s, conv } = lattice(cell, centring);
    assert.equal(s.patterson.hm, hm, `${cell} ${centring}`);
    assert.equal(subgroups(g.rotations).length, nSub, `${hm} subgroups`);
    if (hm !== 'P -1') assert.ok(close(conv, cell), `${hm}: conventional cell ${conv} vs ${cell}`);
  }
});

test('Le Page δ: a cell 1° from orthorhombic is orthorhombic with δ = 1° at max_delta 2, monoclinic at 0.5', () => {
  const { g } = lattice([10, 12, 15, 90, 91, 90], 'P');
  assert.equal(crystalSystem(g.rotations), 'orthorhombic');
  const maxDelta = Math.max(...g.twoFolds.map((t) => t.deltaDeg));
  assert.ok(Math.abs(maxDelta - 1) < 1e-6, `δ ${maxDelta}`);
  assert.equal(crystalSystem(lattice([10, 12, 15, 90, 91, 90], 'P', 0.5).g.rotations), 'monoclinic');
});

test('symmetry elements of 4/mmm: identity, one 4-fold and five 2-folds; the reindex op puts the 4-fold on c', () => {
  const { red, g, s } = lattice([79.1, 79.1, 38.2, 90, 90, 90], 'P');
  const el = symmetryElements(g.rotations);
  assert.deepEqual(el.map((e) => e.order).sort(), [1, 2, 2, 2, 2, 2, 4]);
  assert.equal(el.find((e) => e.order === 4)!.rotations.length, 2);
  // reduced cell has the 38.2 Å axis first; the conventional setting moves it to c
  assert.ok(Math.abs(red.cell.a - 38.2) < 1e-9);
  const conv = UnitCell.changeBasis(red.cell, s.cbOp);
  assert.ok(Math.abs(conv.c - 38.2) < 1e-9);
  assert.ok(CbOp.determinant(s.cbOp) > 0);
});

test('two-fold search on a cubic P cell: 9 two-folds at δ≈0; their subsets generate the 22 subgroups of 432 that two-folds generate', () => {
  const cell = UnitCell.create(50, 50, 50);
  const tf = latticeTwoFolds(cell, 1);
  assert.equal(tf.length, 9);
  for (const t of tf) assert.ok(t.deltaDeg < 1e-9, `δ ${t.deltaDeg}`);
  // 3 along the axes (normal ∥ axis), 6 along face diagonals
  assert.equal(tf.filter((t) => t.axis.filter((x) => x !== 0).length === 1).length, 3);
  // 1, nine C2, four D2 (222 on the axes, three with one axis and two diagonals), four D3, three D4, O
  const orders = twoFoldGroups(tf).map((g) => g.length);
  const count = (n: number) => orders.filter((o) => o === n).length;
  assert.deepEqual([count(1), count(2), count(4), count(6), count(8), count(24), orders.length], [1, 9, 4, 4, 3, 1, 22]);
  // a larger cap admits nothing more: 432 is the whole group
  assert.equal(twoFoldGroups(tf, { maxOrder: 48 }).length, 22);
  assert.equal(twoFoldGroups(tf, { maxOrder: 8 }).length, 21);
});

test('Le Page δ of a direct/reciprocal pair: β = 91° puts a* 1° off a and leaves b ∥ b*', () => {
  const cell = UnitCell.create(10, 12, 15, 90, 91, 90);
  assert.ok(Math.abs(obliquityDeg(cell, [1, 0, 0], [1, 0, 0]) - 1) < 1e-9);
  assert.ok(obliquityDeg(cell, [0, 1, 0], [0, 1, 0]) < 1e-9);
  assert.ok(Math.abs(obliquityDeg(cell, [0, 0, 1], [0, 0, 1]) - 1) < 1e-9);
});
