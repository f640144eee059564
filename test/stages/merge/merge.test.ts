import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { decodeRefl } from '../../../src/core/io/refl.js';
import { readMtz, writeMtz, mtzColumn } from '../../../src/core/io/mtz.js';
import { silentLog } from '../../../src/core/log.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import type { Experiment } from '../../../src/core/models/types.js';
import { dSpacings, checkCells, loadDataset, medianCell, type Dataset } from '../../../src/core/stats/dataset.js';
import { readExperiments, writeExperiments } from '../../../src/core/io/expt.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';
import { UserError } from '../../../src/core/errors.js';
import { run, resolveOptions } from '../../../src/stages/merge/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const regression = path.join(here, '../../../regression-data/merging');

function dataset(): Dataset {
  const ref = JSON.parse(readFileSync(path.join(regression, 'l_cysteine_scaled_dials_merge.json'), 'utf8'));
  const reflections = decodeRefl(gunzipSync(readFileSync(path.join(regression, 'l_cysteine_scaled.refl.gz'))), 'l_cysteine_scaled.refl');
  const sg = SpaceGroup.find('P 21 21 21');
  const experiments: Experiment[] = [0, 1, 2, 3].map((i) => ({
    identifier: String(i),
    crystal: Crystal.fromCell(ref.cell, sg.hall),
    beam: { direction: [0, 0, 1], wavelength: ref.wavelength, divergence: 0, sigmaDivergence: 0, polarizationNormal: [0, 1, 0], polarizationFraction: 0.999, flux: 0, transmission: 1 },
  }));
  return { experiments, reflections, cell: UnitCell.fromParams(ref.cell), spaceGroup: sg, d: dSpacings(reflections, experiments) };
}

test('merge writes an MTZ with merged intensities and French–Wilson amplitudes that reads back', () => {
  const res = run(dataset(), resolveOptions({}), silentLog);
  const mtz = readMtz(writeMtz(res.outputs.mtz), 'merged.mtz');
  assert.equal(mtz.nReflections, 1565);
  assert.equal(mtz.symmetry.number, 19);
  assert.equal(mtz.symmetry.ops.length, 4);
  assert.deepEqual(mtz.columns.map((c) => c.label), ['H', 'K', 'L', 'IMEAN', 'SIGIMEAN', 'I(+)', 'SIGI(+)', 'I(-)', 'SIGI(-)', 'N(+)', 'N(-)', 'F', 'SIGF', 'F(+)', 'SIGF(+)', 'F(-)', 'SIGF(-)', 'DANO', 'SIGDANO']);
  assert.ok(Math.abs(mtz.cell[0] - 5.4815) < 1e-3);
  const I = mtzColumn(mtz, 'IMEAN').data, SI = mtzColumn(mtz, 'SIGIMEAN').data, F = mtzColumn(mtz, 'F').data, Np = mtzColumn(mtz, 'N(+)').data, Nm = mtzColumn(mtz, 'N(-)').data;
  let nObs = 0;
  for (let i = 0; i < mtz.nReflections; i++) {
    nObs += (Np[i] || 0) + (Nm[i] || 0);
    if (I[i] / SI[i] > 30) assert.ok(Math.abs(F[i] - Math.sqrt(I[i])) / Math.sqrt(I[i]) < 0.01, `F ${F[i]} vs √I ${Math.sqrt(I[i])}`);
  }
  // every observation that survived outlier rejection is counted once in N(+) + N(−)
  assert.equal(nObs, 11816 - res.outputs.nRejected);
  assert.equal(res.figures.n_obs_overall, 11816);
  assert.ok(Math.abs((res.figures.r_merge_overall as number) - 0.041) < 0.0006);
});

test('inconsistent cells are refused with a clear error', () => {
  const cells = [[5.48, 8.22, 12.15, 90, 90, 90], [5.48, 8.22, 12.15, 90, 90, 90], [5.48, 9.5, 12.15, 90, 90, 90]];
  assert.throws(() => checkCells(cells, medianCell(cells), ['a.expt']), (e: Error) => e instanceof UserError && /inconsistent unit cells: experiment 2/.test(e.message));
});

test('an unknown space group name is a clear error', () => {
  assert.throws(() => SpaceGroup.find('P 7 7'), (e: Error) => e instanceof UserError && /P 7 7/.test(e.message));
});

const lcysInt = '/work/shared/data/spots/l_cysteine_integrated';
test('loading experiments whose cells disagree is refused, naming the experiment', { skip: !existsSync(`${lcysInt}/20_integrated.expt`) }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-cells-'));
  try {
    const [a] = await readExperiments(`${lcysInt}/20_integrated.expt`);
    const [b] = await readExperiments(`${lcysInt}/25_integrated.expt`);
    // stretch the second crystal's c axis by 25 % (each then differs from the median of two by > 5 %)
    const c = b.crystal!;
    b.crystal = { ...c, realSpaceC: [1.25 * c.realSpaceC[0], 1.25 * c.realSpaceC[1], 1.25 * c.realSpaceC[2]], AAtScanPoints: undefined };
    await writeExperiments(path.join(dir, 'a.expt'), [a]);
    await writeExperiments(path.join(dir, 'b.expt'), [b]);
    await assert.rejects(
      loadDataset([path.join(dir, 'a.expt'), path.join(dir, 'b.expt'), `${lcysInt}/20_integrated.refl`, `${lcysInt}/25_integrated.refl`]),
      (e: Error) => e instanceof UserError && /inconsistent unit cells: experiment \d .*a\.expt, b\.expt/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
