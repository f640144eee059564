import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Crystal, type UnitCellParameters } from '../../../src/core/models/crystal.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Beam } from '../../../src/core/models/beam.js';
import { Goniometer } from '../../../src/core/models/goniometer.js';
import { Scan } from '../../../src/core/models/scan.js';
import { REGRESSION_DIR, loadExpt, loadSpots } from './fixtures.js';

const truth = JSON.parse(readFileSync(path.join(REGRESSION_DIR, 'lysozyme_ground_truth.json'), 'utf8'));
const near = (a: readonly number[], b: readonly number[], tol: number, what: string) =>
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `${what}[${i}] ${x} vs ${b[i]}`));

test('A, U, B and the cell of the simulated lysozyme crystal equal the simulation\'s truth', async () => {
  const [e] = await loadExpt('lysozyme_ground_truth.expt');
  const c = e.crystal!;
  near(Crystal.A(c), truth.A, 1e-15, 'A');
  near(Crystal.B(c), truth.B, 1e-15, 'B');
  near(Crystal.U(c), truth.U, 1e-12, 'U');
  near(Crystal.unitCell(c), truth.unit_cell, 1e-9, 'cell');
  assert.ok(Math.abs(Crystal.volume(c) - 79.1 * 79.1 * 38.2) < 1e-6);
  // From the truth's U and B back to the same direct axes.
  const made = Crystal.fromUB(truth.U as Mat3, truth.B as Mat3, truth.space_group_hall);
  near(made.realSpaceA, truth.real_space_a, 1e-9, 'a');
  near(made.realSpaceC, truth.real_space_c, 1e-9, 'c');
  assert.equal(made.spaceGroupHall, ' P 4nw 2abw');
});

test('B is lower-triangular with a*, b*, c* as columns; U is a rotation (triclinic cell)', () => {
  const cell: UnitCellParameters = [5.496, 8.208, 12.162, 80.1373, 95.7059, 101.8162];
  const B = Crystal.bFromCell(cell);
  for (const k of [1, 2, 5]) assert.ok(Math.abs(B[k]) < 1e-18, `B[${k}] = ${B[k]}`);
  const U = Mat3.rotation([0.2, -0.5, 0.8], 1.1);
  const c = Crystal.fromCell(cell, ' P 1', U);
  near(Crystal.unitCell(c), cell, 1e-10, 'cell');
  near(Crystal.U(c), U, 1e-12, 'U');
  near(Mat3.mul(Crystal.U(c), Mat3.transpose(Crystal.U(c))), Mat3.identity(), 1e-12, 'UUᵀ');
  // Reciprocal length of (1,0,0) is 1/d100 = |a*|; for a cubic cell d(h) = a/|h|.
  const cubic = Crystal.fromCell([10, 10, 10, 90, 90, 90]);
  assert.ok(Math.abs(Crystal.dSpacing(cubic, [1, 2, 2]) - 10 / 3) < 1e-12);
  assert.throws(() => Crystal.bFromCell([10, 10, 10, 10, 10, 170]), /impossible cell angles/);
});

test('scan-varying A interpolates between scan points as DIALS predicts (lysozyme refined)', async () => {
  const [e] = await loadExpt('lysozyme_refined.expt.gz');
  const c = e.crystal!;
  assert.equal(Crystal.numScanPoints(c), Scan.numImages(e.scan!) + 1);
  near(Crystal.AAtScanPoint(c, 0), c.AAtScanPoints![0], 0, 'A0');
  near(Crystal.AAtFrame(c, 3), c.AAtScanPoints![3], 0, 'A3');
  // The reciprocal vector of a predicted spot (from DIALS' s1 at DIALS' φ) equals A(z)·h.
  const spots = loadSpots('lysozyme_refined_spots.json.gz');
  const s0 = Beam.s0(e.beam!);
  let worst = 0;
  for (let i = 0; i < spots.rows; i++) {
    const h = spots.miller_index.slice(3 * i, 3 * i + 3) as [number, number, number];
    const z = spots['xyzcal.px'][3 * i + 2], phi = spots['xyzcal.mm'][3 * i + 2];
    const r = Mat3.mulVec(Crystal.AAtFrame(c, z), h);
    const s1 = spots.s1.slice(3 * i, 3 * i + 3);
    const R = Goniometer.rotationAt(e.goniometer!, (phi * 180) / Math.PI);
    const rphi = Mat3.mulVec(R, r);
    worst = Math.max(worst, Math.hypot(rphi[0] + s0[0] - s1[0], rphi[1] + s0[1] - s1[1], rphi[2] + s0[2] - s1[2]));
  }
  assert.ok(worst < 1e-5, `worst |s0 + R·A(z)·h − s1| = ${worst}`);
});

test('cell from B and its uncertainties from B_covariance (dials.index: 38.2094(7), 79.1169(14) …)', async () => {
  const [e] = await loadExpt('lysozyme_indexed.expt');
  const c = e.crystal!;
  near(Crystal.unitCellFromB(Crystal.B(c)), Crystal.unitCell(c), 1e-9, 'cell from B');
  const esd = Crystal.unitCellEsd(c)!;
  // shared/data/simulated/lysozyme_sweep/dials_reference/dials.index.log prints these to 1–2 digits
  const logged = [0.0007, 0.0014, 0.0013, 0.0005, 0.0005, 0.0005];
  const lastDigit = [1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4];
  esd.forEach((s, i) => assert.ok(Math.abs(s - logged[i]) <= lastDigit[i] / 2, `esd[${i}] ${s} vs ${logged[i]}`));
  const [gt] = await loadExpt('lysozyme_ground_truth.expt');
  assert.equal(Crystal.unitCellEsd(gt.crystal!), null);
});
