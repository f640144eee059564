import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLD, EXTENDED, findStrongPixelsPanel, THRESHOLD_ALGORITHMS, thresholdPanel, ThresholdWorkspace, type ThresholdParams } from '../../../src/stages/find_spots/threshold.js';
import { resolveParams } from '../../../src/stages/find_spots/index.js';
import { ParameterError } from '../../../src/core/errors.js';
import { expectedImage, rng, sample } from './synthetic.js';

/**
 * The definitions, evaluated directly: every window summed pixel by pixel (O(k²) per pixel),
 * in the words of the DIALS documentation. The fast code must agree pixel for pixel.
 */
function windowStats(img: Int32Array, use: (i: number) => boolean, w: number, h: number, x: number, y: number, kx: number, ky: number) {
  let n = 0, s = 0, sq = 0;
  for (let yy = Math.max(0, y - ky); yy <= Math.min(h - 1, y + ky); yy++) {
    for (let xx = Math.max(0, x - kx); xx <= Math.min(w - 1, x + kx); xx++) {
      const i = yy * w + xx;
      if (!use(i)) continue;
      n++; s += img[i]; sq += img[i] * img[i];
    }
  }
  return { n, s, sq };
}

function overDispersed(img: Int32Array, mask: Uint8Array, w: number, h: number, x: number, y: number, p: ThresholdParams): { ok: boolean; mean: number } {
  const [kx, ky] = p.kernelSize;
  const { n, s, sq } = windowStats(img, (i) => mask[i] !== 0, w, h, x, y, kx, ky);
  const nMin = Math.max(2, p.minLocal > 0 ? p.minLocal : (2 * kx + 1) * (2 * ky + 1));
  if (n < nMin || s <= 0) return { ok: false, mean: 0 };
  const mean = s / n;
  const variance = (sq - s * s / n) / (n - 1);
  return { ok: variance / mean > p.gain * (1 + p.sigmaBackground * Math.sqrt(2 / (n - 1))), mean };
}

function bruteDispersion(img: Int32Array, mask: Uint8Array, w: number, h: number, p: ThresholdParams): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    if (!mask[i]) continue;
    const d = overDispersed(img, mask, w, h, x, y, p);
    if (d.ok && img[i] > d.mean + p.sigmaStrong * Math.sqrt(p.gain * d.mean) && img[i] > p.globalThreshold) out[i] = 1;
  }
  return out;
}

function bruteExtended(img: Int32Array, mask: Uint8Array, w: number, h: number, p: ThresholdParams): Uint8Array {
  const [kx, ky] = p.kernelSize;
  const signal = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (mask[y * w + x] && overDispersed(img, mask, w, h, x, y, p).ok) signal[y * w + x] = 1;
  }
  const ex = EXTENDED.erodeHalfWidth(kx), ey = EXTENDED.erodeHalfWidth(ky);
  const core = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!signal[y * w + x]) continue;
    let hole = false;
    for (let yy = Math.max(0, y - ey); yy <= Math.min(h - 1, y + ey); yy++)
      for (let xx = Math.max(0, x - ex); xx <= Math.min(w - 1, x + ex); xx++) if (!signal[yy * w + xx]) hole = true;
    if (!hole) core[y * w + x] = 1;
  }
  const bx = EXTENDED.backgroundHalfWidth(kx), by = EXTENDED.backgroundHalfWidth(ky);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    if (!core[i]) continue;
    const { n, s } = windowStats(img, (j) => mask[j] !== 0 && !core[j], w, h, x, y, bx, by);
    const mean = n > 0 ? s / n : 0;
    if (img[i] >= mean + p.sigmaStrong * Math.sqrt(p.gain * mean) && img[i] > p.globalThreshold) out[i] = 1;
  }
  return out;
}

function scene(seed: number, w: number, h: number) {
  const r = rng(seed);
  const spots = Array.from({ length: 12 }, () => ({ x: 3 + r() * (w - 6), y: 3 + r() * (h - 6), sigma: 0.6 + r() * 1.5, total: 50 + r() * 3000 }));
  const img = sample(expectedImage(w, h, 3 + 5 * r(), spots), r);
  const mask = new Uint8Array(w * h).fill(1);
  // A module gap, an edge strip and scattered dead pixels.
  for (let y = 0; y < h; y++) for (let x = 20; x < 23; x++) mask[y * w + x] = 0;
  for (let x = 0; x < w; x++) mask[(h - 1) * w + x] = 0;
  for (let k = 0; k < 30; k++) mask[Math.floor(r() * w * h)] = 0;
  return { img, mask };
}

const variants: Partial<ThresholdParams>[] = [
  {},
  { kernelSize: [2, 4] },
  // Large kernels take the dense (kernel-size independent) erosion / background paths.
  { kernelSize: [6, 6] },
  { kernelSize: [11, 9] },
  { gain: 1.7, sigmaStrong: 2, sigmaBackground: 4 },
  { minLocal: 0 },
  { globalThreshold: 15 },
];

test('dispersion: the running-sum implementation equals the direct definition pixel for pixel', () => {
  const w = 61, h = 47;
  for (let seed = 1; seed <= 3; seed++) {
    const { img, mask } = scene(seed, w, h);
    for (const v of variants) {
      const p: ThresholdParams = { ...DEFAULT_THRESHOLD, ...v, algorithm: 'dispersion' };
      const out = new Uint8Array(w * h);
      const n = thresholdPanel(img, mask, w, h, p, out, new ThresholdWorkspace(w, h));
      const ref = bruteDispersion(img, mask, w, h, p);
      assert.deepEqual(out, ref, `seed ${seed} ${JSON.stringify(v)}`);
      assert.equal(n, ref.reduce((a, b) => a + b, 0));
    }
  }
});

test('dispersion_extended: equals the direct two-pass definition pixel for pixel', () => {
  const w = 61, h = 47;
  for (let seed = 4; seed <= 6; seed++) {
    const { img, mask } = scene(seed, w, h);
    for (const v of variants) {
      const p: ThresholdParams = { ...DEFAULT_THRESHOLD, ...v, algorithm: 'dispersion_extended' };
      const out = new Uint8Array(w * h);
      thresholdPanel(img, mask, w, h, p, out, new ThresholdWorkspace(w, h));
      assert.deepEqual(out, bruteExtended(img, mask, w, h, p), `seed ${seed} ${JSON.stringify(v)}`);
    }
  }
});

test('a panel with more strong pixels than the WebAssembly list holds (a quarter of the panel) equals the definitions', () => {
  const w = 61, h = 47;
  const { img, mask } = scene(41, w, h);
  // A bright, strongly varying pattern over the whole panel: over-dispersed throughout, so its
  // eroded inside has no background left and is all strong.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[y * w + x] += (x + y) % 2 ? 2000 : 100;
  const p: ThresholdParams = { ...DEFAULT_THRESHOLD };
  const out = new Uint8Array(w * h);
  const ws = new ThresholdWorkspace(w, h);
  const n = thresholdPanel(img, mask, w, h, p, out, ws);
  assert.ok(n > w * h / 4, `${n} strong pixels, more than a quarter of ${w * h}`);
  assert.deepEqual(out, bruteExtended(img, mask, w, h, p));
  assert.deepEqual(Array.from(ws.strong.subarray(0, n)), Array.from(out.keys()).filter((i) => out[i] === 1));
  assert.deepEqual(Array.from(ws.strongValue.subarray(0, n)), Array.from(ws.strong.subarray(0, n), (i) => img[i]));
});

test('wide kernels: erosion and background windows wider than a 32-pixel bit word equal the definitions', () => {
  // kernel_size 64,1 erodes by 32 px and takes the background from ±66 px: bit shifts across words.
  const w = 211, h = 23;
  for (const kernelSize of [[64, 1], [33, 2]] as [number, number][]) {
    const { img, mask } = scene(11, w, h);
    for (const algorithm of ['dispersion', 'dispersion_extended'] as const) {
      const p: ThresholdParams = { ...DEFAULT_THRESHOLD, algorithm, kernelSize };
      const out = new Uint8Array(w * h);
      thresholdPanel(img, mask, w, h, p, out, new ThresholdWorkspace(w, h));
      const ref = algorithm === 'dispersion' ? bruteDispersion(img, mask, w, h, p) : bruteExtended(img, mask, w, h, p);
      assert.deepEqual(out, ref, `${algorithm} kernel ${kernelSize}`);
    }
  }
});

test('the strong-pixel list (and its counts) equals the flags, one workspace reused across panels and parameters', () => {
  const w = 61, h = 47;
  const ws = new ThresholdWorkspace(w, h);
  for (let seed = 21; seed <= 23; seed++) {
    const { img, mask } = scene(seed, w, h);
    for (const v of variants) {
      for (const algorithm of THRESHOLD_ALGORITHMS) {
        const p: ThresholdParams = { ...DEFAULT_THRESHOLD, ...v, algorithm };
        const out = new Uint8Array(w * h);
        const n = thresholdPanel(img, mask, w, h, p, out, ws);
        const listed = Array.from(ws.strong.subarray(0, n));
        assert.deepEqual(listed, Array.from(out.keys()).filter((i) => out[i] === 1), `seed ${seed} ${algorithm} ${JSON.stringify(v)}`);
        assert.deepEqual(Array.from(ws.strongValue.subarray(0, n)), listed.map((i) => img[i]), 'the listed counts are the pixels\' counts');
        const fresh = new Uint8Array(w * h);
        thresholdPanel(img, mask, w, h, p, fresh, new ThresholdWorkspace(w, h));
        assert.deepEqual(out, fresh);
      }
    }
  }
});

test('findStrongPixelsPanel: the trusted range and static mask give the same pixels as a precomputed mask', () => {
  const w = 61, h = 47;
  const { img, mask } = scene(31, w, h);
  img[5 * w + 7] = -2; img[30 * w + 40] = 70000;
  const trusted: [number, number] = [-1, 60000];
  const usable = Uint8Array.from(mask, (m, i) => (m && img[i] > trusted[0] && img[i] < trusted[1] ? 1 : 0));
  for (const algorithm of THRESHOLD_ALGORITHMS) {
    const p: ThresholdParams = { ...DEFAULT_THRESHOLD, algorithm };
    const a = new Uint8Array(w * h), b = new Uint8Array(w * h);
    const ws = new ThresholdWorkspace(w, h);
    findStrongPixelsPanel(img, mask, trusted, w, h, p, a, ws);
    assert.deepEqual(ws.usableMask(), usable);
    assert.equal(ws.usable, usable.reduce((s, m) => s + m, 0));
    thresholdPanel(img, usable, w, h, p, b, new ThresholdWorkspace(w, h));
    assert.deepEqual(a, b, algorithm);
  }
});

test('pure Poisson background gives (almost) no strong pixels; a bright spot is found at its place', () => {
  const w = 200, h = 150;
  const r = rng(99);
  const flat = sample(expectedImage(w, h, 10, []), r);
  const mask = new Uint8Array(w * h).fill(1);
  const out = new Uint8Array(w * h);
  const ws = new ThresholdWorkspace(w, h);
  for (const algorithm of ['dispersion', 'dispersion_extended'] as const) {
    const n = thresholdPanel(flat, mask, w, h, { ...DEFAULT_THRESHOLD, algorithm }, out, ws);
    assert.ok(n <= 3, `${algorithm}: ${n} false strong pixels in 30 000 background pixels`);
    const withSpot = sample(expectedImage(w, h, 10, [{ x: 100.3, y: 70.8, sigma: 1, total: 2000 }]), r);
    thresholdPanel(withSpot, mask, w, h, { ...DEFAULT_THRESHOLD, algorithm }, out, ws);
    assert.equal(out[70 * w + 100], 1, `${algorithm}: spot peak is strong`);
    for (let i = 0; i < w * h; i++) {
      if (!out[i]) continue;
      const x = i % w, y = Math.floor(i / w);
      assert.ok(Math.hypot(x + 0.5 - 100.3, y + 0.5 - 70.8) < 6 || false, `${algorithm}: strong pixel (${x}, ${y}) far from the spot`);
    }
  }
});

test('masked and untrusted pixels are never strong; global threshold alone', () => {
  const w = 40, h = 30;
  const img = new Int32Array(w * h).fill(5);
  img[10 * w + 10] = 500; img[10 * w + 11] = 400;
  const mask = new Uint8Array(w * h).fill(1);
  mask[10 * w + 11] = 0;
  const out = new Uint8Array(w * h);
  const n = thresholdPanel(img, mask, w, h, { ...DEFAULT_THRESHOLD, algorithm: 'global', globalThreshold: 100 }, out, new ThresholdWorkspace(w, h));
  assert.equal(n, 1);
  assert.equal(out[10 * w + 10], 1);
  assert.equal(out[10 * w + 11], 0);
});

test('parameters: unknown algorithm, bad kernel, d_min > d_max are rejected with the parameter named', () => {
  assert.throws(() => resolveParams({ 'spotfinder.threshold.algorithm': 'magic' }), (e: unknown) => e instanceof ParameterError && /threshold\.algorithm=magic/.test(e.message));
  assert.throws(() => resolveParams({ 'spotfinder.threshold.dispersion.kernel_size': [0, 3] }), (e: unknown) => e instanceof ParameterError && /kernel_size/.test(e.message));
  assert.throws(() => resolveParams({ 'spotfinder.filter.d_min': 3, 'spotfinder.filter.d_max': 2 }), (e: unknown) => e instanceof ParameterError && /d_min=3 is larger than d_max=2/.test(e.message));
  assert.equal(resolveParams({}).threshold.algorithm, 'dispersion_extended');
});

test('DIALS-style short keys resolve to the spot-finding parameters', async () => {
  const { parseCommandLine, COMMON_PARAMS } = await import('../../../src/core/params/index.js');
  const { PARAMS } = await import('../../../src/stages/find_spots/index.js');
  const words = ['imported.expt', 'sigma_strong=2', 'min_spot_size=2', 'gain=1.5', 'kernel_size=2,2', 'd_min=1.5', 'algorithm=dispersion', 'mp.nproc=3'];
  const r = resolveParams(parseCommandLine([...COMMON_PARAMS, ...PARAMS], words).params);
  assert.deepEqual(r.threshold, { ...DEFAULT_THRESHOLD, algorithm: 'dispersion', sigmaStrong: 2, gain: 1.5, kernelSize: [2, 2] });
  assert.equal(r.minSpotSize, 2);
  assert.equal(r.mask.dMin, 1.5);
  assert.equal(r.nproc, 3);
});
