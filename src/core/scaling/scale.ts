/**
 * The scaling procedure for one or more sweeps, end to end on plain arrays:
 *   models → outliers → refine → intensity choice (prf/sum/combined by Rmeas) → refine →
 *   error model → refine → error model → scale factors for every usable row + merging statistics.
 * The order follows the DIALS paper (Beilsten-Edmands et al. 2020): model first with the a-priori
 * errors, then the error model, then a final refinement with the corrected weights.
 */
import type { Log } from '../log.js';
import { silentLog } from '../log.js';
import { UserError } from '../errors.js';
import { describeChoice, DEFAULT_PREP, ScalingFlags, type IntensityChoice, type PrepOptions, type SweepData } from './data.js';
import { chooseSweepModel, DEFAULT_MODEL_OPTIONS, type ModelOptions, type SweepModel } from './model.js';
import { Exclusion, ScalingProblem } from './problem.js';
import { computeIh, refineModel, scaleVariances, type RefineReport } from './refine.js';
import { rejectOutliers } from './outliers.js';
import { applyErrorModel, refineErrorModel, refinePartialityError, type ErrorModel, type ErrorModelFit, type ErrorModelMinimisation } from './errormodel.js';
import { ccHalfSigmaTau, groupSums, type MergeInput } from './merging.js';
import type { ReflectionSymmetry } from './symops.js';
import { deltaCcHalf, makeGroups, type ObservationGroup } from './deltacc.js';

export interface ScaleOptions {
  model: ModelOptions;
  prep: PrepOptions;
  anomalous: boolean;
  outlierZmax: number;
  /** 'auto' tries prf, sum and combinations and keeps the lowest Rmeas. */
  intensityChoice: 'auto' | 'prf' | 'sum' | 'combine';
  /** A fixed Imid (raw counts) for the prf/sum combination instead of choosing one. */
  imid: number | null;
  errorModel: 'basic' | 'none';
  /** How the basic model's a and b are found (see errormodel.ts). */
  errorModelMinimisation: ErrorModelMinimisation;
  /** Fixed a and b instead of refined ones (DIALS' error_model.basic.a/b). */
  errorModelFixed: { a: number; b: number } | null;
  /**
   * Number of refine → error-model rounds after the first error model. 1 is DIALS 3.12's sequence
   * (its -vv log on l-cysteine: scaling with a = 1, b = 0.02; intensity choice; scaling; error model;
   * scaling; error model — two error-model refinements, each starting from the model in force).
   */
  cycles: number;
}

export const DEFAULT_SCALE_OPTIONS: ScaleOptions = {
  model: DEFAULT_MODEL_OPTIONS, prep: DEFAULT_PREP, anomalous: false, outlierZmax: 6,
  intensityChoice: 'auto', imid: null, errorModel: 'basic', errorModelMinimisation: 'individual', errorModelFixed: null, cycles: 1,
};

export interface ChoiceTrial { choice: IntensityChoice; label: string; ccHalf: number; rMeas: number }

export interface ScaleRun {
  problem: ScalingProblem;
  models: SweepModel[];
  /** Inverse scale factor and its variance per observation of the problem. */
  g: Float64Array;
  gVariance: Float64Array;
  /** Estimated standard deviation of every model parameter. */
  paramSd: Float64Array;
  errorModel: ErrorModel;
  errorModelFit: ErrorModelFit | null;
  choice: IntensityChoice;
  choiceTrials: ChoiceTrial[];
  refinements: RefineReport[];
  nOutliers: number;
}

/** Scaled intensities (I/g) and variances (σ'²/g² + I²·var(g)/g⁴) of the current problem. */
export function scaledData(pr: ScalingProblem, g: Float64Array, gVar: Float64Array | null, use?: Uint8Array): MergeInput {
  const I = new Float64Array(pr.nObs), V = new Float64Array(pr.nObs);
  const u = use ?? new Uint8Array(pr.nObs);
  for (let o = 0; o < pr.nObs; o++) {
    I[o] = pr.I[o] / g[o];
    V[o] = pr.Vem[o] / (g[o] * g[o]) + (gVar ? (pr.I[o] * pr.I[o] * gVar[o]) / g[o] ** 4 : 0);
    if (!use) u[o] = pr.outlier[o] ? 0 : 1;
  }
  return { group: pr.group, groupD: pr.groupD, nGroups: pr.nGroups, I, V, use: u, groupAbsent: pr.groupAbsent };
}

function rMeasAndCc(pr: ScalingProblem, g: Float64Array): { rMeas: number; ccHalf: number } {
  const m = scaledData(pr, g, null);
  const sums = groupSums(m);
  let num = 0, den = 0;
  const dev = new Float64Array(pr.nGroups);
  for (let o = 0; o < pr.nObs; o++) {
    if (!m.use[o]) continue;
    const gr = pr.group[o];
    if (sums.n[gr] < 2) continue;
    dev[gr] += Math.abs(m.I[o] - sums.sx[gr] / sums.n[gr]);
  }
  for (let gr = 0; gr < pr.nGroups; gr++) {
    const n = sums.n[gr];
    if (n < 2) continue;
    num += Math.sqrt(n / (n - 1)) * dev[gr];
    den += sums.sx[gr];
  }
  return { rMeas: den > 0 ? num / den : NaN, ccHalf: ccHalfSigmaTau(sums, () => true) };
}

/**
 * Candidate Imid values, in raw summed counts: decades below the strongest reflection (so the
 * switch from profile to summation sits at 10 %, 1 % or 0.1 % of the brightest spot) and the
 * median, which splits the data in half.
 */
function imidCandidates(pr: ScalingProblem): number[] {
  const raw: number[] = [];
  for (let o = 0; o < pr.nObs; o++) {
    const c = pr.sweeps[pr.sweepOf[o]].intensities, r = pr.rowOf[o];
    const v = c.conv ? c.sumI[r] / c.conv[r] : c.sumI[r];
    if (v > 0) raw.push(v);
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a - b);
  const max = raw[raw.length - 1], median = raw[raw.length >> 1];
  return [median, max / 10, max / 100, max / 1000];
}

/**
 * One error-model refinement from the model in force. When it cannot be refined (fewer than 250
 * suitable observations, as on the simulated sweep where DIALS says the same, or no sensible fit)
 * the model in force is kept, and the log says why.
 */
function refineLogged(pr: ScalingProblem, g: Float64Array, minimisation: ErrorModelMinimisation, em: ErrorModel, log: Log): ErrorModelFit | null {
  const r = refineErrorModel(pr, g, { minimisation }, em);
  if (r.fit) log.debug(`error model refined on ${r.nRefl} observations in ${r.nGroups} symmetry groups (I+ and I− apart)`);
  else log.info(`${r.reason}; keeping the error model a = ${em.a.toFixed(5)}, b = ${em.b.toFixed(5)}`);
  return r.fit;
}

/** Re-estimate the partiality error term c with the a, b model in place, and apply it. */
function refinePartialityTerm(pr: ScalingProblem, g: Float64Array, em: ErrorModel, log: Log): ErrorModel {
  applyErrorModel(pr, { ...em, c: 0 });
  const c = refinePartialityError(pr, g);
  const out = { ...em, c };
  applyErrorModel(pr, out);
  log.debug(`partiality error term c = ${c.toFixed(3)}`);
  return out;
}

/** Rmeas values closer than this (relative) to the best are treated as equally good. */
export const RMEAS_TIE = 0.005;

/**
 * The lowest Rmeas wins; among candidates within RMEAS_TIE of it a prf/sum combination is preferred
 * to pure prf or pure sum (each intensity range then uses its better estimator, Leslie 1999), and
 * among combinations the one with the lowest Rmeas.
 */
export function pickChoice(trials: readonly ChoiceTrial[]): IntensityChoice {
  const ok = trials.filter((t) => Number.isFinite(t.rMeas));
  if (ok.length === 0) return trials[0]?.choice ?? { kind: 'prf' };
  const best = Math.min(...ok.map((t) => t.rMeas));
  const near = ok.filter((t) => t.rMeas <= best * (1 + RMEAS_TIE));
  const combos = near.filter((t) => t.choice.kind === 'combine');
  const pool = combos.length ? combos : near;
  return pool.reduce((a, b) => (b.rMeas < a.rMeas ? b : a)).choice;
}

export function scaleSweeps(sweeps: SweepData[], sym: ReflectionSymmetry, options: Partial<ScaleOptions> = {}, log: Log = silentLog): ScaleRun {
  const opts: ScaleOptions = { ...DEFAULT_SCALE_OPTIONS, ...options };
  if (sweeps.length === 0) throw new UserError('no sweeps to scale');
  const models = sweeps.map((s) => {
    const range = (s.imageRange[1] - s.imageRange[0] + 1) * s.oscillation[1];
    const start = s.oscillation[0];
    return chooseSweepModel(start, range, opts.model, s.stills === true || s.oscillation[1] === 0);
  });
  const hasPrf = sweeps.every((s) => s.intensities.prfI !== null);
  const firstChoice: IntensityChoice = opts.intensityChoice === 'sum' || !hasPrf ? { kind: 'sum' } : { kind: 'prf' };
  const pr = new ScalingProblem(sweeps, models, sym, opts.anomalous, firstChoice, opts.prep);
  if (pr.nObs < 2) throw new UserError('no reflections left to scale after filtering (check d_min/d_max, exclude_images and the integration flags)');
  let em: ErrorModel = { a: 1, b: 0.02 };
  applyErrorModel(pr, em);
  const refinements: RefineReport[] = [];
  let g = pr.scales();
  let nOut = rejectOutliers(pr, g, opts.outlierZmax);
  log.debug(`initial outlier rejection: ${nOut} outliers`);
  refinements.push(refineModel(pr, { log }));
  g = pr.scales();
  nOut = rejectOutliers(pr, g, opts.outlierZmax);

  // intensity choice
  const trials: ChoiceTrial[] = [];
  let choice = pr.choice;
  // with the chosen intensities: outliers again, a round of scaling, outliers at the new scales
  const rescaleWith = (c: IntensityChoice): void => {
    pr.setIntensityChoice(c);
    applyErrorModel(pr, em);
    nOut = rejectOutliers(pr, g, opts.outlierZmax);
    refinements.push(refineModel(pr, { log }));
    g = pr.scales();
    nOut = rejectOutliers(pr, g, opts.outlierZmax);
  };
  if (hasPrf && opts.imid !== null) {
    choice = { kind: 'combine', imid: opts.imid };
    rescaleWith(choice);
  } else if (hasPrf && (opts.intensityChoice === 'auto' || opts.intensityChoice === 'combine')) {
    const cands: IntensityChoice[] = opts.intensityChoice === 'auto' ? [{ kind: 'prf' }, { kind: 'sum' }] : [];
    for (const imid of imidCandidates(pr)) cands.push({ kind: 'combine', imid });
    for (const c of cands) {
      pr.setIntensityChoice(c);
      applyErrorModel(pr, em);
      const f = rMeasAndCc(pr, g);
      trials.push({ choice: c, label: describeChoice(c), ccHalf: f.ccHalf, rMeas: f.rMeas });
    }
    choice = pickChoice(trials);
    rescaleWith(choice);
  }

  let fit: ErrorModelFit | null = null;
  for (let cycle = 0; cycle < opts.cycles; cycle++) {
    if (opts.errorModel === 'basic') {
      const f = opts.errorModelFixed ? null : refineLogged(pr, g, opts.errorModelMinimisation, em, log);
      if (f) { fit = f; em = { a: f.a, b: f.b }; applyErrorModel(pr, em); }
      if (opts.errorModelFixed) { em = { ...opts.errorModelFixed }; applyErrorModel(pr, em); }
      em = refinePartialityTerm(pr, g, em, log);
    }
    nOut = rejectOutliers(pr, g, opts.outlierZmax);
    refinements.push(refineModel(pr, { log }));
    g = pr.scales();
    nOut = rejectOutliers(pr, g, opts.outlierZmax);
  }
  if (opts.errorModel === 'basic') {
    const f = opts.errorModelFixed ? null : refineLogged(pr, g, opts.errorModelMinimisation, em, log);
    if (f) { fit = f; em = { a: f.a, b: f.b, c: em.c }; applyErrorModel(pr, em); }
    if (opts.errorModelFixed) { em = { ...opts.errorModelFixed, c: em.c }; applyErrorModel(pr, em); }
    em = refinePartialityTerm(pr, g, em, log);
    nOut = rejectOutliers(pr, g, opts.outlierZmax);
  }
  const { obsVariance: gVar, paramSd } = scaleVariances(pr);
  return { problem: pr, models, g, gVariance: gVar, paramSd, errorModel: em, errorModelFit: fit, choice, choiceTrials: trials, refinements, nOutliers: nOut };
}

/** DIALS flag bits for every row of a sweep after scaling (excluded / outlier / scaled). */
export function scaledFlags(run: ScaleRun, sweepIndex: number): Float64Array {
  const pr = run.problem;
  const s = pr.sweeps[sweepIndex];
  const n = s.d.length;
  const out = new Float64Array(n);
  const F = ScalingFlags;
  const ours = F.userExcludedInScaling | F.outlierInScaling | F.excludedForScaling | F.scaled;
  for (let i = 0; i < n; i++) {
    // all scaling bits are below 2^31, so clearing them on the low word is exact
    const v = s.flags[i];
    const low = v % 4294967296;
    let f = v - low + (((low >>> 0) & ~ours) >>> 0);
    const o = pr.obsOfRow[sweepIndex][i];
    const why = pr.exclusion[sweepIndex][i];
    // DIALS 3.12 marks a user-excluded row excluded_for_scaling as well (in its l-cysteine
    // scaled.refl every row with bit 22 also has bit 24): DIALS programs that select on
    // excluded_for_scaling (dials.refine_error_model) would otherwise take such rows as scaled
    if (o < 0) f += why === Exclusion.Images || why === Exclusion.Resolution || why === Exclusion.Partiality ? F.userExcludedInScaling + F.excludedForScaling : F.excludedForScaling;
    else if (pr.outlier[o]) f += F.outlierInScaling;
    else f += F.scaled;
    out[i] = f;
  }
  return out;
}

export interface FilterOptions {
  mode: 'dataset' | 'image_group';
  groupSize: number;
  stdcutoff: number;
  maxCycles: number;
  maxPercentRemoved: number;
}

export interface FilterCycle { cycle: number; ccHalf: number; mean: number; sigma: number; removed: ObservationGroup[]; nRemovedObs: number }

/**
 * Scale, then repeatedly remove the groups (datasets or image blocks) whose ΔCC½ marks them as
 * inconsistent and rescale, until none is flagged, `maxCycles` is reached or removing more would
 * exceed `maxPercentRemoved` of the observations.
 */
export function scaleWithDeltaCcFilter(sweeps: SweepData[], sym: ReflectionSymmetry, options: Partial<ScaleOptions>, filter: FilterOptions, log: Log = silentLog): { run: ScaleRun; cycles: FilterCycle[]; removed: ObservationGroup[] } {
  const opts: ScaleOptions = { ...DEFAULT_SCALE_OPTIONS, ...options };
  const exclude = [...opts.prep.excludeImages];
  let run = scaleSweeps(sweeps, sym, opts, log);
  const nStart = run.problem.nObs;
  let nRemoved = 0;
  const cycles: FilterCycle[] = [];
  const removed: ObservationGroup[] = [];
  for (let cycle = 1; cycle <= filter.maxCycles; cycle++) {
    const pr = run.problem;
    const groups = makeGroups(pr, filter.mode, filter.groupSize);
    const res = deltaCcHalf(pr, run.g, groups, filter.stdcutoff);
    const take: ObservationGroup[] = [];
    let nThis = 0;
    for (const k of res.flagged) {
      const gr = groups[k];
      let cnt = 0;
      for (let o = 0; o < pr.nObs; o++) if (pr.sweepOf[o] === gr.sweep && pr.image[o] >= gr.firstImage && pr.image[o] <= gr.lastImage) cnt++;
      if ((100 * (nRemoved + nThis + cnt)) / nStart > filter.maxPercentRemoved) break;
      take.push(gr); nThis += cnt;
    }
    cycles.push({ cycle, ccHalf: res.ccHalfAll, mean: res.mean, sigma: res.sigma, removed: take, nRemovedObs: nThis });
    log.info(`ΔCC½ cycle ${cycle}: CC½ ${res.ccHalfAll.toFixed(4)}, ΔCC½ mean ${res.mean.toExponential(3)} σ ${res.sigma.toExponential(3)}; removing ${take.length} group(s), ${nThis} observations`);
    if (take.length === 0) break;
    nRemoved += nThis;
    for (const gr of take) { exclude.push([gr.sweep, gr.firstImage, gr.lastImage]); removed.push(gr); }
    run = scaleSweeps(sweeps, sym, { ...opts, prep: { ...opts.prep, excludeImages: exclude } }, log);
  }
  return { run, cycles, removed };
}

export { computeIh };
