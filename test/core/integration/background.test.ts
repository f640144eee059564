/**
 * Background models on Poisson data with a known level: the GLM's robust mean stays near the
 * truth when a neighbour's spot contaminates the pixels; simple/constant3d rejects outliers;
 * simple/linear2d recovers a known plane.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glmConstant, simpleConstant, simplePlanes, backgroundAt, type BackgroundFit } from '../../../src/core/integration/background.js';
import { mulberry32, poisson } from './synthetic.js';

const fit = (): BackgroundFit => ({ ok: false, mean: 0, planes: null, meanVariance: 0, nUsed: 0, dispersion: 0 });

function sample(n: number, level: number, seed: number, outliers = 0): Float64Array {
  const r = mulberry32(seed), c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = poisson(r, level);
  for (let i = 0; i < outliers; i++) c[(i * 37) % n] += 200 + 50 * i; // a bright neighbour
  return c;
}

test('glm: unbiased on pure Poisson background, robust to a bright neighbour', () => {
  for (const level of [0.5, 4, 50]) {
    let sum = 0;
    for (let s = 0; s < 200; s++) { const b = fit(); glmConstant(sample(400, level, s), 400, b); sum += b.mean; }
    // Huber weights on skewed Poisson residuals cost a little: within 3 %
    assert.ok(Math.abs(sum / 200 / level - 1) < 0.03, `level ${level}: mean ${sum / 200}`);
  }
  const b = fit();
  glmConstant(sample(400, 4, 1, 20), 400, b);
  assert.ok(Math.abs(b.mean - 4) < 0.4, `contaminated: ${b.mean}`);
  assert.ok(Math.abs(b.meanVariance - b.mean / 400) < 1e-12);
});

test('simple constant3d rejects outliers; linear2d finds a plane', () => {
  const b = fit(), keep = new Uint8Array(400);
  simpleConstant(sample(400, 10, 3, 20), 400, 3, keep, b);
  assert.ok(Math.abs(b.mean - 10) < 0.5, `mean ${b.mean}`);
  assert.ok(b.nUsed < 400 && b.nUsed > 350);
  // plane 5 + 0.5x − 0.2y on two frames of 20 × 20
  const n = 800, c = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n), f = new Int32Array(n);
  const r = mulberry32(9);
  for (let i = 0; i < n; i++) { f[i] = i < 400 ? 0 : 1; x[i] = i % 20; y[i] = Math.floor((i % 400) / 20); c[i] = poisson(r, 5 + 0.5 * x[i] - 0.2 * y[i] + 40); }
  const p = fit();
  simplePlanes(c, x, y, f, n, 2, 3, new Uint8Array(n), p);
  for (const fr of [0, 1]) {
    assert.ok(Math.abs(backgroundAt(p, 10, 10, fr) - (45 + 5 - 2)) < 1, `frame ${fr}: ${backgroundAt(p, 10, 10, fr)}`);
    // slope standard error here ≈ 0.06
    assert.ok(Math.abs(p.planes![3 * fr + 1] - 0.5) < 0.2 && Math.abs(p.planes![3 * fr + 2] + 0.2) < 0.2, `slopes ${p.planes![3 * fr + 1]} ${p.planes![3 * fr + 2]}`);
  }
});
