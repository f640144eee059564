/**
 * `xtalflow refine indexed.expt indexed.refl` → refined.expt + refined.refl: scan-static geometry
 * refinement with the shared engine (core/refinement), DIALS' parameter names and `fix=` options.
 * Every indexed reflection is used by default (reflections_per_degree=None, as dials.refine does
 * for these table sizes); Tukey outliers are flagged `centroid_outlier`, the reflections used get
 * `used_in_refinement`, and predictions (xyzcal.mm/px, s1) are written for all indexed rows.
 */
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeRefl } from '../../core/io/refl.js';
import type { Log } from '../../core/log.js';
import type { Experiment } from '../../core/models/types.js';
import { Crystal } from '../../core/models/crystal.js';
import { Panel } from '../../core/models/detector.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { Flags } from '../../core/reflections/flags.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { formatTable } from '../../core/table.js';
import { indexedObservations } from '../../core/refinement/observations.js';
import { REFINEMENT_PARAMS, describeCrystal, refinerOptionsFrom, residualTable, rmsdTable, stepsTable } from '../../core/refinement/params.js';
import { refineGeometry, type RefinerOptions, type RefinerResult } from '../../core/refinement/refiner.js';
import { SpaceGroup } from '../../core/symmetry/index.js';
import { Mat3 } from '../../core/math/mat3.js';
import type { RefinementData } from '../../core/refinement/target.js';
import { decomposeA } from '../../core/refinement/parameterisation.js';
import { readPair } from '../../core/io/inputs.js';
import { Scan } from '../../core/models/scan.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'refined.expt', help: 'Output experiment list' },
  { name: 'output.reflections', type: 'path', default: 'refined.refl', help: 'Output reflection table' },
  { name: 'refinement.parameterisation.scan_varying', type: 'bool', default: null, allowNone: true,
    help: 'After the static refinement, refine a scan-varying crystal (orientation and cell smoothed along the scan). Auto: when the scan is wider than 5°' },
  { name: 'refinement.parameterisation.interval_width_degrees', type: 'float', default: 36, min: 0.1,
    help: 'Spacing of the scan-varying checkpoints (degrees)' },
  ...REFINEMENT_PARAMS.map((d) => (d.name === 'refinement.reflections.reflections_per_degree' ? { ...d, default: null } : d)),
];

export interface RefineStageOptions {
  refiner: RefinerOptions;
  /** null: Auto (scan-varying when every scan is wider than 5°) */
  scanVarying: boolean | null;
  intervalDeg: number;
}

export interface RefineOutputs {
  experiments: Experiment[];
  reflections: ReflectionTable;
  result: RefinerResult;
}

/** Lattice point-group operators (on Miller indices) of each experiment's space group, for the cell constraint. */
export function cellOperators(exps: readonly Experiment[]): Mat3[][] {
  return exps.map((e) => {
    const hall = e.crystal?.spaceGroupHall ?? ' P 1';
    let sg: SpaceGroup;
    try { sg = SpaceGroup.fromHall(hall); } catch { throw new UserError(`crystal space group '${hall}' is not a Hall symbol this program knows`, 'bad_model'); }
    return sg.symOps.filter((o) => Mat3.determinant(Mat3.from(o.rot)) > 0).map((o) => Mat3.transpose(Mat3.from(o.rot)));
  });
}

/** Writes predictions and refinement flags for the indexed `rows` of a copy of `table`. */
export function annotate(table: ReflectionTable, rows: Int32Array, data: RefinementData, exps: readonly Experiment[], res: RefinerResult): ReflectionTable {
  const t = table.clone();
  const n = t.nrows;
  const calMm = t.has('xyzcal.mm') ? Float64Array.from(t.vec3('xyzcal.mm')) : new Float64Array(3 * n);
  const calPx = t.has('xyzcal.px') ? Float64Array.from(t.vec3('xyzcal.px')) : new Float64Array(3 * n);
  const s1 = t.has('s1') ? Float64Array.from(t.vec3('s1')) : new Float64Array(3 * n);
  const flags = t.sizeT('flags');
  const tmp = new Float64Array(2);
  const DEG = Math.PI / 180;
  for (let i = 0; i < n; i++) {
    const f = flags[i];
    flags[i] = f - ((f >>> 0) & (Flags.used_in_refinement | Flags.centroid_outlier));
  }
  rows.forEach((row, k) => {
    if (res.used[k]) flags[row] += Flags.used_in_refinement;
    if (res.outlier[k]) flags[row] += Flags.centroid_outlier;
    if (!res.predictions.valid[k]) return;
    const e = exps[data.experiment[k]];
    const p = e.detector!.panels[data.panel[k]];
    calMm[3 * row] = res.predictions.xCal[k]; calMm[3 * row + 1] = res.predictions.yCal[k]; calMm[3 * row + 2] = res.predictions.phiCal[k];
    Panel.mmToPixelInto(p, res.predictions.xCal[k], res.predictions.yCal[k], tmp);
    calPx[3 * row] = tmp[0]; calPx[3 * row + 1] = tmp[1];
    calPx[3 * row + 2] = Scan.frameFromAngle(e.scan!, res.predictions.phiCal[k] / DEG);
    for (let j = 0; j < 3; j++) s1[3 * row + j] = res.predictions.s1[3 * k + j];
  });
  t.setVec3('xyzcal.mm', calMm);
  t.setVec3('xyzcal.px', calPx);
  t.setVec3('s1', s1);
  return t;
}

export function run(experiments: Experiment[], table: ReflectionTable, options: RefinerOptions | RefineStageOptions, log: Log, source = 'indexed.refl'): StageResult<RefineOutputs> {
  const stage: RefineStageOptions = 'refiner' in options ? options : { refiner: options, scanVarying: false, intervalDeg: 36 };
  const opts = stage.refiner;
  const { data, rows } = indexedObservations(table, experiments, source);
  const cellOps = cellOperators(experiments);
  const staticRes = refineGeometry(experiments, data, { ...opts, cellOps });
  if (staticRes.rmsds.every((r) => r.nref === 0)) throw new UserError('refinement failed: no reflection could be predicted with the input models', 'refinement_failed');
  const describe = (what: string, r: RefinerResult) => log.info(`${what}: ${r.parameterNames.length} parameters, ${r.rmsds.reduce((s, x) => s + x.nref, 0)} reflections (${r.nOutliers} outliers rejected), ${r.history.reason} after ${r.history.iterations} iterations; RMSDs ${r.rmsds.map((x) => `${x.xPx.toFixed(4)} px ${x.yPx.toFixed(4)} px ${x.zImages.toFixed(4)} images`).join('; ')}`);
  describe('Static refinement', staticRes);
  if (staticRes.autoFixed.length) log.info(`Fixed, not determined by these data: ${staticRes.autoFixed.join(', ')}`);
  const widthDeg = Math.min(...experiments.map((e) => (e.scan ? Math.abs(e.scan.oscillation[1]) * (e.scan.imageRange[1] - e.scan.imageRange[0] + 1) : 0)));
  const doSv = stage.scanVarying ?? widthDeg > 5;
  let res = staticRes;
  if (doSv) {
    res = refineGeometry(staticRes.experiments, data, { ...opts, cellOps, scanVarying: { intervalDeg: stage.intervalDeg } });
    describe('Scan-varying refinement', res);
  }
  const out = annotate(table, rows, data, res.experiments, res);
  const crystals = [...new Set(res.experiments.map((e) => e.crystal))];
  const tables = [
    { title: 'Residuals before outlier rejection', text: residualTable(res.residualSummary.before) },
    { title: 'Residuals after outlier rejection', text: residualTable(res.residualSummary.after) },
    { title: 'Refinement steps', text: stepsTable(res.steps) },
    { title: 'RMSDs by experiment', text: rmsdTable(res.rmsds) },
    { title: 'Refined crystal models', text: crystals.map((c, k) => `model ${k + 1}:\n${describeCrystal(c!)}`).join('\n') },
    { title: 'Refinement', text: formatTable(['Parameters', 'Nref', 'Outliers', 'Steps', 'Stop'], [[res.parameterNames.length, res.rmsds.reduce((s, r) => s + r.nref, 0), res.nOutliers, res.history.iterations, res.history.reason]]) },
  ];
  const wsum = (f: (r: (typeof res.rmsds)[number]) => number) => {
    let s = 0, w = 0;
    for (const r of res.rmsds) if (r.nref > 0) { s += f(r) ** 2 * r.nref; w += r.nref; }
    return w > 0 ? Math.sqrt(s / w) : NaN;
  };
  return {
    outputs: { experiments: res.experiments, reflections: out, result: res },
    figures: {
      n_parameters: res.parameterNames.length,
      scan_varying: doSv,
      static_rmsd_x_px: staticRes.rmsds[0]?.xPx ?? null, static_rmsd_y_px: staticRes.rmsds[0]?.yPx ?? null, static_rmsd_z_images: staticRes.rmsds[0]?.zImages ?? null,
      n_reflections: res.rmsds.reduce((s, r) => s + r.nref, 0),
      rmsd_x_px: wsum((r) => r.xPx), rmsd_y_px: wsum((r) => r.yPx), rmsd_z_images: wsum((r) => r.zImages),
      unit_cell: Crystal.unitCell(res.experiments[0].crystal!),
      ...scanVaryingFigures(res.experiments[0]),
    },
    tables,
  };
}

/** Cell parameters and orientation drift at every scan point of a scan-varying crystal (for plots). */
function scanVaryingFigures(e: Experiment): Record<string, number[]> {
  const pts = e.crystal?.AAtScanPoints;
  if (!pts || !e.scan) return {};
  const out: Record<string, number[]> = { sv_phi_deg: [], sv_a: [], sv_b: [], sv_c: [], sv_alpha: [], sv_beta: [], sv_gamma: [], sv_rotation_deg: [] };
  const U0 = decomposeA(pts[0]).U;
  pts.forEach((A, k) => {
    const cell = Crystal.unitCell({ ...e.crystal!, ...crystalAxes(A) });
    out.sv_phi_deg.push(e.scan!.oscillation[0] + k * e.scan!.oscillation[1]);
    ['sv_a', 'sv_b', 'sv_c', 'sv_alpha', 'sv_beta', 'sv_gamma'].forEach((name, i) => out[name].push(cell[i]));
    out.sv_rotation_deg.push((Mat3.rotationAngle(Mat3.mul(decomposeA(A).U, Mat3.transpose(U0))) * 180) / Math.PI);
  });
  return out;
}

function crystalAxes(A: Mat3): { realSpaceA: [number, number, number]; realSpaceB: [number, number, number]; realSpaceC: [number, number, number] } {
  const Ai = Mat3.inverse(A);
  return { realSpaceA: Mat3.row(Ai, 0), realSpaceB: Mat3.row(Ai, 1), realSpaceC: Mat3.row(Ai, 2) };
}

export function optionsFrom(p: Params): RefineStageOptions {
  return {
    refiner: refinerOptionsFrom(p, 'mcd'),
    scanVarying: p['refinement.parameterisation.scan_varying'] ?? null,
    intervalDeg: p['refinement.parameterisation.interval_width_degrees'] ?? 36,
  };
}

export const program: Program = {
  name: 'refine',
  summary: 'Refine the experimental geometry (scan-static) against indexed reflections (refined.expt/.refl)',
  usage: 'xtalflow refine indexed.expt indexed.refl [detector.fix=distance] [beam.fix=all] [crystal.fix=cell] [goniometer.fix=None]',
  params: PARAMS,
  async main(ctx) {
    const { refl, experiments, reflections: table } = await readPair(ctx.files, 'refine', 'indexed.expt indexed.refl');
    const result = run(experiments, table, optionsFrom(ctx.params), ctx.log, refl);
    for (const t of result.tables) ctx.log.info(`${t.title}:\n${t.text}`);
    const outE = path.resolve(String(ctx.params['output.experiments'] ?? 'refined.expt'));
    const outR = path.resolve(String(ctx.params['output.reflections'] ?? 'refined.refl'));
    await writeExperiments(outE, result.outputs.experiments);
    await writeRefl(outR, result.outputs.reflections);
    ctx.log.info(`Saving refined experiments to ${path.basename(outE)}`);
    ctx.log.info(`Saving reflections with updated predictions to ${path.basename(outR)}`);
    return { ...result, outputs: { experiments: outE, reflections: outR } };
  },
};
