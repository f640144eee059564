/**
 * l-cysteine, 4 real sweeps (regression-data/scaling, stripped from the shared DIALS-integrated
 * data), scaled in P 2₁2₁2₁ as dials.symmetry chose. Expected values: DIALS 3.12 dials.scale
 * (shared/data/README.md and reference/l_cysteine_integrated/dials.scale.log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLog } from '../../../src/core/log.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { resolveParams, run } from '../../../src/stages/scale/index.js';
import { run as runResolution, resolveParams as resolutionParams } from '../../../src/stages/estimate_resolution/index.js';
import { loadLCysteineRegression } from './data.js';

const DIALS = {
  ccHalf: 1.0, rPim: 0.011, iOverSigma: 36.8, completeness: 96.7, multiplicity: 7.55, a: 1.32090, b: 0.02249,
  ccHalfShells: [1.0, 1.0, 0.999, 0.999, 0.998, 0.999, 0.999, 0.998, 0.998, 0.998, 0.995, 0.996, 0.994, 0.992, 0.991, 0.994, 0.992, 0.997, 0.964, 0.987],
  dMinCcHalf: 0.59,
};
const within = (x: number, ref: number, rel: number, what: string) => assert.ok(Math.abs(x / ref - 1) <= rel, `${what}: ${x} vs DIALS ${ref} (±${100 * rel} %)`);

const ds = loadLCysteineRegression();
const result = run(ds, resolveParams({ 'symmetry.space_group': 'P 21 21 21' }), silentLog);
const f = result.figures;

test('overall merging figures within 5 % of DIALS', () => {
  assert.ok(Math.abs((f.cc_half as number) - DIALS.ccHalf) < 0.002);
  within(f.r_pim as number, DIALS.rPim, 0.05, 'Rpim');
  within(f.completeness as number, DIALS.completeness, 0.05, 'completeness');
  within(f.multiplicity as number, DIALS.multiplicity, 0.05, 'multiplicity');
  assert.equal(f.n_unique, 1578);
});

test('per-shell CC½ within 0.02 of DIALS', () => {
  const shells = f.cc_half_shells as number[];
  assert.equal(shells.length, 20);
  shells.forEach((cc, k) => assert.ok(Math.abs(cc - DIALS.ccHalfShells[k]) <= 0.02, `shell ${k}: ${cc} vs ${DIALS.ccHalfShells[k]}`));
});

test('error model a and b within 10 % of DIALS; I/σ within 5 %; its bin table near DIALS’ own', () => {
  within(f.error_model_a as number, DIALS.a, 0.10, 'a');
  within(f.error_model_b as number, DIALS.b, 0.10, 'b');
  within(f.i_over_sigma as number, DIALS.iOverSigma, 0.05, 'I/σ');
  // DIALS' final error-model table (reference dials.scale.log): observations and corrected
  // variance per bin, strongest first (DIALS' own procedure leaves bins at 0.81 and 1.53)
  const dialsN = [94, 109, 492, 807, 544, 372, 224, 135];
  const dialsCorrected = [0.81, 1.317, 1.032, 1.134, 1.333, 1.17, 1.531, 1.45];
  const bins = result.outputs.run.errorModelFit!.bins;
  assert.equal(bins.length, dialsN.length);
  bins.forEach((b, k) => {
    within(b.n, dialsN[k], 0.05, `bin ${k} observations`);
    assert.ok(Math.abs(b.corrected - dialsCorrected[k]) <= 0.15, `bin ${k}: corrected variance ${b.corrected} vs DIALS ${dialsCorrected[k]}`);
  });
});

test('models and outputs as DIALS writes them', () => {
  const m = result.outputs.experiments[0].scalingModel as Record<string, any>;
  assert.equal(m.__id__, 'physical');
  assert.equal(m.scale.n_parameters, 14);
  assert.equal(m.decay.n_parameters, 11);
  assert.equal(m.absorption.n_parameters, 24);
  assert.deepEqual(m.configuration_parameters.corrections, ['scale', 'decay', 'absorption']);
  assert.equal(m.scale.est_standard_devs.length, 14);
  assert.equal(result.outputs.experiments[0].crystal!.spaceGroupHall.trim(), 'P 2ac 2ab');
  const t = result.outputs.reflections;
  for (const c of ['inverse_scale_factor', 'inverse_scale_factor_variance', 'intensity.scale.value', 'intensity.scale.variance']) assert.ok(t.has(c), c);
  const flags = t.sizeT('flags'), isf = t.double('inverse_scale_factor');
  let scaled = 0, outliers = 0;
  for (let i = 0; i < t.nrows; i++) {
    const v = flags[i] >>> 0;
    if (v & Flags.scaled) { scaled++; assert.ok(isf[i] > 0.3 && isf[i] < 3); }
    if (v & Flags.outlier_in_scaling) outliers++;
    assert.ok(!((v & Flags.scaled) && (v & Flags.bad_for_scaling)));
    // DIALS' own scaled.refl of these data: every user-excluded row is excluded_for_scaling too
    if (v & Flags.user_excluded_in_scaling) assert.ok(v & Flags.excluded_for_scaling);
  }
  assert.equal(scaled, f.n_obs);
  assert.equal(outliers, f.n_outliers);
});

test('estimate_resolution: CC½ = 0.3 at the edge of the data, as DIALS (0.59 Å)', () => {
  const out = runResolution({ ...ds, reflections: result.outputs.reflections, experiments: result.outputs.experiments }, resolutionParams({}), silentLog);
  const e = out.outputs.estimates[0];
  assert.equal(e.criterion, 'cc_half');
  assert.ok(Math.abs(e.dMin! - DIALS.dMinCcHalf) < 0.05, `${e.dMin}`);
  assert.ok(Math.abs((result.figures.d_min_cc_half as number) - DIALS.dMinCcHalf) < 0.05);
});

test('with DIALS’ error model fixed (a 1.32090, b 0.02249) our I/σ is DIALS’ to 1 % overall and 5 % in the outer shells: the I/σ gap lies in a and b alone', () => {
  const fixed = run(ds, resolveParams({ 'symmetry.space_group': 'P 21 21 21', 'error_model.basic.a': DIALS.a, 'error_model.basic.b': DIALS.b }), silentLog);
  const st = fixed.outputs.statistics;
  within(fixed.figures.i_over_sigma as number, DIALS.iOverSigma, 0.01, 'I/σ');
  within(st.bins[0].meanIOverSigma, 87.6, 0.05, 'low-resolution I/σ');
  within(st.bins[st.bins.length - 1].meanIOverSigma, 6.7, 0.05, 'high-resolution I/σ');
  assert.equal(fixed.figures.error_model_a, DIALS.a);
});

test('DIALS’ error-model selection: I+ and I− apart, mean I/σ² ≥ 0.85 — about DIALS’ 342 groups and 2 777 observations (its final table), few weak ones', () => {
  const r = run(ds, resolveParams({ 'symmetry.space_group': 'P 21 21 21', 'error_model.basic.minimisation': 'individual' }), silentLog);
  const fit = r.outputs.run.errorModelFit!;
  within(fit.nGroups, 342, 0.05, 'groups');
  within(fit.nRefl, 2777, 0.05, 'observations');
  // DIALS' table: 8 bins; 94 observations in the strongest, 135 in the weakest (⟨Ih⟩ 26–301)
  assert.equal(fit.bins.length, 8);
  assert.ok(fit.bins[0].n >= 80 && fit.bins[0].n <= 110, `strongest bin ${fit.bins[0].n}`);
  assert.ok(fit.bins[7].n < 250, `weakest bin ${fit.bins[7].n}`);
});
