import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { mergingStatistics, sigmaTauCcHalf, normalProbabilitySlope, normalQuantile, type Observations } from '../../../src/core/stats/merging.js';
import { equalVolumeBins } from '../../../src/core/stats/binning.js';
import { prepareIntensities, toObservations, completeSet } from '../../../src/core/stats/prepare.js';
import { decodeRefl } from '../../../src/core/io/refl.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';
import { UserError } from '../../../src/core/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const regression = path.join(here, '../../../regression-data/merging');

function obsOf(rows: [number, number, number, number, number, number][]): Observations {
  // [h, k, l, I, sigma, d]
  const n = rows.length;
  return {
    h: Int32Array.from(rows.map((r) => r[0])), k: Int32Array.from(rows.map((r) => r[1])), l: Int32Array.from(rows.map((r) => r[2])),
    friedel: new Int8Array(n).fill(1), I: Float64Array.from(rows.map((r) => r[3])), sigma: Float64Array.from(rows.map((r) => r[4])),
    d: Float64Array.from(rows.map((r) => r[5])), centric: new Uint8Array(n),
  };
}

test('R factors and multiplicity on a hand-computed case', () => {
  // reflection A: 10, 12 (mean 11); reflection B: 5 (single); reflection C: 20, 23, 26 (mean 23)
  const o = obsOf([[1, 0, 0, 10, 1, 3], [1, 0, 0, 12, 1, 3], [0, 1, 0, 5, 1, 2], [0, 0, 1, 20, 1, 2.5], [0, 0, 1, 23, 1, 2.5], [0, 0, 1, 26, 1, 2.5]]);
  const s = mergingStatistics(o, null, { nBins: 1 }).overall;
  const num = 2 + 6, den = 22 + 69;
  assert.equal(s.nObs, 6);
  assert.equal(s.nUnique, 3);
  assert.equal(s.multiplicity, 2);
  assert.ok(Math.abs(s.rMerge - num / den) < 1e-12);
  assert.ok(Math.abs(s.rMeas - (Math.sqrt(2) * 2 + Math.sqrt(1.5) * 6) / den) < 1e-12);
  assert.ok(Math.abs(s.rPim - (1 * 2 + Math.sqrt(0.5) * 6) / den) < 1e-12);
  // merged I/σ: A 11/(1/√2), B 5/1, C 23/(1/√3)
  assert.ok(Math.abs(s.meanIOverSigma - (11 * Math.SQRT2 + 5 + 23 * Math.sqrt(3)) / 3) < 1e-9);
});

test('dF/F is the Bijvoet ratio ⟨ΔF²⟩^½/⟨F²⟩^½ over pairs with both intensities positive', () => {
  // (1 0 0): I+ 16, I− 9 → F 4, 3; (0 1 0): 100, 100 → 10, 10; (0 0 1): I− negative, left out.
  const o = obsOf([[1, 0, 0, 16, 1, 3], [1, 0, 0, 9, 1, 3], [0, 1, 0, 100, 1, 2], [0, 1, 0, 100, 1, 2], [0, 0, 1, 50, 1, 2.5], [0, 0, 1, -4, 1, 2.5]]);
  o.friedel.set([1, -1, 1, -1, 1, -1]);
  const st = mergingStatistics(o, null, { nBins: 1 });
  assert.ok(Math.abs(st.dFOverF - Math.sqrt(1 / (3.5 ** 2 + 10 ** 2))) < 1e-12);
});

test('σ-τ CC½ equals 1 for noiseless data and falls with noise', () => {
  assert.equal(sigmaTauCcHalf([1, 2, 3, 4], [0, 0, 0, 0]), 1);
  // σ²y = var(means) = 5/3; σ²ε = 1 → (5/3 − 1/2)/(5/3 + 1/2)
  assert.ok(Math.abs(sigmaTauCcHalf([1, 2, 3, 4], [1, 1, 1, 1]) - (5 / 3 - 0.5) / (5 / 3 + 0.5)) < 1e-12);
});

test('normal probability slope of exact normal scores is 1', () => {
  const n = 2001;
  const z = Array.from({ length: n }, (_, i) => 1.7 * normalQuantile((i + 0.5) / n));
  assert.ok(Math.abs(normalProbabilitySlope(z) - 1.7) < 1e-9);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
});

test('equal-volume bins have equal steps in 1/d³', () => {
  const b = equalVolumeBins(1, 10, 4);
  const s3 = (d: number) => 1 / d ** 3;
  const steps = [0, 1, 2, 3].map((i) => s3(b.dMin[i]) - s3(b.dMax[i]));
  for (const s of steps) assert.ok(Math.abs(s - steps[0]) < 1e-12);
  assert.equal(b.dMax[0], 10);
  assert.equal(b.dMin[3], 1);
  assert.equal(b.indexOf(9.9), 0);
  assert.equal(b.indexOf(1.0001), 3);
});

/** |ours − DIALS| within 1 % relative, or within the rounding of DIALS' printed value. */
function close(ours: number, dials: number, printedDigits: number, what: string): void {
  const tol = Math.max(0.01 * Math.abs(dials), 0.5 * 10 ** -printedDigits + 1e-12);
  assert.ok(Math.abs(ours - dials) <= tol, `${what}: ours ${ours} vs DIALS ${dials} (tolerance ${tol})`);
}

for (const [name, what] of [
  ['l_cysteine_scaled', 'data-files l-cysteine scaled reference (older DIALS scaling)'],
  ['l_cysteine_rescaled', 'DIALS 3.12 scaling whose merge log is reference/l_cysteine_integrated/dials.merge.log'],
] as const) test(`merging statistics match dials.merge on the same data, overall and per shell: ${what}`, () => {
  const table = decodeRefl(gunzipSync(readFileSync(path.join(regression, `${name}.refl.gz`))), `${name}.refl.gz`);
  const ref = JSON.parse(readFileSync(path.join(regression, `${name}_dials_merge.json`), 'utf8'));
  const cell = UnitCell.fromParams(ref.cell);
  const sg = SpaceGroup.find(ref.space_group);
  const prep = prepareIntensities(table, null, { intensity: 'scale' });
  assert.equal(prep.rows.length, ref.overall.n_obs);
  const obs = toObservations(table.miller('miller_index'), prep.rows, prep.I, prep.sigma, sg, cell);
  let dMin = Infinity, dMax = 0;
  for (const d of obs.d) { dMin = Math.min(dMin, d); dMax = Math.max(dMax, d); }
  const complete = completeSet(sg, cell, dMin, dMax);
  const st = mergingStatistics(obs, complete, { nBins: 20 });
  const shells = [...st.bins.map((b, i) => [b, ref.bins[i], `bin ${i + 1}`] as const), [st.overall, ref.overall, 'overall'] as const];
  for (const [ours, dials, shellName] of shells) {
    assert.equal(ours.nObs, dials.n_obs, `${shellName} observations`);
    assert.equal(ours.nUnique, dials.n_uniq, `${shellName} unique`);
    close(ours.dMax, dials.d_max, 2, `${shellName} d_max`);
    close(ours.dMin, dials.d_min, 2, `${shellName} d_min`);
    close(ours.multiplicity, dials.multiplicity, 2, `${shellName} multiplicity`);
    close(ours.meanI, dials.mean_I, 1, `${shellName} <I>`);
    close(ours.meanIOverSigma, dials.mean_I_over_sigma, 1, `${shellName} I/σ`);
    close(ours.rMerge, dials.r_merge, 3, `${shellName} Rmerge`);
    close(ours.rMeas, dials.r_meas, 3, `${shellName} Rmeas`);
    close(ours.rPim, dials.r_pim, 3, `${shellName} Rpim`);
    close(ours.ccHalf, dials.cc_half, 3, `${shellName} CC½`);
    close(100 * ours.completeness, dials.completeness, 2, `${shellName} completeness`);
  }
  const s = ref.summary;
  close(st.overall.rMergeAnom, s['Rmerge(I+/-)'][0], 3, 'Rmerge(I+/-)');
  close(st.overall.rMeasAnom, s['Rmeas(I+/-)'][0], 3, 'Rmeas(I+/-)');
  close(st.overall.rPimAnom, s['Rpim(I+/-)'][0], 3, 'Rpim(I+/-)');
  close(100 * st.overall.anomCompleteness, s['Anomalous completeness'][0], 1, 'anomalous completeness');
  close(st.overall.anomMultiplicity, s['Anomalous multiplicity'][0], 1, 'anomalous multiplicity');
  close(st.bins[0].anomMultiplicity, s['Anomalous multiplicity'][1], 1, 'anomalous multiplicity (low)');
  close(st.anomalousSlope, s['Anomalous slope'][0], 3, 'anomalous slope');
  close(st.dIOverSigma, s['dI/s(dI)'][0], 3, 'dI/s(dI)');
  close(st.dFOverF, s['dF/F'][0], 3, 'dF/F');
});

test('per-shell completeness follows dials.merge with 10 to 40 shells (possible reflections end at the shell\'s lowest observed d)', () => {
  const table = decodeRefl(gunzipSync(readFileSync(path.join(regression, 'l_cysteine_scaled.refl.gz'))), 'l_cysteine_scaled.refl.gz');
  const ref = JSON.parse(readFileSync(path.join(regression, 'l_cysteine_scaled_dials_merge.json'), 'utf8'));
  const tables = JSON.parse(readFileSync(path.join(regression, 'l_cysteine_scaled_dials_merge_nbins.json'), 'utf8')).tables;
  const cell = UnitCell.fromParams(ref.cell);
  const sg = SpaceGroup.find(ref.space_group);
  const prep = prepareIntensities(table, null, { intensity: 'scale' });
  const obs = toObservations(table.miller('miller_index'), prep.rows, prep.I, prep.sigma, sg, cell);
  let dMin = Infinity, dMax = 0;
  for (const d of obs.d) { dMin = Math.min(dMin, d); dMax = Math.max(dMax, d); }
  const complete = completeSet(sg, cell, dMin, dMax);
  let fullShellDiffers = 0;
  for (const [n, rows] of Object.entries(tables) as [string, { n_uniq: number; completeness: number }[]][]) {
    const st = mergingStatistics(obs, complete, { nBins: Number(n) });
    const full = mergingStatistics(obs, complete, { nBins: Number(n), fullShellCompleteness: true });
    [...st.bins, st.overall].forEach((ours, i) => {
      const name = `${n} shells, ${i < Number(n) ? `bin ${i + 1}` : 'overall'}`;
      assert.equal(ours.nUnique, rows[i].n_uniq, `${name} unique`);
      close(100 * ours.completeness, rows[i].completeness, 2, `${name} completeness`);
    });
    assert.equal(full.overall.nPossible, st.overall.nPossible);
    fullShellDiffers += full.bins.filter((b, i) => b.nPossible !== st.bins[i].nPossible).length;
  }
  // The convention matters on this data: counting whole shells disagrees with DIALS somewhere.
  assert.ok(fullShellDiffers > 0);
});

test('a shell\'s possible reflections below its lowest observation count overall only', () => {
  // One shell (nBins 1) observed down to d = 2; possible reflections at 3, 2, 1.5 and 1 Å.
  const o = obsOf([[1, 0, 0, 10, 1, 3], [1, 0, 0, 12, 1, 3], [0, 1, 0, 5, 1, 2]]);
  const complete = { d: Float64Array.from([3, 2, 1.5, 1]), centric: Uint8Array.from([0, 0, 0, 1]) };
  const st = mergingStatistics(o, complete, { nBins: 1, dMin: 1, dMax: 3 });
  assert.equal(st.bins[0].nPossible, 2);
  assert.equal(st.bins[0].completeness, 1);
  assert.equal(st.overall.nPossible, 4);
  assert.equal(st.overall.completeness, 0.5);
  assert.equal(st.overall.anomCompleteness, 0);
  const full = mergingStatistics(o, complete, { nBins: 1, dMin: 1, dMax: 3, fullShellCompleteness: true });
  assert.equal(full.bins[0].nPossible, 4);
});

test('no reflections after filtering is a clear UserError', () => {
  const table = decodeRefl(gunzipSync(readFileSync(path.join(regression, 'l_cysteine_scaled.refl.gz'))), 'x.refl');
  const d = new Float64Array(table.nrows).fill(0.5);
  assert.throws(() => prepareIntensities(table, d, { intensity: 'scale', dMin: 1 }, 'x.refl'), (e: Error) => e instanceof UserError && /x\.refl: no reflections left after filtering/.test(e.message));
});
