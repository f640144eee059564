/**
 * Indexing on small real/simulated inputs (regression-data/indexing, built by make.mts there):
 * known answers from ground truth (simulated sweep) and DIALS 3.12 (MyD88, i04_weak_data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExperiments } from '../../../src/core/io/expt.js';
import { readRefl } from '../../../src/core/io/refl.js';
import { defaults } from '../../../src/core/params/index.js';
import { silentLog } from '../../../src/core/log.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { UserError } from '../../../src/core/errors.js';
import { decomposeA } from '../../../src/core/refinement/parameterisation.js';
import { PARAMS, indexingOptionsFrom, run } from '../../../src/stages/index/index.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../regression-data/indexing');
const opts = (over: Record<string, unknown> = {}) => indexingOptionsFrom({ ...defaults(PARAMS), ...over }, silentLog);

/** Angle (°) between two crystal orientations, after matching the bases by an integer change of basis. */
export function orientationDifferenceDeg(A: Mat3, Atruth: Mat3): number {
  const P = Mat3.mul(Mat3.inverse(A), Atruth).map(Math.round) as Mat3;
  assert.equal(Math.abs(Mat3.determinant(P)), 1, 'bases do not describe the same lattice');
  const Ap = Mat3.mul(A, P);
  const sign = Mat3.determinant(P) < 0 ? -1 : 1;
  const U1 = decomposeA(Mat3.scale(Ap, sign)).U, U2 = decomposeA(Mat3.scale(Atruth, sign)).U;
  return (Mat3.rotationAngle(Mat3.mul(U1, Mat3.transpose(U2))) * 180) / Math.PI;
}

function sortedCell(c: number[]): number[] { return [...c.slice(0, 3)].sort((a, b) => a - b); }

test('simulated lysozyme (15°): cell within 0.1 % and orientation within 0.05° of the truth', async () => {
  const exps = await readExperiments(path.join(DIR, 'lysozyme_imported.expt'));
  const truth = await readExperiments(path.join(DIR, 'lysozyme_ground_truth.expt'));
  const strong = await readRefl(path.join(DIR, 'lysozyme_30img.refl.gz'));
  const r = run(exps, strong, opts());
  const cell = Crystal.unitCell(r.outputs.experiments[0].crystal!);
  const want = [38.2, 79.1, 79.1];
  sortedCell(cell).forEach((x, i) => assert.ok(Math.abs(x / want[i] - 1) < 1e-3, `cell ${cell}`));
  for (const ang of cell.slice(3)) assert.ok(Math.abs(ang - 90) < 0.09, `angles ${cell}`);
  const d = orientationDifferenceDeg(Crystal.A(r.outputs.experiments[0].crystal!), Crystal.A(truth[0].crystal!));
  assert.ok(d < 0.05, `orientation off by ${d}°`);
  assert.ok((r.figures.percent_indexed as number) > 98.8, `indexed ${r.figures.percent_indexed} %`);
  assert.ok((r.figures.rmsd_x_px as number) < 0.15 && (r.figures.rmsd_z_images as number) < 0.15);
  // output table: indexed rows carry Miller indices and predictions
  const t = r.outputs.reflections;
  assert.ok(t.has('miller_index') && t.has('xyzcal.mm') && t.has('xyzobs.mm.value') && t.has('s1'));
});

test('MyD88 3D ED: indexes with either axis; the inverted axis gives the clearly lower RMSD_Z', async () => {
  const strong = await readRefl(path.join(DIR, 'myd88_strong.refl.gz'));
  const o = opts({ 'refinement.parameterisation.detector.fix': ['distance'], 'refinement.parameterisation.goniometer.fix': null });
  const res: Record<string, Record<string, unknown>> = {};
  for (const ax of ['pos', 'neg']) {
    const exps = await readExperiments(path.join(DIR, `myd88_imported_axis_${ax}.expt`));
    res[ax] = run(exps, strong, o).figures;
    assert.ok((res[ax].percent_indexed as number) > 85, `${ax}: ${res[ax].percent_indexed} % indexed`);
  }
  const zPos = res.pos.rmsd_z_images as number, zNeg = res.neg.rmsd_z_images as number;
  assert.ok(zNeg < 0.75 * zPos, `RMSD_Z pos ${zPos} neg ${zNeg}`);
  assert.ok(zNeg < 0.4, `RMSD_Z neg ${zNeg} (DIALS 0.30)`);
});

test('i04_weak_data: P1 cell within 0.2 % of DIALS', async () => {
  const exps = await readExperiments(path.join(DIR, 'i04_experiments.expt'));
  const strong = await readRefl(path.join(DIR, 'i04_spots.refl.gz'));
  const r = run(exps, strong, opts());
  const cell = Crystal.unitCell(r.outputs.experiments[0].crystal!);
  const dials = [57.767, 57.799, 150.014];
  sortedCell(cell).forEach((x, i) => assert.ok(Math.abs(x / dials[i] - 1) < 2e-3, `cell ${cell}`));
  assert.ok((r.figures.percent_indexed as number) > 98);
});

test('explicit failures: too few spots, no lattice', async () => {
  const exps = await readExperiments(path.join(DIR, 'lysozyme_imported.expt'));
  const strong = await readRefl(path.join(DIR, 'lysozyme_30img.refl.gz'));
  const few = strong.select(Uint8Array.from({ length: strong.nrows }, (_, i) => (i < 5 ? 1 : 0)));
  assert.throws(() => run(exps, few, opts()), (e: unknown) => e instanceof UserError && e.code === 'too_few_spots');
  // spots scattered at random on the detector and in φ carry no lattice
  const noise = strong.select(Uint8Array.from({ length: strong.nrows }, (_, i) => (i < 400 ? 1 : 0)));
  const xyz = noise.vec3('xyzobs.px.value');
  let s = 12345;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  for (let i = 0; i < noise.nrows; i++) { xyz[3 * i] = 20 + 940 * rnd(); xyz[3 * i + 1] = 20 + 1000 * rnd(); xyz[3 * i + 2] = 120 * rnd(); }
  assert.throws(() => run(exps, noise, opts()), (e: unknown) => e instanceof UserError && e.code === 'no_lattice');
});

test('l_cysteine, 4 sweeps × 1.5° (multi-axis goniometer): joint indexing gives the known cell within 0.5 %', async () => {
  // imported.expt as written by `xtalflow import` for the 60 images; spots from DIALS' find_spots
  const exps = await readExperiments(path.join(DIR, 'l_cysteine_imported.expt'));
  const strong = await readRefl(path.join(DIR, 'l_cysteine_strong.refl'));
  const r = run(exps, strong, opts());
  const cells = r.outputs.experiments.map((e) => Crystal.unitCell(e.crystal!));
  assert.equal(cells.length, 4);
  const known = [5.428, 8.141, 12.038];
  for (const c of cells) sortedCell(c).forEach((x, i) => assert.ok(Math.abs(x / known[i] - 1) < 5e-3, `cell ${c}`));
  // DIALS 3.12 joint: 87.0, 87.9, 67.4, 80.0 % and RMSD_Z 0.9–2.9 images
  const pct = r.figures.percent_indexed_per_sweep as number[];
  [87.0, 87.9, 67.4, 80.0].forEach((d, k) => assert.ok(pct[k] >= d - 1, `sweep ${k}: ${pct[k]} %`));
  for (const x of r.outputs.result.rmsds) assert.ok(x.zImages < 0.9, `RMSD_Z ${x.zImages}`);
});

test('l_cysteine, joint_indexing=False: every 1.5° sweep indexes on its own (DIALS: 5.418 8.143 12.038 for the last)', async () => {
  const exps = await readExperiments(path.join(DIR, 'l_cysteine_imported.expt'));
  const strong = await readRefl(path.join(DIR, 'l_cysteine_strong.refl'));
  const r = run(exps, strong, opts({ 'indexing.joint_indexing': false }));
  assert.equal(r.outputs.experiments.length, 4);
  assert.equal(r.figures.n_lattices, 4);
  const known = [5.428, 8.141, 12.038];
  for (const e of r.outputs.experiments) sortedCell(Crystal.unitCell(e.crystal!)).forEach((x, i) => assert.ok(Math.abs(x / known[i] - 1) < 5e-3, `cell ${Crystal.unitCell(e.crystal!)}`));
});
