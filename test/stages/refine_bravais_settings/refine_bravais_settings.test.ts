/**
 * refine_bravais_settings after indexing the regression inputs: the recommended lattice must be the
 * true one (tP for the simulated P 43 21 2 sweep; oP for l-cysteine, P 21 21 21) with the known cell.
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
import { PARAMS as INDEX_PARAMS, indexingOptionsFrom, run as index } from '../../../src/stages/index/index.js';
import { PARAMS, optionsFrom, run, symmetryCorrelations } from '../../../src/stages/refine_bravais_settings/index.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../regression-data/indexing');

async function indexed(expt: string, refl: string) {
  const exps = await readExperiments(path.join(DIR, expt));
  const r = index(exps, await readRefl(path.join(DIR, refl)), indexingOptionsFrom(defaults(INDEX_PARAMS), silentLog));
  return r.outputs;
}

function highestRecommended<T extends { recommended: boolean; settingId: number }>(settings: T[]): T | undefined {
  return settings.filter((s) => s.recommended).sort((a, b) => b.settingId - a.settingId)[0];
}

test('simulated lysozyme: tP recommended, a = b = 79.1, c = 38.2', async () => {
  const { experiments, reflections } = await indexed('lysozyme_imported.expt', 'lysozyme_30img.refl.gz');
  const r = run(experiments, reflections, optionsFrom(defaults(PARAMS), silentLog));
  const lattices = r.outputs.settings.map((s) => s.lattice).sort();
  assert.deepEqual(lattices, ['aP', 'mC', 'mC', 'mP', 'mP', 'mP', 'oC', 'oP', 'tP']); // DIALS lists the same nine
  const best = highestRecommended(r.outputs.settings)!;
  assert.equal(best.lattice, 'tP');
  const cell = Crystal.unitCell(best.experiments[0].crystal!);
  assert.ok(Math.abs(cell[0] - 79.1) < 0.08 && Math.abs(cell[1] - 79.1) < 0.08 && Math.abs(cell[2] - 38.2) < 0.04, `cell ${cell}`);
  assert.ok(Math.abs(cell[0] - cell[1]) < 1e-6 && cell.slice(3).every((x) => Math.abs(x - 90) < 1e-6));
  assert.equal(r.figures.recommended_lattice, 'tP');
});

test('l_cysteine joint: oP recommended with the known cell within 0.5 %', async () => {
  const { experiments, reflections } = await indexed('l_cysteine_imported.expt', 'l_cysteine_strong.refl');
  const r = run(experiments, reflections, optionsFrom(defaults(PARAMS), silentLog));
  const best = highestRecommended(r.outputs.settings)!;
  assert.equal(best.lattice, 'oP');
  const cell = Crystal.unitCell(best.experiments[0].crystal!);
  [5.428, 8.141, 12.038].forEach((x, i) => assert.ok(Math.abs(cell[i] / x - 1) < 5e-3, `cell ${cell}`));
});

test('symmetry correlations: perfect for intensities that obey the operator', () => {
  const miller = Int32Array.from([1, 2, 3, 2, 1, 3, 4, 1, 2, 1, 4, 2, 5, 3, 1, 3, 5, 1]);
  const I = Float64Array.from([10, 10, 50, 50, 7, 7]);
  const swap = { rot: [0, 1, 0, 1, 0, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number], tran: [0, 0, 0] as [number, number, number] };
  const cc = symmetryCorrelations(miller, I, [swap]);
  assert.ok(Math.abs(cc.min! - 1) < 1e-12);
});

test('MyD88 (inverted axis): mI 64.3 37.0 116.0 β 104.4 recommended; mC 117.8 37.0 64.3 β 107.5 with best_monoclinic_beta=False', async () => {
  const fixes = { 'refinement.parameterisation.detector.fix': ['distance'], 'refinement.parameterisation.goniometer.fix': null };
  const exps = await readExperiments(path.join(DIR, 'myd88_imported_axis_neg.expt'));
  const idx = index(exps, await readRefl(path.join(DIR, 'myd88_strong.refl.gz')), indexingOptionsFrom({ ...defaults(INDEX_PARAMS), ...fixes }, silentLog)).outputs;
  const want = { true: ['mI', [64.31, 37.02, 116.0, 90, 104.37, 90]], false: ['mC', [117.85, 37.02, 64.31, 90, 107.54, 90]] } as const;
  for (const beta of [true, false]) {
    const r = run(idx.experiments, idx.reflections, optionsFrom({ ...defaults(PARAMS), ...fixes, best_monoclinic_beta: beta }, silentLog));
    const [lattice, cell] = want[String(beta) as 'true' | 'false'];
    const s = r.outputs.settings.find((x) => x.lattice === lattice)!;
    assert.ok(s && s.recommended, `${lattice} offered and recommended`);
    assert.ok(Math.abs(s.metricFitDeg - 1.46) < 0.2, `metric fit ${s.metricFitDeg} (DIALS 1.46)`);
    s.unitCell.forEach((x, i) => assert.ok(Math.abs(x - cell[i]) < (i < 3 ? 0.01 * cell[i] : 0.5), `${lattice} cell ${s.unitCell}`));
  }
});
