/**
 * `xtalflow export scaled.expt scaled.refl` → scaled.mtz (unmerged), or `format=json` → a JSON
 * file of reciprocal-lattice points per reflection (as DIALS' json export, for viewers).
 *
 * The unmerged MTZ keeps one row per observation: H K L are the ASU index and M/ISYM the
 * symmetry operator (odd = I+, even = I−) that recovers the measured index, BATCH the image (with
 * a per-sweep offset so batches of different sweeps never coincide), and one orientation block
 * per batch (cell, U, φ range, axes, wavelength) so that AIMLESS/POINTLESS can work from it.
 */
import { writeFileAtomic } from '../../core/io/atomic.js';
import { batchHeader, writeMtz, type Mtz, type MtzBatch, type MtzColumn, mtzDatasets } from '../../core/io/mtz.js';
import { mtzSymmetry } from '../../core/io/mtz_symmetry.js';
import type { Log } from '../../core/log.js';
import { Mat3 } from '../../core/math/mat3.js';
import { Beam } from '../../core/models/beam.js';
import { Crystal } from '../../core/models/crystal.js';
import { Goniometer } from '../../core/models/goniometer.js';
import type { Experiment } from '../../core/models/types.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { loadDataset, type Dataset } from '../../core/stats/dataset.js';
import { prepareIntensities, type IntensityKind } from '../../core/stats/prepare.js';
import { ReciprocalAsu } from '../../core/symmetry/asu.js';
import { Flags } from '../../core/reflections/flags.js';
import { ParameterError, UserError } from '../../core/errors.js';
import { Scan } from '../../core/models/scan.js';

export const PARAMS: ParamDef[] = [
  { name: 'format', type: 'choice', default: 'mtz', choices: ['mtz', 'json'], help: 'Output format' },
  { name: 'mtz.hklout', type: 'path', default: 'scaled.mtz', help: 'Unmerged MTZ file' },
  { name: 'json.filename', type: 'path', default: 'rlp.json', help: 'JSON file of reciprocal-lattice points' },
  { name: 'intensity', type: 'choice', default: 'auto', choices: ['auto', 'scale', 'prf', 'sum'], valueAliases: { profile: 'prf' }, help: 'Intensity for I/SIGI (auto: scaled when present, else summed with IPR/SIGIPR from profile fitting)' },
  { name: 'mtz.crystal_name', type: 'str', default: 'XTAL', help: 'Crystal name' },
  { name: 'mtz.project_name', type: 'str', default: 'AUTOMATIC', help: 'Project name' },
  { name: 'mtz.dataset_name', type: 'str', default: 'NATIVE', help: 'Dataset name' },
  { name: 'd_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit (Å)' },
];

export interface ExportOptions {
  intensity: IntensityKind;
  dMin: number | null;
  names: { project: string; crystal: string; dataset: string };
}

export function resolveOptions(p: Params): ExportOptions {
  return {
    intensity: (p['intensity'] ?? 'auto') as IntensityKind,
    dMin: p['d_min'] ?? null,
    names: { project: p['mtz.project_name'] ?? 'AUTOMATIC', crystal: p['mtz.crystal_name'] ?? 'XTAL', dataset: p['mtz.dataset_name'] ?? 'NATIVE' },
  };
}

/**
 * Batch offset per experiment: image numbers as they are for the first sweep; each later sweep
 * starts one hundred above the previous sweep's last batch rounded up to a hundred (DIALS' rule,
 * so that batch numbers tell sweeps apart at a glance).
 */
export function batchOffsets(experiments: readonly Experiment[]): number[] {
  const out: number[] = [];
  let last = 0;
  for (const [i, e] of experiments.entries()) {
    const [first, end] = e.scan?.imageRange ?? [1, 1];
    let offset = e.scan?.batchOffset ?? 0;
    if (i > 0) offset = Math.max(offset, Math.ceil(last / 100) * 100 + 100 - (first - 1));
    out.push(offset);
    last = end + offset;
  }
  return out;
}

function optional(t: Dataset['reflections'], name: string, type: 'double' | 'vec3'): Float64Array | null {
  if (!t.has(name)) return null;
  return type === 'double' ? t.double(name) : t.vec3(name);
}

export function runMtz(ds: Dataset, opts: ExportOptions, log: Log): StageResult<{ mtz: Mtz }> {
  const { reflections: t, spaceGroup: sg, cell, experiments } = ds;
  // Unscaled data: I/SIGI from summation and IPR/SIGIPR from profile fitting, as DIALS exports them.
  const intensity: IntensityKind = opts.intensity === 'auto' ? (t.has('intensity.scale.value') && t.has('inverse_scale_factor') ? 'scale' : 'sum') : opts.intensity;
  const prep = prepareIntensities(t, ds.d, { intensity, dMin: opts.dMin, combinePartials: false, partialityThreshold: 0 }, ds.source ?? 'reflections');
  const kind = prep.kind;
  log.info(`Exporting ${prep.rows.length} of ${t.nrows} reflections (${kind} intensities)`);
  const n = prep.rows.length;
  const mi = t.miller('miller_index');
  const id = t.has('id') ? t.int('id') : new Int32Array(t.nrows);
  const asu = new ReciprocalAsu(sg);
  const offsets = batchOffsets(experiments);
  const px = optional(t, 'xyzobs.px.value', 'vec3') ?? optional(t, 'xyzcal.px', 'vec3');
  // As DIALS exports: detector position and batch from the observed centroid, ROT from the prediction.
  const mm = optional(t, 'xyzcal.mm', 'vec3') ?? optional(t, 'xyzobs.mm.value', 'vec3');
  const lp = optional(t, 'lp', 'double'), qe = optional(t, 'qe', 'double') ?? optional(t, 'dqe', 'double');
  const partiality = optional(t, 'partiality', 'double');
  const flags = t.has('flags') ? t.sizeT('flags') : new Float64Array(t.nrows).fill(Flags.integrated_prf);
  const prfV = optional(t, 'intensity.prf.value', 'double'), prfVar = optional(t, 'intensity.prf.variance', 'double');
  const scale = optional(t, 'inverse_scale_factor', 'double'), scaleVar = optional(t, 'inverse_scale_factor_variance', 'double');
  const bg = optional(t, 'background.sum.value', 'double') ?? optional(t, 'background.mean', 'double'), bgVar = optional(t, 'background.sum.variance', 'double');
  if (!px) throw new UserError('reflections: need xyzcal.px or xyzobs.px.value to assign batches', 'missing_column');

  const col = () => new Float32Array(n).fill(NaN);
  const H = col(), K = col(), L = col(), MISYM = col(), BATCH = col(), I = col(), SIGI = col();
  const IPR = prfV && kind !== 'prf' ? col() : null, SIGIPR = IPR ? col() : null;
  const SCALE = kind === 'scale' && scale ? col() : null, SIGSCALE = SCALE && scaleVar ? col() : null;
  const BG = bg ? col() : null, SIGBG = bgVar ? col() : null;
  const FRAC = col(), XDET = col(), YDET = col(), ROT = col(), LP = col(), QE = col();
  const used = new Map<number, { exp: number; image: number }>();
  for (let j = 0; j < n; j++) {
    const r = prep.rows[j];
    const e = experiments[id[r]] ?? experiments[0];
    const a = asu.toAsu([mi[3 * r], mi[3 * r + 1], mi[3 * r + 2]]);
    H[j] = a.hkl[0]; K[j] = a.hkl[1]; L[j] = a.hkl[2]; MISYM[j] = a.isym;
    const z = px[3 * r + 2];
    const image = Math.floor(z) + 1;
    const batch = image + offsets[id[r]] ;
    BATCH[j] = batch;
    used.set(batch, { exp: id[r], image });
    I[j] = prep.I[j]; SIGI[j] = prep.sigma[j];
    const conv = (lp ? lp[r] : 1) / (qe && qe[r] > 0 ? qe[r] : 1);
    if (IPR && SIGIPR && prfV && prfVar && prfVar[r] > 0 && ((flags[r] >>> 0) & Flags.integrated_prf)) {
      const s = SCALE && scale ? scale[r] : 1;
      IPR[j] = (prfV[r] * conv) / s; SIGIPR[j] = (Math.sqrt(Math.max(prfVar[r], 0)) * conv) / s;
    }
    if (SCALE && scale) SCALE[j] = scale[r];
    if (SIGSCALE && scaleVar) SIGSCALE[j] = Math.sqrt(Math.max(scaleVar[r], 0));
    if (BG && bg) BG[j] = bg[r];
    if (SIGBG && bgVar) SIGBG[j] = Math.sqrt(Math.max(bgVar[r], 0));
    FRAC[j] = partiality ? partiality[r] : 1;
    XDET[j] = px[3 * r]; YDET[j] = px[3 * r + 1];
    ROT[j] = mm ? (mm[3 * r + 2] * 180) / Math.PI : e.scan ? Scan.angleFromFrame(e.scan, z) : 0;
    LP[j] = lp ? lp[r] : 1; QE[j] = qe ? qe[r] : 1;
  }
  const columns: MtzColumn[] = [
    { label: 'H', type: 'H', datasetId: 0, data: H }, { label: 'K', type: 'H', datasetId: 0, data: K }, { label: 'L', type: 'H', datasetId: 0, data: L },
    { label: 'M/ISYM', type: 'Y', datasetId: 0, data: MISYM }, { label: 'BATCH', type: 'B', datasetId: 0, data: BATCH },
    { label: 'I', type: 'J', datasetId: 1, data: I }, { label: 'SIGI', type: 'Q', datasetId: 1, data: SIGI },
  ];
  if (IPR && SIGIPR) columns.push({ label: 'IPR', type: 'J', datasetId: 1, data: IPR }, { label: 'SIGIPR', type: 'Q', datasetId: 1, data: SIGIPR });
  if (SCALE) columns.push({ label: 'SCALEUSED', type: 'R', datasetId: 1, data: SCALE });
  if (SIGSCALE) columns.push({ label: 'SIGSCALEUSED', type: 'R', datasetId: 1, data: SIGSCALE });
  if (BG) columns.push({ label: 'BG', type: 'R', datasetId: 1, data: BG });
  if (SIGBG) columns.push({ label: 'SIGBG', type: 'R', datasetId: 1, data: SIGBG });
  columns.push(
    { label: 'FRACTIONCALC', type: 'R', datasetId: 1, data: FRAC }, { label: 'XDET', type: 'R', datasetId: 1, data: XDET },
    { label: 'YDET', type: 'R', datasetId: 1, data: YDET }, { label: 'ROT', type: 'R', datasetId: 1, data: ROT },
    { label: 'LP', type: 'R', datasetId: 1, data: LP }, { label: 'QE', type: 'R', datasetId: 1, data: QE },
  );

  // Order rows by batch then index, as unmerged files usually are; batches listed in order.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => BATCH[a] - BATCH[b] || H[a] - H[b] || K[a] - K[b] || L[a] - L[b]);
  for (const c of columns) { const src = c.data.slice(); for (let i = 0; i < n; i++) c.data[i] = src[order[i]]; }
  const cellParams = [cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma];
  // Every image of every scan gets a batch header (programs expect the batch series of a sweep to be
  // continuous, even over images without observations).
  experiments.forEach((e, exp) => {
    if (!e.scan) return;
    for (let image = e.scan.imageRange[0]; image <= e.scan.imageRange[1]; image++) used.set(image + offsets[exp], { exp, image });
  });
  const batches: MtzBatch[] = [...used.keys()].sort((a, b) => a - b).map((b) => {
    const { exp, image } = used.get(b)!;
    const e = experiments[exp];
    const scan = e.scan;
    const phi0 = scan ? scan.oscillation[0] + (image - scan.imageRange[0]) * scan.oscillation[1] : 0;
    const width = scan ? scan.oscillation[1] : 0;
    const gonio = e.goniometer;
    const axis = gonio ? Goniometer.labRotationAxis(gonio) : [1, 0, 0];
    const c = e.crystal!;
    const ownCell = Crystal.unitCell(c);
    const U = Crystal.U(c);
    const panel = e.detector?.panels[0];
    return batchHeader({
      number: b, cell: ownCell, U: Array.from(U), phiStartDeg: phi0, phiEndDeg: phi0 + width, scanAxis: Array.from(axis),
      wavelength: e.beam?.wavelength ?? 0, datasetId: 1, crystalNumber: 1,
      source: e.beam ? Array.from(e.beam.direction) : undefined,
      detectorDistanceMm: panel ? Math.abs(panel.origin[0] * normalOf(panel)[0] + panel.origin[1] * normalOf(panel)[1] + panel.origin[2] * normalOf(panel)[2]) : undefined,
      detectorLimits: panel ? [0, panel.imageSize[0], 0, panel.imageSize[1]] : undefined,
      mosaicityDeg: c.mosaicity ?? 0,
      axisNames: gonio?.names && gonio.names.length ? gonio.names.slice(0, 3) : ['PHI'],
    });
  });
  const wavelength = experiments[0].beam?.wavelength ?? 0;
  const mtz: Mtz = {
    title: 'xtalflow export (unmerged)',
    cell: cellParams,
    symmetry: mtzSymmetry(sg),
    datasets: mtzDatasets(cellParams, opts.names, wavelength),
    columns,
    batches,
    history: [`From xtalflow export, ${new Date().toISOString().slice(0, 19)} UTC`],
    nReflections: n,
    sortOrder: [0, 0, 0, 0, 0],
  };
  return { outputs: { mtz }, figures: { n_reflections: n, n_batches: batches.length, intensity: kind }, tables: [] };
}

function normalOf(p: { fastAxis: number[]; slowAxis: number[] }): number[] {
  const [a, b] = [p.fastAxis, p.slowAxis];
  const n = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const l = Math.hypot(n[0], n[1], n[2]) || 1;
  return n.map((x) => x / l);
}

/**
 * Reciprocal-lattice points in the crystal frame at φ = 0: r = F⁻¹·R(−φ)·S⁻¹·(s1 − s0), the
 * vectors a viewer plots to see the lattice.
 */
export function runJson(ds: Dataset): StageResult<{ json: unknown }> {
  const { reflections: t, experiments } = ds;
  const n = t.nrows;
  const id = t.has('id') ? t.int('id') : new Int32Array(n);
  const rlp = new Array<number>(3 * n);
  if (t.has('rlp') && t.typeOf('rlp') === 'vec3<double>') {
    const v = t.vec3('rlp');
    for (let i = 0; i < 3 * n; i++) rlp[i] = v[i];
  } else {
    if (!t.has('s1') || !(t.has('xyzobs.mm.value') || t.has('xyzcal.mm'))) throw new UserError('reflections: need rlp, or s1 and xyzobs.mm.value/xyzcal.mm, for format=json', 'missing_column');
    const s1 = t.vec3('s1');
    const mm = t.has('xyzobs.mm.value') ? t.vec3('xyzobs.mm.value') : t.vec3('xyzcal.mm');
    for (let i = 0; i < n; i++) {
      const e = experiments[id[i]] ?? experiments[0];
      if (!e.beam || !e.goniometer) throw new UserError(`experiment ${id[i]} has no beam or goniometer model`);
      const s0 = Beam.s0(e.beam);
      const d: [number, number, number] = [s1[3 * i] - s0[0], s1[3 * i + 1] - s0[1], s1[3 * i + 2] - s0[2]];
      const R = Goniometer.rotationAt(e.goniometer, (mm[3 * i + 2] * 180) / Math.PI);
      const r = Mat3.mulVec(Mat3.transpose(R), d); // R is a rotation: its inverse is its transpose
      rlp[3 * i] = r[0]; rlp[3 * i + 1] = r[1]; rlp[3 * i + 2] = r[2];
    }
  }
  const json = {
    rlp: Array.from({ length: n }, (_, i) => [rlp[3 * i], rlp[3 * i + 1], rlp[3 * i + 2]]),
    experiment_id: Array.from(id),
    imageset_id: Array.from(t.has('imageset_id') ? t.int('imageset_id') : id),
    miller_index: t.has('miller_index') ? Array.from({ length: n }, (_, i) => Array.from(t.miller('miller_index').subarray(3 * i, 3 * i + 3))) : undefined,
  };
  return { outputs: { json }, figures: { n_reflections: n }, tables: [] };
}

export const program: Program = {
  name: 'export',
  summary: 'Export scaled unmerged intensities (scaled.mtz) or JSON',
  usage: 'xtalflow export scaled.expt scaled.refl [format=mtz|json] [mtz.hklout=scaled.mtz]',
  params: PARAMS,
  async main(ctx) {
    const format = ctx.params['format'] ?? 'mtz';
    if (format !== 'mtz' && format !== 'json') throw new ParameterError(`format=${format}: expected mtz or json`);
    const ds = await loadDataset(ctx.files);
    if (format === 'json') {
      const res = runJson(ds);
      const out = ctx.params['json.filename'] ?? 'rlp.json';
      await writeFileAtomic(out, JSON.stringify(res.outputs.json));
      ctx.log.info(`Saved ${res.figures.n_reflections} reciprocal-lattice points to ${out}`);
      return res as StageResult;
    }
    const res = runMtz(ds, resolveOptions(ctx.params), ctx.log);
    const out = ctx.params['mtz.hklout'] ?? 'scaled.mtz';
    await writeFileAtomic(out, writeMtz(res.outputs.mtz));
    ctx.log.info(`Saving ${res.outputs.mtz.nReflections} reflections in ${res.outputs.mtz.batches.length} batches to ${out} (space group ${ds.spaceGroup.hm})`);
    return res as StageResult;
  },
};
