/**
 * Scan-static geometry refinement of an experiment list against indexed reflections: builds the
 * parameterisations (shared models share parameters), applies DIALS-style `fix=` choices, removes
 * reflections close to the spindle and Tukey outliers, picks a reflection subset
 * (`reflections_per_degree`), runs Levenberg–Marquardt and writes the refined models back.
 */
import { Matrix, pseudoInverse } from 'ml-matrix';
import { Mat3 } from '../math/mat3.js';
import type { Vec3 } from '../math/vec3.js';
import type { Beam, Crystal, Detector, Experiment, Goniometer } from '../models/types.js';
import { UserError } from '../errors.js';
import {
  BeamParameterisation, CrystalOrientationParameterisation, CrystalUnitCellParameterisation, DetectorParameterisation,
  GoniometerParameterisation, aMatrixOf, crystalFromA, decomposeA,
} from './parameterisation.js';
import { RefinementTarget, allocatePredictions, type ExperimentParameterisations, type Predictions, type RefinementData } from './target.js';
import { levenbergMarquardt, type EngineHistory } from './engine.js';
import { mcdReject, tukeyReject } from './outliers.js';
import { ScanVaryingCrystalParameterisation } from './scan_varying.js';
import { ExperimentList } from '../models/experiment.js';
import { mulberry32 } from '../math/random.js';

export interface RefinerOptions {
  /**
   * DIALS words: all | in_spindle_plane | out_spindle_plane. DIALS' default `in_spindle_plane`
   * keeps the beam in the initial spindle–beam plane, i.e. fixes its tilt out of that plane (the
   * tilt degenerate with a rotation of everything about the spindle).
   */
  beamFix?: string[];
  /** all | position | orientation | distance (default: none). */
  detectorFix?: string[];
  /** all | in_beam_plane | out_beam_plane (default: all). */
  goniometerFix?: string[];
  /** all | cell | orientation (default: none). */
  crystalFix?: string[];
  /** Per experiment: lattice point-group operators (on Miller indices) constraining the cell. */
  cellOps?: (readonly Mat3[] | undefined)[];
  outlierAlgorithm?: 'tukey' | 'mcd' | 'null';
  /** Reflections with |e·(s1 × s0)| (Å⁻²) below this are not used (φ ill-determined near the spindle). */
  closeToSpindleCutoff?: number;
  /** Subset size per degree of scan per experiment; null/0 → use all reflections. */
  reflectionsPerDegree?: number | null;
  maxIterations?: number;
  /**
   * One orientation per experiment even where experiments share a crystal (the cell stays shared):
   * several sweeps of one crystal whose goniometer settings are not exactly consistent. The
   * refined experiments then hold separate crystal models with equal cells.
   */
  independentOrientations?: boolean;
  /** Scan-varying crystal orientation and cell, checkpoints every intervalDeg (DIALS interval_width_degrees). */
  scanVarying?: { intervalDeg: number } | null;
  /**
   * Detector tilts with a larger a-priori e.s.d. (mrad) at the start are fixed (default 0: never).
   * Indexing uses it: there the model is still rough and an undetermined tilt only distorts the
   * cell; a deliberate refinement (e.g. with a cell restraint freeing the distance) keeps them.
   */
  maxTiltEsdMrad?: number;
  /** Tie every crystal's cell to these values (a, b, c Å, α, β, γ °) with these sigmas (DIALS tie_to_target). */
  cellRestraint?: { values: number[]; sigmas: number[] } | null;
  /** Stop early once every experiment's RMSDs are below these (px, px, images). */
  rmsdTarget?: [number, number, number] | null;
}

export interface ExperimentRmsd {
  experiment: number;
  nref: number;
  xPx: number;
  yPx: number;
  zImages: number;
  xMm: number;
  yMm: number;
  phiRad: number;
}

export interface RefinerResult {
  experiments: Experiment[];
  predictions: Predictions;
  /** 1 where the reflection was used in the final refinement */
  used: Uint8Array;
  /** 1 where the reflection was rejected as an outlier */
  outlier: Uint8Array;
  rmsds: ExperimentRmsd[];
  history: EngineHistory;
  parameterNames: string[];
  nOutliers: number;
  /** parameters fixed automatically because the data could not determine them */
  autoFixed: string[];
  /** RMSDs (all experiments pooled) at the start and after every accepted step of the last LM run */
  steps: { nref: number; xMm: number; yMm: number; phiDeg: number }[];
  /** residual quartiles before and after outlier rejection, for the log */
  residualSummary: { before: ResidualSummary; after: ResidualSummary };
}

/** Min, Q1, median, Q3, max of Xc − Xo (mm), Yc − Yo (mm), φc − φo (°) over some reflections. */
export interface ResidualSummary { n: number; x: number[]; y: number[]; phi: number[] }

function summarise(data: RefinementData, pred: Predictions, sel: Uint8Array): ResidualSummary {
  const xs: number[] = [], ys: number[] = [], ps: number[] = [];
  for (let i = 0; i < sel.length; i++) {
    if (!sel[i] || !pred.valid[i]) continue;
    xs.push(pred.xCal[i] - data.xObs[i]); ys.push(pred.yCal[i] - data.yObs[i]); ps.push(((pred.phiCal[i] - data.phiObs[i]) * 180) / Math.PI);
  }
  const five = (v: number[]) => {
    if (v.length === 0) return [NaN, NaN, NaN, NaN, NaN];
    const s = Float64Array.from(v).sort();
    const q = (f: number) => { const p = (s.length - 1) * f, lo = Math.floor(p), hi = Math.ceil(p); return s[lo] + (s[hi] - s[lo]) * (p - lo); };
    return [s[0], q(0.25), q(0.5), q(0.75), s[s.length - 1]];
  };
  return { n: xs.length, x: five(xs), y: five(ys), phi: five(ps) };
}

/** Deep copies keeping model sharing (ExperimentList.clone), under the name refinement code uses. */
export const cloneExperiments = ExperimentList.clone;

function has(words: string[] | undefined, w: string): boolean {
  return (words ?? []).some((x) => x.toLowerCase() === w);
}

const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Build parameterisations for a (cloned) experiment list; one object per distinct model. */
export function buildParameterisations(exps: Experiment[], opts: RefinerOptions): ExperimentParameterisations[] {
  const beams = new Map<Beam, BeamParameterisation>();
  const dets = new Map<Detector, DetectorParameterisation>();
  const gonios = new Map<Goniometer, GoniometerParameterisation>();
  const orients = new Map<Crystal, CrystalOrientationParameterisation>();
  const cells = new Map<Crystal, CrystalUnitCellParameterisation>();
  return exps.map((e, idx) => {
    if (!e.beam || !e.detector || !e.goniometer || !e.crystal) throw new UserError(`experiment ${idx} lacks a beam, detector, goniometer or crystal model: cannot refine`, 'bad_model');
    const gon = e.goniometer;
    const S = gon.settingRotation ?? IDENTITY, F = gon.fixedRotation ?? IDENTITY;
    const spindleLab: Vec3 = Mat3.mulVec(S, gon.rotationAxis);
    let bp = beams.get(e.beam);
    if (!bp) {
      bp = new BeamParameterisation(e.beam, spindleLab);
      const f = opts.beamFix ?? ['in_spindle_plane'];
      // Mu1 (about e1 ⟂ spindle and beam) moves s0 within the spindle–beam plane; Mu2 tilts it out.
      bp.fixed[0] = has(f, 'all') || has(f, 'out_spindle_plane');
      bp.fixed[1] = has(f, 'all') || has(f, 'in_spindle_plane');
      beams.set(e.beam, bp);
    }
    let dp = dets.get(e.detector);
    if (!dp) {
      dp = new DetectorParameterisation(e.detector);
      const f = opts.detectorFix ?? [];
      const all = has(f, 'all');
      dp.fixed[0] = all || has(f, 'position') || has(f, 'distance');
      dp.fixed[1] = dp.fixed[2] = all || has(f, 'position');
      dp.fixed[3] = dp.fixed[4] = dp.fixed[5] = all || has(f, 'orientation');
      dets.set(e.detector, dp);
    }
    let gp = gonios.get(gon);
    if (!gp) {
      // beam direction in the axis' frame (before S)
      const beamInAxisFrame = Mat3.mulVec(Mat3.transpose(S), e.beam.direction);
      gp = new GoniometerParameterisation(gon, beamInAxisFrame);
      const f = opts.goniometerFix ?? ['all'];
      gp.fixed[0] = has(f, 'all') || has(f, 'in_beam_plane');
      gp.fixed[1] = has(f, 'all') || has(f, 'out_beam_plane');
      gonios.set(gon, gp);
    }
    let op = opts.independentOrientations ? undefined : orients.get(e.crystal);
    let cp = cells.get(e.crystal);
    const f = opts.crystalFix ?? [];
    const { U, B } = decomposeA(aMatrixOf(e.crystal));
    if (!op) {
      op = new CrystalOrientationParameterisation(U);
      op.fixed.fill(has(f, 'all') || has(f, 'orientation'));
      orients.set(e.crystal, op);
    }
    if (!cp) {
      cp = new CrystalUnitCellParameterisation(B, opts.cellOps?.[idx] ?? []);
      cp.fixed.fill(has(f, 'all') || has(f, 'cell'));
      cells.set(e.crystal, cp);
    }
    let sv: ScanVaryingCrystalParameterisation | undefined;
    if (opts.scanVarying && e.scan && e.scan.oscillation[1] !== 0) {
      const f = opts.crystalFix ?? [];
      const DEG = Math.PI / 180;
      sv = new ScanVaryingCrystalParameterisation(op.U, cp.B, opts.cellOps?.[idx] ?? [], {
        phi0: e.scan.oscillation[0] * DEG, osc: e.scan.oscillation[1] * DEG, nImages: e.scan.imageRange[1] - e.scan.imageRange[0] + 1,
      }, opts.scanVarying.intervalDeg, has(f, 'all') || has(f, 'orientation'), has(f, 'all') || has(f, 'cell'));
      op.fixed.fill(true);
      cp.fixed.fill(true);
    }
    // A rotation of beam, axis, detector and crystal together changes no prediction. With the
    // axis free, two such rotations stay open: about the beam (axis out of the beam plane vs
    // detector Tau1 + crystal) and about axis × beam (axis in the beam plane vs beam Mu1 + detector
    // tilt + crystal). Fix the axis out of the beam plane and the beam's Mu1 so the normal matrix is
    // not singular (what is left matches DIALS' parameter count).
    if (!gp.fixed[1] && !dp.fixed[3]) gp.fixed[1] = true;
    if (!gp.fixed[0] && !bp.fixed[0]) bp.fixed[0] = true;
    return { beam: bp, detector: dp, goniometer: gp, orientation: op, cell: cp, settingRotation: S, fixedRotation: F, scanVarying: sv };
  });
}

/** Write parameterisation states back into the model objects. */
function applyToModels(exps: Experiment[], target: RefinementTarget): void {
  const done = new Set<object>();
  target.experiments.forEach((x, e) => {
    if (!done.has(x.beam)) { x.beam.apply(); done.add(x.beam); }
    if (!done.has(x.detector)) { x.detector.apply(); done.add(x.detector); }
    if (!done.has(x.goniometer)) { x.goniometer.apply(); done.add(x.goniometer); }
    const c = exps[e].crystal!;
    const nc = crystalFromA(target.aMatrix(e), c);
    const sv = x.scanVarying;
    if (sv) {
      // each scan-varying experiment gets its own crystal model with A at every scan point
      const own: Crystal = { ...structuredClone(nc), AAtScanPoints: sv.aAtScanPoints() };
      delete own.BCovariance;
      exps[e].crystal = own;
      return;
    }
    if (!done.has(c)) {
      c.realSpaceA = nc.realSpaceA; c.realSpaceB = nc.realSpaceB; c.realSpaceC = nc.realSpaceC;
      done.add(c);
    } else if (!Mat3.equals(aMatrixOf(c), target.aMatrix(e), 1e-12)) {
      // a shared crystal refined with its own orientation here: give this experiment its own model
      exps[e].crystal = structuredClone(nc);
    }
  });
}


/**
 * Groups for MCD: per experiment, up to 5 blocks of consecutive φ with at least 300 reflections
 * each, so slow drifts of the residual means along the scan (a scan-static model of a crystal
 * that moves) do not inflate the covariance every reflection is judged by.
 */
export function phiBlocks(data: RefinementData, active: Uint8Array, maxGroups = 5, minGroupSize = 300): Int32Array {
  const n = active.length;
  const groups = new Int32Array(n).fill(-1);
  const nExp = data.experiment.reduce((a, b) => Math.max(a, b), -1) + 1;
  let next = 0;
  for (let e = 0; e < nExp; e++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (active[i] && data.experiment[i] === e) idx.push(i);
    idx.sort((a, b) => data.phiObs[a] - data.phiObs[b]);
    const k = Math.max(1, Math.min(maxGroups, Math.floor(idx.length / minGroupSize)));
    idx.forEach((i, j) => { groups[i] = next + Math.min(k - 1, Math.floor((j * k) / idx.length)); });
    next += k;
  }
  return groups;
}

/** RMSDs per experiment over active reflections, in mm/rad and px/images. */
export function experimentRmsds(exps: readonly Experiment[], data: RefinementData, pred: Predictions, active: Uint8Array): ExperimentRmsd[] {
  return exps.map((e, id) => {
    let sx = 0, sy = 0, sp = 0, n = 0;
    for (let i = 0; i < active.length; i++) {
      if (!active[i] || !pred.valid[i] || data.experiment[i] !== id) continue;
      const dx = pred.xCal[i] - data.xObs[i], dy = pred.yCal[i] - data.yObs[i], dp = pred.phiCal[i] - data.phiObs[i];
      sx += dx * dx; sy += dy * dy; sp += dp * dp; n++;
    }
    const xMm = Math.sqrt(sx / n), yMm = Math.sqrt(sy / n), phiRad = Math.sqrt(sp / n);
    const px = e.detector!.panels[0].pixelSize;
    const oscRad = (Math.abs(e.scan?.oscillation[1] || 1) * Math.PI) / 180;
    return { experiment: id, nref: n, xMm, yMm, phiRad, xPx: xMm / px[0], yPx: yMm / px[1], zImages: phiRad / oscRad };
  });
}

/**
 * Refine the experiments' geometry against `data`. The inputs are not modified; the result holds
 * refined copies. `initialActive` (optional) pre-selects reflections (1 = may be used).
 */
export function refineGeometry(input: readonly Experiment[], data: RefinementData, opts: RefinerOptions = {}, initialActive?: Uint8Array): RefinerResult {
  const exps = cloneExperiments(input);
  const target = new RefinementTarget(buildParameterisations(exps, opts));
  if (opts.cellRestraint) {
    const cells = [...new Set(target.experiments.map((x) => x.cell))];
    target.restraints = cells.map((cell) => ({ cell, values: opts.cellRestraint!.values, sigmas: opts.cellRestraint!.sigmas }));
  }
  const n = data.experiment.length;
  const pred = allocatePredictions(n);
  const active = initialActive ? Uint8Array.from(initialActive) : new Uint8Array(n).fill(1);
  target.evaluate(data, active, pred, false);
  const cutoff = opts.closeToSpindleCutoff ?? 0.02;
  for (let i = 0; i < n; i++) if (!pred.valid[i] || pred.zeta[i] < cutoff) active[i] = 0;

  const outlier = new Uint8Array(n);
  const rejectOutliers = (): number => {
    const alg = opts.outlierAlgorithm ?? 'tukey';
    if (alg === 'null') return 0;
    const rx = new Float64Array(n), ry = new Float64Array(n), rp = new Float64Array(n);
    for (let i = 0; i < n; i++) { rx[i] = pred.xCal[i] - data.xObs[i]; ry[i] = pred.yCal[i] - data.yObs[i]; rp[i] = pred.phiCal[i] - data.phiObs[i]; }
    const before = Uint8Array.from(active);
    const k = alg === 'mcd' ? mcdReject([rx, ry, rp], phiBlocks(data, active), active) : tukeyReject([rx, ry, rp], data.experiment, active);
    for (let i = 0; i < n; i++) if (before[i] && !active[i]) outlier[i] = 1;
    return k;
  };
  const before = summarise(data, pred, active);
  let nOutliers = rejectOutliers();

  // Subset: reflections_per_degree × scan width per experiment, chosen at random (seeded).
  const perDegree = opts.reflectionsPerDegree;
  const used = Uint8Array.from(active);
  if (perDegree && perDegree > 0) {
    const rand = mulberry32(42);
    exps.forEach((e, id) => {
      const width = e.scan ? Math.abs(e.scan.oscillation[1]) * (e.scan.imageRange[1] - e.scan.imageRange[0] + 1) : 1;
      const want = Math.max(Math.round(perDegree * width), 20);
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (used[i] && data.experiment[i] === id) idx.push(i);
      if (idx.length <= want) return;
      for (let j = idx.length - 1; j > 0; j--) { const r = Math.floor(rand() * (j + 1)); [idx[j], idx[r]] = [idx[r], idx[j]]; }
      for (let j = want; j < idx.length; j++) used[idx[j]] = 0;
    });
  }

  const steps: RefinerResult['steps'] = [];
  const autoFixed = fixUndeterminedTilts(target, data, used, pred, opts.maxTiltEsdMrad ?? 0);

  const problem = {
    get nParams() { return target.nFree; },
    getValues: () => target.getValues(),
    setValues: (v: Float64Array) => target.setValues(v),
    evaluate: (withNormal: boolean) => target.evaluate(data, used, pred, withNormal, false),
    onStep: () => {
      let sx = 0, sy = 0, sp = 0, k = 0;
      for (let i = 0; i < n; i++) {
        if (!used[i] || !pred.valid[i]) continue;
        sx += (pred.xCal[i] - data.xObs[i]) ** 2; sy += (pred.yCal[i] - data.yObs[i]) ** 2; sp += (pred.phiCal[i] - data.phiObs[i]) ** 2; k++;
      }
      steps.push({ nref: k, xMm: Math.sqrt(sx / k), yMm: Math.sqrt(sy / k), phiDeg: (Math.sqrt(sp / k) * 180) / Math.PI });
    },
    converged: opts.rmsdTarget ? () => {
      const r = experimentRmsds(exps, data, pred, used);
      return r.every((x) => x.nref === 0 || (x.xPx < opts.rmsdTarget![0] && x.yPx < opts.rmsdTarget![1] && x.zImages < opts.rmsdTarget![2]));
    } : undefined,
  };
  let history = levenbergMarquardt(problem, { maxIterations: opts.maxIterations ?? 30 });
  // Second pass: outliers judged against the refined model, then refine again.
  target.evaluate(data, used, pred, false);
  const k2 = rejectOutliers();
  if (k2 > 0) {
    nOutliers += k2;
    for (let i = 0; i < n; i++) if (!active[i]) used[i] = 0;
    steps.length = 0;
    history = levenbergMarquardt(problem, { maxIterations: opts.maxIterations ?? 30 });
  }
  target.evaluate(data, used, pred, false);
  applyToModels(exps, target);
  return {
    experiments: exps, predictions: pred, used, outlier, rmsds: experimentRmsds(exps, data, pred, used), history,
    parameterNames: target.freeNames(), nOutliers, autoFixed, steps, residualSummary: { before, after: summarise(data, pred, used) },
  };
}

/**
 * Detector tilts the data cannot determine (a-priori e.s.d. at the start above `maxEsdMrad`): far, small
 * or flat geometries such as electron diffraction at metres of camera length, where a tilt moves
 * spots only in second order and would otherwise wander to absorb a wrong distance or distortion
 * (a 10° tilt scales the cell by cos 10°). They are fixed at their input values.
 */
function fixUndeterminedTilts(target: RefinementTarget, data: RefinementData, used: Uint8Array, pred: Predictions, maxEsdMrad: number): string[] {
  const m = target.nFree;
  if (m === 0 || !(maxEsdMrad > 0)) return [];
  const ev = target.evaluate(data, used, pred, true);
  const nObs = 3 * ev.nActive;
  if (nObs <= m) return [];
  const N = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) N.set(i, j, 0.5 * (ev.normal![i * m + j] + ev.normal![j * m + i]));
  for (let i = 0; i < m; i++) if (!(N.get(i, i) > 0)) N.set(i, i, 1);
  let inv: Matrix;
  try { inv = pseudoInverse(N); } catch { return []; }
  // a-priori e.s.d.s (weights are inverse centroid variances): a misfit start, e.g. a restraint far
  // from the current cell, must not make a determined parameter look undetermined
  const chi2 = 1;
  const fixed: string[] = [];
  target.free.forEach(([p, i], k) => {
    if (p.kind !== 'detector' || i < 3) return;
    const esd = Math.sqrt(Math.max(0, inv.get(k, k)) * chi2);
    if (esd > maxEsdMrad) { p.fixed[i] = true; fixed.push(`${p.names[i]} (e.s.d. ${esd.toFixed(0)} mrad)`); }
  });
  if (fixed.length) target.refreshFree();
  return fixed;
}
