/**
 * `xtalflow merge scaled.expt scaled.refl` → merged.mtz.
 *
 * Scaled intensities (I/scale) are mapped to the ASU, outliers among symmetry mates rejected,
 * merged by inverse-variance weighting (IMEAN, and I(+)/I(−) apart), and converted to amplitudes
 * with French–Wilson (F, F(+), F(−), DANO). The merging statistics are those of all selected
 * observations, as DIALS reports them; outlier rejection changes only the merged values.
 */
import type { Log } from '../../core/log.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { writeMtz, type Mtz, type MtzColumn, mtzDatasets } from '../../core/io/mtz.js';
import { mtzSymmetry } from '../../core/io/mtz_symmetry.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { analyseAbsences, axialReflections, screwTable } from '../../core/stats/absences.js';
import { equalCountBinIndex } from '../../core/stats/binning.js';
import { loadDataset, type Dataset } from '../../core/stats/dataset.js';
import { frenchWilson } from '../../core/stats/french_wilson.js';
import { mergingStatistics, rejectOutliers, selectObservations, type MergedReflection, type MergingStatistics } from '../../core/stats/merging.js';
import { completeSet, prepareIntensities, toObservations, type IntensityKind } from '../../core/stats/prepare.js';
import { mergingFigures, shellTable, summaryTable, type CcHalfMethod } from '../../core/stats/report.js';
import { epsilon } from '../../core/symmetry/asu.js';
import { pattersonGroup, type SpaceGroup } from '../../core/symmetry/spacegroup.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.mtz', type: 'path', default: 'merged.mtz', help: 'Merged MTZ file' },
  { name: 'output.crystal_names', type: 'str', default: 'XTAL', help: 'Crystal name in the MTZ' },
  { name: 'output.project_name', type: 'str', default: 'AUTOMATIC', help: 'Project name in the MTZ' },
  { name: 'output.dataset_names', type: 'str', default: 'NATIVE', help: 'Dataset name in the MTZ' },
  { name: 'intensity', type: 'choice', default: 'scale', choices: ['scale', 'prf', 'sum', 'auto'], valueAliases: { profile: 'prf' }, help: 'Intensities to merge (scale: scaled intensities; profile = prf)' },
  { name: 'd_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit (Å)' },
  { name: 'd_max', type: 'float', default: null, allowNone: true, help: 'Low-resolution limit (Å)' },
  { name: 'merging.n_bins', type: 'int', default: 20, min: 1, help: 'Resolution shells for the statistics' },
  { name: 'merging.outlier_rejection', type: 'bool', default: true, help: 'Reject outliers among symmetry mates before merging' },
  { name: 'merging.outlier_cutoff', type: 'float', default: 6, min: 0, help: 'Normalised-deviation cut-off for outliers' },
  { name: 'french_wilson', type: 'bool', default: true, aliases: ['truncate'], help: 'Write French–Wilson amplitudes (F, SIGF, F(+), F(−), DANO); DIALS calls it truncate' },
  { name: 'merging.cc_half_method', type: 'choice', default: 'half_dataset', choices: ['half_dataset', 'sigma_tau'], help: 'CC½ in the tables: random half-datasets, or the σ-τ estimate (Assmann et al. 2016)' },
];

export interface MergeOptions {
  intensity: IntensityKind;
  dMin: number | null;
  dMax: number | null;
  nBins: number;
  outlierRejection: boolean;
  outlierCutoff: number;
  frenchWilson: boolean;
  ccHalfMethod: CcHalfMethod;
  names: { project: string; crystal: string; dataset: string };
}

export function resolveOptions(p: Params): MergeOptions {
  return {
    intensity: (p['intensity'] ?? 'scale') as IntensityKind,
    dMin: p['d_min'] ?? null, dMax: p['d_max'] ?? null,
    nBins: p['merging.n_bins'] ?? 20,
    outlierRejection: p['merging.outlier_rejection'] ?? true,
    outlierCutoff: p['merging.outlier_cutoff'] ?? 6,
    frenchWilson: p['french_wilson'] ?? true,
    ccHalfMethod: p['merging.cc_half_method'] ?? 'half_dataset',
    names: { project: p['output.project_name'] ?? 'AUTOMATIC', crystal: p['output.crystal_names'] ?? 'XTAL', dataset: p['output.dataset_names'] ?? 'NATIVE' },
  };
}

export interface MergeOutputs {
  mtz: Mtz;
  statistics: MergingStatistics;
  nRejected: number;
}

/** Σ = ε⟨I/ε⟩ per merged reflection, in shells of ~100 reflections (the Wilson prior scale). */
function wilsonSigma(m: readonly MergedReflection[], sg: SpaceGroup): Float64Array {
  const n = m.length;
  const d = Float64Array.from(m.map((r) => r.d));
  const { bin, n: nb } = equalCountBinIndex(d, Math.max(1, Math.min(50, Math.floor(n / 100))));
  const eps = Float64Array.from(m.map((r) => epsilon(sg, [r.h, r.k, r.l])));
  const sum = new Float64Array(nb), cnt = new Float64Array(nb);
  for (let i = 0; i < n; i++) { sum[bin[i]] += m[i].I / eps[i]; cnt[bin[i]]++; }
  const out = new Float64Array(n);
  let fallback = 0;
  for (let b = 0; b < nb; b++) if (sum[b] > 0) fallback = Math.max(fallback, sum[b] / cnt[b]);
  for (let i = 0; i < n; i++) {
    const mean = sum[bin[i]] / cnt[bin[i]];
    out[i] = eps[i] * (mean > 0 ? mean : Math.max(fallback, 1e-6));
  }
  return out;
}

function interleave(o: { h: Int32Array; k: Int32Array; l: Int32Array }): Int32Array {
  const out = new Int32Array(3 * o.h.length);
  for (let i = 0; i < o.h.length; i++) { out[3 * i] = o.h[i]; out[3 * i + 1] = o.k[i]; out[3 * i + 2] = o.l[i]; }
  return out;
}

export function run(ds: Dataset, opts: MergeOptions, log: Log): StageResult<MergeOutputs> {
  const { reflections: t, spaceGroup: sg, cell } = ds;
  const prep = prepareIntensities(t, ds.d, { intensity: opts.intensity, dMin: opts.dMin, dMax: opts.dMax }, ds.source ?? 'reflections');
  log.info(`Selected ${prep.rows.length} of ${t.nrows} reflections (${prep.kind} intensities)`);
  const all = toObservations(t.miller('miller_index'), prep.rows, prep.I, prep.sigma, sg, cell);
  let dMin = Infinity, dMax = 0;
  for (const d of all.d) { if (d < dMin) dMin = d; if (d > dMax) dMax = d; }
  const complete = completeSet(sg, cell, dMin, dMax);
  // Statistics on every selected observation (as DIALS reports them); outlier rejection then
  // only affects the merged values written to the MTZ.
  const st = mergingStatistics(all, complete, { nBins: opts.nBins });
  let nRejected = 0;
  let mergedSt = st;
  if (opts.outlierRejection) {
    const keep = rejectOutliers(all, opts.outlierCutoff);
    nRejected = keep.length - keep.reduce((s, v) => s + v, 0);
    if (nRejected > 0) mergedSt = mergingStatistics(selectObservations(all, keep), null, { nBins: opts.nBins });
    log.info(`Rejected ${nRejected} outliers among symmetry mates (normalised deviation > ${opts.outlierCutoff}) from the merged values`);
  }

  // Columns: one row per unique reflection of the non-anomalous merge.
  const merged = mergedSt.merged;
  const n = merged.length;
  const rowOf = new Map<string, number>();
  merged.forEach((r, i) => rowOf.set(`${r.h},${r.k},${r.l}`, i));
  const col = () => new Float32Array(n).fill(NaN);
  const H = col(), K = col(), L = col(), IMEAN = col(), SIGIMEAN = col();
  const Ip = col(), SIp = col(), Im = col(), SIm = col(), Np = col(), Nm = col();
  merged.forEach((r, i) => { H[i] = r.h; K[i] = r.k; L[i] = r.l; IMEAN[i] = r.I; SIGIMEAN[i] = r.sigma; });
  const plus: (MergedReflection | null)[] = new Array(n).fill(null), minus: (MergedReflection | null)[] = new Array(n).fill(null);
  for (const r of mergedSt.mergedAnomalous) {
    const i = rowOf.get(`${r.h},${r.k},${r.l}`)!;
    if (r.sign > 0) { plus[i] = r; Ip[i] = r.I; SIp[i] = r.sigma; Np[i] = r.n; } else { minus[i] = r; Im[i] = r.I; SIm[i] = r.sigma; Nm[i] = r.n; }
  }
  const columns: MtzColumn[] = [
    { label: 'H', type: 'H', datasetId: 0, data: H }, { label: 'K', type: 'H', datasetId: 0, data: K }, { label: 'L', type: 'H', datasetId: 0, data: L },
    { label: 'IMEAN', type: 'J', datasetId: 1, data: IMEAN }, { label: 'SIGIMEAN', type: 'Q', datasetId: 1, data: SIGIMEAN },
    { label: 'I(+)', type: 'K', datasetId: 1, data: Ip }, { label: 'SIGI(+)', type: 'M', datasetId: 1, data: SIp },
    { label: 'I(-)', type: 'K', datasetId: 1, data: Im }, { label: 'SIGI(-)', type: 'M', datasetId: 1, data: SIm },
    { label: 'N(+)', type: 'I', datasetId: 1, data: Np }, { label: 'N(-)', type: 'I', datasetId: 1, data: Nm },
  ];
  const figures: StageResult['figures'] = { ...mergingFigures(st), n_rejected_outliers: nRejected, space_group: sg.hm };
  // Systematic absences of the merged data, as a check on the space group from symmetry.
  const axial = axialReflections(all.h.length ? interleave(all) : new Int32Array(0), all.I, all.sigma, pattersonGroup(sg));
  const absences = analyseAbsences(pattersonGroup(sg).hm, axial);
  if (absences) figures.absences_recommended_space_group = absences.recommended;
  if (opts.frenchWilson) {
    const Sig = wilsonSigma(merged, sg);
    const centric = Uint8Array.from(merged.map((r) => (r.centric ? 1 : 0)));
    const fw = frenchWilson(Float64Array.from(merged.map((r) => r.I)), Float64Array.from(merged.map((r) => r.sigma)), centric, Sig);
    const pick = (arr: (MergedReflection | null)[]) => {
      const I = new Float64Array(n), s = new Float64Array(n);
      arr.forEach((r, i) => { I[i] = r ? r.I : NaN; s[i] = r ? r.sigma : NaN; });
      return frenchWilson(I, s, centric, Sig);
    };
    const fp = pick(plus), fm = pick(minus);
    const F = col(), SIGF = col(), Fp = col(), SFp = col(), Fm = col(), SFm = col(), DANO = col(), SIGDANO = col();
    let nRej = 0;
    for (let i = 0; i < n; i++) {
      if (fw.rejected[i]) { nRej++; continue; }
      F[i] = fw.F[i]; SIGF[i] = fw.sigF[i];
      if (plus[i] && !fp.rejected[i]) { Fp[i] = fp.F[i]; SFp[i] = fp.sigF[i]; }
      if (minus[i] && !fm.rejected[i]) { Fm[i] = fm.F[i]; SFm[i] = fm.sigF[i]; }
      if (plus[i] && minus[i] && !merged[i].centric && !fp.rejected[i] && !fm.rejected[i]) {
        DANO[i] = fp.F[i] - fm.F[i]; SIGDANO[i] = Math.hypot(fp.sigF[i], fm.sigF[i]);
      }
    }
    log.info(`French–Wilson: ${nRej} intensities rejected (I/σ < −4)`);
    figures.n_french_wilson_rejected = nRej;
    columns.push(
      { label: 'F', type: 'F', datasetId: 1, data: F }, { label: 'SIGF', type: 'Q', datasetId: 1, data: SIGF },
      { label: 'F(+)', type: 'G', datasetId: 1, data: Fp }, { label: 'SIGF(+)', type: 'L', datasetId: 1, data: SFp },
      { label: 'F(-)', type: 'G', datasetId: 1, data: Fm }, { label: 'SIGF(-)', type: 'L', datasetId: 1, data: SFm },
      { label: 'DANO', type: 'D', datasetId: 1, data: DANO }, { label: 'SIGDANO', type: 'Q', datasetId: 1, data: SIGDANO },
    );
  }
  const cellParams = [cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma];
  const wavelength = ds.experiments[0].beam?.wavelength ?? 0;
  const mtz: Mtz = {
    title: 'xtalflow merge',
    cell: cellParams,
    symmetry: mtzSymmetry(sg),
    datasets: mtzDatasets(cellParams, opts.names, wavelength),
    columns,
    batches: [],
    history: [`From xtalflow merge, ${new Date().toISOString().slice(0, 19)} UTC`],
    nReflections: n,
  };
  return {
    outputs: { mtz, statistics: st, nRejected },
    figures,
    tables: [
      { title: 'Merging statistics by resolution bin', text: shellTable(st, opts.ccHalfMethod) },
      { title: 'Summary of merging statistics', text: summaryTable(st, { ccHalfMethod: opts.ccHalfMethod }) },
      ...(absences ? [{ title: 'Systematic absences', text: `${screwTable(absences)}\nSpace group suggested by the absences: ${absences.recommended}${absences.recommended.replace(/\s/g, '') === sg.hm.replace(/\s/g, '') ? '' : ` (the data are in ${sg.hm})`}` }] : []),
    ],
  };
}

export const program: Program = {
  name: 'merge',
  summary: 'Merge scaled intensities, French–Wilson amplitudes (merged.mtz)',
  usage: 'xtalflow merge scaled.expt scaled.refl [output.mtz=merged.mtz] [d_min=…]',
  params: PARAMS,
  async main(ctx) {
    const ds = await loadDataset(ctx.files);
    ctx.log.info(`Using median unit cell across experiments: ${[ds.cell.a, ds.cell.b, ds.cell.c, ds.cell.alpha, ds.cell.beta, ds.cell.gamma].map((x) => x.toFixed(4)).join(' ')}`);
    ctx.log.info(`Space group: ${ds.spaceGroup.hm}`);
    const res = run(ds, resolveOptions(ctx.params), ctx.log);
    for (const t of res.tables) ctx.log.info(`\n${t.title}\n\n${t.text}\n`);
    const out = ctx.params['output.mtz'] ?? 'merged.mtz';
    await writeFileAtomic(out, writeMtz(res.outputs.mtz));
    ctx.log.info(`Writing ${res.outputs.mtz.nReflections} merged reflections to ${out}`);
    return res as StageResult;
  },
};
