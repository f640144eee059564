/**
 * Direct-beam search by lattice periodicity (after Sauter, Grosse-Kunstleve & Adams 2004): try beam
 * centres on a grid within `mm_search_scope` of the starting one, map the spots to reciprocal
 * space with each, and keep the centre whose rlps are most periodic; then polish it with a
 * continuous score. Each macro-cycle:
 *
 * 1. lattice directions: 1-D FFTs over a hemisphere of directions at the current centre pick the
 *    most periodic directions (modulus, so a wrong centre still shows them, only weaker);
 * 2. wide search: on the grid, each candidate's origin-referred periodicity is maximised over a
 *    small patch of directions and lengths (a centre shift rotates and stretches the apparent
 *    lattice a little) and the candidates' scores are averaged; the grid step is set by how fast
 *    a centre error spoils the phase of the longest lattice vector; of maxima within 2 % of the
 *    best, the one nearest the starting centre wins (aliases, see below);
 * 3. fine search: a pattern search on (1/n) Σ cos 2π x·t with every candidate t that is a real
 *    lattice vector re-optimised by Newton steps at each trial centre; this score is continuous,
 *    so the centre is resolved far below the grid step.
 *
 * The wide search uses a low-resolution subset (direction peaks are broad there, so the patches
 * can be coarse); the fine search uses up to `maxReflections` spots of all resolutions, since
 * high-resolution spots pin t best.
 */
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { silentLog } from '../log.js';
import type { Experiment } from '../models/types.js';
import { Panel } from '../models/detector.js';
import type { ReflectionTable } from '../reflections/table.js';
import { mulberry32 } from '../math/random.js';
import { estimateMaxCell } from '../indexing/max_cell.js';
import { checkInputs, makeSpotSet, referencePanel, rlpsAtShift, shiftBeamCentre, spotObservations, type SpotSet } from './spots.js';
import { ProjectionTransform, directionPatch, patchScore, periodicDirections, refineLatticeVector, type PeriodicDirection } from './periodicity.js';

export interface BeamSearchOptions {
  /** Longest cell edge (Å) to look for; null: estimated from rlp neighbour distances. */
  maxCell?: number | null;
  /** Resolution limits (Å) of the spots used; null: no limit. */
  dMin?: number | null;
  dMax?: number | null;
  /** Radius (mm) of the wide search around the starting centre. */
  mmSearchScope?: number;
  /** Coarseness of the wide grid: its step is this × the step that moves the longest lattice vector's phase by π/4. */
  wideSearchBinning?: number;
  nMacroCycles?: number;
  /** Most spots used by the fine search (random subset, seeded). */
  maxReflections?: number;
  seed?: number;
  /** One lattice per experiment (true), one for all (false), or decided from the data (null). */
  latticePerExperiment?: boolean | null;
  log?: Log;
  /** Source names for error messages. */
  reflSource?: string;
  exptSource?: string;
}

export interface MacroCycle {
  /** Shift from the starting centre after this cycle (mm, fast/slow of the reference panel). */
  shiftMm: [number, number];
  gridStepMm: number;
  nTrials: number;
  nDirections: number;
  wideScore: number;
  fineScore: number;
}

export interface BeamSearchResult {
  experiments: Experiment[];
  shiftMm: [number, number];
  /** Same shift in pixels of experiment 0's reference panel. */
  shiftPx: [number, number];
  /** Wide-search score (mean origin-referred periodicity of the final candidates) at the start and at the result. */
  scoreInitial: number;
  scoreFinal: number;
  /** Fine score (mean max_t (1/n) Σ cos 2π x·t) at the result. */
  fineScore: number;
  cycles: MacroCycle[];
  nSpots: number;
  nSpotsWide: number;
  nSpotsFine: number;
  maxCell: number;
  atScopeEdge: boolean;
  /** Other optima (farther from the starting centre) that fit the lattice as well as the one chosen. */
  nAlternatives: number;
  /** Whether each experiment was searched with its own lattice (different crystals). */
  latticePerExperiment: boolean;
}

const MAX_WIDE_TRIALS = 2000;
const N_DIRECTIONS = 12;
const WIDE_SUBSET = 1000;
const MIN_SPOTS = 20;
const QUICK_SUBSET = 4000;
/** Separate wide-search maxima within this fraction of the best count as equally good (at most N_ALIKE of them). */
const TIE_FRACTION = 0.02;
const N_ALIKE = 4;
/** Candidates scoring below this fraction of the best at the wide optimum are left out of the fine search. */
const QUALITY_FRACTION = 0.6;
const COMPASS = [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]] as const;

function clamp(v: number, lo: number, hi: number): number { return Math.min(hi, Math.max(lo, v)); }

/** Seeded random subset of `count` of the indices `from` (all when count ≥ length), in increasing order. */
function subset(from: ArrayLike<number>, count: number, rng: () => number): Int32Array {
  const a = Int32Array.from(from);
  if (count >= a.length) return a;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (a.length - i));
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
  return a.slice(0, count).sort();
}

function median(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/**
 * The spots of one lattice: all experiments together when they are sweeps of one crystal, one
 * experiment each when they are different crystals. Each group has its own subsets, directions
 * and lattice vectors; the scores are spot-weighted means over the groups.
 */
interface LatticeGroup {
  experiments: number[];
  weight: number;
  wide: SpotSet; quick: SpotSet; fine: SpotSet;
  wideRlp: Float64Array; quickRlp: Float64Array; fineRlp: Float64Array;
  candidates: PeriodicDirection[];
  patches: Float64Array[];
  /** Lattice vectors of the fine search at the best centre so far, and scratch for trials. */
  t: Float64Array[];
  tTrial: Float64Array[];
  dTypical: number;
}

export function searchBeamPosition(experiments: readonly Experiment[], table: ReflectionTable, options: BeamSearchOptions = {}): BeamSearchResult {
  const log = options.log ?? silentLog;
  const reflSource = options.reflSource ?? 'reflections', exptSource = options.exptSource ?? 'experiments';
  checkInputs(experiments, table, reflSource, exptSource);
  const scope = options.mmSearchScope ?? 4;
  const binning = options.wideSearchBinning ?? 2;
  if (!(scope > 0)) throw new UserError(`mm_search_scope=${scope}: must be positive`, 'bad_parameter');
  if (!(binning > 0)) throw new UserError(`wide_search_binning=${binning}: must be positive`, 'bad_parameter');
  const nCycles = options.nMacroCycles ?? 1;
  const rng = mulberry32(options.seed ?? 42);

  // resolution of every spot with the starting geometry, then the d_min/d_max selection
  const obs = spotObservations(experiments, table, reflSource);
  const all = makeSpotSet(experiments, obs);
  const rlpAll = new Float64Array(3 * all.n);
  rlpsAtShift(all, 0, 0, rlpAll);
  const keep: number[] = [];
  const dOf = new Float64Array(all.n);
  for (let i = 0; i < all.n; i++) {
    const q = Math.hypot(rlpAll[3 * i], rlpAll[3 * i + 1], rlpAll[3 * i + 2]);
    const d = q > 0 ? 1 / q : Infinity;
    dOf[i] = d;
    if (!Number.isFinite(d)) continue;
    if (options.dMin != null && d < options.dMin) continue;
    if (options.dMax != null && d > options.dMax) continue;
    keep.push(i);
  }
  if (keep.length < MIN_SPOTS) {
    throw new UserError(`${reflSource}: only ${keep.length} spots within the resolution limits; search_beam_position needs at least ${MIN_SPOTS}`, 'too_few_spots');
  }
  const keptRlp = new Float64Array(3 * keep.length);
  keep.forEach((i, j) => { keptRlp[3 * j] = rlpAll[3 * i]; keptRlp[3 * j + 1] = rlpAll[3 * i + 1]; keptRlp[3 * j + 2] = rlpAll[3 * i + 2]; });
  const maxCell = options.maxCell ?? estimateMaxCell(keptRlp);

  // fine set: random subset; wide set: the lower-resolution half of it, subsampled
  const fineRows = subset(keep, options.maxReflections ?? 20000, rng);
  const nFineAll = fineRows.length;
  const byD = Array.from(fineRows).sort((a, b) => dOf[b] - dOf[a]);
  const wideAll = subset(byD.slice(0, Math.max(MIN_SPOTS, Math.ceil(byD.length / 2))), WIDE_SUBSET, rng);
  let dMinWide = Infinity;
  for (const i of wideAll) dMinWide = Math.min(dMinWide, dOf[i]);
  // the projection range covers the wide set's spots (a shift of a few mm moves them by far less
  // than the 5 % margin), the bins resolve maxCell
  const tr = new ProjectionTransform(dMinWide / 1.05, maxCell);
  const minLength = Math.max(3, 1.5 * dMinWide);

  const makeGroup = (exps: number[], wideCount: number, quickCount: number): LatticeGroup | null => {
    const inGroup = (i: number) => exps.includes(obs.experiment[i]);
    const f = Array.from(fineRows).filter(inGroup);
    if (f.length < MIN_SPOTS) return null;
    const lowRes = f.slice().sort((a, b) => dOf[b] - dOf[a]);
    const w = subset(lowRes.slice(0, Math.max(MIN_SPOTS, Math.ceil(lowRes.length / 2))), wideCount, rng);
    const q = subset(f, quickCount, rng);
    const g: LatticeGroup = {
      experiments: exps, weight: f.length / nFineAll,
      wide: makeSpotSet(experiments, obs, w), quick: makeSpotSet(experiments, obs, q), fine: makeSpotSet(experiments, obs, f),
      wideRlp: new Float64Array(3 * w.length), quickRlp: new Float64Array(3 * q.length), fineRlp: new Float64Array(3 * f.length),
      candidates: [], patches: [], t: [], tTrial: [],
      dTypical: median(Array.from(w, (i) => dOf[i])),
    };
    return g;
  };
  /** Periodic directions of a group at centre (x, y), with the direction patches the wide search uses. */
  const findDirections = (g: LatticeGroup, x: number, y: number, count: number) => {
    rlpsAtShift(g.wide, x, y, g.wideRlp);
    const hemiStep = clamp((0.6 * g.dTypical / maxCell) * (180 / Math.PI), 0.7, 2);
    g.candidates = periodicDirections(g.wideRlp, g.wide.n, tr, { minLengthA: minLength, maxLengthA: maxCell, stepDeg: hemiStep, count, sepDeg: 5 });
    g.patches = g.candidates.map((c) => directionPatch(c.u, clamp((0.4 * g.dTypical / c.lengthA) * (180 / Math.PI), 0.25, 1.2)));
  };
  /** Mean strength of a group's five most periodic directions. */
  const strength = (g: LatticeGroup) => {
    const top = g.candidates.slice(0, 5);
    return top.length ? top.reduce((acc, c) => acc + c.strength, 0) / top.length : 0;
  };

  // One lattice for all experiments, or one per experiment. Sweeps of one crystal share a lattice,
  // and pooling their spots is then the stronger test; different crystals each show only their
  // share of the pooled spots as periodic, which the comparison of strengths below detects.
  let groups: LatticeGroup[] = [makeGroup(experiments.map((_, k) => k), WIDE_SUBSET, QUICK_SUBSET)!];
  findDirections(groups[0], 0, 0, N_DIRECTIONS);
  let perExperiment = options.latticePerExperiment ?? null;
  if (experiments.length > 1 && perExperiment !== false) {
    const count = Math.max(4, Math.ceil((2 * N_DIRECTIONS) / experiments.length));
    const separate = experiments.map((_, k) => makeGroup([k], Math.max(150, Math.round(WIDE_SUBSET / experiments.length)), Math.max(500, Math.round(QUICK_SUBSET / experiments.length))))
      .filter((g): g is LatticeGroup => g !== null);
    if (separate.length > 0) {
      const nSep = separate.reduce((acc, g) => acc + g.weight, 0);
      separate.forEach((g) => { g.weight /= nSep; findDirections(g, 0, 0, count); });
      if (perExperiment === null) {
        // noise alone gives a best Fourier modulus of a few /√n; compare what is above it
        const above = (g: LatticeGroup) => strength(g) - 3 / Math.sqrt(g.wide.n);
        const joint = above(groups[0]);
        const sep = separate.reduce((acc, g) => acc + g.weight * above(g), 0);
        perExperiment = sep > 1.5 * joint;
        log.debug(`search_beam_position: periodicity above noise, all experiments together ${joint.toFixed(3)}, each alone ${sep.toFixed(3)}: ${perExperiment ? 'one lattice per experiment' : 'one lattice'}`);
      }
      if (perExperiment) groups = separate;
    }
  }
  if (groups.every((g) => g.candidates.length === 0)) {
    throw new UserError(`${reflSource}: the spots show no lattice periodicity; cannot search for the beam centre`, 'no_lattice');
  }
  const nWide = groups.reduce((acc, g) => acc + g.wide.n, 0), nFine = groups.reduce((acc, g) => acc + g.fine.n, 0);
  log.debug(`search_beam_position: ${keep.length} spots kept, ${nFine} for the fine and ${nWide} (d ≥ ${dMinWide.toFixed(2)} Å) for the wide search in ${groups.length} lattice group(s); max_cell ${maxCell.toFixed(1)} Å; FFT ${tr.N} bins`);

  const p0 = experiments[0].detector!.panels[referencePanel(experiments[0])];
  const lambdaD = experiments[0].beam!.wavelength * Panel.distance(p0);
  let cx = 0, cy = 0;
  const cycles: MacroCycle[] = [];
  const tTmp = new Float64Array(3);

  /** Spot-weighted mean over groups of each candidate's best origin-referred periodicity; with `keepT`, each group's t receives the winning vectors. */
  const wideScore = (dx: number, dy: number, keepT = false): number => {
    let s = 0;
    for (const g of groups) {
      if (g.candidates.length === 0) continue;
      rlpsAtShift(g.wide, dx, dy, g.wideRlp);
      let sg = 0;
      for (let m = 0; m < g.candidates.length; m++) sg += patchScore(g.wideRlp, g.wide.n, tr, g.patches[m], g.candidates[m].lengthA, keepT ? g.t[m] : tTmp);
      s += (g.weight * sg) / g.candidates.length;
    }
    return s;
  };

  /** Fine score at (dx, dy), Newton-refining each group's t into tTrial (quick or fine spot sets). */
  const fineScore = (which: 'quick' | 'fine', dx: number, dy: number): number => {
    let s = 0;
    for (const g of groups) {
      if (g.t.length === 0) continue;
      const set = which === 'quick' ? g.quick : g.fine, rlp = which === 'quick' ? g.quickRlp : g.fineRlp;
      rlpsAtShift(set, dx, dy, rlp);
      let sg = 0;
      for (let m = 0; m < g.t.length; m++) {
        g.tTrial[m].set(g.t[m]);
        sg += refineLatticeVector(rlp, set.n, g.tTrial[m]);
      }
      s += (g.weight * sg) / g.t.length;
    }
    return s;
  };
  const acceptTrial = () => { for (const g of groups) g.tTrial.forEach((t, m) => g.t[m].set(t)); };

  /**
   * Compass search (8 directions, step halved when none improves) from (x0, y0), kept within
   * `radius` of (ox, oy) so the result stays inside the search scope; the groups' t follow the
   * best point.
   */
  const patternSearch = (which: 'quick' | 'fine', x0: number, y0: number, h0: number, hEnd: number, ox: number, oy: number, radius: number) => {
    let x = x0, y = y0, h = h0, evaluations = 1;
    let f = fineScore(which, x, y);
    acceptTrial();
    while (h > hEnd) {
      let moved = false;
      for (const [a, b] of COMPASS) {
        if (Math.hypot(x + a * h - ox, y + b * h - oy) > radius) continue;
        const v = fineScore(which, x + a * h, y + b * h);
        evaluations++;
        if (v > f) { f = v; x += a * h; y += b * h; acceptTrial(); moved = true; break; }
      }
      if (!moved) h /= 2;
    }
    return { x, y, score: f, evaluations };
  };

  let lastFine = NaN;
  let atScopeEdge = false;
  let nAlternatives = 0;
  const t0 = Date.now();
  for (let cycle = 0; cycle < nCycles; cycle++) {
    // 1. lattice directions at the current centre (cycle 1 found them above)
    if (cycle > 0) for (const g of groups) findDirections(g, cx, cy, groups.length === 1 ? N_DIRECTIONS : Math.max(4, Math.ceil((2 * N_DIRECTIONS) / groups.length)));
    const nDirections = groups.reduce((acc, g) => acc + g.candidates.length, 0);
    let longest = 0;
    for (const g of groups) for (const c of g.candidates) longest = Math.max(longest, c.lengthA);

    // 2. wide grid around the current centre
    let step = (binning * lambdaD) / (8 * longest);
    step = Math.min(Math.max(step, scope * Math.sqrt(Math.PI / MAX_WIDE_TRIALS)), scope / 2);
    const nStep = Math.floor(scope / step + 1e-9);
    const trials: { x: number; y: number; score: number }[] = [];
    for (let i = -nStep; i <= nStep; i++) {
      for (let j = -nStep; j <= nStep; j++) {
        if (Math.hypot(i, j) * step > scope + 1e-9) continue;
        trials.push({ x: cx + i * step, y: cy + j * step, score: wideScore(cx + i * step, cy + j * step) });
      }
    }
    trials.sort((p, q) => q.score - p.score);
    // Separate maxima that score alike are told apart by the prior, the starting centre: with a
    // nearly flat Ewald sphere (electron diffraction) a centre moved along the rotation axis by one
    // reciprocal-lattice spacing maps the lattice onto itself, and only the sphere's curvature,
    // weak there, prefers the right one.
    const alike: typeof trials = [];
    for (const t of trials) {
      if (alike.length >= N_ALIKE || t.score < (1 - TIE_FRACTION) * trials[0].score) break;
      if (alike.every((u) => Math.hypot(u.x - t.x, u.y - t.y) > 2.5 * step)) alike.push(t);
    }
    const wideBest = trials[0].score;
    log.debug(`search_beam_position cycle ${cycle + 1}: ${nDirections} directions (longest ${longest.toFixed(1)} Å), ${trials.length} trial centres at ${step.toFixed(3)} mm, best ${alike.map((u) => `(${u.x.toFixed(3)}, ${u.y.toFixed(3)}) mm: ${u.score.toFixed(4)}`).join('; ')} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
    alike.sort((p, q) => Math.hypot(p.x, p.y) - Math.hypot(q.x, q.y));
    const chosen = alike[0];
    for (const o of alike.slice(1)) {
      nAlternatives++;
      log.warn(`search_beam_position: a beam centre shifted by (${o.x.toFixed(3)}, ${o.y.toFixed(3)}) mm fits the lattice about as well (wide score ${o.score.toFixed(4)} vs ${chosen.score.toFixed(4)}); keeping the one nearer the starting centre`);
    }

    // 3. pattern search on the continuous score: a quick pass on a subset, a polish on all. Only
    // candidates that are lattice vectors at the wide optimum take part: a direction that was
    // merely the strongest noise has a rugged score that would trap the search.
    for (const g of groups) g.t = g.candidates.map(() => new Float64Array(3));
    wideScore(chosen.x, chosen.y, true);
    for (const g of groups) {
      rlpsAtShift(g.quick, chosen.x, chosen.y, g.quickRlp);
      const quality = g.t.map((t) => refineLatticeVector(g.quickRlp, g.quick.n, t));
      const bestQuality = Math.max(...quality);
      const kept: Float64Array[] = [];
      g.t.forEach((t, m) => {
        const len = Math.hypot(t[0], t[1], t[2]);
        if (quality[m] < QUALITY_FRACTION * bestQuality || len < minLength) return;
        // two directions that converged on the same vector (or its negative) would count twice
        const same = kept.some((k) => Math.min(Math.hypot(k[0] - t[0], k[1] - t[1], k[2] - t[2]), Math.hypot(k[0] + t[0], k[1] + t[1], k[2] + t[2])) < 0.05 * len);
        if (!same) kept.push(t);
      });
      g.t = kept;
      g.tTrial = kept.map(() => new Float64Array(3));
    }
    if (groups.every((g) => g.t.length === 0)) {
      throw new UserError(`${reflSource}: no lattice vector is periodic at the best trial centre; cannot search for the beam centre`, 'no_lattice');
    }
    let bx = chosen.x, by = chosen.y, f = NaN, nEval = 0;
    for (const [which, h0, hEnd] of [['quick', step / 2, 2e-3], ['fine', 8e-3, 5e-4]] as const) {
      const r = patternSearch(which, bx, by, h0, hEnd, cx, cy, scope + step / 2);
      bx = r.x; by = r.y; f = r.score; nEval += r.evaluations;
    }
    if (Math.hypot(bx - cx, by - cy) > scope - step) atScopeEdge = true;
    lastFine = f;
    for (const g of groups) {
      rlpsAtShift(g.fine, bx, by, g.fineRlp);
      const per = g.t.map((t) => `${Math.hypot(t[0], t[1], t[2]).toFixed(1)} Å: ${refineLatticeVector(g.fineRlp, g.fine.n, Float64Array.from(t), 0).toFixed(3)}`);
      log.debug(`search_beam_position: experiments ${g.experiments.join(',')}: lattice vectors and their periodicity at the optimum: ${per.join(', ')}`);
    }
    log.debug(`search_beam_position cycle ${cycle + 1}: fine search with ${groups.reduce((acc, g) => acc + g.t.length, 0)} lattice vectors → (${bx.toFixed(4)}, ${by.toFixed(4)}) mm, score ${f.toFixed(4)} after ${nEval} evaluations [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
    cx = bx; cy = by;
    cycles.push({ shiftMm: [cx, cy], gridStepMm: step, nTrials: trials.length, nDirections, wideScore: wideBest, fineScore: f });
  }

  const scoreInitial = wideScore(0, 0);
  const scoreFinal = wideScore(cx, cy);
  if (atScopeEdge) log.warn(`search_beam_position: the best centre lies at the edge of the search scope (${scope} mm); consider a larger mm_search_scope`);
  return {
    experiments: shiftBeamCentre(experiments, cx, cy),
    shiftMm: [cx, cy],
    shiftPx: [cx / p0.pixelSize[0], cy / p0.pixelSize[1]],
    scoreInitial, scoreFinal, fineScore: lastFine,
    cycles,
    nSpots: keep.length, nSpotsWide: nWide, nSpotsFine: nFine,
    maxCell,
    atScopeEdge,
    nAlternatives,
    latticePerExperiment: groups.length > 1,
  };
}
