/**
 * The error-model selection, binning and the "too few reflections" rule as DIALS 3.12 shows them
 * (src/core/scaling/errormodel.ts says how each was inferred from dials.scale runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorModelBins, refineErrorModel, ERROR_MODEL_MIN_REFL } from '../../../src/core/scaling/errormodel.js';
import { scaleSweeps } from '../../../src/core/scaling/scale.js';
import { ReflectionSymmetry } from '../../../src/core/scaling/symops.js';
import { DEFAULT_MODEL_OPTIONS } from '../../../src/core/scaling/model.js';
import type { Log } from '../../../src/core/log.js';
import { syntheticSweep } from './synthetic.js';

test('intensity bins: log-spaced, sparse weak bins merged upwards, sparse strong bins re-cut into chunks of m from the top', () => {
  // 10 log-spaced bins over [25, 25·2¹⁰]; observations per bin, weakest first
  const perBin = [5, 5, 300, 300, 300, 300, 300, 300, 20, 10];
  const ih: number[] = [];
  perBin.forEach((n, k) => { for (let i = 0; i < n; i++) ih.push(25 * 2 ** (k + (i + 0.5) / n)); });
  ih.push(25, 25 * 2 ** 10); // the extremes fix the range
  const N = ih.length;
  const m = Math.floor(N / 30); // below 250
  const { bin, limits } = errorModelBins(Float64Array.from(ih), 10);
  const counts = new Array(limits.length).fill(0);
  for (const b of bin) counts[b]++;
  // strongest first: two chunks of m for the two sparse top bins, the rest of the 3 top bins, four
  // full bins, then the three weakest merged
  const top3 = 300 + 20 + 10 + 1;
  assert.deepEqual(counts, [m, m, top3 - 2 * m, 300, 300, 300, 300, 5 + 5 + 300 + 1]);
  assert.ok(Math.abs(limits[3].high / (25 * 2 ** 7) - 1) < 1e-9 && Math.abs(limits[limits.length - 1].low - 25) < 1e-9);
});

test('fewer than 250 suitable observations: no refinement, the model in force is kept, and the log says so (DIALS on the simulated sweep)', () => {
  // σ² = 2·I for every observation: DIALS keeps no symmetry group whose mean I/σ² is below ≈ 0.85
  const { sweep } = syntheticSweep({ seed: 11, nUnique: 1500, multiplicity: 6, meanIntensity: 5000 });
  const s = sweep.intensities;
  for (let i = 0; i < s.sumI.length; i++) { s.sumV[i] = 2 * Math.max(Math.abs(s.sumI[i]), 1); s.prfV![i] = 2 * Math.max(Math.abs(s.prfI![i]), 1); }
  const lines: string[] = [];
  const log: Log = { info: (m) => lines.push(m), debug: () => {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const P222 = ReflectionSymmetry.find('P 2 2 2');
  const run = scaleSweeps([sweep], P222, { model: { ...DEFAULT_MODEL_OPTIONS, absorptionCorrection: false } }, log);
  assert.equal(run.errorModelFit, null);
  assert.equal(run.errorModel.a, 1);
  assert.equal(run.errorModel.b, 0.02);
  assert.ok(lines.some((l) => l.startsWith(`Insufficient reflections (0 < ${ERROR_MODEL_MIN_REFL}) to perform error modelling`)), lines.join('\n'));
  const r = refineErrorModel(run.problem, run.g);
  assert.equal(r.fit, null);
  assert.equal(r.nRefl, 0);
});
