import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { prepareIntensities, toObservations, completeSet, normaliseE2, correctIntegrated, chooseIntensity, HAS_SUM } from '../../../src/core/stats/prepare.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';

/** Rows: [h, k, l, flags, prf, prfVar, sum, sumVar, partiality, partial_id, lp, qe]. */
function table(rows: number[][]): ReflectionTable {
  const t = ReflectionTable.empty(rows.length);
  t.setMiller('miller_index', rows.flatMap((r) => r.slice(0, 3)));
  t.setSizeT('flags', rows.map((r) => r[3]));
  t.setDouble('intensity.prf.value', rows.map((r) => r[4]));
  t.setDouble('intensity.prf.variance', rows.map((r) => r[5]));
  t.setDouble('intensity.sum.value', rows.map((r) => r[6]));
  t.setDouble('intensity.sum.variance', rows.map((r) => r[7]));
  t.setDouble('partiality', rows.map((r) => r[8]));
  t.setSizeT('partial_id', rows.map((r) => r[9]));
  t.setDouble('lp', rows.map((r) => r[10]));
  t.setDouble('qe', rows.map((r) => r[11]));
  t.setInt('id', rows.map(() => 0));
  return t;
}

const both = Flags.integrated_prf | Flags.integrated_sum;

test('integrated data: LP and QE applied, rows failing flags/variance/partiality/I/σ dropped with reasons', () => {
  const t = table([
    [1, 0, 0, both, 100, 25, 110, 36, 0.99, 0, 0.5, 0.8], // kept: 100·0.5/0.8 = 62.5, σ = 5·0.625
    [2, 0, 0, Flags.integrated_sum, 50, 4, 60, 9, 0.99, 1, 1, 1], // no profile fit
    [3, 0, 0, both, 10, 0, 12, 4, 0.99, 2, 1, 1], // variance 0
    [4, 0, 0, both, 10, 4, 12, 4, 0.2, 3, 1, 1], // partiality below 0.4
    [5, 0, 0, both, -100, 4, -90, 4, 0.99, 4, 1, 1], // I/σ = −50
    [6, 0, 0, both | Flags.outlier_in_scaling, 10, 4, 12, 4, 0.99, 5, 1, 1], // bad for scaling
  ]);
  const p = prepareIntensities(t, null, { intensity: 'prf' }, 'x.refl');
  assert.deepEqual(Array.from(p.rows), [0]);
  assert.ok(Math.abs(p.I[0] - 62.5) < 1e-12 && Math.abs(p.sigma[0] - 3.125) < 1e-12);
  assert.deepEqual({ ...p.counts }, { input: 6, not_integrated: 1, non_positive_variance: 1, low_partiality: 1, low_i_over_sigma: 1, bad_for_scaling: 1, selected: 1 });
});

test('partials of one reflection: summed intensities add into the most complete part, which keeps its own profile-fitted estimate', () => {
  const rows = [
    [1, 2, 3, both, 1300, 400, 290, 100, 0.3, 7, 1, 1],
    [1, 2, 3, both, 1000, 100, 700, 100, 0.7, 7, 1, 1],
  ];
  const sum = prepareIntensities(table(rows), null, { intensity: 'sum' });
  assert.deepEqual(Array.from(sum.rows), [1]);
  assert.equal(sum.I[0], 990);
  assert.ok(Math.abs(sum.sigma[0] - Math.sqrt(200)) < 1e-12);
  assert.equal(sum.counts.partials_combined, 1);
  const prf = prepareIntensities(table(rows), null, { intensity: 'prf' });
  assert.deepEqual(Array.from(prf.rows), [1]);
  assert.ok(Math.abs(prf.I[0] - 1000) < 1e-9 && Math.abs(prf.sigma[0] - 10) < 1e-9);
  // a part without a summation integration leaves no summed intensity for the reflection
  const missing = [rows[0].slice(), rows[1].slice()];
  missing[0][3] = Flags.integrated_prf;
  const c = correctIntegrated(table(missing));
  assert.equal(c.has[1] & HAS_SUM, 0);
  assert.equal(c.partOf[0], 1);
  assert.equal(c.partiality[0], 0);
});

test('chooseIntensity: LP/QE applied, summed intensity divided by the partiality, prf/sum combined by Imid in raw counts', () => {
  // lp 0.5, qe 1: corrected = raw·0.5; partiality 0.8
  const t = table([[1, 0, 0, both, 400, 400, 320, 320, 0.8, 0, 0.5, 1]]);
  const c = correctIntegrated(t);
  const out = new Float64Array(2);
  assert.ok(chooseIntensity(c, 0, { kind: 'sum' }, out));
  assert.ok(Math.abs(out[0] - 200) < 1e-12 && Math.abs(out[1] - (320 * 0.25) / 0.64) < 1e-12);
  assert.ok(chooseIntensity(c, 0, { kind: 'prf' }, out));
  assert.ok(Math.abs(out[0] - 200) < 1e-12 && Math.abs(out[1] - 100) < 1e-12);
  // Imid equal to the raw summed counts: w = 1/2, σ = (σprf + σsum)/2
  assert.ok(chooseIntensity(c, 0, { kind: 'combine', imid: 320 }, out));
  assert.ok(Math.abs(out[0] - 200) < 1e-12);
  assert.ok(Math.abs(Math.sqrt(out[1]) - 0.5 * (10 + Math.sqrt(125))) < 1e-12);
  // without a profile fit 'combine' falls back to the sum, 'prf' has nothing
  const s = correctIntegrated(table([[1, 0, 0, Flags.integrated_sum, 400, 400, 320, 320, 1, 0, 1, 1]]));
  assert.ok(chooseIntensity(s, 0, { kind: 'combine', imid: 100 }, out) && out[0] === 320);
  assert.equal(chooseIntensity(s, 0, { kind: 'prf' }, out), false);
});

test('ASU mapping gives the Friedel sign and centric flags; complete set leaves out absences', () => {
  const sg = SpaceGroup.find('P 21 21 21');
  const cell = UnitCell.create(5, 6, 7);
  const miller = Int32Array.from([1, 2, 3, -1, -2, -3, -1, 2, 3, 2, 0, 0]);
  const obs = toObservations(miller, Int32Array.from([0, 1, 2, 3]), Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 1, 1, 1), sg, cell);
  assert.deepEqual([obs.h[1], obs.k[1], obs.l[1]], [1, 2, 3]);
  assert.deepEqual(Array.from(obs.friedel), [1, -1, -1, 1]); // (-1,2,3) is a Friedel mate of a 2-fold image of (1,2,3)
  assert.deepEqual(Array.from(obs.centric), [0, 0, 0, 1]);
  const cs = completeSet(sg, cell, 2.4, 100);
  const hkls = new Set(Array.from({ length: cs.d.length }, (_, i) => Array.from(cs.hkl.subarray(3 * i, 3 * i + 3)).join(',')));
  assert.ok(hkls.has('2,0,0') && !hkls.has('1,0,0') && hkls.has('1,1,0'));
  const withAbsent = completeSet(sg, cell, 2.4, 100, { includeAbsent: true });
  assert.equal(withAbsent.d.length - cs.d.length, 3); // 100, 010, 001 (003 has d = 7/3 < 2.4)
});

test('E² has mean 1 in every resolution shell', () => {
  const n = 400;
  const miller = new Int32Array(3 * n), d = new Float64Array(n), I = new Float64Array(n), s = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) { miller.set([i + 1, 0, 1], 3 * i); d[i] = 10 / (1 + i / 40); I[i] = 1000 * Math.exp(-0.5 / (d[i] * d[i]) * 20) * (1 + (i % 3)); }
  const { E2 } = normaliseE2(miller, d, I, s, SpaceGroup.fromNumber(1), 10);
  let sum = 0;
  for (const e of E2) sum += e;
  assert.ok(Math.abs(sum / n - 1) < 1e-9);
});
