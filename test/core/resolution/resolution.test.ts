import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTanh, tanhModel, resolutionCcHalf, resolutionFromSignal, estimateResolution, type ShellPoint } from '../../../src/core/resolution/index.js';

/** Shells of equal width in s = 1/d² from sLo to sHi, with CC½ and I/σ from given functions of s. */
function shells(sLo: number, sHi: number, n: number, cc: (s: number) => number, isig: (s: number) => number): ShellPoint[] {
  const out: ShellPoint[] = [];
  for (let k = 0; k < n; k++) {
    const a = sLo + ((sHi - sLo) * k) / n, b = sLo + ((sHi - sLo) * (k + 1)) / n, m = 0.5 * (a + b);
    out.push({ dMax: 1 / Math.sqrt(a), dMin: 1 / Math.sqrt(b), ccHalf: cc(m), meanIsigma: isig(m), isigma: isig(m) / 2, nUnique: 100 });
  }
  return out;
}

test('tanh fit recovers s0 and r of an exact curve', () => {
  const s = Array.from({ length: 30 }, (_, i) => 0.01 + i * 0.02);
  const cc = s.map((x) => tanhModel(x, 0.35, 0.07));
  const f = fitTanh(s, cc);
  assert.ok(Math.abs(f.s0 - 0.35) < 1e-6, `s0 ${f.s0}`);
  assert.ok(Math.abs(f.r - 0.07) < 1e-6, `r ${f.r}`);
});

test('CC½ = 0.3 limit is read off the fit: s = s0 + r·atanh(0.4)', () => {
  const s0 = 0.3, r = 0.05;
  const pts = shells(0.005, 0.6, 40, (s) => tanhModel(s, s0, r), (s) => 50 * Math.exp(-8 * s));
  const e = resolutionCcHalf(pts, 0.3);
  const expected = 1 / Math.sqrt(s0 + r * Math.atanh(0.4));
  assert.ok(e.dMin !== null && Math.abs(e.dMin - expected) < 1e-4, `${e.dMin} vs ${expected}`);
  assert.equal(e.atDataLimit, false);
  // another limit moves the estimate the analytic amount
  const e5 = resolutionCcHalf(pts, 0.5);
  assert.ok(Math.abs(e5.dMin! - 1 / Math.sqrt(s0)) < 1e-4);
});

test('noisy CC½ still gives the limit within 0.05 Å; a curve that never falls gives the data edge', () => {
  let seed = 1;
  const noise = () => { seed = (seed * 16807) % 2147483647; return (seed / 2147483647 - 0.5) * 0.06; };
  const pts = shells(0.01, 0.5, 40, (s) => tanhModel(s, 0.3, 0.04) + noise(), () => 10);
  const expected = 1 / Math.sqrt(0.3 + 0.04 * Math.atanh(0.4));
  assert.ok(Math.abs(resolutionCcHalf(pts).dMin! - expected) < 0.05);
  const flat = shells(0.01, 0.5, 20, () => 0.99, () => 10);
  const e = resolutionCcHalf(flat);
  assert.equal(e.atDataLimit, true);
  assert.ok(Math.abs(e.dMin! - 1 / Math.sqrt(0.5)) < 1e-9);
});

test('Mn(I/σ) and I/σ limits come from a smooth fit of log(I/σ)', () => {
  // I/σ = 40·exp(−10 s): crosses 2 at s = ln(20)/10
  const pts = shells(0.01, 0.5, 30, (s) => tanhModel(s, 0.45, 0.05), (s) => 40 * Math.exp(-10 * s));
  const e = resolutionFromSignal(pts, pts.map((p) => p.meanIsigma), 2, 'Mn(I/sigma)');
  assert.ok(Math.abs(e.dMin! - 1 / Math.sqrt(Math.log(20) / 10)) < 0.01, `${e.dMin}`);
  const all = estimateResolution(pts, { ccHalf: 0.3, misigma: 2, isigma: 1 });
  assert.deepEqual(all.map((x) => x.criterion), ['cc_half', 'Mn(I/sigma)', 'I/sigma']);
  // unmerged I/σ here is half the merged one: crossing 1 is the same s as merged crossing 2
  assert.ok(Math.abs(all[2].dMin! - all[1].dMin!) < 0.01);
});
