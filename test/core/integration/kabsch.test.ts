/**
 * The Kabsch frame: e1, e2, e3 orthonormal; a ray turned by a small angle α about e2 (towards
 * e1) has ε1 = α, ε2 = 0; the bounding box of ±δ maps back to those rays; ζ = m2·e1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KabschFrame, setFrame, epsilon12, panelGeometry, pixelOfEpsilon } from '../../../src/core/integration/kabsch.js';
import { invert3 } from '../../../src/core/geometry/prediction.js';

const s0 = [0, 0, -1];
const panel = { origin: [-50, 50, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1] as [number, number] };
const g = panelGeometry(panel);
const Dinv = invert3([1, 0, -50, 0, -1, 50, 0, 0, -100]);

test('frame is orthonormal and ζ is the axis component of e1', () => {
  const f = new KabschFrame();
  const s1 = [0.2, 0.1, -Math.sqrt(1 - 0.05)];
  setFrame(f, s0, [1, 0, 0], s1[0], s1[1], s1[2], 0.3);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  assert.ok(Math.abs(dot(f.e1, f.e1) - 1) < 1e-12 && Math.abs(dot(f.e2, f.e2) - 1) < 1e-12 && Math.abs(dot(f.e1, f.e2)) < 1e-12);
  assert.ok(Math.abs(dot(f.e1, s1)) < 1e-12 && Math.abs(dot(f.e2, s1)) < 1e-12);
  assert.ok(Math.abs(f.zeta - f.e1[0]) < 1e-15);
});

test('ε of a ray turned by α about e2 is (α, 0); pixelOfEpsilon inverts epsilon12', () => {
  const f = new KabschFrame();
  const s1 = [0.15, -0.1, -Math.sqrt(1 - 0.0325)];
  setFrame(f, s0, [1, 0, 0], s1[0], s1[1], s1[2], 0);
  const alpha = 1e-3, px = new Float64Array(2), eps = new Float64Array(2);
  // ŝ' = cos α ŝ1 + sin α e1
  const L = Math.hypot(s1[0], s1[1], s1[2]);
  const v = [0, 1, 2].map((i) => Math.cos(alpha) * s1[i] / L + Math.sin(alpha) * f.e1[i]);
  const t = -100 / v[2];
  const xPx = (v[0] * t + 50) / 0.1, yPx = (50 - v[1] * t) / 0.1;
  epsilon12(f, g, xPx, yPx, eps);
  assert.ok(Math.abs(eps[0] - alpha) < 1e-9 && Math.abs(eps[1]) < 1e-9, `${eps[0]} ${eps[1]}`);
  assert.ok(pixelOfEpsilon(f, Dinv, panel.pixelSize, 2e-3, -1e-3, px));
  epsilon12(f, g, px[0], px[1], eps);
  assert.ok(Math.abs(eps[0] - 2e-3) < 1e-8 && Math.abs(eps[1] + 1e-3) < 1e-8);
});
