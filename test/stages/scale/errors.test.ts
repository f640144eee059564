import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterError, UserError } from '../../../src/core/errors.js';
import { silentLog } from '../../../src/core/log.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { resolveParams, run } from '../../../src/stages/scale/index.js';
import { run as runResolution, resolveParams as resolutionParams } from '../../../src/stages/estimate_resolution/index.js';
import { loadLCysteineRegression } from './data.js';

test('bad parameters are one-line ParameterErrors naming the parameter', () => {
  assert.throws(() => resolveParams({ 'cut_data.exclude_images': ['0:100'] }), (e: unknown) => e instanceof ParameterError && /exclude_images=0:100/.test((e as Error).message));
  assert.throws(() => resolveParams({ 'cut_data.exclude_images': ['0:200:100'] }), ParameterError);
  assert.throws(() => resolveParams({ 'cut_data.d_min': 3, 'cut_data.d_max': 2 }), /d_min=3 must be below/);
  const ok = resolveParams({ 'cut_data.exclude_images': ['0:101:150', '2:1:10'] });
  assert.deepEqual(ok.options.prep.excludeImages, [[0, 101, 150], [2, 1, 10]]);
});

test('reflections without integrated intensities are a UserError naming the column', () => {
  const ds = loadLCysteineRegression();
  const t = ReflectionTable.empty(ds.reflections.nrows);
  t.setColumn('miller_index', 'cctbx::miller::index<>', ds.reflections.miller('miller_index'));
  assert.throws(() => run({ ...ds, reflections: t }, resolveParams({}), silentLog), (e: unknown) => e instanceof UserError && /missing column flags/.test((e as Error).message));
});

test('cutting everything away is a UserError, not a crash', () => {
  const ds = loadLCysteineRegression();
  assert.throws(() => run(ds, resolveParams({ 'cut_data.d_min': 50 }), silentLog), UserError);
});

test('d_min and exclude_images cut what they say', () => {
  const ds = loadLCysteineRegression();
  const r = run(ds, resolveParams({ 'symmetry.space_group': 'P 21 21 21', 'cut_data.d_min': 0.8, 'cut_data.exclude_images': ['0:1:900'] }), silentLog);
  assert.ok((r.figures.d_min as number) >= 0.8 - 1e-9);
  const pr = r.outputs.run.problem;
  for (let o = 0; o < pr.nObs; o++) if (pr.sweepOf[o] === 0) assert.ok(pr.image[o] > 900);
  assert.throws(() => runResolution(ds, resolutionParams({ 'resolution.cc_half': null }), silentLog), /no resolution criterion/);
});
