/**
 * Outlier rejection at multiplicity 2, where the normalised deviation cannot say which of a
 * discordant pair is wrong (see src/core/scaling/outliers.ts): the partial goes before the fully
 * recorded observation, and between equals the less precise one goes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaleSweeps } from '../../../src/core/scaling/scale.js';
import { ReflectionSymmetry } from '../../../src/core/scaling/symops.js';
import { DEFAULT_MODEL_OPTIONS } from '../../../src/core/scaling/model.js';
import { syntheticSweep, rng } from './synthetic.js';

const P222 = ReflectionSymmetry.find('P 2 2 2');
const noAbsorption = { model: { ...DEFAULT_MODEL_OPTIONS, absorptionCorrection: false } };

/** Rows of strong reflections, one per chosen unique (rows 2u, 2u+1 are a unique's pair). */
function pickPairs(iTrue: Float64Array, count: number, seed: number): number[] {
  const r = rng(seed), chosen = new Set<number>();
  while (chosen.size < count) {
    const u = Math.floor(r() * (iTrue.length / 2));
    if (iTrue[2 * u] > 8000) chosen.add(u);
  }
  return [...chosen];
}

test('discordant pair with a badly estimated partial: the partial is rejected, the full observation kept', () => {
  const { sweep, iTrue } = syntheticSweep({ seed: 21, nUnique: 3000, multiplicity: 2, meanIntensity: 20000 });
  const c = sweep.intensities;
  const pairs = pickPairs(iTrue, 40, 5);
  const r = rng(77);
  const partial: number[] = [], full: number[] = [];
  for (const u of pairs) {
    // the partial is either member of the pair, so the group order cannot decide for us
    const k = r() < 0.5 ? 0 : 1;
    const p = 2 * u + k, f = 2 * u + 1 - k;
    c.partiality[p] = 0.55;
    c.prfI![p] *= 0.2; c.sumI[p] *= 0.2 * 0.55; // the summed part is the recorded fraction
    partial.push(p); full.push(f);
  }
  const run = scaleSweeps([sweep], P222, noAbsorption);
  const pr = run.problem, o = pr.obsOfRow[0];
  const rejectedPartials = partial.filter((i) => pr.outlier[o[i]]).length;
  const rejectedFulls = full.filter((i) => pr.outlier[o[i]]).length;
  assert.equal(rejectedPartials, partial.length, `${rejectedPartials} of ${partial.length} wrong partials rejected`);
  assert.equal(rejectedFulls, 0, `${rejectedFulls} good full observations rejected`);
});

test('discordant pair of equally complete observations: the less precise one goes', () => {
  const { sweep, iTrue } = syntheticSweep({ seed: 22, nUnique: 3000, multiplicity: 2, meanIntensity: 20000 });
  const c = sweep.intensities;
  const r = rng(78);
  const bad: number[] = [], good: number[] = [];
  for (const u of pickPairs(iTrue, 40, 6)) {
    const k = r() < 0.5 ? 0 : 1;
    const b = 2 * u + k;
    // a zinger-like excess with a σ to match: four times the counts, four times the variance
    c.prfI![b] *= 4; c.sumI[b] *= 4; c.prfV![b] *= 4; c.sumV[b] *= 4;
    bad.push(b); good.push(2 * u + 1 - k);
  }
  const run = scaleSweeps([sweep], P222, noAbsorption);
  const pr = run.problem, o = pr.obsOfRow[0];
  assert.equal(bad.filter((i) => pr.outlier[o[i]]).length, bad.length);
  assert.equal(good.filter((i) => pr.outlier[o[i]]).length, 0);
});
