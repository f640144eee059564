/**
 * Autoindexing of rotation data: strong spots → rlps → basis search (fft3d) → reduced P1 basis →
 * Miller indices → macro-cycles of static refinement at rising resolution, re-indexing with the
 * refined geometry each cycle. Further lattices are sought among the unindexed spots
 * (`maxLattices`). With several sweeps, `joint` indexes all of them as one crystal.
 */
import { randomUUID } from 'node:crypto';
import { Mat3 } from '../math/mat3.js';
import type { Vec3 } from '../math/vec3.js';
import type { Crystal, Experiment } from '../models/types.js';
import { ParameterError, UserError } from '../errors.js';
import { CbOp, UnitCell, centringType, minimumCellTransform } from '../symmetry/index.js';
import { decomposeA } from '../refinement/parameterisation.js';
import { fft1dCandidates, realSpaceGridCandidates } from './direction_search.js';
import { matchKnownSymmetry, type KnownSymmetry } from './known_symmetry.js';
import type { Log } from '../log.js';
import { silentLog } from '../log.js';
import type { RefinementData } from '../refinement/target.js';
import { subsetObservations } from '../refinement/observations.js';
import { cloneExperiments, refineGeometry, type ExperimentRmsd, type RefinerOptions, type RefinerResult } from '../refinement/refiner.js';
import { reciprocalLatticePoints } from './rlp.js';
import { estimateMaxCell } from './max_cell.js';
import { fft3dCandidates } from './fft3d.js';
import { assignIndices, selectBasis, type BasisChoice } from './basis.js';

export interface IndexingOptions {
  method?: 'fft3d' | 'fft1d' | 'real_space_grid_search';
  /** unit_cell= / space_group=: the lattice found must fit them ('unit_cell_mismatch' otherwise) */
  knownSymmetry?: KnownSymmetry;
  maxCell?: number | null;
  /** multiplier on the estimated max_cell (ignored when maxCell is given) */
  maxCellFactor?: number;
  minCell?: number;
  gridSize?: number;
  hklTolerance?: number;
  nMacroCycles?: number;
  maxLattices?: number;
  joint?: boolean;
  /**
   * Joint indexing of several sweeps: in the last macro-cycle give each sweep its own
   * orientation (one shared cell), absorbing small inconsistencies between goniometer settings.
   */
  splitOrientations?: boolean;
  /** Fewer indexed spots than this fraction of the spots searched → no lattice (default 1.5·(2·hkl_tolerance)³, the chance level ×1.5). */
  minIndexedFraction?: number;
  refinement?: RefinerOptions;
  log?: Log;
}

export interface IndexedLattice {
  crystal: Crystal;
  /** experiments (imagesets) this lattice was indexed on */
  imagesets: number[];
}

export interface IndexingResult {
  /** one experiment per (lattice, imageset) */
  experiments: Experiment[];
  /** lattice number (0, 1, …) of each output experiment */
  latticeOfExperiment: number[];
  /** per spot: index into `experiments`, or −1 when unindexed */
  experimentOf: Int32Array;
  miller: Int32Array;
  /** predictions for indexed spots (NaN otherwise) */
  xCal: Float64Array;
  yCal: Float64Array;
  phiCal: Float64Array;
  s1: Float64Array;
  rlp: Float64Array;
  usedInRefinement: Uint8Array;
  centroidOutlier: Uint8Array;
  rmsds: ExperimentRmsd[];
  maxCell: number;
  dMinFft: number;
  nCentroidsUsed: number;
  parameterNames: string[];
}

const DEFAULTS = { minCell: 3, gridSize: 256, hklTolerance: 0.3, nMacroCycles: 5, maxLattices: 1 };

/** Rows of `data` belonging to the given imagesets and not excluded. */
function rowsOf(data: RefinementData, imagesets: number[], exclude?: Uint8Array): number[] {
  const set = new Set(imagesets);
  const out: number[] = [];
  for (let i = 0; i < data.experiment.length; i++) if (set.has(data.experiment[i]) && !(exclude && exclude[i])) out.push(i);
  return out;
}

function crystalFromA(A: Mat3): Crystal {
  return crystalFromDirect(Mat3.inverse(A));
}

function crystalFromDirect(direct: Mat3): Crystal {
  return { realSpaceA: Mat3.row(direct, 0), realSpaceB: Mat3.row(direct, 1), realSpaceC: Mat3.row(direct, 2), spaceGroupHall: ' P 1' };
}

function aOf(c: Crystal): Mat3 {
  return Mat3.inverse(Mat3.fromRows(c.realSpaceA, c.realSpaceB, c.realSpaceC));
}

/** Assign Miller indices to every row with its own experiment's crystal; returns the count. */
function assignAll(exps: Experiment[], sub: RefinementData, rlp: Float64Array, tol: number, miller: Int32Array, indexed: Uint8Array): number {
  let count = 0;
  exps.forEach((e, k) => {
    const rows: number[] = [];
    for (let i = 0; i < sub.experiment.length; i++) if (sub.experiment[i] === k) rows.push(i);
    count += assignIndices(aOf(e.crystal!), rlp, tol, miller, indexed, rows);
  });
  return count;
}

/**
 * With several lattices, a spot of one lattice falls within the hkl tolerance of another by chance
 * ((2·tolerance)³ ≈ 22 % of the time at 0.3), and the lattice found first claims it. Once all are
 * known, give each spot to the lattice (of its imageset) whose indices fit it most closely.
 */
function reassignToBestLattice(exps: Experiment[], data: RefinementData, experimentOf: Int32Array, miller: Int32Array, tol: number): void {
  const n = data.experiment.length;
  const bestDev = new Float64Array(n).fill(Infinity);
  exps.forEach((e, k) => {
    // which imageset this output experiment belongs to: that of any spot assigned to it
    let iset = -1;
    for (let i = 0; i < n && iset < 0; i++) if (experimentOf[i] === k) iset = data.experiment[i];
    if (iset < 0) return;
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (data.experiment[i] === iset) rows.push(i);
    const sub = subsetObservations(data, rows);
    sub.experiment.fill(0);
    const rlp = reciprocalLatticePoints(sub, [e]);
    const M = Mat3.inverse(aOf(e.crystal!));
    rows.forEach((i, j) => {
      const x = rlp[3 * j], y = rlp[3 * j + 1], z = rlp[3 * j + 2];
      const h = M[0] * x + M[1] * y + M[2] * z, kk = M[3] * x + M[4] * y + M[5] * z, l = M[6] * x + M[7] * y + M[8] * z;
      const rh = Math.round(h), rk = Math.round(kk), rl = Math.round(l);
      const dev = Math.max(Math.abs(h - rh), Math.abs(kk - rk), Math.abs(l - rl));
      if (dev > tol || (rh === 0 && rk === 0 && rl === 0) || dev >= bestDev[i]) return;
      bestDev[i] = dev;
      experimentOf[i] = k;
      miller[3 * i] = rh; miller[3 * i + 1] = rk; miller[3 * i + 2] = rl;
    });
  });
}

/**
 * Index one lattice on the spots `rows` (observations of imagesets `imagesets`), returning the
 * refined experiments (copies, one per imageset, sharing one crystal) and per-row indices.
 */
function indexOneLattice(
  experiments: readonly Experiment[], data: RefinementData, rows: number[], imagesets: number[], opts: IndexingOptions & typeof DEFAULTS, log: Log, lattice: number,
): { exps: Experiment[]; miller: Int32Array; indexed: Uint8Array; refined: RefinerResult; maxCell: number; dMinFft: number; nUsed: number } {
  const sub = subsetObservations(data, rows);
  let rlp = reciprocalLatticePoints(sub, experiments);
  const maxCell = opts.maxCell ?? estimateMaxCell(rlp) * (opts.maxCellFactor ?? 1);
  // Real-space grid step d_min/2 and a cell edge up to N·d_min/5; no finer than the spots reach.
  let dSpotsMin = Infinity;
  for (let i = 0; i < rlp.length / 3; i++) dSpotsMin = Math.min(dSpotsMin, 1 / Math.hypot(rlp[3 * i], rlp[3 * i + 1], rlp[3 * i + 2]));
  const dMinFft = Math.max((5 * maxCell) / opts.gridSize, dSpotsMin);
  log.info(`Found max_cell: ${maxCell.toFixed(1)} Angstrom`);
  log.info(`Setting d_min: ${dMinFft.toFixed(2)}`);
  log.info(`FFT gridding: (${opts.gridSize},${opts.gridSize},${opts.gridSize})`);
  const method = opts.method ?? 'fft3d';
  let vectors: Vec3[];
  if (method === 'fft3d') {
    const { candidates, used } = fft3dCandidates(rlp, { dMin: dMinFft, maxCell, minCell: opts.minCell, gridSize: opts.gridSize });
    log.info(`Number of centroids used: ${used}`);
    vectors = candidates.map((c) => c.vector as Vec3);
  } else if (method === 'fft1d') {
    vectors = fft1dCandidates(rlp, { dMin: dMinFft, maxCell, minCell: opts.minCell });
  } else {
    const known = opts.knownSymmetry;
    if (!known?.unitCell) throw new ParameterError('indexing.method=real_space_grid_search needs known_symmetry.unit_cell');
    const centring = known.spaceGroup ? centringType(known.spaceGroup) : 'P';
    const prim = minimumCellTransform(known.unitCell, centring).cell;
    vectors = realSpaceGridCandidates(rlp, [prim.a, prim.b, prim.c]);
  }
  log.debug(`${method}: ${vectors.length} candidate vectors`);
  if (vectors.length < 3) throw new UserError(`no lattice found: only ${vectors.length} candidate basis vectors (lattice ${lattice + 1})`, 'no_lattice');
  // score on the low-resolution rlps the FFT saw
  const lowRes: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
    if (x * x + y * y + z * z <= 1 / (dMinFft * dMinFft)) lowRes.push(i);
  }
  const lowRlp = new Float64Array(3 * lowRes.length);
  lowRes.forEach((i, k) => { lowRlp[3 * k] = rlp[3 * i]; lowRlp[3 * k + 1] = rlp[3 * i + 1]; lowRlp[3 * k + 2] = rlp[3 * i + 2]; });
  const choices = selectBasis(vectors, lowRlp, { tolerance: 0.25 });
  if (choices.length === 0) throw new UserError(`no lattice found: no three non-coplanar candidate vectors index the spots (lattice ${lattice + 1})`, 'no_lattice');
  // one experiment per imageset in this group; rows' experiment ids become local
  const localExp = new Map(imagesets.map((iset, k) => [iset, k]));
  for (let k = 0; k < sub.experiment.length; k++) sub.experiment[k] = localExp.get(sub.experiment[k])!;
  // resolution of each spot for the macro-cycle cut
  const dOf = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) dOf[k] = 1 / Math.hypot(rlp[3 * k], rlp[3 * k + 1], rlp[3 * k + 2]);
  const dSpots = dOf.reduce((m, d) => Math.min(m, d), Infinity);

  /** The choice as a starting crystal (in the known symmetry's setting when one is given). */
  const startingCrystal = (choice: BasisChoice): { crystal: Crystal; cellOps?: Mat3[] } => {
    const c = crystalFromDirect(choice.direct);
    if (!opts.knownSymmetry) return { crystal: c };
    const m = matchKnownSymmetry(aOf(c), opts.knownSymmetry);
    const { U } = decomposeA(CbOp.applyToA(m.cb, aOf(c)));
    const A = Mat3.mul(U, UnitCell.bMatrix(m.cell));
    log.info(`Known symmetry: change of basis ${CbOp.toAbc(m.cb)} to ${UnitCell.toString(m.cell, 2)}`);
    return { crystal: { ...crystalFromA(A), spaceGroupHall: m.hall }, cellOps: m.millerOps };
  };

  /** Macro-cycles of indexing and refinement at rising resolution from a starting crystal. */
  const macroCycles = (crystal: Crystal, cellOps?: Mat3[]) => {
    let exps = cloneExperiments(imagesets.map((i) => experiments[i]));
    for (const e of exps) e.crystal = crystal;
    const miller = new Int32Array(3 * rows.length);
    const indexed = new Uint8Array(rows.length);
    const nCycles = Math.max(1, opts.nMacroCycles);
    let refined: RefinerResult | null = null;
    let r2 = rlp;
    for (let cycle = 0; cycle < nCycles; cycle++) {
      // d_min rises from the FFT's resolution to the full resolution of the spots
      const frac = nCycles === 1 ? 1 : Math.min(1, (cycle + 1) / (nCycles - 1));
      const dStart = Math.max(dMinFft, dSpots);
      const dCut = cycle >= nCycles - 2 ? 0 : dStart + (dSpots - dStart) * frac;
      r2 = reciprocalLatticePoints(sub, exps);
      const nIdx = assignAll(exps, sub, r2, opts.hklTolerance, miller, indexed);
      // a random basis already indexes a fraction (2·tolerance)³ of random points
      const minFraction = opts.minIndexedFraction ?? Math.min(0.5, 1.5 * (2 * opts.hklTolerance) ** 3);
      if (nIdx < Math.max(10, minFraction * rows.length)) {
        throw new UserError(`no lattice found: the best basis indexes only ${nIdx} of ${rows.length} spots, no better than chance (lattice ${lattice + 1})`, 'no_lattice');
      }
      const sel: number[] = [];
      for (let k = 0; k < rows.length; k++) if (indexed[k] && dOf[k] >= dCut) sel.push(k);
      const rdata = subsetObservations({ ...sub, miller }, sel);
      log.info(`Macro-cycle ${cycle + 1}: ${nIdx} spots indexed, refining against ${sel.length} with d ≥ ${dCut > 0 ? dCut.toFixed(2) : dSpots.toFixed(2)} Å`);
      const split = !!opts.splitOrientations && exps.length > 1 && cycle === nCycles - 1;
      refined = refineGeometry(exps, rdata, {
        maxTiltEsdMrad: 10, ...(opts.refinement ?? {}), independentOrientations: split, cellOps: cellOps ? exps.map(() => cellOps) : undefined,
      });
      exps = refined.experiments;
      if (refined.autoFixed.length) log.info(`  fixed, not determined by these data: ${refined.autoFixed.join(', ')}`);
      for (const r of refined.rmsds) log.info(`  RMSDs (exp ${r.experiment}): ${r.xPx.toFixed(3)} px, ${r.yPx.toFixed(3)} px, ${r.zImages.toFixed(3)} images over ${r.nref} reflections`);
    }
    // A lattice whose refined model misses its own spots by pixels or images is not a solution
    for (const r of refined!.rmsds) {
      if (r.nref === 0 || Math.hypot(r.xPx, r.yPx) > 3 || r.zImages > 5) {
        throw new UserError(`no lattice found: the best model misses its spots (RMSD ${r.xPx.toFixed(1)} px, ${r.yPx.toFixed(1)} px, ${r.zImages.toFixed(1)} images on imageset ${imagesets[r.experiment]}, lattice ${lattice + 1})`, 'no_lattice');
      }
    }
    r2 = reciprocalLatticePoints(sub, exps);
    assignAll(exps, sub, r2, opts.hklTolerance, miller, indexed);
    return { exps, miller, indexed, refined: refined!, maxCell, dMinFft, nUsed: rows.length };
  };

  // The smallest well-indexing basis first; when its refinement does not converge to a model that
  // predicts the spots (or it does not fit the known symmetry), the next candidates in turn.
  let firstError: unknown = null;
  for (const choice of choices.slice(0, opts.knownSymmetry ? 10 : 5)) {
    log.debug(`basis: indexes ${choice.nIndexed}/${choice.nSample} of sampled low-resolution rlps, volume ${choice.volume.toFixed(0)}`);
    try {
      const start = startingCrystal(choice);
      return macroCycles(start.crystal, start.cellOps);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      log.debug(`basis rejected: ${e.message}`);
      firstError ??= e;
    }
  }
  throw firstError;
}

/**
 * The nearest-neighbour max_cell is least reliable exactly where it matters most — a few dozen
 * spots from a narrow wedge — and an underestimate hides the true basis vectors from the FFT.
 * When no lattice is found with the estimate, try 1.5× and 2× before giving up.
 */
function indexWithMaxCellRetries(
  experiments: readonly Experiment[], data: RefinementData, rows: number[], imagesets: number[], opts: IndexingOptions & typeof DEFAULTS, log: Log, lattice: number,
): ReturnType<typeof indexOneLattice> {
  const factors = opts.maxCell ? [1] : [1, 1.5, 2];
  let first: unknown = null;
  for (const f of factors) {
    try {
      if (f !== 1) log.info(`No lattice with the estimated max_cell: trying ${f}× max_cell`);
      return indexOneLattice(experiments, data, rows, imagesets, { ...opts, maxCellFactor: (opts.maxCellFactor ?? 1) * f }, log, lattice);
    } catch (e) {
      if (!(e instanceof UserError) || e.code !== 'no_lattice') throw e;
      first ??= e;
    }
  }
  throw first;
}

/** Index `table`'s spots (as observations `data`) against `experiments` (imported models). */
export function indexSpots(experiments: readonly Experiment[], data: RefinementData, options: IndexingOptions = {}): IndexingResult {
  const opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as IndexingOptions & typeof DEFAULTS;
  const log = options.log ?? silentLog;
  const n = data.experiment.length;
  if (n < 10) throw new UserError(`too few spots to index: ${n} (need at least 10)`, 'too_few_spots');
  for (const [i, e] of experiments.entries()) {
    if (!e.beam || !e.detector || !e.goniometer || !e.scan) throw new UserError(`experiment ${i} lacks a beam, detector, goniometer or scan: only rotation data can be indexed`, 'bad_model');
  }
  const groups: number[][] = opts.joint === false ? experiments.map((_, i) => [i]) : [experiments.map((_, i) => i)];
  const outExps: Experiment[] = [];
  const latticeOfExperiment: number[] = [];
  let latticeCount = 0;
  const experimentOf = new Int32Array(n).fill(-1);
  const miller = new Int32Array(3 * n);
  const done = new Uint8Array(n);
  let maxCell = NaN, dMinFft = NaN, nCentroids = 0;
  let paramNames: string[] = [];
  for (const group of groups) {
    for (let lattice = 0; lattice < opts.maxLattices; lattice++) {
      const rows = rowsOf(data, group, done);
      if (rows.length < 10) {
        if (lattice === 0) throw new UserError(`too few spots to index: ${rows.length} in imageset(s) ${group.join(', ')} (need at least 10)`, 'too_few_spots');
        break;
      }
      let res;
      try {
        res = indexWithMaxCellRetries(experiments, data, rows, group, opts, log, lattice);
      } catch (e) {
        if (lattice > 0 && e instanceof UserError) { log.info(`No further lattice: ${e.message}`); break; }
        throw e;
      }
      if (lattice === 0) { maxCell = res.maxCell; dMinFft = res.dMinFft; }
      nCentroids += res.nUsed;
      paramNames = res.refined.parameterNames;
      const base = outExps.length;
      res.exps.forEach((e) => {
        outExps.push({ ...e, identifier: lattice === 0 && e.identifier ? e.identifier : randomUUID() });
        latticeOfExperiment.push(latticeCount);
      });
      latticeCount++;
      const localOf = new Map(group.map((iset, k) => [iset, k]));
      rows.forEach((i, k) => {
        if (!res.indexed[k]) return;
        experimentOf[i] = base + localOf.get(data.experiment[i])!;
        miller[3 * i] = res.miller[3 * k]; miller[3 * i + 1] = res.miller[3 * k + 1]; miller[3 * i + 2] = res.miller[3 * k + 2];
        done[i] = 1;
      });
    }
  }
  if (outExps.length > 1) reassignToBestLattice(outExps, data, experimentOf, miller, opts.hklTolerance);
  // Final predictions and flags: one refinement-free evaluation over everything indexed, plus
  // a last static refinement to obtain used/outlier flags consistent with the output models.
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (experimentOf[i] >= 0) idx.push(i);
  const fin = subsetObservations({ ...data, miller }, idx);
  idx.forEach((i, k) => { fin.experiment[k] = experimentOf[i]; });
  const last = refineGeometry(outExps, fin, { ...(opts.refinement ?? {}), maxIterations: 0 });
  const xCal = new Float64Array(n).fill(NaN), yCal = new Float64Array(n).fill(NaN), phiCal = new Float64Array(n).fill(NaN);
  const s1 = new Float64Array(3 * n).fill(NaN);
  const used = new Uint8Array(n), outlier = new Uint8Array(n);
  idx.forEach((i, k) => {
    if (last.predictions.valid[k]) {
      xCal[i] = last.predictions.xCal[k]; yCal[i] = last.predictions.yCal[k]; phiCal[i] = last.predictions.phiCal[k];
      s1[3 * i] = last.predictions.s1[3 * k]; s1[3 * i + 1] = last.predictions.s1[3 * k + 1]; s1[3 * i + 2] = last.predictions.s1[3 * k + 2];
    }
    used[i] = last.used[k];
    outlier[i] = last.outlier[k];
  });
  // rlps with the final geometry of each imageset (its first lattice's models), for the output table
  const modelOf: Experiment[] = experiments.slice();
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const iset = data.experiment[i];
    if (experimentOf[i] >= 0 && !seen.has(iset)) { seen.add(iset); modelOf[iset] = outExps[experimentOf[i]]; }
  }
  const rlpAll = reciprocalLatticePoints(data, modelOf);
  return {
    experiments: outExps, latticeOfExperiment, experimentOf, miller, xCal, yCal, phiCal, s1, rlp: rlpAll, usedInRefinement: used, centroidOutlier: outlier,
    rmsds: last.rmsds, maxCell, dMinFft, nCentroidsUsed: nCentroids, parameterNames: paramNames,
  };
}
