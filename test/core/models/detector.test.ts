import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Detector, Panel } from '../../../src/core/models/detector.js';
import { Beam } from '../../../src/core/models/beam.js';
import { Vec3 } from '../../../src/core/math/vec3.js';
import { loadExpt, loadSpots } from './fixtures.js';

/** A 100 × 200 mm panel normal to the beam at 100 mm, origin at the top-left corner as for Pilatus. */
function flatPanel(opts: Partial<Panel.CreateOptions> = {}): Panel {
  return Panel.create({ origin: [-50, 100, -100], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [0.1, 0.1], imageSize: [1000, 2000], ...opts });
}

test('lab geometry of a panel normal to the beam', () => {
  const p = flatPanel();
  assert.deepEqual(Panel.normal(p), [0, 0, -1]);
  assert.equal(Panel.distance(p), 100);
  assert.deepEqual(Panel.normalOriginMm(p), [50, 100]);
  assert.deepEqual(Panel.labCoord(p, 50, 100), [0, 0, -100]);
  assert.deepEqual(Panel.rayIntersection(p, [0, 0, -1]), [50, 100]);
  // A ray at 45° towards +x meets the plane 100 mm off the centre: x = 150 (outside this panel).
  const hit = Panel.rayIntersection(p, [1, 0, -1])!;
  assert.ok(Math.abs(hit[0] - 150) < 1e-12 && Math.abs(hit[1] - 100) < 1e-12);
  assert.equal(Panel.isInsideMm(p, hit[0], hit[1]), false);
  assert.equal(Panel.rayIntersection(p, [0, 0, 1]), null, 'a ray away from the detector never meets it');
  assert.equal(Panel.rayIntersection(p, [1, 0, 0]), null, 'a ray parallel to the plane never meets it');
  assert.deepEqual(Panel.pixelToMm(p, [10, 20]), [1, 2]);
  assert.deepEqual(Panel.mmToPixel(p, [1, 2]), [10, 20]);
});

test('panelForRay picks the panel the ray lands on', () => {
  const left = flatPanel({ origin: [-50, 100, -100], imageSize: [400, 2000] });
  const right = flatPanel({ origin: [-5, 100, -100], imageSize: [550, 2000] });
  const d = Detector.create([left, right]);
  const s1 = Beam.s0(Beam.create({ wavelength: 1 }));
  const hit = Detector.panelForRay(d, Vec3.add(s1, [0.3, 0, 0]))!;
  assert.equal(hit.panel, 1);
  assert.equal(Detector.panelForRay(d, [0.03, 0, -1])!.panel, 1);
  assert.equal(Detector.panelForRay(d, [-0.2, 0, -1])!.panel, 0);
  assert.equal(Detector.panelForRay(d, [0, 0, 1]), null);
  assert.equal(Detector.panelForRay(d, [5, 0, -1]), null, 'beyond the last panel');
});

test('parallax: a photon at normal incidence is displaced by nothing, obliquely away from the beam', () => {
  const p = flatPanel({ parallax: true, mu: 3.96, thickness: 0.32 });
  const centre = Panel.mmToPixel(p, [50, 100]);
  assert.ok(Math.abs(centre[0] - 500) < 1e-9 && Math.abs(centre[1] - 1000) < 1e-9);
  // At 45° the mean path inside the sensor is 1/μ − (t/cos45 + 1/μ)·exp(−μ t / cos45) along the ray.
  const o = 1 / 3.96 - (0.32 * Math.SQRT2 + 1 / 3.96) * Math.exp(-3.96 * 0.32 * Math.SQRT2);
  const px = Panel.mmToPixel(flatPanel({ parallax: true, mu: 3.96, thickness: 0.32, imageSize: [3000, 2000] }), [150, 100]);
  assert.ok(Math.abs(px[0] * 0.1 - (150 + o / Math.SQRT2)) < 1e-12, `${px[0] * 0.1} vs ${150 + o / Math.SQRT2}`);
  // px → mm inverts mm → px.
  for (const xy of [[3, 7], [90, 190], [50.5, 0.5]] as [number, number][]) {
    const back = Panel.pixelToMm(p, Panel.mmToPixel(p, xy));
    assert.ok(Math.abs(back[0] - xy[0]) < 1e-10 && Math.abs(back[1] - xy[1]) < 1e-10, `${back} vs ${xy}`);
  }
  // No correction without attenuation data, as for DIALS' simple strategy.
  assert.equal(Panel.parallaxParameters(flatPanel({ parallax: true, mu: 0, thickness: 0.32 })), null);
});

test('DIALS px ↔ mm with parallax (l-cysteine, Pilatus 2M, Si 0.32 mm, μ 1.415/mm)', async () => {
  const [e] = await loadExpt('lcys_20_integrated.expt.gz');
  const p = e.detector!.panels[0];
  assert.equal(p.pxMmStrategy.type, 'ParallaxCorrectedPxMmStrategy');
  const s = loadSpots('lcys_20_integrated_spots.json.gz');
  assert.ok(s.rows >= 200);
  let worstCal = 0, worstObs = 0, worstSimple = 0;
  const simple: Panel = { ...p, pxMmStrategy: { type: 'SimplePxMmStrategy' } };
  for (let i = 0; i < s.rows; i++) {
    // Predicted positions: DIALS converted mm → px with this very model.
    const px = Panel.mmToPixel(p, [s['xyzcal.mm'][3 * i], s['xyzcal.mm'][3 * i + 1]]);
    worstCal = Math.max(worstCal, Math.hypot(px[0] - s['xyzcal.px'][3 * i], px[1] - s['xyzcal.px'][3 * i + 1]));
    // Observed centroids: px → mm.
    const mm = Panel.pixelToMm(p, [s['xyzobs.px.value'][3 * i], s['xyzobs.px.value'][3 * i + 1]]);
    worstObs = Math.max(worstObs, Math.hypot(mm[0] - s['xyzobs.mm.value'][3 * i], mm[1] - s['xyzobs.mm.value'][3 * i + 1]));
    const mmSimple = Panel.pixelToMm(simple, [s['xyzobs.px.value'][3 * i], s['xyzobs.px.value'][3 * i + 1]]);
    worstSimple = Math.max(worstSimple, Math.hypot(mmSimple[0] - s['xyzobs.mm.value'][3 * i], mmSimple[1] - s['xyzobs.mm.value'][3 * i + 1]));
  }
  assert.ok(worstCal < 1e-9, `mm → px worst ${worstCal} px`);
  // The observed mm were computed by DIALS during integration with the model then current,
  // which differs slightly from the final one in the file; still 50× closer than without parallax.
  assert.ok(worstObs < 2e-3, `px → mm worst ${worstObs} mm`);
  assert.ok(worstSimple > 0.05, `without parallax the worst is ${worstSimple} mm`);
});

test('DIALS px ↔ mm without parallax (centroid data, SimplePxMmStrategy) is exact', async () => {
  const [e] = await loadExpt('centroid_indexed.expt');
  const p = e.detector!.panels[0];
  const s = loadSpots('centroid_indexed_spots.json.gz');
  for (let i = 0; i < s.rows; i++) {
    const mm = Panel.pixelToMm(p, [s['xyzobs.px.value'][3 * i], s['xyzobs.px.value'][3 * i + 1]]);
    assert.ok(Math.abs(mm[0] - s['xyzobs.mm.value'][3 * i]) < 1e-12 && Math.abs(mm[1] - s['xyzobs.mm.value'][3 * i + 1]) < 1e-12);
  }
});

test('ray intersection of DIALS\' predicted s1 lands on DIALS\' predicted mm (lysozyme refined)', async () => {
  const [e] = await loadExpt('lysozyme_refined.expt.gz');
  const s = loadSpots('lysozyme_refined_spots.json.gz');
  let worst = 0;
  for (let i = 0; i < s.rows; i++) {
    // (some predictions lie just beyond the panel edge, so no bounds check here)
    const xy = Panel.rayIntersection(e.detector!.panels[0], s.s1.slice(3 * i, 3 * i + 3) as Vec3)!;
    worst = Math.max(worst, Math.hypot(xy[0] - s['xyzcal.mm'][3 * i], xy[1] - s['xyzcal.mm'][3 * i + 1]));
  }
  assert.ok(worst < 1e-9, `worst ${worst} mm`);
});
