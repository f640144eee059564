import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { decodeRefl } from '../../../src/core/io/refl.js';
import { silentLog } from '../../../src/core/log.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import type { Experiment } from '../../../src/core/models/types.js';
import { dSpacings, loadDataset, medianCell, type Dataset } from '../../../src/core/stats/dataset.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { UserError } from '../../../src/core/errors.js';
import { run, resolveOptions } from '../../../src/stages/symmetry/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const regression = path.join(here, '../../../regression-data/merging');

function lCysteine(): Dataset {
  const meta = JSON.parse(readFileSync(path.join(regression, 'l_cysteine_integrated_cells.json'), 'utf8'));
  const reflections = decodeRefl(gunzipSync(readFileSync(path.join(regression, 'l_cysteine_integrated.refl.gz'))), 'l_cysteine_integrated.refl');
  const sg = SpaceGroup.find(meta.space_group);
  // A non-trivial orientation, so that reindexing the crystal is checked against the reflections.
  const U: Mat3 = [0.36, 0.48, -0.8, -0.8, 0.6, 0, 0.48, 0.64, 0.6];
  const experiments: Experiment[] = meta.cells.map((c: number[], i: number) => ({ identifier: String(i), crystal: Crystal.fromCell(c as never, sg.hall, U) }));
  return { experiments, reflections, cell: medianCell(meta.cells), spaceGroup: sg, d: dSpacings(reflections, experiments) };
}

test('l-cysteine (real, 4 sweeps): Laue group P m m m and space group P 21 21 21, every lattice element present as DIALS finds', () => {
  const ds = lCysteine();
  const res = run(ds, resolveOptions({}), silentLog);
  assert.equal(res.figures.laue_group, 'P m m m');
  assert.equal(res.figures.space_group, 'P 21 21 21');
  assert.ok((res.figures.laue_group_likelihood as number) > 0.9);
  // DIALS' operator table: identity and the three two-folds, all with likelihood > 0.9 (***)
  const el = res.outputs.elements;
  assert.deepEqual(el.map((e) => `${e.element.order}|${e.element.axis.join(',')}`).sort(), ['1|0,0,0', '2|0,0,1', '2|0,1,0', '2|1,0,0']);
  for (const e of el) assert.ok(e.likelihood > 0.9, `${e.element.order}|${e.element.axis}: ${e.likelihood}`);
  // Patterson table: P m m m, three P 1 2/m 1 and P -1, as in DIALS' log
  assert.deepEqual(res.outputs.subgroupScores.map((s) => s.setting.patterson.hm), ['P m m m', 'P 1 2/m 1', 'P 1 2/m 1', 'P 1 2/m 1', 'P -1']);
  // absences: DIALS counts 4/4, 6/6 and 8/7 present/absent along a, b, c
  const counts = res.outputs.absences!.screws.map((s) => [s.test.name, s.nPresent, s.nAbsent, s.score > 0.95]);
  assert.deepEqual(counts, [['21a', 4, 4, true], ['21b', 6, 6, true], ['21c', 8, 7, true]]);
  // reindexed reflections and crystals describe the same reciprocal-lattice points
  const before = ds.reflections.miller('miller_index'), after = res.outputs.reflections.miller('miller_index');
  const A0 = Crystal.A(ds.experiments[0].crystal!), A1 = Crystal.A(res.outputs.experiments[0].crystal!);
  for (let i = 0; i < 200; i++) {
    const r0 = Mat3.mulVec(A0, [before[3 * i], before[3 * i + 1], before[3 * i + 2]]);
    const r1 = Mat3.mulVec(A1, [after[3 * i], after[3 * i + 1], after[3 * i + 2]]);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(r0[c] - r1[c]) < 1e-9);
  }
  assert.equal(res.outputs.experiments[0].crystal!.spaceGroupHall.trim(), SpaceGroup.find('P 21 21 21').hall.trim());
});

test('no reflections after filtering, and an unknown space group, are clear errors', () => {
  const ds = lCysteine();
  ds.reflections.sizeT('flags').fill(1); // predicted only: nothing integrated
  assert.throws(() => run(ds, resolveOptions({}), silentLog), (e: Error) => e instanceof UserError && /no reflections left after filtering/.test(e.message));
  assert.throws(() => run(lCysteine(), resolveOptions({ space_group: 'P 4 5 6' }), silentLog), (e: Error) => e instanceof UserError && /P 4 5 6/.test(e.message));
});

const sim = '/work/shared/data/simulated/lysozyme_sweep/dials_reference';
test('simulated lysozyme sweep: P 4/m m m and P 4 21 2, the 4-fold screw left open (no 00l measured)', { skip: !existsSync(`${sim}/integrated.refl`) }, async () => {
  const ds = await loadDataset([`${sim}/integrated.expt`, `${sim}/integrated.refl`]);
  const res = run(ds, resolveOptions({}), silentLog);
  assert.equal(res.figures.laue_group, 'P 4/m m m');
  for (const e of res.outputs.elements) assert.ok(e.likelihood > 0.9, `${e.element.order}|${e.element.axis}`);
  assert.equal(res.figures.space_group, 'P 4 21 2');
  const a = res.outputs.absences!;
  const s21 = a.screws.find((s) => s.test.name === '21a')!;
  assert.ok(s21.score > 0.95 && s21.nAbsent > 10);
  assert.ok(a.screws.filter((s) => s.test.name !== '21a').every((s) => !s.testable));
  assert.ok(a.equivalent.includes('P 43 21 2')); // the truth is among the groups the data cannot separate
});

test('space_group= overrides the choice when the lattice allows it, and is refused when it does not', () => {
  const res = run(lCysteine(), resolveOptions({ space_group: 'P 2 2 21' }), silentLog);
  assert.equal(res.figures.space_group, 'P 2 2 21');
  assert.equal(res.figures.laue_group, 'P m m m');
  assert.throws(() => run(lCysteine(), resolveOptions({ space_group: 'P 4 2 2' }), silentLog), (e: Error) => e instanceof UserError && /not a subgroup of the lattice symmetry P m m m/.test(e.message));
});

test('systematic_absences.check=false keeps the Sohncke group without screws', () => {
  const res = run(lCysteine(), resolveOptions({ 'systematic_absences.check': false }), silentLog);
  assert.equal(res.figures.space_group, 'P 2 2 2');
  assert.equal(res.outputs.absences, null);
});
