/**
 * Issue 4 acceptance on ../shared/data (skipped when it is absent): for every image set with a
 * DIALS 3.12 strong.refl, spot count within ±5 %, ≥ 95 % of DIALS spots matched within 1 px / 1
 * image, matched-centroid RMS ≤ 0.1 px. The figures are printed (also by `npm run bench`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { available, compareDataset, datasets } from './dials_compare.js';

for (const d of datasets()) {
  test(`DIALS acceptance: ${d.name}`, { skip: available(d) ? false : 'shared data absent' }, async (t) => {
    const c = await compareDataset(d, { nproc: d.name === 'lysozyme_sweep' || d.name === 'l_cysteine' ? 2 : 1 });
    t.diagnostic(`ours ${c.ours}, DIALS ${c.dials} (${(100 * c.countDiff).toFixed(2)} %), matched ${(100 * c.matchedFraction).toFixed(2)} %, RMS xy ${c.rmsXY.toExponential(2)} px, RMS z ${c.rmsZ.toExponential(2)} images`);
    assert.ok(Math.abs(c.countDiff) <= 0.05, `count ${c.ours} vs DIALS ${c.dials}`);
    assert.ok(c.matchedFraction >= 0.95, `matched ${c.matchedFraction}`);
    assert.ok(c.rmsXY <= 0.1, `centroid RMS ${c.rmsXY}`);
  });
}
