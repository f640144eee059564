/**
 * The accuracy measure itself: on DIALS' own integrated.refl of the simulated sweep, the truth
 * comparison must reproduce the figures the data README quotes for DIALS (prf 0.9907 over 58 123
 * observations, sum 0.9923), so that our figures computed the same way are comparable.
 * Skips without ../shared/data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { compareFiles, hasSweep, SWEEP_DIR } from './truth_cc.js';

test('truth comparison reproduces DIALS\' published CC figures', { skip: !hasSweep() && 'shared simulated sweep absent' }, async () => {
  const d = path.join(SWEEP_DIR, 'dials_reference');
  const c = await compareFiles(path.join(d, 'integrated.expt'), path.join(d, 'integrated.refl'));
  assert.equal(c.nPrf, 58123);
  assert.equal(Number(c.ccPrf.toFixed(4)), 0.9907);
  assert.equal(Number(c.ccSum.toFixed(4)), 0.9923);
});
