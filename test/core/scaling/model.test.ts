import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalHarmonics, harmonicCount } from '../../../src/core/scaling/harmonics.js';
import { smootherForScan, smootherWeights, SMOOTHER_MAX_NEIGHBOURS as K } from '../../../src/core/scaling/smoother.js';
import { ABSORPTION_LEVELS, chooseSweepModel, DEFAULT_MODEL_OPTIONS, modelParameterCount } from '../../../src/core/scaling/model.js';
import { ReflectionSymmetry } from '../../../src/core/scaling/symops.js';

test('spherical harmonics l=1…4 are orthonormal on the sphere (quadrature)', () => {
  const lmax = 4, n = harmonicCount(lmax);
  assert.equal(n, 24); // DIALS' lmax=4 absorption term has 24 parameters
  const G = new Float64Array(n * n), y = new Float64Array(n), work = new Float64Array(64);
  const nt = 120, np = 240;
  for (let i = 0; i < nt; i++) {
    const t = ((i + 0.5) * Math.PI) / nt;
    for (let j = 0; j < np; j++) {
      const p = ((j + 0.5) * 2 * Math.PI) / np;
      evalHarmonics(Math.sin(t) * Math.cos(p), Math.sin(t) * Math.sin(p), Math.cos(t), lmax, y, 0, work);
      const w = Math.sin(t) * (Math.PI / nt) * ((2 * Math.PI) / np);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) G[a * n + b] += w * y[a] * y[b];
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) assert.ok(Math.abs(G[a * n + b] - (a === b ? 1 : 0)) < 2e-3, `<Y${a}|Y${b}> = ${G[a * n + b]}`);
});

test('smoother: parameter counts follow the scan width as DIALS reports them', () => {
  // l-cysteine sweeps, 180°: 14 scale and 11 decay parameters; the simulated 60° sweep: 10 and 8
  const wide = chooseSweepModel(0, 180, DEFAULT_MODEL_OPTIONS);
  assert.equal(wide.scale.nParams, 14);
  assert.equal(wide.decay!.nParams, 11);
  assert.equal(modelParameterCount(wide), 14 + 11 + 24);
  const narrow = chooseSweepModel(0, 60, DEFAULT_MODEL_OPTIONS);
  assert.equal(narrow.scale.nParams, 10);
  assert.equal(narrow.decay!.nParams, 8);
  assert.equal(narrow.lmax, 0, 'absorption is off at 60° and below');
});

test('smoother: weights are normalised, local, and reproduce a constant', () => {
  const s = smootherForScan(10, 90, 15);
  const first = new Int32Array(1), w = new Float64Array(K);
  for (let phi = 10; phi <= 100; phi += 0.7) {
    smootherWeights(s, phi, first, w, 0);
    const sum = w.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12);
    const value = w.reduce((a, b, k) => a + b * 3.5 * (first[0] + k < s.nParams ? 1 : 0), 0);
    assert.ok(Math.abs(value - 3.5) < 1e-12);
  }
  // a linear ramp of parameters gives a smooth, monotone curve
  let prev = -Infinity;
  for (let phi = 10; phi <= 100; phi += 0.5) {
    smootherWeights(s, phi, first, w, 0);
    let v = 0;
    for (let k = 0; k < K; k++) v += w[k] * (first[0] + k);
    assert.ok(v > prev);
    prev = v;
  }
});

test('absorption_level maps to the documented lmax and surface weights', () => {
  assert.deepEqual(ABSORPTION_LEVELS, {
    low: { lmax: 4, surfaceWeight: 5e5 },
    medium: { lmax: 6, surfaceWeight: 5e4 },
    high: { lmax: 6, surfaceWeight: 5e3 },
  });
  for (const level of ['low', 'medium', 'high'] as const) {
    const m = chooseSweepModel(0, 180, { ...DEFAULT_MODEL_OPTIONS, absorptionLevel: level });
    assert.equal(m.lmax, ABSORPTION_LEVELS[level].lmax);
    assert.equal(m.surfaceWeight, ABSORPTION_LEVELS[level].surfaceWeight);
    assert.equal(m.absorptionLevel, level);
  }
  // explicit lmax / weight override the level; absorption can be forced on for a narrow scan
  const m = chooseSweepModel(0, 30, { ...DEFAULT_MODEL_OPTIONS, absorptionCorrection: true, absorptionLevel: 'high', lmax: 2, surfaceWeight: 7 });
  assert.equal(m.lmax, 2);
  assert.equal(m.surfaceWeight, 7);
});

test('model=auto: KB for stills and wedges under 5°, physical otherwise', () => {
  assert.equal(chooseSweepModel(0, 1.5, DEFAULT_MODEL_OPTIONS).kind, 'KB');
  assert.equal(modelParameterCount(chooseSweepModel(0, 1.5, DEFAULT_MODEL_OPTIONS)), 2);
  assert.equal(chooseSweepModel(0, 0, DEFAULT_MODEL_OPTIONS, true).kind, 'KB');
  assert.equal(chooseSweepModel(0, 20, DEFAULT_MODEL_OPTIONS).kind, 'physical');
  assert.throws(() => chooseSweepModel(0, 0, { ...DEFAULT_MODEL_OPTIONS, model: 'physical' }, true), /model=physical/);
});

test('reflection symmetry: canonical indices merge symmetry mates and Friedel mates unless anomalous', () => {
  const sym = ReflectionSymmetry.find('P 21 21 21');
  const c = new Int32Array(3), c2 = new Int32Array(3);
  sym.canonical(1, 2, 3, false, c);
  for (const h of [[-1, -2, 3], [-1, 2, -3], [1, -2, -3], [-1, -2, -3], [1, 2, -3]]) {
    sym.canonical(h[0], h[1], h[2], false, c2);
    assert.deepEqual(Array.from(c2), Array.from(c));
  }
  const plus = sym.canonical(1, 2, 3, true, c);
  const minus = sym.canonical(-1, -2, -3, true, c2);
  assert.notDeepEqual(Array.from(c2), Array.from(c));
  assert.notEqual(plus, minus);
  assert.ok(sym.isSystematicallyAbsent(3, 0, 0));
  assert.ok(!sym.isSystematicallyAbsent(2, 0, 0));
});
