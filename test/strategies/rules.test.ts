/**
 * Decision rules on figures recorded from real runs (DIALS 3.12 reference figures in
 * shared/data/README.md) and on the edge cases issue 11 names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nextIndexingAttempt, shouldTrySecondLattice, keepExtraLattices, FIRST_ATTEMPT, type IndexingOutcome,
  shouldTryInvertedAxis, chooseRotationAxis, chooseLattice, type BravaisRow, useScanVarying,
  chooseAbsorptionLevel, compareAbsorptionOutcomes, chooseResolutionCut, chooseMultiCrystal, jointIndexingConsistent,
} from '../../src/strategies/index.js';

const fail = (method: IndexingOutcome['attempt']['method'], relaxed = false): IndexingOutcome => ({
  attempt: { method, relaxedSpots: relaxed, maxCellFactor: 1, maxLattices: 1 }, failure: 'no_lattice', percentIndexed: 0, indexedPerLattice: [], nSpots: 100,
});

test('indexing ladder: fft3d → fft1d → real-space (cell known) → relaxed → give up', () => {
  assert.equal(nextIndexingAttempt([], false).choice?.method, 'fft3d');
  assert.equal(nextIndexingAttempt([fail('fft3d')], false).choice?.method, 'fft1d');
  assert.equal(nextIndexingAttempt([fail('fft3d'), fail('fft1d')], true).choice?.method, 'real_space_grid_search');
  const relaxed = nextIndexingAttempt([fail('fft3d'), fail('fft1d')], false).choice;
  assert.equal(relaxed?.method, 'fft3d');
  assert.equal(relaxed?.relaxedSpots, true);
  assert.ok((relaxed?.maxCellFactor ?? 0) > 1);
  const end = nextIndexingAttempt([fail('fft3d'), fail('fft1d'), fail('fft3d', true)], false);
  assert.equal(end.choice, null);
  assert.match(end.reason, /every indexing method/);
});

test('second lattice: searched below 80 % indexed, kept only when it indexes a real share', () => {
  const base = { attempt: FIRST_ATTEMPT, failure: null, nSpots: 1000 };
  assert.equal(shouldTrySecondLattice({ ...base, percentIndexed: 99.8, indexedPerLattice: [998] }).choice, false);
  assert.equal(shouldTrySecondLattice({ ...base, percentIndexed: 55, indexedPerLattice: [550] }).choice, true);
  // Edge: no second lattice worth keeping (12 spots of 1000).
  const weak = keepExtraLattices({ ...base, attempt: { ...FIRST_ATTEMPT, maxLattices: 2 }, percentIndexed: 56.2, indexedPerLattice: [550, 12] });
  assert.equal(weak.choice, 1);
  assert.match(weak.reason, /dropped/);
  const real = keepExtraLattices({ ...base, attempt: { ...FIRST_ATTEMPT, maxLattices: 2 }, percentIndexed: 90, indexedPerLattice: [550, 350] });
  assert.equal(real.choice, 2);
});

// MyD88 3D-ED (DIALS 3.12, shared/data/README.md): axis as imported vs inverted.
const myd88Pos = { rmsdX: 0.507, rmsdY: 0.656, rmsdZ: 0.553, percentIndexed: 89.0 };
const myd88Neg = { rmsdX: 0.518, rmsdY: 0.668, rmsdZ: 0.301, percentIndexed: 89.0 };

test('rotation axis: MyD88 fires the check and picks the inverted axis', () => {
  assert.equal(shouldTryInvertedAxis(myd88Pos).choice, true);
  const d = chooseRotationAxis(myd88Pos, myd88Neg);
  assert.equal(d.choice, 'inverted');
  assert.equal(d.figures.rmsd_z_original, 0.553);
  assert.equal(d.figures.rmsd_z_inverted, 0.301);
});

test('rotation axis: good X-ray data (simulated sweep, i04) does not fire; equal solutions keep the header axis', () => {
  // Simulated sweep: DIALS 0.064/0.044 px, 0.056 images; our indexing measured 0.054 px and 0.054 images (ratio ≈ 1).
  assert.equal(shouldTryInvertedAxis({ rmsdX: 0.064, rmsdY: 0.044, rmsdZ: 0.056, percentIndexed: 99.8 }).choice, false);
  assert.equal(shouldTryInvertedAxis({ rmsdX: 0.054, rmsdY: 0.054, rmsdZ: 0.054, percentIndexed: 99.8 }).choice, false);
  // l_cysteine joint indexing, DIALS sweep 4: RMSD_Z 2.90 images is suspicious outright.
  assert.equal(shouldTryInvertedAxis({ rmsdX: 0.74, rmsdY: 0.78, rmsdZ: 2.9, percentIndexed: 80 }).choice, true);
  assert.equal(shouldTryInvertedAxis({ rmsdX: 0.1828, rmsdY: 0.16, rmsdZ: 0.084, percentIndexed: 95 }).choice, false);
  // Edge: both directions equally good.
  assert.equal(chooseRotationAxis(myd88Neg, { ...myd88Neg, rmsdZ: 0.29 }).choice, 'original');
  // Edge: inverted lowers RMSD_Z but loses many spots.
  assert.equal(chooseRotationAxis(myd88Pos, { ...myd88Neg, percentIndexed: 60 }).choice, 'original');
  assert.equal(chooseRotationAxis(myd88Pos, null).choice, 'original');
});

// Thaumatin-like Bravais table (tP recommended) as refine_bravais_settings prints it.
const thaumatin: BravaisRow[] = [
  { settingId: 9, lattice: 'tP', recommended: true, rmsd: 0.062, metricFitDeg: 0.04, cbOp: 'a,b,c' },
  { settingId: 8, lattice: 'oC', recommended: true, rmsd: 0.061, metricFitDeg: 0.04, cbOp: 'a-b,a+b,c' },
  { settingId: 5, lattice: 'oP', recommended: true, rmsd: 0.060, metricFitDeg: 0.04, cbOp: 'a,b,c' },
  { settingId: 2, lattice: 'mP', recommended: true, rmsd: 0.059, metricFitDeg: 0.03, cbOp: 'a,b,c' },
  { settingId: 1, lattice: 'aP', recommended: true, rmsd: 0.058, metricFitDeg: 0, cbOp: 'a,b,c' },
];

test('lattice choice: highest symmetry recommended; stepped down when RMSD > 1.5× P1; user wins', () => {
  assert.equal(chooseLattice(thaumatin).choice?.lattice, 'tP');
  const badT = thaumatin.map((r) => (r.lattice === 'tP' ? { ...r, rmsd: 0.2 } : r));
  const d = chooseLattice(badT);
  assert.equal(d.choice?.lattice, 'oP');
  assert.match(d.reason, /rejecting tP/);
  assert.equal(chooseLattice(thaumatin, 'mP').choice?.lattice, 'mP');
  assert.equal(chooseLattice(thaumatin, 'cI').choice, null);
  // Unrecommended rows are never chosen even if higher symmetry.
  assert.equal(chooseLattice([{ ...thaumatin[0], recommended: false }, thaumatin[4]]).choice?.lattice, 'aP');
});

test('scan-varying only beyond 5°: l_cysteine 1.5° wedges static, simulated 60° varying', () => {
  assert.equal(useScanVarying(1.5).choice, false);
  assert.equal(useScanVarying(5).choice, false);
  assert.equal(useScanVarying(60).choice, true);
});

test('absorption level from the experiment, and revised by comparing outcomes', () => {
  assert.equal(chooseAbsorptionLevel({ wavelengthA: 0.9795, totalRotationDeg: 60, anomalous: false }).choice, 'none');
  assert.equal(chooseAbsorptionLevel({ wavelengthA: 0.6889, totalRotationDeg: 180, anomalous: false }).choice, 'low');
  assert.equal(chooseAbsorptionLevel({ wavelengthA: 0.97625, totalRotationDeg: 81, anomalous: true }).choice, 'medium');
  assert.equal(chooseAbsorptionLevel({ wavelengthA: 2.7552, totalRotationDeg: 360, anomalous: true }).choice, 'high');
  assert.equal(compareAbsorptionOutcomes({ level: 'low', rmeas: 0.040, ccHalf: 0.999 }, { level: 'high', rmeas: 0.035, ccHalf: 0.999 }).choice, 'high');
  assert.equal(compareAbsorptionOutcomes({ level: 'low', rmeas: 0.040, ccHalf: 0.999 }, { level: 'high', rmeas: 0.0398, ccHalf: 0.999 }).choice, 'low');
});

test('resolution cut: cut when meaningful; edge where CC½ never falls to 0.3', () => {
  // l_cysteine: DIALS estimates 0.59 Å and the data reach 0.59 Å → no rescale.
  assert.equal(chooseResolutionCut({ estimatedDmin: 0.59, currentDmin: 0.585, ccHalfTarget: 0.3 }).choice, null);
  // Simulated sweep: corners reach 1.45 Å, CC½ = 0.3 near 1.9 Å → cut.
  assert.equal(chooseResolutionCut({ estimatedDmin: 1.9, currentDmin: 1.45, ccHalfTarget: 0.3 }).choice, 1.9);
  const never = chooseResolutionCut({ estimatedDmin: null, currentDmin: 1.45, ccHalfTarget: 0.3 });
  assert.equal(never.choice, null);
  assert.match(never.reason, /no cut/);
  assert.equal(chooseResolutionCut({ estimatedDmin: 1.9, currentDmin: 1.45, ccHalfTarget: 0.3, userDmin: 2.0 }).choice, 2.0);
});

test('multi-crystal path: l_cysteine (one crystal, 4 sweeps) vs P41 set (4 crystals)', () => {
  // l_cysteine joint indexing, DIALS 3.12: 87.0, 87.9, 67.4, 80.0 % per sweep.
  const lcys = [87.0, 87.9, 67.4, 80.0];
  assert.equal(jointIndexingConsistent(lcys), true);
  assert.equal(chooseMultiCrystal({ user: 'auto', nSweeps: 4, jointIndexingConsistent: true, percentIndexedPerSweep: lcys }).choice, false);
  // Four randomly oriented crystals: joint indexing explains one sweep only.
  const p41 = [98, 3, 2, 4];
  assert.equal(jointIndexingConsistent(p41), false);
  assert.equal(chooseMultiCrystal({ user: 'auto', nSweeps: 4, jointIndexingConsistent: false, percentIndexedPerSweep: p41 }).choice, true);
  assert.equal(chooseMultiCrystal({ user: 'true', nSweeps: 1, jointIndexingConsistent: null }).choice, true);
  assert.equal(chooseMultiCrystal({ user: 'auto', nSweeps: 1, jointIndexingConsistent: null }).choice, false);
});
