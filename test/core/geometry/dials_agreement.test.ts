/**
 * Agreement with DIALS on whole reflection tables of the shared data (skipped without it):
 * the largest deviations are printed as test diagnostics, e.g.
 *   npx tsx --test test/core/geometry/dials_agreement.test.ts
 * and bounded by the same tolerances as the regression-data tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readRefl } from '../../../src/core/io/refl.js';
import { readExperiments } from '../../../src/core/io/expt.js';
import { centroidsMmToPx, centroidsPxToMm } from '../../../src/core/geometry/centroids.js';
import { s1ForMm } from '../../../src/core/geometry/resolution.js';
import { reciprocalVectorsOfSpots } from '../../../src/core/geometry/reciprocal.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { HAVE_SHARED, SHARED_DATA } from '../models/fixtures.js';

/**
 * `s1` is the predicted beam after refinement/integration, but the observed one in an indexed
 * table, where dials.index computed it with the model before its final refinement.
 */
const CASES: { expt: string; refl: string; pxToMmTol: number; s1From: 'xyzcal.mm' | 'xyzobs.mm.value'; s1Tol: number }[] = [
  { expt: 'spots/l_cysteine_integrated/20_integrated.expt', refl: 'spots/l_cysteine_integrated/20_integrated.refl', pxToMmTol: 2e-3, s1From: 'xyzcal.mm', s1Tol: 1e-9 },
  { expt: 'spots/centroid_test_data/indexed.expt', refl: 'spots/centroid_test_data/indexed.refl', pxToMmTol: 1e-12, s1From: 'xyzobs.mm.value', s1Tol: 2e-4 },
  { expt: 'simulated/lysozyme_sweep/dials_reference/refined.expt', refl: 'simulated/lysozyme_sweep/dials_reference/refined.refl', pxToMmTol: 1e-8, s1From: 'xyzcal.mm', s1Tol: 1e-9 },
];

test('px ↔ mm, s1 and A·h against whole DIALS tables', { skip: !HAVE_SHARED && 'shared data absent' }, async (t) => {
  for (const c of CASES) {
    const [e] = await readExperiments(path.join(SHARED_DATA, c.expt));
    const table = await readRefl(path.join(SHARED_DATA, c.refl));
    const panel = table.sizeT('panel');
    const obsPx = table.vec3('xyzobs.px.value'), obsMm = table.vec3('xyzobs.mm.value');
    const calPx = table.vec3('xyzcal.px'), calMm = table.vec3('xyzcal.mm'), s1 = table.vec3('s1');
    const hkl = table.miller('miller_index');
    const { xyzMm } = centroidsPxToMm(e.detector!, e.scan, obsPx, panel);
    const px = centroidsMmToPx(e.detector!, e.scan, calMm, panel);
    const rv = reciprocalVectorsOfSpots(e.detector!, e.beam!, e.goniometer, calMm, panel);
    let dMm = 0, dPx = 0, dS1 = 0, dAh = 0, n = 0, nPred = 0;
    for (let i = 0; i < table.nrows; i++) {
      if (obsMm[3 * i] !== 0 || obsMm[3 * i + 1] !== 0) {
        n++;
        dMm = Math.max(dMm, Math.hypot(xyzMm[3 * i] - obsMm[3 * i], xyzMm[3 * i + 1] - obsMm[3 * i + 1]));
      }
      if (calMm[3 * i] === 0 && calMm[3 * i + 1] === 0) continue;
      if (hkl[3 * i] === 0 && hkl[3 * i + 1] === 0 && hkl[3 * i + 2] === 0) continue;
      nPred++;
      dPx = Math.max(dPx, Math.hypot(px[3 * i] - calPx[3 * i], px[3 * i + 1] - calPx[3 * i + 1]));
      const at = table.vec3(c.s1From);
      const s = s1ForMm(e.detector!.panels[panel[i]], e.beam!, at[3 * i], at[3 * i + 1]);
      dS1 = Math.max(dS1, Math.hypot(s[0] - s1[3 * i], s[1] - s1[3 * i + 1], s[2] - s1[3 * i + 2]));
      const A = Crystal.AAtFrame(e.crystal!, calPx[3 * i + 2]);
      const h = hkl[3 * i], k = hkl[3 * i + 1], l = hkl[3 * i + 2];
      dAh = Math.max(dAh, Math.hypot(A[0] * h + A[1] * k + A[2] * l - rv[3 * i], A[3] * h + A[4] * k + A[5] * l - rv[3 * i + 1], A[6] * h + A[7] * k + A[8] * l - rv[3 * i + 2]));
    }
    t.diagnostic(`${c.refl}: ${n} observed, px→mm max ${dMm.toExponential(2)} mm; ${nPred} predicted, mm→px max ${dPx.toExponential(2)} px, s1 max ${dS1.toExponential(2)} 1/Å, A(z)·h max ${dAh.toExponential(2)} 1/Å`);
    assert.ok(dMm <= c.pxToMmTol, `${c.refl}: px → mm ${dMm}`);
    assert.ok(dPx < 1e-8, `${c.refl}: mm → px ${dPx}`);
    assert.ok(dS1 < c.s1Tol, `${c.refl}: s1 ${dS1}`);
    // scan-varying A is interpolated between scan points; DIALS' own predictions agree to ~1e-6
    assert.ok(dAh < (e.crystal!.AAtScanPoints ? 5e-4 : 1e-12), `${c.refl}: A·h ${dAh}`);
  }
});
