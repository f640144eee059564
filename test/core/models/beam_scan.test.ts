import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Beam } from '../../../src/core/models/beam.js';
import { Scan } from '../../../src/core/models/scan.js';
import { loadExpt, loadSpots } from './fixtures.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

test('s0 points along the beam travel with length 1/λ', () => {
  const b = Beam.create({ wavelength: 0.5 });
  assert.deepEqual(Beam.s0(b), [-0, -0, -2]);
  const tilted = Beam.create({ wavelength: 1, direction: [0, 3, 4] });
  const s0 = Beam.s0(tilted);
  close(s0[1], -0.6, 1e-15);
  close(s0[2], -0.8, 1e-15);
  const again = Beam.withS0(tilted, [0, 0, -1.25]);
  close(again.wavelength, 0.8, 1e-15);
  assert.deepEqual(again.direction, [-0, -0, 1]);
  close(Beam.energyKeV(Beam.create({ wavelength: 1 })), 12.3984, 1e-4);
  assert.throws(() => Beam.create({ wavelength: 0 }), /wavelength must be positive/);
});

test('frame ↔ angle: image 1 covers z ∈ [0, 1), φ0 + z·Δφ', () => {
  const s = Scan.create({ imageRange: [1, 9], oscillation: [0, 0.2] });
  assert.equal(Scan.numImages(s), 9);
  assert.equal(Scan.angleFromFrame(s, 0.5), 0.1);
  assert.equal(Scan.frameFromAngle(s, 0.1), 0.5);
  assert.equal(Scan.imageIndexFromFrame(s, 0.5), 1);
  assert.equal(Scan.imageIndexFromFrame(s, 8.99), 9);
  assert.deepEqual(Scan.imageOscillation(s, 2), [0.2, 0.4]);
  close(Scan.oscillationRange(s)[1], 1.8, 1e-12);
  assert.ok(Scan.isAngleValid(s, 1.7) && !Scan.isAngleValid(s, 1.9));
  assert.equal(Scan.isStill(s), false);
  assert.equal(Scan.isStill(Scan.create({ imageRange: [1, 1], oscillation: [0, 0] })), true);
  // DIALS counts frames from image 1 whatever the first image: its strong.refl for example_004
  // (scan [4, 4], φ0 1191.4°, 0.1°/image) has its spots at z = 3.5 (bbox z 3–4).
  const ex4 = Scan.create({ imageRange: [4, 4], oscillation: [1191.4, 0.1] });
  close(Scan.angleFromFrame(ex4, 3.5), 1191.45, 1e-9);
  assert.equal(Scan.imageIndexFromFrame(ex4, 3.5), 4);
  close(Scan.frameFromAngle(ex4, 1191.45), 3.5, 1e-9);
  assert.deepEqual(Scan.arrayRange(ex4), [3, 4]);
  assert.ok(Scan.isFrameValid(ex4, 3.5) && !Scan.isFrameValid(ex4, 0.5));
  const late = Scan.create({ imageRange: [101, 200], oscillation: [10, 0.5] });
  assert.equal(Scan.angleFromImageIndex(late, 101), 10);
  assert.equal(Scan.angleFromFrame(late, 101), 10.5);
});

test('DIALS φ of observed spots equals angleFromFrame(z) (lysozyme refined.refl)', async () => {
  const [e] = await loadExpt('lysozyme_refined.expt.gz');
  const spots = loadSpots('lysozyme_refined_spots.json.gz');
  const px = spots['xyzobs.px.value'], mm = spots['xyzobs.mm.value'];
  for (let i = 0; i < spots.rows; i++) {
    close((Scan.angleFromFrame(e.scan!, px[3 * i + 2]) * Math.PI) / 180, mm[3 * i + 2], 1e-12, `spot ${i}`);
  }
});

test('DIALS φ of spots in the centroid sweep equals angleFromFrame(z)', async () => {
  const [e] = await loadExpt('centroid_indexed.expt');
  const spots = loadSpots('centroid_indexed_spots.json.gz');
  const px = spots['xyzobs.px.value'], mm = spots['xyzobs.mm.value'];
  for (let i = 0; i < spots.rows; i++) close((Scan.angleFromFrame(e.scan!, px[3 * i + 2]) * Math.PI) / 180, mm[3 * i + 2], 1e-12);
});

test('Experiment / ExperimentList helpers: identity sharing, stills, identifiers', async () => {
  const { Experiment, ExperimentList } = await import('../../../src/core/models/experiment.js');
  const wedge = await loadExpt('wedge_sweep_003.expt');
  assert.equal(ExperimentList.models(wedge, 'detector').length, 1);
  assert.equal(ExperimentList.models(wedge, 'crystal').length, 4);
  assert.deepEqual(ExperimentList.indicesUsing(wedge, 'beam', wedge[0].beam!), [0, 1, 2, 3]);
  assert.equal(Experiment.isStill(wedge[0]), false);
  const still = Experiment.create({ beam: wedge[0].beam, detector: wedge[0].detector });
  assert.match(still.identifier, /^[0-9a-f-]{36}$/);
  assert.equal(Experiment.isStill(still), true);
  assert.equal(ExperimentList.find(wedge, wedge[2].identifier), wedge[2]);
  assert.throws(() => ExperimentList.checkIdentifiers([wedge[0], { ...wedge[1], identifier: wedge[0].identifier }]), /share the identifier/);
});
