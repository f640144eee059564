import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Vec3 } from '../../../src/core/math/vec3.js';
import { RefinementTarget, allocatePredictions } from '../../../src/core/refinement/target.js';
import { buildParameterisations, cloneExperiments, refineGeometry } from '../../../src/core/refinement/refiner.js';
import { aMatrixOf, bDerivative, bFromMetric, decomposeA, metricBasis } from '../../../src/core/refinement/parameterisation.js';
import { rotationAngles, diffractedBeam } from '../../../src/core/geometry/prediction.js';
import { makeExperiment, simulate } from './synthetic.js';

test('rotationAngles: both solutions satisfy the Ewald condition', () => {
  const e = makeExperiment();
  const A = aMatrixOf(e.crystal!);
  const geom = { s0: [0, 0, -1 / 0.9795] as Vec3, axis: [1, 0, 0] as Vec3, fixedRotation: Mat3.identity(), settingRotation: Mat3.rotation([0, 1, 0], 0.1) };
  const two = new Float64Array(2), s1 = new Float64Array(3);
  assert.ok(rotationAngles(geom, A, 3, -5, 7, two));
  for (const phi of two) {
    diffractedBeam(geom, A, 3, -5, 7, phi, s1);
    assert.ok(Math.abs(Math.hypot(s1[0], s1[1], s1[2]) - 1 / 0.9795) < 1e-12);
  }
});

test('B from metric and its derivative match finite differences', () => {
  const { B } = decomposeA(aMatrixOf(makeExperiment({ cell: [50, 61, 73] }).crystal!));
  const G = Mat3.mul(Mat3.transpose(B), B);
  assert.ok(Mat3.equals(bFromMetric(G), B, 1e-14));
  const dG: Mat3 = [1, 0.3, -0.2, 0.3, 2, 0.5, -0.2, 0.5, -1].map((x) => x * 1e-5) as Mat3;
  const h = 1e-3;
  const fd = Mat3.scale(Mat3.sub(bFromMetric(Mat3.add(G, Mat3.scale(dG, h))), bFromMetric(Mat3.sub(G, Mat3.scale(dG, h)))), 1 / (2 * h));
  assert.ok(Mat3.equals(bDerivative(B, dG), fd, 1e-10));
});

test('metric basis: tetragonal has 2 free parameters, cubic 1, triclinic 6', () => {
  const four: Mat3 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
  const two: Mat3 = [1, 0, 0, 0, -1, 0, 0, 0, -1];
  const three: Mat3 = [0, 0, 1, 1, 0, 0, 0, 1, 0];
  assert.equal(metricBasis([]).length, 6);
  assert.equal(metricBasis([four, two]).length, 2);
  assert.equal(metricBasis([four, two, three]).length, 1);
});

test('analytical gradient equals finite difference of the objective for every parameter', () => {
  const truth = makeExperiment({ axis: Vec3.normalize([1, 0.05, 0.02]) });
  const data = simulate(truth, 2.5, 0.3, 0.2);
  const start = cloneExperiments([truth]);
  start[0].beam!.direction = Vec3.normalize([0.002, -0.001, 1]);
  start[0].detector!.panels[0].origin = [-85.0, 88.1, -151];
  const opts = { goniometerFix: [] as string[], beamFix: [] as string[] };
  const parts = buildParameterisations(start, opts);
  // free everything, including the rotations the refiner fixes as unobservable, to test every derivative
  for (const p of [parts[0].beam, parts[0].detector, parts[0].goniometer, parts[0].orientation, parts[0].cell]) p.fixed.fill(false);
  const target = new RefinementTarget(parts);
  const n = data.experiment.length;
  const active = new Uint8Array(n).fill(1);
  const pred = allocatePredictions(n);
  const v0 = target.getValues();
  const ev = target.evaluate(data, active, pred, true);
  const names = target.freeNames();
  assert.equal(names.length, 2 + 6 + 2 + 3 + 6);
  for (let k = 0; k < v0.length; k++) {
    const step = 1e-4;
    const vp = Float64Array.from(v0); vp[k] += step;
    const vm = Float64Array.from(v0); vm[k] -= step;
    target.setValues(vp);
    const fp = target.evaluate(data, active, pred, false).objective;
    target.setValues(vm);
    const fm = target.evaluate(data, active, pred, false).objective;
    const fd = (fp - fm) / (2 * step);
    const an = 2 * ev.gradient![k];
    assert.ok(Math.abs(fd - an) <= 1e-4 * Math.max(1, Math.abs(an)), `${names[k]}: analytical ${an} vs finite difference ${fd}`);
  }
  target.setValues(v0);
});

test('refinement recovers the true geometry from a perturbed start', () => {
  const truth = makeExperiment();
  const data = simulate(truth, 2.0, 0.2, 0.1);
  const start = cloneExperiments([truth]);
  const e = start[0];
  e.detector!.panels[0].origin = [-84.6, 88.7, -152];
  e.beam!.direction = Vec3.normalize([0.003, 0, 1]);
  const rot = Mat3.rotation([0.2, 0.7, 0.1], 0.004);
  const A = aMatrixOf(e.crystal!);
  const Ap = Mat3.mul(rot, Mat3.mul(A, [1.003, 0, 0, 0, 0.998, 0, 0, 0, 1.002]));
  const Ai = Mat3.inverse(Ap);
  e.crystal = { ...e.crystal!, realSpaceA: Mat3.row(Ai, 0), realSpaceB: Mat3.row(Ai, 1), realSpaceC: Mat3.row(Ai, 2) };
  const res = refineGeometry(start, data, { outlierAlgorithm: 'null' });
  const r = res.rmsds[0];
  assert.ok(r.xPx < 0.25 && r.yPx < 0.25 && r.zImages < 0.12, JSON.stringify(r));
  const out = res.experiments[0];
  const At = aMatrixOf(truth.crystal!), Ar = aMatrixOf(out.crystal!);
  // orientation: angle of U_r U_tᵀ
  const Ur = decomposeA(Ar).U, Ut = decomposeA(At).U;
  const angleDeg = (Mat3.rotationAngle(Mat3.mul(Ur, Mat3.transpose(Ut))) * 180) / Math.PI;
  assert.ok(angleDeg < 0.01, `orientation off by ${angleDeg}°`);
  const len = (v: Vec3) => Vec3.length(v);
  assert.ok(Math.abs(len(out.crystal!.realSpaceA) / 79.1 - 1) < 2e-4);
  assert.ok(Math.abs(len(out.crystal!.realSpaceC) / 38.2 - 1) < 2e-4);
  assert.ok(Vec3.distance(out.detector!.panels[0].origin, truth.detector!.panels[0].origin) < 0.05);
});

test('tetragonal constraint keeps a = b exactly', () => {
  const truth = makeExperiment();
  const data = simulate(truth, 2.5);
  const four: Mat3 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
  const two: Mat3 = [1, 0, 0, 0, -1, 0, 0, 0, -1];
  // crystal axes of makeExperiment are a, b, c of the tetragonal cell
  const res = refineGeometry([truth], data, { cellOps: [[four, two]], outlierAlgorithm: 'null' });
  const c = res.experiments[0].crystal!;
  assert.ok(Math.abs(Vec3.length(c.realSpaceA) - Vec3.length(c.realSpaceB)) < 1e-9);
  assert.equal(res.parameterNames.filter((p) => p.startsWith('crystal_cell')).length, 2);
});

test('tie_to_target restraint: analytical gradient matches finite differences and pulls the cell', () => {
  const truth = makeExperiment({ cell: [50, 61, 73] });
  const data = simulate(truth, 3, 0.3, 0.2);
  const parts = buildParameterisations(cloneExperiments([truth]), {});
  const target = new RefinementTarget(parts);
  target.restraints = [{ cell: parts[0].cell, values: [49.5, 61.3, 72, 90.5, 89, 91], sigmas: [0.01, 0.02, 0.01, 0.1, 0.1, 0.1] }];
  const n = data.experiment.length;
  const active = new Uint8Array(n).fill(1);
  const pred = allocatePredictions(n);
  const v0 = target.getValues();
  const ev = target.evaluate(data, active, pred, true);
  const names = target.freeNames();
  for (let k = 0; k < v0.length; k++) {
    if (!names[k].startsWith('crystal_cell')) continue;
    const step = 1e-6;
    const vp = Float64Array.from(v0); vp[k] += step;
    const vm = Float64Array.from(v0); vm[k] -= step;
    target.setValues(vp); const fp = target.evaluate(data, active, pred, false).objective;
    target.setValues(vm); const fm = target.evaluate(data, active, pred, false).objective;
    const fd = (fp - fm) / (2 * step), an = 2 * ev.gradient![k];
    assert.ok(Math.abs(fd - an) <= 1e-5 * Math.max(1, Math.abs(an)), `${names[k]}: ${an} vs ${fd}`);
  }
  target.setValues(v0);
  const res = refineGeometry([truth], data, { outlierAlgorithm: 'null', cellRestraint: { values: [49.5, 61, 73, 90, 90, 90], sigmas: [0.001, 0, 0, 0, 0, 0] } });
  assert.ok(Math.abs(Vec3.length(res.experiments[0].crystal!.realSpaceA) - 49.5) < 0.05, `a = ${Vec3.length(res.experiments[0].crystal!.realSpaceA)}`);
});

test('scan-varying crystal: analytical gradient matches finite differences; converges to the static truth', () => {
  const truth = makeExperiment({ cell: [50, 61, 73], nImages: 100, osc: 0.5 });
  const data = simulate(truth, 3, 0.2, 0.1);
  const parts = buildParameterisations(cloneExperiments([truth]), { scanVarying: { intervalDeg: 18 } });
  const sv = parts[0].scanVarying!;
  assert.equal(sv.nCheckpoints, 3); // 50° scan, 18° intervals: ⌊50/18⌋ + 1
  const target = new RefinementTarget(parts);
  const n = data.experiment.length;
  const active = new Uint8Array(n).fill(1);
  const pred = allocatePredictions(n);
  const v0 = target.getValues();
  // move away from the truth so residuals are not zero
  const start = v0.map((x, i) => x + (target.freeNames()[i].includes('sample') ? 0.3 * Math.sin(i) : 0));
  target.setValues(start);
  const ev = target.evaluate(data, active, pred, true);
  const names = target.freeNames();
  for (let k = 0; k < start.length; k++) {
    if (!names[k].includes('sample')) continue;
    const step = 1e-5;
    const vp = Float64Array.from(start); vp[k] += step;
    const vm = Float64Array.from(start); vm[k] -= step;
    target.setValues(vp); const fp = target.evaluate(data, active, pred, false).objective;
    target.setValues(vm); const fm = target.evaluate(data, active, pred, false).objective;
    const fd = (fp - fm) / (2 * step), an = 2 * ev.gradient![k];
    assert.ok(Math.abs(fd - an) <= 1e-4 * Math.max(1, Math.abs(an)), `${names[k]}: ${an} vs ${fd}`);
  }
  const res = refineGeometry([truth], data, { outlierAlgorithm: 'null', scanVarying: { intervalDeg: 18 } });
  const c = res.experiments[0].crystal!;
  assert.equal(c.AAtScanPoints!.length, 101);
  assert.ok(res.rmsds[0].xPx < 0.25 && res.rmsds[0].zImages < 0.12, JSON.stringify(res.rmsds[0]));
});
