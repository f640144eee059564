import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { decodeRefl } from '../../../src/core/io/refl.js';
import { readMtz, writeMtz, mtzColumn, BatchReal } from '../../../src/core/io/mtz.js';
import { silentLog } from '../../../src/core/log.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import type { Experiment } from '../../../src/core/models/types.js';
import { dSpacings, loadDataset, type Dataset } from '../../../src/core/stats/dataset.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';
import { ReciprocalAsu } from '../../../src/core/symmetry/asu.js';
import { Op } from '../../../src/core/symmetry/op.js';
import { UnitCell } from '../../../src/core/symmetry/unitcell.js';
import { runMtz, runJson, resolveOptions, batchOffsets } from '../../../src/stages/export/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const regression = path.join(here, '../../../regression-data/merging');

function dataset(): Dataset {
  const ref = JSON.parse(readFileSync(path.join(regression, 'l_cysteine_scaled_dials_merge.json'), 'utf8'));
  const reflections = decodeRefl(gunzipSync(readFileSync(path.join(regression, 'l_cysteine_scaled.refl.gz'))), 'l_cysteine_scaled.refl');
  const sg = SpaceGroup.find('P 21 21 21');
  const images = [1800, 1700, 1700, 1700];
  const experiments: Experiment[] = images.map((nImg, i) => ({
    identifier: String(i),
    crystal: Crystal.fromCell(ref.cell, sg.hall),
    beam: { direction: [0, 0, 1], wavelength: ref.wavelength, divergence: 0, sigmaDivergence: 0, polarizationNormal: [0, 1, 0], polarizationFraction: 0.999, flux: 0, transmission: 1 },
    scan: { imageRange: [1, nImg], oscillation: [-145 + 10 * i, 0.1], exposureTimes: [], epochs: [], batchOffset: 0 },
    goniometer: { rotationAxis: [1, 0, 0], fixedRotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], settingRotation: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
  }));
  return { experiments, reflections, cell: UnitCell.fromParams(ref.cell), spaceGroup: sg, d: dSpacings(reflections, experiments) };
}

test('batch offsets keep sweeps apart', () => {
  const e = (n: number) => ({ identifier: '', scan: { imageRange: [1, n] as [number, number], oscillation: [0, 1] as [number, number], exposureTimes: [], epochs: [], batchOffset: 0 } });
  assert.deepEqual(batchOffsets([e(1800), e(1700), e(1700), e(50)]), [0, 1900, 3700, 5500]);
});

test('unmerged MTZ: ASU indices with M/ISYM recovering the measured index, batches and orientation blocks', () => {
  const ds = dataset();
  const res = runMtz(ds, resolveOptions({}), silentLog);
  const mtz = readMtz(writeMtz(res.outputs.mtz), 'scaled.mtz');
  assert.equal(mtz.nReflections, 11816);
  assert.equal(mtz.batches.length, 1800 + 3 * 1700);
  const labels = mtz.columns.map((c) => c.label);
  for (const l of ['H', 'K', 'L', 'M/ISYM', 'BATCH', 'I', 'SIGI', 'IPR', 'SIGIPR', 'SCALEUSED', 'FRACTIONCALC', 'XDET', 'YDET', 'ROT', 'LP', 'QE']) assert.ok(labels.includes(l), l);
  // Batch 1901 is image 1 of the second sweep: φ starts at −135°.
  const b = mtz.batches.find((x) => x.number === 1901)!;
  assert.ok(Math.abs(b.floats[BatchReal.phiStart] + 135) < 1e-4);
  assert.ok(Math.abs(b.floats[BatchReal.wavelength] - 0.6889) < 1e-6);
  // Every (H, K, L, ISYM) maps back to an index equivalent to an observed one, and the multiset of
  // original indices equals the input's selected rows.
  const sg = ds.spaceGroup;
  const H = mtzColumn(mtz, 'H').data, K = mtzColumn(mtz, 'K').data, L = mtzColumn(mtz, 'L').data, IS = mtzColumn(mtz, 'M/ISYM').data;
  const asu = new ReciprocalAsu(sg);
  const seen = new Map<string, number>();
  for (let i = 0; i < mtz.nReflections; i++) {
    const isym = IS[i];
    const op = sg.symOps[(isym - 1) >> 1];
    // h_asu = h_orig · R (± for Friedel); invert: h_orig = ±h_asu · R⁻¹
    const sign = isym % 2 === 1 ? 1 : -1;
    const inv = Op.invRot(op.rot);
    const h = [H[i], K[i], L[i]].map((x) => sign * x);
    const orig = [0, 1, 2].map((c) => h[0] * inv[c] + h[1] * inv[3 + c] + h[2] * inv[6 + c]);
    assert.deepEqual(asu.toAsu(orig).hkl, [H[i], K[i], L[i]]);
    const k = orig.join(',');
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  const mi = ds.reflections.miller('miller_index');
  const flags = ds.reflections.sizeT('flags');
  const want = new Map<string, number>();
  for (let r = 0; r < ds.reflections.nrows; r++) {
    if ((flags[r] >>> 0) & ((1 << 22) | (1 << 23) | (1 << 24))) continue;
    const k = [mi[3 * r], mi[3 * r + 1], mi[3 * r + 2]].join(',');
    want.set(k, (want.get(k) ?? 0) + 1);
  }
  assert.deepEqual(seen, want);
});

const lcys = '/work/shared/data/spots/l_cysteine_integrated';
test('format=json: reciprocal-lattice points from s1 and φ agree with DIALS\' rlp column', { skip: !existsSync(`${lcys}/20_integrated.refl`) }, async () => {
  const ds = await loadDataset([`${lcys}/20_integrated.expt`, `${lcys}/20_integrated.refl`]);
  const t = ds.reflections;
  const dialsRlp = t.vec3('rlp').slice();
  t.del('rlp');
  const out = runJson(ds).outputs.json as { rlp: number[][] };
  const rel: number[] = [];
  for (let i = 0; i < t.nrows; i++) {
    const len = Math.hypot(dialsRlp[3 * i], dialsRlp[3 * i + 1], dialsRlp[3 * i + 2]);
    if (len === 0) continue; // DIALS only filled rlp for the strong spots
    rel.push(Math.hypot(...[0, 1, 2].map((c) => out.rlp[i][c] - dialsRlp[3 * i + c])) / len);
  }
  rel.sort((a, b) => a - b);
  // DIALS computed its rlp at indexing time from observed spots and the unrefined model; ours come
  // from the integrated s1 and refined geometry, so they agree to the refinement's shifts (~0.5 %).
  assert.ok(rel.length > 1000);
  assert.ok(rel[rel.length >> 1] < 0.01, `median relative difference ${rel[rel.length >> 1]}`);
});
