import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beamCentre, beamCentreOnPanel } from '../../../src/core/geometry/beam_centre.js';
import {
  dAtMm, dAtPixel, dForS1, dFromTwoTheta, maxResolutionAtCorners, maxResolutionInscribed, s1ForMm, s1ForPixel, twoThetaDeg,
} from '../../../src/core/geometry/resolution.js';
import { reciprocalVectorOfSpot, reciprocalVectorsOfSpots } from '../../../src/core/geometry/reciprocal.js';
import { Beam } from '../../../src/core/models/beam.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Detector, Panel } from '../../../src/core/models/detector.js';
import { Goniometer } from '../../../src/core/models/goniometer.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Vec3 } from '../../../src/core/math/vec3.js';
import { REGRESSION_DIR, loadExpt, loadSpots } from '../models/fixtures.js';

const truth = JSON.parse(readFileSync(path.join(REGRESSION_DIR, 'lysozyme_ground_truth.json'), 'utf8'));
const dialsIntegrated = JSON.parse(readFileSync(path.join(REGRESSION_DIR, 'lysozyme_integrated_figures.json'), 'utf8'));

test('beam centre and distance of the simulated sweep equal the simulation\'s truth', async () => {
  for (const name of ['lysozyme_ground_truth.expt', 'lysozyme_refined.expt.gz']) {
    const [e] = await loadExpt(name);
    const bc = beamCentre(e.detector!, e.beam!)!;
    assert.equal(bc.panel, 0);
    assert.equal(bc.onPanel, true);
    // The refined model moved by DIALS' refinement: allow it 0.01 px / 0.1 mm.
    const tolPx = name.includes('refined') ? 0.01 : 1e-9;
    assert.ok(Math.abs(bc.xyPx[0] - truth.beam_centre_px_fast_slow[0]) < tolPx, `${name} x ${bc.xyPx[0]}`);
    assert.ok(Math.abs(bc.xyPx[1] - truth.beam_centre_px_fast_slow[1]) < tolPx, `${name} y ${bc.xyPx[1]}`);
    assert.ok(Math.abs(bc.xyMm[0] - truth.beam_centre_px_fast_slow[0] * truth.pixel_size_mm) < tolPx * 0.172);
    assert.ok(Math.abs(Detector.distance(e.detector!) - truth.distance_mm) < (name.includes('refined') ? 0.1 : 1e-9));
  }
});

test('beam centre on an offset panel is reported off-panel; a panel behind the sample gives none', () => {
  const p = Panel.create({ origin: [10, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000] });
  const beam = Beam.create({ wavelength: 1 });
  const bc = beamCentre(Detector.create([p]), beam)!;
  assert.equal(bc.onPanel, false);
  assert.ok(Math.abs(bc.xyMm[0] + 10) < 1e-12 && Math.abs(bc.xyPx[1] - 1000) < 1e-9);
  const behind = Panel.create({ origin: [-50, 100, 100], fastAxis: [1, 0, 0], slowAxis: [0, 1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000] });
  assert.equal(beamCentreOnPanel(behind, beam), null);
});

test('resolution by hand on a detector normal to the beam', () => {
  // 100 mm away, beam centre at (50, 100) mm on a 100 × 200 mm panel, λ = 1 Å.
  const p = Panel.create({ origin: [-50, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000] });
  const beam = Beam.create({ wavelength: 1 });
  const det = Detector.create([p]);
  // Corner (0, 0): radius √(50² + 100²) mm → 2θ = atan(r / 100).
  const twoThetaCorner = Math.atan(Math.hypot(50, 100) / 100);
  const dCorner = 1 / (2 * Math.sin(twoThetaCorner / 2));
  assert.ok(Math.abs(dAtPixel(p, beam, 0, 0) - dCorner) < 1e-12);
  assert.ok(Math.abs(maxResolutionAtCorners(det, beam) - dCorner) < 1e-12);
  // The largest complete ring touches the nearest edge, 50 mm from the centre.
  const dRing = 1 / (2 * Math.sin(Math.atan(50 / 100) / 2));
  assert.ok(Math.abs(maxResolutionInscribed(det, beam) - dRing) < 1e-9, `${maxResolutionInscribed(det, beam)} vs ${dRing}`);
  assert.equal(dAtMm(p, beam, 50, 100), Infinity);
  const s1 = s1ForPixel(p, beam, 1000, 1000);
  assert.ok(Math.abs(Vec3.length(s1) - 1) < 1e-15);
  assert.ok(Math.abs(twoThetaDeg(beam, s1) - 26.565051177077994) < 1e-9);
  assert.ok(Math.abs(dFromTwoTheta(1, twoThetaDeg(beam, s1)) - dForS1(beam, s1)) < 1e-12);
  // Beam centre off the panel: no complete ring.
  const offset = Panel.create({ origin: [10, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000] });
  assert.equal(maxResolutionInscribed(Detector.create([offset]), beam), Infinity);
});

test('two abutting panels behave as one for the complete ring', () => {
  const beam = Beam.create({ wavelength: 1 });
  const one = Panel.create({ origin: [-50, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000] });
  const top = Panel.create({ origin: [-50, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 1000] });
  const bottom = Panel.create({ origin: [-50, 0, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 1000] });
  const a = maxResolutionInscribed(Detector.create([one]), beam);
  const b = maxResolutionInscribed(Detector.create([top, bottom]), beam);
  assert.ok(Math.abs(a - b) < 1e-9);
  assert.ok(Math.abs(maxResolutionAtCorners(Detector.create([top, bottom]), beam) - maxResolutionAtCorners(Detector.create([one]), beam)) < 1e-12);
});

test('simulated sweep: corners reach 1.44 Å, the complete ring 1.96 Å (README), DIALS integrated to 1.4455 Å', async () => {
  const [e] = await loadExpt('lysozyme_ground_truth.expt');
  const corners = maxResolutionAtCorners(e.detector!, e.beam!);
  const ring = maxResolutionInscribed(e.detector!, e.beam!);
  // By hand: farthest corner (0, 179.396) mm from the centre (85.6216, 87.7028) at 150 mm.
  const r = Math.hypot(85.6216, 179.396 - 87.7028);
  const byHand = 0.9795 / (2 * Math.sin(Math.atan(r / 150) / 2));
  assert.ok(Math.abs(corners - byHand) < 1e-9, `${corners} vs ${byHand}`);
  assert.ok(Math.abs(ring - 1.96) < 0.005, `ring ${ring}`);
  // No reflection DIALS integrated can be beyond the corners, and the best ones are near them.
  assert.ok(corners <= dialsIntegrated.min_d && dialsIntegrated.min_d - corners < 0.02, `${corners} vs DIALS ${dialsIntegrated.min_d}`);
});

test('s1 through DIALS\' predicted positions equals DIALS\' s1 (parallax and thin-sensor panels)', async () => {
  for (const [expt, spots] of [['lcys_20_integrated.expt.gz', 'lcys_20_integrated_spots.json.gz'], ['lysozyme_refined.expt.gz', 'lysozyme_refined_spots.json.gz']]) {
    const [e] = await loadExpt(expt);
    const s = loadSpots(spots);
    const p = e.detector!.panels[0];
    let worst = 0;
    for (let i = 0; i < s.rows; i++) {
      const s1 = s1ForMm(p, e.beam!, s['xyzcal.mm'][3 * i], s['xyzcal.mm'][3 * i + 1]);
      worst = Math.max(worst, Vec3.distance(s1, s.s1.slice(3 * i, 3 * i + 3) as Vec3));
      // the same through the pixel position (px → mm with parallax)
      const viaPx = s1ForPixel(p, e.beam!, s['xyzcal.px'][3 * i], s['xyzcal.px'][3 * i + 1]);
      worst = Math.max(worst, Vec3.distance(viaPx, s1));
    }
    assert.ok(worst < 1e-9, `${expt}: worst |Δs1| ${worst}`);
  }
});

test('reciprocal vectors of spots: A·h for DIALS predictions, DIALS\' rlp for observations', async () => {
  const [e] = await loadExpt('centroid_indexed.expt');
  const s = loadSpots('centroid_indexed_spots.json.gz');
  const A = Crystal.A(e.crystal!);
  const cal = reciprocalVectorsOfSpots(e.detector!, e.beam!, e.goniometer, Float64Array.from(s['xyzcal.mm']));
  const obs = reciprocalVectorsOfSpots(e.detector!, e.beam!, e.goniometer, Float64Array.from(s['xyzobs.mm.value']));
  let worstCal = 0, worstRlp = 0;
  for (let i = 0; i < s.rows; i++) {
    const ah = Mat3.mulVec(A, s.miller_index.slice(3 * i, 3 * i + 3) as Vec3);
    const predicted = s['xyzcal.mm'][3 * i] !== 0 || s['xyzcal.mm'][3 * i + 1] !== 0;
    if (predicted) worstCal = Math.max(worstCal, Vec3.distance(ah, Vec3.from(cal, 3 * i)));
    worstRlp = Math.max(worstRlp, Vec3.distance(Vec3.from(s.rlp, 3 * i), Vec3.from(obs, 3 * i)));
    // the single-spot form agrees with the bulk one
    const one = reciprocalVectorOfSpot(s1ForMm(e.detector!.panels[0], e.beam!, s['xyzobs.mm.value'][3 * i], s['xyzobs.mm.value'][3 * i + 1]),
      Beam.s0(e.beam!), e.goniometer!, (s['xyzobs.mm.value'][3 * i + 2] * 180) / Math.PI);
    assert.ok(Vec3.distance(one, Vec3.from(obs, 3 * i)) < 1e-14);
  }
  assert.ok(worstCal < 1e-12, `A·h vs predicted: ${worstCal}`);
  // dials.index computed rlp with the model before its final refinement: agreement to ~1e-4 Å⁻¹.
  assert.ok(worstRlp < 2e-4, `rlp: ${worstRlp}`);
});

test('reciprocal vectors undo fixed and setting rotations', () => {
  const beam = Beam.create({ wavelength: 0.8 });
  const g = Goniometer.fromMultiAxis([[1, 0, 0], [0.642788, -0.766044, 0], [1, 0, 0]], [25, -40, 10], ['PHI', 'KAPPA', 'OMEGA'], 2);
  // Lab frame s0 + S·R·F·r must equal s1 of length 1/λ for r on the Ewald sphere; build one.
  const r0: Vec3 = [0.05, 0.1, -0.02];
  for (const phi of [-30, 0, 12.5, 77]) {
    const rLab = Mat3.mulVec(Goniometer.rotationAt(g, phi), r0);
    const s1 = Vec3.add(Beam.s0(beam), rLab); // not on the sphere in general; the inverse map is linear anyway
    const back = reciprocalVectorOfSpot(s1, Beam.s0(beam), g, phi);
    assert.ok(Vec3.distance(back, r0) < 1e-15);
  }
});
