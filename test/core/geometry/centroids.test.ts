import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centroidsMmToPx, centroidsPxToMm } from '../../../src/core/geometry/centroids.js';
import { loadExpt, loadSpots } from '../models/fixtures.js';

const CASES = [
  // [experiments, spots, px → mm tolerance (mm)]: the l-cysteine mm columns were written by DIALS
  // with the model of the time, slightly different from the final one in the file.
  ['centroid_indexed.expt', 'centroid_indexed_spots.json.gz', 1e-12],
  ['lysozyme_refined.expt.gz', 'lysozyme_refined_spots.json.gz', 1e-8],
  ['lcys_20_integrated.expt.gz', 'lcys_20_integrated_spots.json.gz', 2e-3],
] as const;

test('pixel/frame centroids → mm/radians as DIALS fills xyzobs.mm.value', async () => {
  for (const [expt, spots, tol] of CASES) {
    const [e] = await loadExpt(expt);
    const s = loadSpots(spots);
    const { xyzMm } = centroidsPxToMm(e.detector!, e.scan, Float64Array.from(s['xyzobs.px.value']));
    for (let i = 0; i < 3 * s.rows; i++) {
      const t = i % 3 === 2 ? 1e-12 : tol;
      assert.ok(Math.abs(xyzMm[i] - s['xyzobs.mm.value'][i]) <= t, `${expt} value ${i}: ${xyzMm[i]} vs ${s['xyzobs.mm.value'][i]}`);
    }
    // Predictions: mm → px is exact for the model in the file.
    const px = centroidsMmToPx(e.detector!, e.scan, Float64Array.from(s['xyzcal.mm']));
    for (let i = 0; i < 3 * s.rows; i++) {
      assert.ok(Math.abs(px[i] - s['xyzcal.px'][i]) < 1e-8, `${expt} cal ${i}: ${px[i]} vs ${s['xyzcal.px'][i]}`);
    }
  }
});

test('variances scale by pixel size² and oscillation width² (radians)', async () => {
  const [e] = await loadExpt('centroid_indexed.expt');
  const px = new Float64Array([100, 200, 0.5]);
  const { xyzMmVariance } = centroidsPxToMm(e.detector!, e.scan, px, [0], new Float64Array([0.25, 0.5, 1]));
  const w = (0.2 * Math.PI) / 180;
  assert.ok(Math.abs(xyzMmVariance![0] - 0.25 * 0.172 ** 2) < 1e-18);
  assert.ok(Math.abs(xyzMmVariance![1] - 0.5 * 0.172 ** 2) < 1e-18);
  assert.ok(Math.abs(xyzMmVariance![2] - w * w) < 1e-18);
  assert.throws(() => centroidsPxToMm(e.detector!, e.scan, px, [1]), /panel 1 is not in the detector/);
});
