import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Panel } from '../../../src/core/models/detector.js';
import { Beam } from '../../../src/core/models/beam.js';
import type { Experiment } from '../../../src/core/models/types.js';
import type { ImageSource } from '../../../src/core/formats/types.js';
import { silentLog } from '../../../src/core/log.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { resolveParams, run } from '../../../src/stages/find_spots/index.js';
import { staticMasks } from '../../../src/stages/find_spots/mask.js';
import { ICE_RING_D } from '../../../src/core/geometry/ice_rings.js';
import { FileFormatError } from '../../../src/core/errors.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { erf, expectedImage, rng, sample, type GaussSpot } from './synthetic.js';

const W = 160, H = 120;

function experiment(nImages: number, firstImage = 1): Experiment {
  const panel = Panel.create({ origin: [-W * 0.05, H * 0.05, -100], pixelSize: [0.1, 0.1], imageSize: [W, H], trustedRange: [-1, 1e6] });
  panel.mask = [[70, 0, 73, H]];
  return {
    identifier: 'synthetic-0',
    beam: Beam.create({ wavelength: 1, direction: [0, 0, 1] }),
    detector: { panels: [panel] },
    scan: { imageRange: [firstImage, firstImage + nImages - 1], oscillation: [0, 0.5], exposureTimes: [], epochs: [], batchOffset: 0 },
    imageset: { kind: 'ImageSequence', template: 'synthetic_####.cbf' },
  };
}

function source(images: Int32Array[]): ImageSource {
  return {
    description: 'synthetic_####.cbf', length: images.length,
    pathOf: (i) => `synthetic_${String(i + 1).padStart(4, '0')}.cbf`,
    read: async (i) => ({ panels: [images[i]] }), close: async () => {},
  };
}

test('Gaussian spots on Poisson background: centroids at the true positions, one strong.refl row each', async () => {
  const r = rng(2024);
  const truth: GaussSpot[] = [];
  while (truth.length < 15) {
    const s = { x: 8 + r() * (W - 16), y: 8 + r() * (H - 16), sigma: 0.8 + 0.6 * r(), total: 20000 + 20000 * r() };
    if (Math.abs(s.x - 71.5) < 8) continue;
    if (truth.some((t) => Math.hypot(t.x - s.x, t.y - s.y) < 14)) continue;
    truth.push(s);
  }
  const image = sample(expectedImage(W, H, 4, truth), r);
  for (let y = 0; y < H; y++) for (let x = 70; x < 73; x++) image[y * W + x] = -1;
  const res = await run([experiment(1, 7)], resolveParams({ nproc: 1 }), { log: silentLog, open: () => source([image]) });
  const t = res.outputs.reflections;
  assert.equal(t.nrows, truth.length);
  assert.deepEqual(t.columnNames().sort(), ['bbox', 'flags', 'id', 'intensity.sum.value', 'intensity.sum.variance', 'n_signal', 'panel', 'xyzobs.px.value', 'xyzobs.px.variance']);
  const xyz = t.vec3('xyzobs.px.value'), v = t.vec3('xyzobs.px.variance'), bbox = t.int6('bbox');
  for (let i = 0; i < t.nrows; i++) {
    const s = truth.reduce((best, c) => (Math.hypot(c.x - xyz[3 * i], c.y - xyz[3 * i + 1]) < Math.hypot(best.x - xyz[3 * i], best.y - xyz[3 * i + 1]) ? c : best));
    // Photon noise alone moves a centroid by σ/√N ≈ 0.01 px; the truncated wings and background by a little more.
    assert.ok(Math.abs(xyz[3 * i] - s.x) < 0.05 && Math.abs(xyz[3 * i + 1] - s.y) < 0.05, `spot ${i}: (${xyz[3 * i]}, ${xyz[3 * i + 1]}) vs (${s.x}, ${s.y})`);
    // Image 7 of a scan starting at image 7 is frame 6 of the array range: z = 6.5, bbox z 6…7.
    assert.equal(xyz[3 * i + 2], 6.5);
    assert.deepEqual([bbox[6 * i + 4], bbox[6 * i + 5]], [6, 7]);
    assert.ok(Math.abs(v[3 * i + 2] - 1 / 12) < 1e-15);
    assert.ok(v[3 * i] > 1 / 12 && v[3 * i] < 1 / 12 + 1e-3);
  }
  assert.ok(Array.from(t.sizeT('flags')).every((f) => f === Flags.strong));
  assert.equal(t.identifiers.get(0), 'synthetic-0');
  assert.equal(res.figures.n_spots, truth.length);
});

test('a spot spread over three images: z centroid is the count-weighted frame centre', async () => {
  // Rocking-curve weights 1 : 2 : 1 on images 2–4 of 6 → z = 1 + 1.5 + 0 … = frame centre 2.5.
  const r = rng(5);
  const weights = [0, 1, 2, 1, 0, 0];
  const images = weights.map((wt) => sample(expectedImage(W, H, 3, wt ? [{ x: 40.2, y: 60.7, sigma: 1, total: 15000 * wt }] : []), r));
  const res = await run([experiment(6)], resolveParams({ nproc: 1 }), { log: silentLog, open: () => source(images) });
  const t = res.outputs.reflections;
  assert.equal(t.nrows, 1);
  const z = t.vec3('xyzobs.px.value')[2];
  assert.ok(Math.abs(z - 2.5) < 0.03, `z = ${z}`);
  assert.deepEqual(Array.from(t.int6('bbox')).slice(4), [1, 4]);
  // Variance of the mean of a 1:2:1 distribution over frames (spread 0.5 frame²) with N ≈ 60 000 counts, plus 1/12.
  const vz = t.vec3('xyzobs.px.variance')[2];
  assert.ok(Math.abs(vz - (1 / 12 + 0.5 / t.double('intensity.sum.value')[0])) < 2e-6, `var z = ${vz}`);
  assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 1e-12);
});

test('d_min / d_max keep the spots on their side of the limit', async () => {
  const r = rng(11);
  // Spots near the centre (low resolution) and near the corner (high resolution).
  const inner = { x: 85, y: 65, sigma: 1, total: 20000 }, outer = { x: 150, y: 110, sigma: 1, total: 20000 };
  const image = sample(expectedImage(W, H, 4, [inner, outer]), r);
  const base = await run([experiment(1)], resolveParams({ nproc: 1 }), { log: silentLog, open: () => source([image]) });
  assert.equal(base.outputs.reflections.nrows, 2);
  // Corner: r ≈ (15−8, 11−6) mm at 100 mm, 2θ ≈ 4.9°, d ≈ 11.7 Å; centre spot d ≈ 700 Å.
  const cut = await run([experiment(1)], resolveParams({ nproc: 1, 'spotfinder.filter.d_min': 20 }), { log: silentLog, open: () => source([image]) });
  assert.equal(cut.outputs.reflections.nrows, 1);
  assert.ok(Math.abs(cut.outputs.reflections.vec3('xyzobs.px.value')[0] - 85) < 0.1);
  const low = await run([experiment(1)], resolveParams({ nproc: 1, 'spotfinder.filter.d_max': 20 }), { log: silentLog, open: () => source([image]) });
  assert.equal(low.outputs.reflections.nrows, 1);
  assert.ok(Math.abs(low.outputs.reflections.vec3('xyzobs.px.value')[0] - 150) < 0.1);
});

test('shoeboxes hold the spot pixels with mask valid|foreground, zero elsewhere', async () => {
  const r = rng(3);
  const image = sample(expectedImage(W, H, 2, [{ x: 30.5, y: 30.5, sigma: 1.2, total: 30000 }]), r);
  const res = await run([experiment(1)], resolveParams({ nproc: 1, 'output.shoeboxes': true }), { log: silentLog, open: () => source([image]) });
  const t = res.outputs.reflections;
  assert.equal(t.nrows, 1);
  const sb = t.shoebox('shoebox');
  const b = t.int6('bbox');
  assert.deepEqual(Array.from(sb.bbox), Array.from(b));
  let sum = 0, n = 0;
  for (let k = 0; k < sb.data.length; k++) {
    if (sb.mask[k] === 5) { sum += sb.data[k]; n++; } else assert.equal(sb.data[k], 0);
  }
  assert.equal(n, t.int('n_signal')[0]);
  assert.equal(sum, t.double('intensity.sum.value')[0]);
  // The brightest pixel sits where the spot is: (30, 30) in the bbox.
  const nx = b[1] - b[0];
  let best = 0;
  for (let k = 1; k < sb.data.length; k++) if (sb.data[k] > sb.data[best]) best = k;
  assert.deepEqual([b[0] + (best % nx), b[2] + Math.floor(best / nx)], [30, 30]);
});

test('ice-ring mask: exactly the pixels whose 1/d² lies within the ring half-width', () => {
  // 30 mm camera, beam at pixel (80, 60): the 3.669 Å ring (2θ ≈ 15.7°) has a radius of ≈ 84 px.
  const panel = Panel.create({ origin: [-8, 6, -30], pixelSize: [0.1, 0.1], imageSize: [W, H] });
  const beam = Beam.create({ wavelength: 1, direction: [0, 0, 1] });
  const [mask] = staticMasks({ panels: [panel] }, beam, { dMin: null, dMax: null, iceRings: true, iceRingWidth: 0.002, maskFile: null });
  let masked = 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const lx = -8 + (x + 0.5) * 0.1, ly = 6 - (y + 0.5) * 0.1, lz = -30;
    const twoTheta = Math.acos(-lz / Math.hypot(lx, ly, lz));
    const invD2 = (2 * Math.sin(twoTheta / 2)) ** 2;
    const onRing = ICE_RING_D.some((d) => Math.abs(invD2 - 1 / (d * d)) < 0.002);
    assert.equal(mask[y * W + x], onRing ? 0 : 1, `pixel (${x}, ${y})`);
    masked += onRing ? 1 : 0;
  }
  assert.ok(masked > 100, `${masked} pixels on rings`);
});

test('user mask file: rectangles, circles and pixels are excluded; DIALS pickles are refused by name', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-mask-'));
  const file = path.join(dir, 'mask.json');
  writeFileSync(file, JSON.stringify({ format: 'xtalflow-mask', version: 1, panels: [{ panel: 0, rectangles: [[10, 20, 15, 22]], circles: [[100.5, 50.5, 2]], pixels: [[3, 4]] }] }));
  const exp = experiment(1);
  const [mask] = staticMasks(exp.detector!, exp.beam, { dMin: null, dMax: null, iceRings: false, iceRingWidth: 0.002, maskFile: file });
  const off = (x: number, y: number) => mask[y * W + x] === 0;
  assert.ok(off(10, 20) && off(14, 21) && !off(15, 21) && !off(14, 22));
  assert.ok(off(100, 50) && off(102, 50) && !off(103, 50) && !off(98, 48));
  assert.ok(off(3, 4) && !off(4, 4));
  assert.ok(off(70, 0) && off(72, 119) && !off(73, 5), 'panel gap rectangle from the detector model');
  const pickle = path.join(dir, 'mask.pickle');
  writeFileSync(pickle, Buffer.from([0x80, 0x02, 0x63, 0x00]));
  assert.throws(() => staticMasks(exp.detector!, exp.beam, { dMin: null, dMax: null, iceRings: false, iceRingWidth: 0.002, maskFile: pickle }),
    (e: unknown) => e instanceof FileFormatError && e.message.startsWith(pickle) && /pickles cannot be read/.test(e.message));
});
