/**
 * Partially recorded observations cut by the start or end of their scan use the summed intensity
 * over the partiality (src/core/scaling/problem.ts, edgeSum): a profile fit of such a partial that
 * reports only the recorded part must not reach the merged data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scaleSweeps } from '../../../src/core/scaling/scale.js';
import { ReflectionSymmetry } from '../../../src/core/scaling/symops.js';
import { DEFAULT_MODEL_OPTIONS } from '../../../src/core/scaling/model.js';
import { DEFAULT_PREP } from '../../../src/core/scaling/data.js';
import { syntheticSweep } from './synthetic.js';

const P222 = ReflectionSymmetry.find('P 2 2 2');
const noAbsorption = { model: { ...DEFAULT_MODEL_OPTIONS, absorptionCorrection: false } };

test('partials on the first and last image take summed intensity over partiality, whatever the intensity choice', () => {
  const nImages = 30;
  const { sweep, iTrue } = syntheticSweep({ seed: 23, nUnique: 2000, multiplicity: 4, nImages, oscDeg: 1, meanIntensity: 20000 });
  const c = sweep.intensities;
  const edge: number[] = [], inner: number[] = [];
  for (let i = 0; i < sweep.d.length; i++) {
    const img = Math.floor(sweep.zFrame[i]) + 1;
    if (i % 3 !== 0) continue;
    c.partiality[i] = 0.6;
    c.sumI[i] *= 0.6; c.sumV[i] *= 0.6;
    // a profile fit that reports the recorded part only (what our integrator did at scan ends)
    if (img === 1 || img === nImages) { c.prfI![i] *= 0.6; edge.push(i); } else inner.push(i);
  }
  const scaledOverTrue = (rows: number[], edgePartialsBySum: boolean) => {
    const run = scaleSweeps([sweep], P222, { ...noAbsorption, intensityChoice: 'prf', prep: { ...DEFAULT_PREP, edgePartialsBySum } });
    const pr = run.problem, o = pr.obsOfRow[0];
    // relative to full observations, so the overall scale of the model cancels
    const ratio = (rs: number[]) => { const v = rs.map((i) => pr.I[o[i]] / run.g[o[i]] / iTrue[i]).filter((x) => Number.isFinite(x)).sort((a, b) => a - b); return v[v.length >> 1]; };
    const fulls: number[] = [];
    for (let i = 0; i < sweep.d.length; i++) if (c.partiality[i] === 1 && iTrue[i] > 5000 && o[i] >= 0) fulls.push(i);
    return ratio(rows.filter((i) => iTrue[i] > 5000 && o[i] >= 0)) / ratio(fulls);
  };
  assert.ok(edge.length > 100 && inner.length > 1000);
  const fixed = scaledOverTrue(edge, true), asChosen = scaledOverTrue(edge, false);
  assert.ok(Math.abs(fixed - 1) < 0.03, `end-image partials at ${fixed.toFixed(3)} of the truth`);
  assert.ok(Math.abs(asChosen - 0.6) < 0.03, `without the rule, the recorded part only: ${asChosen.toFixed(3)}`);
  // inside the scan the profile-fitted intensity (here a whole-reflection estimate) is kept
  assert.ok(Math.abs(scaledOverTrue(inner, true) - 1) < 0.03);
});
