/**
 * Beam-centre search on spots simulated here from a known lattice and geometry (an independent
 * rotation-method predictor written in this file), plus the building blocks checked against
 * analytic values: the rlp mapping against core/geometry/reciprocal, the FFT's origin-referred
 * real part against a direct Σ cos, Newton refinement of a lattice vector, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Beam } from '../../../src/core/models/beam.js';
import { Detector, Panel } from '../../../src/core/models/detector.js';
import { Goniometer } from '../../../src/core/models/goniometer.js';
import { Scan } from '../../../src/core/models/scan.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Experiment } from '../../../src/core/models/experiment.js';
import type { Experiment as ExperimentT } from '../../../src/core/models/types.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { mulberry32, gaussian } from '../../../src/core/math/random.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { UserError } from '../../../src/core/errors.js';
import { reciprocalVectorsOfSpots } from '../../../src/core/geometry/reciprocal.js';
import { beamCentre } from '../../../src/core/geometry/beam_centre.js';
import { makeSpotSet, rlpsAtShift, shiftBeamCentre, spotObservations } from '../../../src/core/beam_search/spots.js';
import { ProjectionTransform, refineLatticeVector } from '../../../src/core/beam_search/periodicity.js';
import { searchBeamPosition } from '../../../src/core/beam_search/search.js';

const DEG = Math.PI / 180;

/** A rotation about a unit axis (Rodrigues), row-major. */
function rotation(axis: [number, number, number], angleRad: number): Mat3 {
  const [x, y, z] = axis, c = Math.cos(angleRad), s = Math.sin(angleRad), t = 1 - c;
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
}

/**
 * A sweep with the beam centre at `centreMm` on a 200 mm detector (0.1 mm pixels) and spots of a
 * monoclinic crystal predicted to 2.5 Å over 30°, centroids with `noisePx` Gaussian scatter.
 */
function simulate(centreMm: [number, number], noisePx: number, seed = 5): { experiment: ExperimentT; table: ReflectionTable } {
  const lambda = 1.0, dist = 200, px = 0.1, nx = 2400, ny = 2400;
  const beam = Beam.create({ wavelength: lambda });
  const panel = Panel.create({ origin: [-centreMm[0], centreMm[1], -dist], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], pixelSize: [px, px], imageSize: [nx, ny] });
  const gonio = Goniometer.create({ rotationAxis: [1, 0, 0] });
  const scan = Scan.create({ imageRange: [1, 150], oscillation: [0, 0.2] });
  const U = Mat3.mul(rotation([0, 0, 1], 0.7), Mat3.mul(rotation([0, 1, 0], 0.4), rotation([1, 0, 0], 1.1)));
  const crystal = Crystal.fromCell([48, 57, 66, 90, 104, 90], ' P 2y', U);
  const A = Crystal.A(crystal);
  const experiment = Experiment.create({ beam, detector: Detector.create([panel]), goniometer: gonio, scan, crystal });
  const s0 = Beam.s0(beam);
  const rng = mulberry32(seed), g = gaussian(rng);
  const xyz: number[] = [];
  const dMin = 2.5, lim = 1 / dMin;
  const hmax = Math.ceil(48 / dMin) + 1, kmax = Math.ceil(57 / dMin) + 1, lmax = Math.ceil(66 / dMin) + 1;
  for (let h = -hmax; h <= hmax; h++) for (let k = -kmax; k <= kmax; k++) for (let l = -lmax; l <= lmax; l++) {
    const r0: [number, number, number] = [A[0] * h + A[1] * k + A[2] * l, A[3] * h + A[4] * k + A[5] * l, A[6] * h + A[7] * k + A[8] * l];
    const q2 = r0[0] ** 2 + r0[1] ** 2 + r0[2] ** 2;
    if (q2 === 0 || q2 > lim * lim) continue;
    // rotation about x: r(φ) = (r0x, r0y cos φ − r0z sin φ, r0y sin φ + r0z cos φ); |s0 + r|² = |s0|²
    // with s0 = (0, 0, −1/λ): −(2/λ)(r0y sin φ + r0z cos φ) + q² = 0
    const a = r0[2], b = r0[1], c = (q2 * lambda) / 2, rho = Math.hypot(a, b);
    if (rho < Math.abs(c) || rho === 0) continue;
    const base = Math.atan2(b, a), w = Math.acos(c / rho);
    for (const phi0 of [base + w, base - w]) {
      let phi = phi0 % (2 * Math.PI);
      if (phi < 0) phi += 2 * Math.PI;
      if (phi >= 30 * DEG) continue;
      const r = [r0[0], r0[1] * Math.cos(phi) - r0[2] * Math.sin(phi), r0[1] * Math.sin(phi) + r0[2] * Math.cos(phi)];
      const s1 = [s0[0] + r[0], s0[1] + r[1], s0[2] + r[2]];
      if (s1[2] >= 0) continue;
      const t = -dist / s1[2];
      const xMm = s1[0] * t + centreMm[0], yMm = -(s1[1] * t) + centreMm[1];
      const xPx = xMm / px + noisePx * g(), yPx = yMm / px + noisePx * g();
      if (xPx < 0 || yPx < 0 || xPx >= nx || yPx >= ny) continue;
      xyz.push(xPx, yPx, phi / DEG / 0.2 + 0.02 * g());
    }
  }
  const n = xyz.length / 3;
  const table = ReflectionTable.empty(n);
  table.setInt('id', new Int32Array(n));
  table.setSizeT('panel', new Float64Array(n));
  table.setVec3('xyzobs.px.value', Float64Array.from(xyz));
  return { experiment, table };
}

function centreMm(e: ExperimentT): [number, number] {
  return beamCentre(e.detector!, e.beam!)!.xyMm;
}

test('rlps for a shifted centre equal core/geometry/reciprocal on the moved detector', () => {
  const { experiment, table } = simulate([120.3, 119.6], 0);
  const obs = spotObservations([experiment], table, 'sim');
  const set = makeSpotSet([experiment], obs);
  const mine = new Float64Array(3 * set.n);
  rlpsAtShift(set, 0.7, -0.4, mine);
  const moved = shiftBeamCentre([experiment], 0.7, -0.4)[0];
  const xyzMm = new Float64Array(3 * set.n);
  for (let i = 0; i < set.n; i++) { xyzMm[3 * i] = obs.xMm[i]; xyzMm[3 * i + 1] = obs.yMm[i]; xyzMm[3 * i + 2] = obs.phiRad[i]; }
  const ref = reciprocalVectorsOfSpots(moved.detector!, moved.beam!, moved.goniometer!, xyzMm);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - mine[i]));
  assert.ok(worst < 1e-12, `max difference ${worst}`);
  // and the moved detector's beam centre is where it was asked to be
  const [x, y] = centreMm(moved);
  assert.ok(Math.abs(x - 121.0) < 1e-9 && Math.abs(y - 119.2) < 1e-9, `${x} ${y}`);
});

test('origin-referred FFT real part equals Σ cos 2π L p up to the binning, Newton finds the lattice vector', () => {
  const { experiment, table } = simulate([120, 120], 0);
  const obs = spotObservations([experiment], table, 'sim');
  const set = makeSpotSet([experiment], obs);
  const rlp = new Float64Array(3 * set.n);
  rlpsAtShift(set, 0, 0, rlp);
  const a = Crystal.realSpaceMatrix(experiment.crystal!).slice(0, 3) as number[]; // real_space_a, |a| = 48 Å
  const la = Math.hypot(a[0], a[1], a[2]);
  const u = a.map((v) => v / la);
  const tr = new ProjectionTransform(2.5, 100);
  tr.transform(rlp, set.n, u[0], u[1], u[2]);
  const k = Math.round(tr.kOfLength(la));
  const L = tr.lengthOfK(k);
  let direct = 0;
  for (let i = 0; i < set.n; i++) direct += Math.cos(2 * Math.PI * L * (rlp[3 * i] * u[0] + rlp[3 * i + 1] * u[1] + rlp[3 * i + 2] * u[2]));
  // binning moves each projection by ≤ half a bin: phase error ≤ π k / N
  assert.ok(Math.abs(tr.originReal(k) - direct) < set.n * (Math.PI * k) / tr.N, `${tr.originReal(k)} vs ${direct}`);
  assert.ok(tr.originReal(k) > 0.5 * set.n, `a is a lattice vector: ${tr.originReal(k) / set.n}`);
  // Newton from a vector 1 % long and 0.3° off reaches a exactly (noise-free spots: score 1)
  const t = Float64Array.from([a[0] * 1.01 + 0.2, a[1] * 1.01 - 0.1, a[2] * 1.01]);
  const score = refineLatticeVector(rlp, set.n, t, 8);
  assert.ok(score > 0.9999, `score ${score}`);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(t[c] - a[c]) < 1e-3, `t ${Array.from(t)} vs a ${a}`);
});

test('synthetic sweep: a 1.3 mm beam-centre error is found to 0.01 mm', (t) => {
  const truth: [number, number] = [120.35, 119.8];
  const { experiment, table } = simulate(truth, 0.15);
  for (const [dx, dy] of [[1.3, 0], [0, -1.3], [0.9, 0.9]]) {
    const start = shiftBeamCentre([experiment], dx, dy);
    const r = searchBeamPosition(start, table, { maxReflections: 6000 });
    const [x, y] = centreMm(r.experiments[0]);
    t.diagnostic(`synthetic offset (${dx}, ${dy}) mm: residual ${Math.hypot(x - truth[0], y - truth[1]).toFixed(4)} mm`);
    assert.ok(Math.hypot(x - truth[0], y - truth[1]) < 0.01, `offset (${dx}, ${dy}): found ${x}, ${y}; truth ${truth}`);
    assert.ok(r.scoreFinal > r.scoreInitial, 'periodicity improves');
  }
});

test('two-panel detector: the whole detector moves, the centre is found on the panel the beam hits', () => {
  const truth: [number, number] = [120.35, 119.8];
  const { experiment, table } = simulate(truth, 0.15);
  // split the 2400-pixel-wide panel at x = 1000 px: the right half becomes panel 1 (beam on panel 1)
  const p0 = experiment.detector!.panels[0];
  const left = { ...structuredClone(p0), imageSize: [1000, 2400] as [number, number], name: 'left' };
  const right = { ...structuredClone(p0), imageSize: [1400, 2400] as [number, number], name: 'right', origin: [p0.origin[0] + 100, p0.origin[1], p0.origin[2]] as [number, number, number] };
  const split = { ...experiment, detector: Detector.create([left, right]) };
  const xyz = Float64Array.from(table.vec3('xyzobs.px.value'));
  const panel = new Float64Array(table.nrows);
  for (let i = 0; i < table.nrows; i++) if (xyz[3 * i] >= 1000) { panel[i] = 1; xyz[3 * i] -= 1000; }
  const t2 = ReflectionTable.empty(table.nrows);
  t2.setInt('id', new Int32Array(table.nrows));
  t2.setSizeT('panel', panel);
  t2.setVec3('xyzobs.px.value', xyz);
  const r = searchBeamPosition(shiftBeamCentre([split], -0.8, 0.6), t2, { maxReflections: 6000 });
  const c = beamCentre(r.experiments[0].detector!, r.experiments[0].beam!)!;
  assert.equal(c.panel, 1);
  assert.ok(Math.hypot(c.xyMm[0] + 100 - truth[0], c.xyMm[1] - truth[1]) < 0.01, `found ${c.xyMm} on panel 1`);
  // both panels moved together
  const [a, b] = r.experiments[0].detector!.panels;
  assert.ok(Math.abs(b.origin[0] - a.origin[0] - 100) < 1e-9 && Math.abs(b.origin[1] - a.origin[1]) < 1e-9);
});

test('bad input: no spots, a still, spots naming a missing experiment', () => {
  const { experiment, table } = simulate([120, 120], 0);
  const empty = ReflectionTable.empty(0);
  empty.setInt('id', new Int32Array(0));
  empty.setVec3('xyzobs.px.value', new Float64Array(0));
  assert.throws(() => searchBeamPosition([experiment], empty, { reflSource: 'strong.refl' }),
    (e: unknown) => e instanceof UserError && e.code === 'too_few_spots' && /strong\.refl/.test(e.message));
  const still = { ...experiment, goniometer: undefined, scan: undefined };
  assert.throws(() => searchBeamPosition([still], table, { exptSource: 'imported.expt' }),
    (e: unknown) => e instanceof UserError && e.code === 'still_imageset' && /imported\.expt/.test(e.message));
  const bad = ReflectionTable.empty(table.nrows);
  bad.setInt('id', new Int32Array(table.nrows).fill(3));
  bad.setVec3('xyzobs.px.value', table.vec3('xyzobs.px.value'));
  assert.throws(() => searchBeamPosition([experiment], bad), (e: unknown) => e instanceof UserError && e.code === 'bad_file');
  const few = table.select(Uint8Array.from({ length: table.nrows }, (_, i) => (i < 5 ? 1 : 0)));
  assert.throws(() => searchBeamPosition([experiment], few), (e: unknown) => e instanceof UserError && e.code === 'too_few_spots');
});
