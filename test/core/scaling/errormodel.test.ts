/**
 * The error-model selection, binning and the "too few reflections" rule as DIALS 3.12 shows them
 * (src/core/scaling/errormodel.ts says how each was inferred from dials.scale runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorModelBins, refineErrorModel, ERROR_MODEL_MIN_REFL, individualBObjective, individualBinWeights } from '../../../src/core/scaling/errormodel.js';
import { scaleSweeps } from '../../../src/core/scaling/scale.js';
import { ReflectionSymmetry } from '../../../src/core/scaling/symops.js';
import { DEFAULT_MODEL_OPTIONS } from '../../../src/core/scaling/model.js';
import type { Log } from '../../../src/core/log.js';
import { syntheticSweep } from './synthetic.js';

test('intensity bins: log-spaced, sparse weak bins left out (DIALS tabulates 135 of l-cysteine\'s 194 weakest), sparse strong bins re-cut into chunks of m from the top', () => {
  // 10 log-spaced bins over [25, 25·2¹⁰]; observations per bin, weakest first
  const perBin = [5, 5, 300, 300, 300, 300, 300, 300, 20, 10];
  const ih: number[] = [];
  perBin.forEach((n, k) => { for (let i = 0; i < n; i++) ih.push(25 * 2 ** (k + (i + 0.5) / n)); });
  ih.push(25, 25 * 2 ** 10); // the extremes fix the range
  const N = ih.length;
  const m = Math.floor(N / 30); // below 250
  const { bin, limits } = errorModelBins(Float64Array.from(ih), 10);
  const counts = new Array(limits.length).fill(0);
  let left = 0;
  for (const b of bin) if (b >= 0) counts[b]++; else left++;
  // strongest first: two chunks of m for the two sparse top bins, the rest of the 3 top bins, five
  // full bins; the two sparse weakest bins (with the extreme 25) are in no bin
  const top3 = 300 + 20 + 10 + 1;
  assert.deepEqual(counts, [m, m, top3 - 2 * m, 300, 300, 300, 300, 300]);
  assert.equal(left, 5 + 5 + 1);
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

test('individual b step: the functional DIALS logs, from the per-bin variances it prints (dials.refine_error_model -vv on its own l-cysteine scaled data)', () => {
  // One intensity bin, a fixed at 1.3709, b fixed at each trial value DIALS' minimiser visited
  // (basic.n_bins=1 basic.a=1.3709 basic.b=… basic.minimisation=None prints the variance to three
  // decimals): DIALS' logged functional must lie within what the objective gives over that rounding.
  const cases: [number, number][] = [[1.287, 0.1467826990535681], [0.808, 0.08270718065231786], [0.921, 0.013183503193436863], [0.231, 3.143429112735106]];
  for (const [v, fDials] of cases) {
    const lo = individualBObjective([v + 0.0005], [1]), hi = individualBObjective([v - 0.0005], [1]);
    const [fMin, fMax] = v < 1 ? [lo, hi] : [hi, lo];
    assert.ok(fDials >= fMin && fDials <= fMax, `v ${v}: DIALS ${fDials}, objective ${fMin}–${fMax}`);
  }
  // far too large b: DIALS' functional is 288.64·a² − 1.000 (a = 0.5, 1, 1.3709 at b = 1.02), i.e.
  // 1/v − 1 to first order in v = 1/(288.64·a²): no term linear in a
  for (const [a, fDials] of [[0.5, 71.14556169234483], [1, 287.6334589744273], [1.3709, 541.4527915996497]]) {
    const v = 1 / (288.636937 * a * a);
    assert.ok(Math.abs(individualBObjective([v], [1]) - fDials) < 2e-3 * fDials, `a ${a}`);
  }
  // two bins (n_bins=2: ⟨Ih⟩ 1537–90551 and 26–1537), DIALS' printed variances at four b values:
  // its functional is reproduced with weights in the ratio of the bins' mean ⟨Ih⟩, 12.1 on these
  // data, within the rounding of the printed variances
  const w = [12.1 / 13.1, 1 / 13.1];
  const two: [number, number, number][] = [[1.278, 1.313, 0.14002695976555293], [0.889, 1.159, 0.027556495441324783], [0.302, 0.706, 1.9558383975336977], [0.994, 1.206, 0.00594176397182751]];
  for (const [v1, v2, fDials] of two) {
    const f = individualBObjective([v1, v2], w);
    assert.ok(Math.abs(f - fDials) < 0.05 * fDials + 3e-4, `v ${v1}, ${v2}: ${f} vs DIALS ${fDials}`);
  }
});

test('individual b-step bin weights: each bin\'s mean ⟨Ih⟩, summing to 1', () => {
  const w = individualBinWeights([100, 300, 10, 30, 20], [0, 0, 1, 1, 1], 2);
  assert.ok(Math.abs(w[0] - 200 / 220) < 1e-12 && Math.abs(w[1] - 20 / 220) < 1e-12);
});
