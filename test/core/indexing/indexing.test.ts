/**
 * Indexing core on synthetic spots with exact ground truth: known symmetry, the three basis
 * searches, and two lattices at once (max_lattices).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { UserError } from '../../../src/core/errors.js';
import { UnitCell, SpaceGroup } from '../../../src/core/symmetry/index.js';
import { indexSpots } from '../../../src/core/indexing/indexer.js';
import { estimateMaxCell, nearestNeighbourDistances } from '../../../src/core/indexing/max_cell.js';
import { reciprocalLatticePoints } from '../../../src/core/indexing/rlp.js';
import type { RefinementData } from '../../../src/core/refinement/target.js';
import { makeExperiment, simulate, crystalFromCell } from '../refinement/synthetic.js';

const tetragonal = () => makeExperiment({ cell: [61.3, 61.3, 97.2], nImages: 60, osc: 0.5 });

function sorted(c: number[]): number[] { return c.slice(0, 3).sort((a, b) => a - b); }

test('rlps of predicted spots are the lattice points A·h', () => {
  const e = tetragonal();
  const data = simulate(e, 3, 0, 0);
  const rlp = reciprocalLatticePoints(data, [e]);
  const A = Crystal.A(e.crystal!);
  for (let i = 0; i < 50; i++) {
    const v = Mat3.mulVec(A, [data.miller[3 * i], data.miller[3 * i + 1], data.miller[3 * i + 2]]);
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(v[j] - rlp[3 * i + j]) < 1e-12);
  }
});

test('nearest neighbours by hash grid equal brute force; max_cell covers the longest axis', () => {
  const e = tetragonal();
  const data = simulate(e, 3, 0.1, 0.05);
  const rlp = reciprocalLatticePoints(data, [e]);
  const nn = nearestNeighbourDistances(rlp);
  for (const i of [0, 17, 500, rlp.length / 3 - 1]) {
    let best = Infinity;
    for (let j = 0; j < rlp.length / 3; j++) if (j !== i) best = Math.min(best, Math.hypot(rlp[3 * i] - rlp[3 * j], rlp[3 * i + 1] - rlp[3 * j + 1], rlp[3 * i + 2] - rlp[3 * j + 2]));
    assert.ok(Math.abs(best - nn[i]) < 1e-15);
  }
  const mc = estimateMaxCell(rlp);
  assert.ok(mc > 97.2 && mc < 2.5 * 97.2, `max_cell ${mc}`);
});

for (const method of ['fft3d', 'fft1d', 'real_space_grid_search'] as const) {
  test(`${method}: finds the true cell`, () => {
    const e = tetragonal();
    const data = simulate(e, 2.5, 0.2, 0.1);
    const known = method === 'real_space_grid_search' ? { unitCell: UnitCell.create(61.3, 61.3, 97.2), spaceGroup: null } : undefined;
    const r = indexSpots([e], data, { method, knownSymmetry: known });
    const cell = Crystal.unitCell(r.experiments[0].crystal!);
    sorted(cell).forEach((x, i) => assert.ok(Math.abs(x / [61.3, 61.3, 97.2][i] - 1) < 5e-4, `cell ${cell}`));
    assert.ok(r.experimentOf.every((x) => x === 0));
  });
}

test('known space group: crystal in its setting, cell constrained; a cell that does not fit fails as unit_cell_mismatch', () => {
  const e = tetragonal();
  const data = simulate(e, 2.5, 0.2, 0.1);
  const r = indexSpots([e], data, { knownSymmetry: { unitCell: null, spaceGroup: SpaceGroup.find('P 41 21 2') } });
  const c = r.experiments[0].crystal!;
  const cell = Crystal.unitCell(c);
  assert.ok(Math.abs(cell[0] - cell[1]) < 1e-9 && Math.abs(cell[2] - 97.2) < 0.05, `cell ${cell}`);
  assert.equal(c.spaceGroupHall, SpaceGroup.find('P 41 21 2').hall);
  assert.throws(() => indexSpots([e], data, { knownSymmetry: { unitCell: UnitCell.create(55, 55, 97.2), spaceGroup: SpaceGroup.find('P 4') } }),
    (x: unknown) => x instanceof UserError && x.code === 'unit_cell_mismatch');
  assert.throws(() => indexSpots([e], data, { knownSymmetry: { unitCell: null, spaceGroup: SpaceGroup.find('P 6') } }),
    (x: unknown) => x instanceof UserError && x.code === 'unit_cell_mismatch');
});

test('max_lattices=2: two crystals in one sweep are both found', () => {
  const e1 = tetragonal();
  const e2 = makeExperiment({ cell: [45.1, 52.7, 70.3], nImages: 60, osc: 0.5 });
  e2.crystal = crystalFromCell(45.1, 52.7, 70.3, Mat3.mul(Mat3.rotation([0.2, 0.9, -0.4], 0.7), Mat3.rotation([1, 0, 0], 0.3)));
  const d1 = simulate(e1, 2.8, 0.2, 0.1, 3), d2 = simulate(e2, 2.8, 0.2, 0.1, 5);
  const cat = <T extends Int32Array | Float64Array>(a: T, b: T): T => { const o = new (a.constructor as { new(n: number): T })(a.length + b.length); o.set(a); o.set(b, a.length); return o; };
  const data: RefinementData = {
    experiment: cat(d1.experiment, d2.experiment), panel: cat(d1.panel, d2.panel), miller: cat(d1.miller, d2.miller),
    xObs: cat(d1.xObs, d2.xObs), yObs: cat(d1.yObs, d2.yObs), phiObs: cat(d1.phiObs, d2.phiObs),
    xVar: cat(d1.xVar, d2.xVar), yVar: cat(d1.yVar, d2.yVar), phiVar: cat(d1.phiVar, d2.phiVar),
  };
  const r = indexSpots([e1], data, { maxLattices: 2 });
  assert.equal(r.experiments.length, 2);
  const cells = r.experiments.map((x) => sorted(Crystal.unitCell(x.crystal!)).map((v) => Math.round(v)));
  assert.deepEqual(cells.map((c) => c.join(',')).sort(), ['45,53,70', '61,61,97']);
  const n1 = d1.experiment.length;
  // each lattice claims (nearly) only its own spots
  const first = r.experimentOf[0], second = r.experimentOf[n1];
  assert.notEqual(first, second);
  let right = 0;
  for (let i = 0; i < r.experimentOf.length; i++) if (r.experimentOf[i] === (i < n1 ? first : second)) right++;
  assert.ok(right / r.experimentOf.length > 0.95, `${right} of ${r.experimentOf.length} on the right lattice`);
});

test('two-panel detector: spots on both panels index and refine together', async () => {
  const { panel } = await import('../refinement/synthetic.js');
  const { refineGeometry } = await import('../../../src/core/refinement/refiner.js');
  const e = tetragonal();
  // split the detector into two panels with a 2 mm gap between them
  const p0 = panel({ imageSize: [981, 500] });
  const p1 = panel({ imageSize: [981, 531], origin: [-85.6216, 87.7028 - 500 * 0.172 - 2, -150] });
  e.detector = { panels: [p0, p1] };
  const data = simulate(e, 2.5, 0.2, 0.1);
  const onPanel1 = data.panel.filter((p) => p === 1).length;
  assert.ok(onPanel1 > 0.3 * data.panel.length && onPanel1 < 0.7 * data.panel.length);
  const r = indexSpots([e], data, {});
  const cell = Crystal.unitCell(r.experiments[0].crystal!);
  sorted(cell).forEach((x, i) => assert.ok(Math.abs(x / [61.3, 61.3, 97.2][i] - 1) < 5e-4, `cell ${cell}`));
  assert.ok(r.experimentOf.every((x) => x === 0));
  assert.ok(r.rmsds[0].xPx < 0.3 && r.rmsds[0].yPx < 0.3, JSON.stringify(r.rmsds[0]));
  // the detector moves as one body: a shift of both panels is recovered
  const moved = structuredClone(r.experiments);
  for (const p of moved[0].detector!.panels) p.origin = [p.origin[0] + 0.5, p.origin[1], p.origin[2]];
  const idxd = { ...data, miller: r.miller };
  const ref = refineGeometry(moved, idxd, { outlierAlgorithm: 'null' });
  const dx = ref.experiments[0].detector!.panels[1].origin[0] - e.detector.panels[1].origin[0];
  assert.ok(Math.abs(dx) < 0.02, `panel 1 x off by ${dx} mm`);
});
