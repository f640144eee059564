import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Goniometer } from '../../../src/core/models/goniometer.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Vec3 } from '../../../src/core/math/vec3.js';
import type { Vec3 as V } from '../../../src/core/math/vec3.js';
import { HAVE_SHARED, SHARED_DATA, loadExpt } from './fixtures.js';
import { readExperiments } from '../../../src/core/io/expt.js';

/**
 * The L-cysteine images' imgCIF headers (shared/data/l_cysteine/l-cyst_0S_00001.cbf.gz) define
 * GON_OMEGA (1, 0, 0) and GON_PHI (0.5774, −0.8165, 0) depending on GON_OMEGA; sweeps 1–3 scan
 * ω at φ = 0°, 120°, 240°, sweep 4 scans φ at ω = 0°. DIALS' own single-axis models of the same
 * sweeps (spots/l_cysteine_integrated/{25,30,35,20}_integrated.expt) are the expectation.
 */
const PHI_AXIS: V = [0.5774, -0.8165, 0];
const OMEGA_AXIS: V = [1, 0, 0];
const SWEEPS: { file: string; phi: number; omega: number; scanAxis: number }[] = [
  { file: '25_integrated.expt', phi: 0, omega: -145, scanAxis: 1 },
  { file: '30_integrated.expt', phi: 120, omega: -145, scanAxis: 1 },
  { file: '35_integrated.expt', phi: 240, omega: -145, scanAxis: 1 },
  { file: '20_integrated.expt', phi: 0, omega: 0, scanAxis: 0 },
];

function checkAgainst(g: Goniometer, expected: Goniometer, what: string): void {
  // The header's axis is given to 4 decimals; DIALS' to full precision.
  assert.ok(Vec3.equals(Goniometer.labRotationAxis(g), Goniometer.labRotationAxis(expected), 2e-4), what + ' axis');
  assert.ok(Mat3.equals(g.fixedRotation, expected.fixedRotation, 2e-4), `${what} F ${g.fixedRotation} vs ${expected.fixedRotation}`);
  assert.ok(Mat3.equals(g.settingRotation, expected.settingRotation, 2e-4), what + ' S');
}

test('multi-axis stack (φ inner, ω outer) gives DIALS\' F, S and axis for the L-cysteine sweeps', async () => {
  const [sweep4] = await loadExpt('lcys_20_integrated.expt.gz');
  const g4 = Goniometer.fromMultiAxis([PHI_AXIS, OMEGA_AXIS], [0, 0], ['GON_PHI', 'GON_OMEGA'], 0);
  checkAgainst(g4, sweep4.goniometer!, 'sweep 4');
});

test('all four L-cysteine sweeps (shared data)', { skip: !HAVE_SHARED && 'shared data absent' }, async () => {
  for (const s of SWEEPS) {
    const [e] = await readExperiments(`${SHARED_DATA}/spots/l_cysteine_integrated/${s.file}`);
    const g = Goniometer.fromMultiAxis([PHI_AXIS, OMEGA_AXIS], [s.phi, s.omega], ['GON_PHI', 'GON_OMEGA'], s.scanAxis);
    checkAgainst(g, e.goniometer!, s.file);
  }
});

test('rotationAt = S·R(axis, φ)·F; right-handed about +x', () => {
  const g = Goniometer.create();
  const r = Goniometer.rotationAt(g, 90);
  assert.ok(Vec3.equals(Mat3.mulVec(r, [0, 1, 0]), [0, 0, 1], 1e-15));
  // Kappa-like stack: F and S from inner/outer axes, scan in the middle.
  const axes: V[] = [[1, 0, 0], [0.642788, -0.766044, 0], [1, 0, 0]];
  const k = Goniometer.fromMultiAxis(axes, [30, 50, 20], ['PHI', 'KAPPA', 'OMEGA'], 1);
  const expected = Mat3.mul(Mat3.rotation(axes[2], (20 * Math.PI) / 180),
    Mat3.mul(Mat3.rotation(axes[1], (33 * Math.PI) / 180), Mat3.rotation(axes[0], (30 * Math.PI) / 180)));
  assert.ok(Mat3.equals(Goniometer.rotationAt(k, 33), expected, 1e-12));
  // Rotating a lab vector about the lab axis agrees with the full rotation.
  const v: V = [0.3, -0.2, 0.9];
  const atZero = Mat3.mulVec(Goniometer.rotationAt(k, 0), v);
  assert.ok(Vec3.equals(Goniometer.rotateLab(k, atZero, 33), Mat3.mulVec(Goniometer.rotationAt(k, 33), v), 1e-12));
  assert.throws(() => Goniometer.fromMultiAxis(axes, [0, 0], ['a', 'b', 'c'], 0), /3 axes but 2 angles/);
  assert.throws(() => Goniometer.fromMultiAxis(axes, [0, 0, 0], ['a', 'b', 'c'], 3), /scan axis 3/);
});
