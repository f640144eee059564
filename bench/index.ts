/**
 * `index` wall time and figures vs DIALS 3.12 on the shared data (skipped when ../shared/data is
 * absent): the simulated lysozyme sweep (58 615 spots, truth known), l_cysteine (4 sweeps, joint),
 * MyD88 (inverted axis, detector.fix=distance goniometer.fix=None) and i04_weak_data.
 * One run each (the machine is shared); `index` time covers run() only, files already read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExperiments } from '../src/core/io/expt.js';
import { readRefl } from '../src/core/io/refl.js';
import { defaults } from '../src/core/params/index.js';
import { silentLog } from '../src/core/log.js';
import { Crystal } from '../src/core/models/crystal.js';
import { Mat3 } from '../src/core/math/mat3.js';
import { decomposeA } from '../src/core/refinement/parameterisation.js';
import { PARAMS, indexingOptionsFrom, run } from '../src/stages/index/index.js';

const DATA = process.env.XTALFLOW_DATA ?? '/work/shared/data';
const REG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../regression-data/indexing');

type Row = Record<string, string | number | boolean | null>;

/** Angle (°) between orientations after matching bases by the nearest integer change of basis. */
function orientationDifferenceDeg(A: Mat3, Atruth: Mat3): number {
  const P = Mat3.mul(Mat3.inverse(A), Atruth).map(Math.round) as Mat3;
  const s = Mat3.determinant(P) < 0 ? -1 : 1;
  const U1 = decomposeA(Mat3.scale(Mat3.mul(A, P), s)).U, U2 = decomposeA(Mat3.scale(Atruth, s)).U;
  return (Mat3.rotationAngle(Mat3.mul(U1, Mat3.transpose(U2))) * 180) / Math.PI;
}

interface Case { name: string; expt: string; refl: string; params?: Record<string, unknown>; dialsSeconds: number; dialsPercent: number; truth?: string }

export async function benchIndex(): Promise<Row[]> {
  if (!existsSync(DATA)) return [];
  const cases: Case[] = [
    { name: 'simulated lysozyme', expt: `${DATA}/simulated/lysozyme_sweep/dials_reference/imported.expt`, refl: `${DATA}/simulated/lysozyme_sweep/dials_reference/strong.refl`, dialsSeconds: 33.15, dialsPercent: 99.9, truth: `${DATA}/simulated/lysozyme_sweep/ground_truth.expt` },
    { name: 'l_cysteine (joint)', expt: `${REG}/l_cysteine_imported.expt`, refl: `${DATA}/reference/l_cysteine/strong.refl`, dialsSeconds: 22, dialsPercent: 80.6 },
    { name: 'MyD88 axis inverted', expt: `${DATA}/spots/MyD88/imported_axis_neg.expt`, refl: `${DATA}/spots/MyD88/strong.refl`, params: { 'refinement.parameterisation.detector.fix': ['distance'], 'refinement.parameterisation.goniometer.fix': null }, dialsSeconds: 15, dialsPercent: 89.0 },
    { name: 'MyD88 axis as imported', expt: `${DATA}/spots/MyD88/imported_axis_pos.expt`, refl: `${DATA}/spots/MyD88/strong.refl`, params: { 'refinement.parameterisation.detector.fix': ['distance'], 'refinement.parameterisation.goniometer.fix': null }, dialsSeconds: 22, dialsPercent: 89.0 },
    { name: 'i04_weak_data', expt: `${DATA}/spots/i04_weak_data/experiments.expt`, refl: `${DATA}/spots/i04_weak_data/indexed.refl`, dialsSeconds: NaN, dialsPercent: NaN },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    if (!existsSync(c.expt) || !existsSync(c.refl)) continue;
    const exps = await readExperiments(c.expt);
    const strong = await readRefl(c.refl);
    const t0 = performance.now();
    const r = run(exps, strong, indexingOptionsFrom({ ...defaults(PARAMS), ...(c.params ?? {}) }, silentLog));
    const seconds = (performance.now() - t0) / 1000;
    const cell = Crystal.unitCell(r.outputs.experiments[0].crystal!);
    let orientation: number | null = null;
    if (c.truth) {
      const truth = await readExperiments(c.truth);
      orientation = orientationDifferenceDeg(Crystal.A(r.outputs.experiments[0].crystal!), Crystal.A(truth[0].crystal!));
    }
    rows.push({
      dataset: c.name, spots: r.figures.n_spots as number, xtalflow_s: seconds, dials_s: Number.isFinite(c.dialsSeconds) ? c.dialsSeconds : null,
      percent_indexed: r.figures.percent_indexed as number, dials_percent: Number.isFinite(c.dialsPercent) ? c.dialsPercent : null,
      rmsd_x_px: r.figures.rmsd_x_px as number, rmsd_y_px: r.figures.rmsd_y_px as number, rmsd_z_images: r.figures.rmsd_z_images as number,
      cell: cell.map((x) => x.toFixed(3)).join(' '), orientation_vs_truth_deg: orientation,
    });
  }
  return rows;
}

/**
 * `refine` (static, then scan-varying when the scan is > 5°) vs dials.refine: i04_weak_data (DIALS:
 * 4.7 s static + 56.8 s scan-varying) and the simulated sweep after our index → Bravais → reindex
 * (DIALS refine: 44.1 s), with the refined cell and orientation against the truth.
 */
export async function benchRefine(): Promise<Row[]> {
  if (!existsSync(DATA)) return [];
  const { PARAMS: RP, optionsFrom, run: refine } = await import('../src/stages/refine/index.js');
  const cases = [
    { name: 'i04_weak_data', expt: `${DATA}/spots/i04_weak_data/experiments.expt`, refl: `${DATA}/spots/i04_weak_data/indexed.refl`, dials: 4.68 + 56.79, dialsRmsd: '0.1766 0.1494 0.0831' },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    if (!existsSync(c.expt) || !existsSync(c.refl)) continue;
    const exps = await readExperiments(c.expt);
    const t = await readRefl(c.refl);
    const t0 = performance.now();
    const r = refine(exps, t, optionsFrom(defaults(RP)), silentLog);
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      dataset: c.name, xtalflow_s: seconds, dials_s: c.dials, scan_varying: r.figures.scan_varying as boolean, parameters: r.figures.n_parameters as number,
      nref: r.figures.n_reflections as number, rmsd_x_px: r.figures.rmsd_x_px as number, rmsd_y_px: r.figures.rmsd_y_px as number,
      rmsd_z_images: r.figures.rmsd_z_images as number, dials_rmsd: c.dialsRmsd,
    });
  }
  // the whole chain on the simulated sweep, against the truth: index → tP setting → reindex → refine
  const sim = `${DATA}/simulated/lysozyme_sweep`;
  if (existsSync(`${sim}/dials_reference/strong.refl`)) {
    const bravais = await import('../src/stages/refine_bravais_settings/index.js');
    const { run: reindex } = await import('../src/stages/reindex/index.js');
    const exps = await readExperiments(`${sim}/dials_reference/imported.expt`);
    const idx = run(exps, await readRefl(`${sim}/dials_reference/strong.refl`), indexingOptionsFrom(defaults(PARAMS), silentLog)).outputs;
    const t0 = performance.now();
    const b = bravais.run(idx.experiments, idx.reflections, bravais.optionsFrom(defaults(bravais.PARAMS), silentLog));
    const tBravais = (performance.now() - t0) / 1000;
    const best = b.outputs.settings.filter((x) => x.recommended).sort((x, y) => y.settingId - x.settingId)[0];
    const t = reindex(null, idx.reflections, best.cbOp, null).outputs.reflections!;
    const t1 = performance.now();
    const r = refine(best.experiments, t, optionsFrom(defaults(RP)), silentLog);
    const seconds = (performance.now() - t1) / 1000;
    const truth = await readExperiments(`${sim}/ground_truth.expt`);
    const c = r.outputs.experiments[0].crystal!;
    rows.push({
      dataset: `simulated lysozyme, ${best.lattice} (bravais ${tBravais.toFixed(1)} s vs DIALS 10.8 s)`, xtalflow_s: seconds, dials_s: 44.14,
      scan_varying: r.figures.scan_varying as boolean, parameters: r.figures.n_parameters as number, nref: r.figures.n_reflections as number,
      rmsd_x_px: r.figures.rmsd_x_px as number, rmsd_y_px: r.figures.rmsd_y_px as number, rmsd_z_images: r.figures.rmsd_z_images as number,
      dials_rmsd: '0.064 0.044 0.056',
      cell: Crystal.unitCell(c).map((x) => x.toFixed(4)).join(' '),
      orientation_vs_truth_deg: orientationDifferenceDeg(Crystal.A(c), Crystal.A(truth[0].crystal!)),
    });
  }
  return rows;
}

// `npx tsx bench/index.ts` prints the tables directly
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const r of await benchIndex()) console.log(JSON.stringify(r));
  for (const r of await benchRefine()) console.log(JSON.stringify(r));
}
