/**
 * DIALS writes a MultiAxisGoniometer as its axis stack alone (axes, angles, names, scan_axis):
 * `dials.import` of the l-cysteine images (DIALS 3.12, regression-data/expt/dials_lcys_multiaxis_imported.expt).
 * The derived rotation axis and fixed/setting rotations must follow from the stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readExperiments, experimentsToJson } from '../../../src/core/io/expt.js';
import { regressionData } from '../../helpers/data.js';
import { Mat3 } from '../../../src/core/math/mat3.js';

test('a DIALS multi-axis goniometer written as its stack alone is read and its rotations derived', async () => {
  const [e] = await readExperiments(regressionData('expt', 'dials_lcys_multiaxis_imported.expt'));
  const g = e.goniometer!;
  assert.deepEqual(g.names, ['GON_PHI', 'GON_OMEGA']);
  assert.equal(g.scanAxis, 1);
  // Scanning ω (1,0,0); φ (inner, at 0°) gives F = I; nothing outside ω gives S = I.
  assert.deepEqual(g.rotationAxis, [1, 0, 0]);
  assert.ok(Mat3.equals(g.fixedRotation, Mat3.identity(), 1e-12));
  assert.ok(Mat3.equals(g.settingRotation, Mat3.identity(), 1e-12));
  // Written back, the stack is kept (DIALS reads either form).
  const json = experimentsToJson([e]) as { goniometer: { axes: number[][]; scan_axis: number }[] };
  assert.equal(json.goniometer[0].scan_axis, 1);
  assert.deepEqual(json.goniometer[0].axes[0], [0.5774, -0.8165, 0.0]);
});

test('with the inner φ axis at 60°, the fixed rotation is R(φ axis, 60°)', async () => {
  const [e] = await readExperiments(regressionData('expt', 'dials_lcys_multiaxis_imported.expt'));
  const json = experimentsToJson([e]) as Record<string, unknown> & { goniometer: Record<string, unknown>[] };
  const stack = { axes: [[0.5774, -0.8165, 0.0], [1, 0, 0]], angles: [60, -145], names: ['GON_PHI', 'GON_OMEGA'], scan_axis: 1 };
  json.goniometer = [stack];
  const { experimentsFromJson } = await import('../../../src/core/io/expt.js');
  const [f] = experimentsFromJson(json, { source: 'test' });
  const expected = Mat3.rotation([0.5774, -0.8165, 0.0], (60 * Math.PI) / 180);
  assert.ok(Mat3.equals(f.goniometer!.fixedRotation, expected, 1e-12));
});
