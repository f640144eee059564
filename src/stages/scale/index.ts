/**
 * `xtalflow scale symmetrized.expt symmetrized.refl` → scaled.expt / scaled.refl.
 *
 * Reads the experiments and reflections, scales every sweep with its own model (physical or KB,
 * src/core/scaling), optionally filters inconsistent datasets / image groups by ΔCC½, then writes
 * DIALS-style outputs: `inverse_scale_factor(_variance)` and `intensity.scale.value/variance`
 * columns with the scaling flags set, the scaling model JSON per experiment, and a JSON file with
 * the data of the scaling plots. The merging statistics (src/core/stats) are logged with the
 * suggested resolution limit from the CC½ fit (src/core/resolution).
 */
import type { Log } from '../../core/log.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeRefl } from '../../core/io/refl.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { ParameterError, UserError } from '../../core/errors.js';
import type { ExperimentList } from '../../core/models/types.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { Flags } from '../../core/reflections/flags.js';
import { loadDataset, type Dataset } from '../../core/stats/dataset.js';
import { mergingStatistics, type MergingStatistics, type ShellStats } from '../../core/stats/merging.js';
import { completeSet, prepareIntensities, toObservations } from '../../core/stats/prepare.js';
import { shellTable } from '../../core/stats/report.js';
import { SpaceGroup } from '../../core/symmetry/spacegroup.js';
import type { UnitCell } from '../../core/symmetry/unitcell.js';
import { formatTable } from '../../core/table.js';
import { sweepsFromModels } from '../../core/scaling/input.js';
import { ReflectionSymmetry } from '../../core/scaling/symops.js';
import { chooseIntensity, DEFAULT_PREP, describeChoice, type PrepOptions } from '../../core/scaling/data.js';
import { DEFAULT_MODEL_OPTIONS, type AbsorptionLevel, type ModelOptions } from '../../core/scaling/model.js';
import { DEFAULT_SCALE_OPTIONS, scaledFlags, scaleSweeps, scaleWithDeltaCcFilter, type FilterCycle, type FilterOptions, type ScaleOptions, type ScaleRun } from '../../core/scaling/scale.js';
import { scalingModelJson, scalingPlots, type ScalingPlots } from '../../core/scaling/report.js';
import { estimateResolution, type ResolutionEstimate, type ShellPoint } from '../../core/resolution/index.js';

export const PARAMS: ParamDef[] = [
  { name: 'model', type: 'choice', default: 'auto', choices: ['auto', 'physical', 'KB'], help: 'Scaling model: physical (smooth scale, decay, absorption), KB (one scale and B per sweep) or auto (KB for stills and wedges under 5°)' },
  { name: 'physical.absorption_correction', type: 'bool', default: null, allowNone: true, help: 'Spherical-harmonic absorption surface (Auto: on for scans wider than 60°)' },
  { name: 'physical.absorption_level', type: 'choice', default: 'low', choices: ['low', 'medium', 'high'], help: 'Expected absorption, as DIALS 3.12 maps it: low (lmax 4, surface weight 5e5), medium (lmax 6, 5e4), high (lmax 6, 5e3)' },
  { name: 'physical.lmax', type: 'int', default: null, allowNone: true, min: 1, max: 8, help: 'Override the absorption lmax' },
  { name: 'physical.surface_weight', type: 'float', default: null, allowNone: true, min: 0, help: 'Override the absorption surface restraint weight' },
  { name: 'physical.scale_interval', type: 'float', default: null, allowNone: true, min: 0.1, help: 'Scale parameter spacing (degrees; Auto: 15°, 7.5° below 90° scans)' },
  { name: 'physical.decay_interval', type: 'float', default: null, allowNone: true, min: 0.1, help: 'Decay parameter spacing (degrees; Auto: 20°, 10° below 90° scans)' },
  { name: 'physical.decay_correction', type: 'bool', default: true, help: 'Refine a relative B factor smooth in rotation' },
  { name: 'anomalous', type: 'bool', default: false, help: 'Keep I+ and I− apart while scaling' },
  { name: 'symmetry.space_group', type: 'str', default: null, allowNone: true, help: 'Space group to scale in (number, Hermann–Mauguin or Hall); default: that of the experiments' },
  { name: 'cut_data.d_min', type: 'float', default: null, allowNone: true, min: 0, help: 'High-resolution limit (Å)', aliases: ['d_min'] },
  { name: 'cut_data.d_max', type: 'float', default: null, allowNone: true, min: 0, help: 'Low-resolution limit (Å)', aliases: ['d_max'] },
  { name: 'cut_data.exclude_images', type: 'str', default: null, allowNone: true, multiple: true, help: 'Exclude images: "sweep:first:last" (sweep counted from 0), e.g. 0:101:150', aliases: ['exclude_images'] },
  { name: 'cut_data.partiality_cutoff', type: 'float', default: 0.4, min: 0, max: 1, help: 'Drop reflections below this partiality' },
  { name: 'cut_data.min_isigi', type: 'float', default: -5, help: 'Drop reflections with I/σ below this' },
  { name: 'outlier_rejection.outlier_zmax', type: 'float', default: 6, min: 0, help: 'Reject observations more than this many σ from their symmetry mates' },
  { name: 'reflection_selection.intensity_choice', type: 'choice', default: 'combine', choices: ['combine', 'profile', 'sum'], help: 'combine: choose prf, sum or a prf/sum combination by the lowest Rmeas' },
  { name: 'reflection_selection.combine.imid', type: 'float', default: null, allowNone: true, min: 0, help: 'Fixed Imid (raw summed counts) for the profile/summation combination; Auto: chosen by Rmeas' },
  { name: 'error_model.error_model', type: 'choice', default: 'basic', choices: ['basic', 'None'], help: 'Error model σ′² = a²(σ² + (bI)²)' },
  { name: 'error_model.basic.minimisation', type: 'choice', default: 'individual', choices: ['unit_variance', 'individual', 'regression'], help: 'How a and b are refined (individual is DIALS 3.12\'s default): unit_variance (each bin\'s normalised deviations to variance 1, a from the weak bins), individual (DIALS\' procedure: its selection and bins, a from the centre of the normal probability plot, then b, alternating) or regression (one linear fit of the squared deviations). With fewer than 250 observations in DIALS\' selection nothing is refined, as in DIALS' },
  { name: 'error_model.basic.a', type: 'float', default: null, allowNone: true, min: 0, help: 'Fixed error-model a (with error_model.basic.b; no refinement of either)' },
  { name: 'error_model.basic.b', type: 'float', default: null, allowNone: true, min: 0, help: 'Fixed error-model b (with error_model.basic.a)' },
  { name: 'refinement.cycles', type: 'int', default: 1, min: 1, help: 'Refinement / error-model rounds after the first error model (1: DIALS\' sequence, two error-model refinements in all)' },
  { name: 'filtering.method', type: 'choice', default: 'None', choices: ['None', 'deltacchalf'], help: 'Remove inconsistent data by ΔCC½' },
  { name: 'filtering.deltacchalf.mode', type: 'choice', default: 'dataset', choices: ['dataset', 'image_group'], help: 'Groups judged by ΔCC½: whole datasets or blocks of images' },
  { name: 'filtering.deltacchalf.group_size', type: 'int', default: 10, min: 1, help: 'Images per group in image_group mode' },
  { name: 'filtering.deltacchalf.stdcutoff', type: 'float', default: 4, min: 0, help: 'Remove groups with ΔCC½ below mean − stdcutoff·σ' },
  { name: 'filtering.deltacchalf.max_cycles', type: 'int', default: 6, min: 1, help: 'Filter / rescale cycles at most' },
  { name: 'filtering.deltacchalf.max_percent_removed', type: 'float', default: 10, min: 0, max: 100, help: 'Never remove more than this % of the observations' },
  { name: 'resolution.cc_half', type: 'float', default: 0.3, min: 0, max: 1, help: 'CC½ at which the suggested resolution limit is read off the tanh fit' },
  { name: 'merging.n_bins', type: 'int', default: 20, min: 1, help: 'Resolution shells for the merging statistics' },
  { name: 'output.experiments', type: 'path', default: 'scaled.expt', help: 'Scaled experiments' },
  { name: 'output.reflections', type: 'path', default: 'scaled.refl', help: 'Scaled reflections' },
  { name: 'output.json', type: 'path', default: 'scaled.json', allowNone: true, help: 'Figures, tables and plot data (None: not written)' },
];

export interface ScaleParams {
  options: ScaleOptions;
  filter: FilterOptions | null;
  spaceGroup: string | null;
  ccHalfLimit: number;
  nBins: number;
}

function parseExcludeImages(words: readonly string[]): [number, number, number][] {
  return words.map((w) => {
    const m = /^(\d+):(\d+):(\d+)$/.exec(String(w).trim());
    if (!m) throw new ParameterError(`cut_data.exclude_images=${w}: expected sweep:first:last (e.g. 0:101:150)`);
    const v: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (v[2] < v[1]) throw new ParameterError(`cut_data.exclude_images=${w}: last image before first`);
    return v;
  });
}

function fixedErrorModel(a: number | null, b: number | null): { a: number; b: number } | null {
  if (a === null && b === null) return null;
  if (a === null || b === null) throw new ParameterError('error_model.basic.a and error_model.basic.b fix the error model together: give both (or neither, to refine them)');
  return { a, b };
}

export function resolveParams(p: Params): ScaleParams {
  const model: ModelOptions = {
    ...DEFAULT_MODEL_OPTIONS,
    model: p['model'] ?? 'auto',
    absorptionCorrection: p['physical.absorption_correction'] ?? null,
    absorptionLevel: (p['physical.absorption_level'] ?? 'low') as AbsorptionLevel,
    lmax: p['physical.lmax'] ?? null,
    surfaceWeight: p['physical.surface_weight'] ?? null,
    scaleIntervalDeg: p['physical.scale_interval'] ?? null,
    decayIntervalDeg: p['physical.decay_interval'] ?? null,
    decayCorrection: p['physical.decay_correction'] ?? true,
  };
  const ex = p['cut_data.exclude_images'];
  const prep: PrepOptions = {
    ...DEFAULT_PREP,
    dMin: p['cut_data.d_min'] ?? null,
    dMax: p['cut_data.d_max'] ?? null,
    partialityCutoff: p['cut_data.partiality_cutoff'] ?? 0.4,
    minIsigi: p['cut_data.min_isigi'] ?? -5,
    excludeImages: parseExcludeImages(Array.isArray(ex) ? ex.flat().filter((x) => x !== null) : ex ? [ex] : []),
  };
  if (prep.dMin !== null && prep.dMax !== null && prep.dMin >= prep.dMax) throw new ParameterError(`cut_data.d_min=${prep.dMin} must be below cut_data.d_max=${prep.dMax}`);
  const choice = p['reflection_selection.intensity_choice'] ?? 'combine';
  const options: ScaleOptions = {
    ...DEFAULT_SCALE_OPTIONS,
    model, prep,
    anomalous: p['anomalous'] ?? false,
    outlierZmax: p['outlier_rejection.outlier_zmax'] ?? 6,
    intensityChoice: choice === 'combine' ? 'auto' : choice === 'profile' ? 'prf' : 'sum',
    imid: p['reflection_selection.combine.imid'] ?? null,
    errorModel: p['error_model.error_model'] === 'None' ? 'none' : 'basic',
    errorModelMinimisation: p['error_model.basic.minimisation'] ?? 'individual',
    errorModelFixed: fixedErrorModel(p['error_model.basic.a'] ?? null, p['error_model.basic.b'] ?? null),
    cycles: p['refinement.cycles'] ?? 1,
  };
  const filter: FilterOptions | null = p['filtering.method'] === 'deltacchalf' ? {
    mode: p['filtering.deltacchalf.mode'] ?? 'dataset',
    groupSize: p['filtering.deltacchalf.group_size'] ?? 10,
    stdcutoff: p['filtering.deltacchalf.stdcutoff'] ?? 4,
    maxCycles: p['filtering.deltacchalf.max_cycles'] ?? 6,
    maxPercentRemoved: p['filtering.deltacchalf.max_percent_removed'] ?? 10,
  } : null;
  return { options, filter, spaceGroup: p['symmetry.space_group'] ?? null, ccHalfLimit: p['resolution.cc_half'] ?? 0.3, nBins: p['merging.n_bins'] ?? 20 };
}

export interface ScaleOutputs {
  experiments: ExperimentList;
  reflections: ReflectionTable;
  statistics: MergingStatistics;
  /** Statistics cut at the suggested resolution (null when the suggestion is the data's limit). */
  statisticsSuggested: MergingStatistics | null;
  resolution: ResolutionEstimate[];
  run: ScaleRun;
  filterCycles: FilterCycle[];
  plots: ScalingPlots;
}

/** Shells of a merging-statistics result as the resolution fits want them. */
export function shellPoints(st: MergingStatistics): ShellPoint[] {
  return st.bins.map((b: ShellStats) => ({
    dMax: b.dMax, dMin: b.dMin, ccHalf: b.nUnique >= 3 && b.nObs > b.nUnique ? b.ccHalf : NaN,
    meanIsigma: b.meanIOverSigma, isigma: b.meanIOverSigma, nUnique: b.nUnique,
  }));
}

function statistics(t: ReflectionTable, d: Float64Array, sg: SpaceGroup, cell: UnitCell, nBins: number, dMin: number | null, source: string): MergingStatistics {
  const prep = prepareIntensities(t, d, { intensity: 'scale', dMin }, source);
  const obs = toObservations(t.miller('miller_index'), prep.rows, prep.I, prep.sigma, sg, cell);
  let lo = Infinity, hi = 0;
  for (const x of obs.d) { if (x < lo) lo = x; if (x > hi) hi = x; }
  return mergingStatistics(obs, completeSet(sg, cell, lo, hi), { nBins, dMin: lo, dMax: hi });
}

export function run(ds: Dataset, params: ScaleParams, log: Log): StageResult<ScaleOutputs> {
  const sg = params.spaceGroup ? SpaceGroup.find(params.spaceGroup) : ds.spaceGroup;
  const sym = new ReflectionSymmetry(sg);
  const { sweeps, rows } = sweepsFromModels(ds.experiments, ds.reflections, ds.d, 'reflections');
  log.info(`Space group being used during scaling is ${sg.hm || sg.hall}`);
  let runResult: ScaleRun;
  let cycles: FilterCycle[] = [];
  if (params.filter) {
    const f = scaleWithDeltaCcFilter(sweeps, sym, params.options, params.filter, log);
    runResult = f.run; cycles = f.cycles;
  } else {
    runResult = scaleSweeps(sweeps, sym, params.options, log);
  }
  const pr = runResult.problem;

  // outputs: experiments with models, reflections with scales and flags
  const experiments: ExperimentList = ds.experiments.map((e, i) => ({
    ...e,
    crystal: e.crystal ? { ...e.crystal, spaceGroupHall: sg.hall || e.crystal.spaceGroupHall } : e.crystal,
    scalingModel: scalingModelJson(runResult, i),
  }));
  const t = ds.reflections.select(new Uint8Array(ds.reflections.nrows).fill(1));
  const n = t.nrows;
  const isf = new Float64Array(n).fill(1), isfVar = new Float64Array(n);
  const Iscale = new Float64Array(n), Vscale = new Float64Array(n);
  const flags = Float64Array.from(t.sizeT('flags'));
  const tmp = new Float64Array(2);
  const choice = runResult.choice;
  const em = runResult.errorModel;
  for (let si = 0; si < sweeps.length; si++) {
    const rws = rows[si];
    const f = scaledFlags(runResult, si);
    for (let r = 0; r < rws.length; r++) {
      const i = rws[r];
      flags[i] = f[r];
      const o = pr.obsOfRow[si][r];
      if (o >= 0) {
        isf[i] = runResult.g[o]; isfVar[i] = runResult.gVariance[o];
        Iscale[i] = pr.I[o];
        Vscale[i] = pr.Vem[o] + (pr.I[o] * pr.I[o] * runResult.gVariance[o]) / (runResult.g[o] * runResult.g[o]);
      } else {
        isf[i] = pr.evaluateRow(si, r);
        if (chooseIntensity(sweeps[si].intensities, r, choice, tmp)) {
          Iscale[i] = tmp[0]; Vscale[i] = em.a * em.a * (tmp[1] + em.b * em.b * tmp[0] * tmp[0]);
        }
      }
    }
  }
  t.setDouble('inverse_scale_factor', isf);
  t.setDouble('inverse_scale_factor_variance', isfVar);
  t.setDouble('intensity.scale.value', Iscale);
  t.setDouble('intensity.scale.variance', Vscale);
  // rows of no experiment (unindexed, id −1) or with index 000 are not scaled: say so in the flags
  const covered = new Uint8Array(n);
  for (const rws of rows) for (const i of rws) covered[i] = 1;
  for (let i = 0; i < n; i++) {
    if (covered[i]) continue;
    const low = flags[i] % 4294967296;
    if (((low >>> 0) & Flags.excluded_for_scaling) === 0) flags[i] += Flags.excluded_for_scaling;
  }
  t.setSizeT('flags', flags);

  // merging statistics and the suggested resolution
  const st = statistics(t, ds.d, sg, ds.cell, params.nBins, null, 'scaled reflections');
  const res = estimateResolution(shellPoints(st), { ccHalf: params.ccHalfLimit, misigma: null, isigma: null });
  const dSugg = res[0]?.dMin ?? null;
  const stSugg = dSugg !== null && !res[0].atDataLimit && dSugg > st.overall.dMin + 1e-3
    ? statistics(t, ds.d, sg, ds.cell, params.nBins, dSugg, 'scaled reflections') : null;
  const plots = scalingPlots(runResult, st);

  const tables = buildTables(runResult, st, stSugg, res, cycles);
  const o = st.overall;
  const figures: StageResult['figures'] = {
    n_sweeps: sweeps.length,
    space_group: sg.hm || sg.hall,
    intensity_choice: describeChoice(choice),
    error_model_a: em.a, error_model_b: em.b, isa: 1 / (em.a * em.b),
    n_outliers: runResult.nOutliers,
    cc_half: o.ccHalf, r_pim: o.rPim, r_merge: o.rMerge, r_meas: o.rMeas, i_over_sigma: o.meanIOverSigma,
    completeness: 100 * o.completeness, multiplicity: o.multiplicity, n_obs: o.nObs, n_unique: o.nUnique,
    d_min: o.dMin, d_max: o.dMax,
    d_min_cc_half: dSugg,
    cc_half_shells: st.bins.map((b) => b.ccHalf),
    n_removed_by_filter: cycles.reduce((s, c) => s + c.nRemovedObs, 0),
  };
  return { outputs: { experiments, reflections: t, statistics: st, statisticsSuggested: stSugg, resolution: res, run: runResult, filterCycles: cycles, plots }, figures, tables };
}

function fx(v: number, d: number): string { return Number.isFinite(v) ? v.toFixed(d) : '-'; }

function buildTables(r: ScaleRun, st: MergingStatistics, stSugg: MergingStatistics | null, res: ResolutionEstimate[], cycles: FilterCycle[]): { title: string; text: string }[] {
  const tables: { title: string; text: string }[] = [];
  tables.push({
    title: 'Scaling models',
    text: formatTable(['sweep', 'model', 'scale', 'decay', 'absorption (lmax)', 'parameters'], r.models.map((m, i) => [
      i, m.kind, m.scale.nParams, m.decay?.nParams ?? 0, m.lmax ? `${(m.lmax + 1) ** 2 - 1} (${m.lmax})` : '0', r.problem.blocks[i].end - (i ? r.problem.blocks[i - 1].end : 0),
    ])),
  });
  const why = ['used', 'partiality < cutoff', 'not integrated', 'I/σ < min_isigi', 'resolution', 'excluded images'];
  tables.push({
    title: 'Reflections per sweep',
    text: formatTable(['sweep', ...why, 'outliers'], r.problem.exclusion.map((ex, si) => {
      const c = new Array(why.length).fill(0);
      for (const e of ex) c[e]++;
      let out = 0;
      for (let o = 0; o < r.problem.nObs; o++) if (r.problem.sweepOf[o] === si && r.problem.outlier[o]) out++;
      return [si, ...c, out];
    })),
  });
  tables.push({
    title: 'Refinement (RMS normalised residual per step)',
    text: r.refinements.map((x, k) => `round ${k + 1}: ${x.steps.map((s) => s.rmsd.toFixed(4)).join(' ')} (${x.steps[0]?.nref ?? 0} reflections)`).join('\n'),
  });
  if (r.choiceTrials.length) {
    tables.push({
      title: 'Profile/summation intensity combination',
      text: formatTable(['Combination', 'CC1/2', 'Rmeas'], r.choiceTrials.map((c) => [c.label, fx(c.ccHalf, 5), fx(c.rMeas, 5)])) + `\nCombined intensities with ${describeChoice(r.choice)} determined to be best for scaling.`,
    });
  }
  const f = r.errorModelFit;
  tables.push({
    title: 'Error model details',
    text: [`  Type: basic`, `  Parameters: a = ${r.errorModel.a.toFixed(5)}, b = ${r.errorModel.b.toFixed(5)}`, `  Error model formula: σ'² = a²(σ² + (bI)²)`,
      `  estimated I/sigma asymptotic limit: ${(1 / (r.errorModel.a * r.errorModel.b)).toFixed(3)}`,
      `  partially recorded reflections: σp = c·(1 − p)·I with c = ${(r.errorModel.c ?? 0).toFixed(3)}`].join('\n') + (f ? '\n' + formatTable(['Intensity range (<Ih>)', 'n_refl', 'Uncorrected variance', 'Corrected variance'],
      f.bins.map((b) => [`${b.ihHigh.toFixed(2)} - ${b.ihLow.toFixed(2)}`, b.n, fx(b.uncorrected, 3), fx(b.corrected, 3)])) : ''),
  });
  if (cycles.length) {
    tables.push({
      title: 'ΔCC½ filtering',
      text: formatTable(['cycle', 'CC½', 'ΔCC½ mean', 'ΔCC½ σ', 'groups removed', 'observations removed'], cycles.map((c) => [
        c.cycle, fx(c.ccHalf, 5), c.mean.toExponential(3), c.sigma.toExponential(3),
        c.removed.map((g) => `${g.sweep}:${g.firstImage}-${g.lastImage}`).join(' ') || '-', c.nRemovedObs])),
    });
  }
  tables.push({ title: 'Merging statistics by resolution bin', text: shellTable(st) });
  const cc = res.find((x) => x.criterion === 'cc_half');
  const o = st.overall, lo = st.bins[0], hi = st.bins[st.bins.length - 1];
  const cols: [string, ShellStats][] = [];
  if (stSugg) cols.push(['Suggested', stSugg.overall]);
  const loS = stSugg ? stSugg.bins[0] : lo, hiS = stSugg ? stSugg.bins[stSugg.bins.length - 1] : hi;
  cols.push(['Low', loS], ['High', hiS], ['Overall', o]);
  const rowsS: [string, (s: ShellStats) => string][] = [
    ['High resolution limit', (s) => fx(s.dMin, 2)], ['Low resolution limit', (s) => fx(s.dMax, 2)],
    ['Completeness', (s) => fx(100 * s.completeness, 1)], ['Multiplicity', (s) => fx(s.multiplicity, 1)],
    ['I/sigma', (s) => fx(s.meanIOverSigma, 1)], ['Rmerge(I)', (s) => fx(s.rMerge, 3)], ['Rmeas(I)', (s) => fx(s.rMeas, 3)],
    ['Rpim(I)', (s) => fx(s.rPim, 3)], ['CC half', (s) => fx(s.ccHalf, 3)],
    ['Total observations', (s) => String(s.nObs)], ['Total unique', (s) => String(s.nUnique)],
  ];
  const head = ' '.repeat(44) + cols.map(([n]) => n.padStart(10)).join('');
  tables.push({
    title: 'Summary of merging statistics',
    text: (cc ? `Resolution limit suggested from CC½ fit (limit CC½=${cc.limit}): ${cc.dMin === null ? '-' : cc.dMin.toFixed(2)}${cc.atDataLimit ? ' (the data edge)' : ''}\n\n` : '') +
      [head, ...rowsS.map(([name, g]) => name.padEnd(44) + cols.map(([, s]) => g(s).padStart(10)).join(''))].join('\n'),
  });
  return tables;
}

export const program: Program = {
  name: 'scale',
  summary: 'Scale intensities with a physical model (scaled.expt/.refl)',
  usage: 'xtalflow scale symmetrized.expt symmetrized.refl [model=physical] [physical.absorption_level=medium] [d_min=1.5] [filtering.method=deltacchalf]',
  params: PARAMS,
  async main(ctx) {
    const params = resolveParams(ctx.params);
    if (ctx.files.length === 0) throw new UserError('give the experiments (.expt) and reflections (.refl) to scale');
    const ds = await loadDataset(ctx.files);
    const t0 = Date.now();
    const result = run(ds, params, ctx.log);
    for (const tb of result.tables) ctx.log.info(`\n${tb.title}\n${tb.text}`);
    ctx.log.info(`\nScaling took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const out = ctx.params;
    await writeExperiments(out['output.experiments'] ?? 'scaled.expt', result.outputs.experiments);
    await writeRefl(out['output.reflections'] ?? 'scaled.refl', result.outputs.reflections);
    if (out['output.json']) {
      await writeFileAtomic(out['output.json'], JSON.stringify({ figures: result.figures, plots: result.outputs.plots, resolution: result.outputs.resolution }, null, 1) + '\n');
    }
    ctx.log.info(`Saving the scaled experiments to ${out['output.experiments'] ?? 'scaled.expt'}\nSaving the scaled reflections to ${out['output.reflections'] ?? 'scaled.refl'}`);
    return { outputs: null, figures: result.figures, tables: result.tables };
  },
};
