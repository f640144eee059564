import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA, HAVE_SHARED } from '../../helpers/data.js';
import { frenchWilson } from '../../../src/core/stats/french_wilson.js';
import { readMtz, mtzColumn } from '../../../src/core/io/mtz.js';
import { equalCountBinIndex } from '../../../src/core/stats/binning.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { isCentric, epsilon } from '../../../src/core/symmetry/asu.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';

test('strong reflections: F → √I and σF → σ/(2√I)', () => {
  const r = frenchWilson(Float64Array.of(10000, 10000), Float64Array.of(50, 50), Uint8Array.of(0, 1), Float64Array.of(5000, 5000));
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(r.F[i] - 100) < 0.1, `F ${r.F[i]}`);
    assert.ok(Math.abs(r.sigF[i] - 0.25) < 0.01, `σF ${r.sigF[i]}`);
  }
});

test('weak and negative intensities give positive amplitudes; absurdly negative ones are rejected', () => {
  const r = frenchWilson(Float64Array.of(-20, 0, -500), Float64Array.of(10, 10, 10), Uint8Array.of(0, 0, 0), Float64Array.of(100, 100, 100));
  assert.ok(r.F[0] > 0 && r.F[1] > r.F[0]);
  assert.equal(r.rejected[2], 1);
  // Noise-free prior limit: with σ → 0 and I = 0 the posterior collapses to F = 0.
  const z = frenchWilson(Float64Array.of(0), Float64Array.of(1e-3), Uint8Array.of(0), Float64Array.of(100));
  assert.ok(z.F[0] < 0.05);
});

const dialsMerged = path.join(SHARED_DATA, 'simulated/lysozyme_sweep/dials_reference/merged.mtz');
test('amplitudes agree with DIALS merged.mtz F/SIGF computed from the same IMEAN/SIGIMEAN', { skip: !HAVE_SHARED || !existsSync(dialsMerged) }, () => {
  const m = readMtz(dialsMerged);
  const c = (l: string) => Float64Array.from(mtzColumn(m, l).data);
  const H = c('H'), K = c('K'), L = c('L'), I = c('IMEAN'), S = c('SIGIMEAN'), F = c('F'), SF = c('SIGF');
  const sg = SpaceGroup.find('P 4 2 2');
  const cell = UnitCell.fromParams(m.cell);
  const n = I.length;
  const d = new Float64Array(n), cen = new Uint8Array(n), eps = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d[i] = UnitCell.dSpacing(cell, H[i], K[i], L[i]);
    cen[i] = isCentric(sg, [H[i], K[i], L[i]]) ? 1 : 0;
    eps[i] = epsilon(sg, [H[i], K[i], L[i]]);
  }
  const { bin, n: nb } = equalCountBinIndex(d, Math.floor(n / 100));
  const sum = new Float64Array(nb), cnt = new Float64Array(nb);
  for (let i = 0; i < n; i++) { sum[bin[i]] += I[i] / eps[i]; cnt[bin[i]]++; }
  const Sig = Float64Array.from({ length: n }, (_, i) => (eps[i] * sum[bin[i]]) / cnt[bin[i]]);
  const fw = frenchWilson(I, S, cen, Sig);
  const weak: number[] = [], strong: number[] = [];
  for (let i = 0; i < n; i++) (I[i] / S[i] < 3 ? weak : strong).push(Math.abs(fw.F[i] - F[i]) / F[i]);
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  assert.ok(median(strong) < 0.002, `strong median ${median(strong)}`);
  assert.ok(median(weak) < 0.02, `weak median ${median(weak)}`);
  let sfDiff = 0;
  for (let i = 0; i < n; i++) sfDiff += Math.abs(fw.sigF[i] - SF[i]) / SF[i];
  assert.ok(sfDiff / n < 0.02, `mean σF difference ${sfDiff / n}`);
});
