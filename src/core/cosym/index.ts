/**
 * cosym: consistent indexing and Patterson group of many datasets at once (Gildea & Winter 2018,
 * Acta D74, 405), on normalised intensities already in one common reduced basis.
 *
 *   correlation.ts  cc(i, j, k) of every dataset pair under every lattice operation
 *   embed.ts        vectors x_(i,a) whose dot products reproduce those correlations (L-BFGS),
 *                   dimension at the elbow of the functional
 *   patterson.ts    symmetry elements and subgroups scored from angles in the embedding, and
 *                   on the pooled reindexed intensities of held-out reflections (the decision:
 *                   its σ reflects how much data there is, and reindexing cannot flatter it)
 *   consensus.ts    one reindexing operation per dataset so that all agree
 *   simulate.ts     simulated multi-crystal data with an indexing ambiguity (tests, benchmark)
 *
 * Operations act on Miller indices as h' = h·R (R integer, in the common reduced basis).
 */
import { mulberry32 } from '../math/random.js';
import type { IntMat3 } from '../symmetry/op.js';
import type { UnitCell } from '../symmetry/unitcell.js';
import { conventionalSetting, latticeGroup, rotKey, type Setting, type TwoFold } from '../laue/lattice.js';
import type { SubgroupScore } from '../laue/scoring.js';
import { consensusReindexing, type Consensus } from './consensus.js';
import { friedelKey, opProductTable, pairwiseCorrelations, type CorrelationTable, type CosymDataset } from './correlation.js';
import { embedAutoDimensions, type DimensionScan } from './embed.js';
import { combineStats, pooledElementStats, scoreFromStats, scorePattersonGroups, type ElementStat, type PattersonScoring } from './patterson.js';

export type { CosymDataset } from './correlation.js';

export interface CosymOptions {
  /** Largest Le Page δ (degrees) for a lattice two-fold. */
  maxDeltaDeg: number;
  seed: number;
  /** Fixed embedding dimension; null: automatic. */
  dimensions: number | null;
  maxDimensions: number;
  /** Correlations from fewer common reflections are ignored. */
  minPairs: number;
  /** Impose this Patterson group (its rotations in the reduced basis) instead of the best scored. */
  forceGroup?: IntMat3[] | null;
  /** Judge groups on held-out halves of the reflections (see cosym()). */
  crossValidate: boolean;
}

export const DEFAULT_COSYM: CosymOptions = { maxDeltaDeg: 5, seed: 0, dimensions: null, maxDimensions: 10, minPairs: 3, crossValidate: true };

export interface CosymResult {
  /** Lattice operations (identity first), reduced basis. */
  ops: IntMat3[];
  twoFolds: TwoFold[];
  table: CorrelationTable;
  scan: DimensionScan;
  /** Scores from angles in the embedding (Gildea & Winter). */
  scoring: PattersonScoring;
  /** Scores from the pooled reindexed intensities, cross-validated: the decision. */
  pooled: PattersonScoring;
  best: SubgroupScore;
  confidence: number;
  /** Conventional setting of the best Patterson group (from the reduced cell). */
  setting: Setting;
  consensus: Consensus;
  /** Per dataset, the operation to apply (h → h·R), reduced basis. */
  reindex: IntMat3[];
}

export function cosym(datasets: readonly CosymDataset[], reducedCell: UnitCell, options: Partial<CosymOptions> = {}): CosymResult {
  const o = { ...DEFAULT_COSYM, ...options };
  const rand = mulberry32((o.seed >>> 0) + 0x5eed);
  const { rotations: ops, twoFolds } = latticeGroup(reducedCell, o.maxDeltaDeg);
  const prod = opProductTable(ops);
  const table = pairwiseCorrelations(datasets, ops, o.minPairs);
  const scan = embedAutoDimensions(table, prod, rand, { maxDims: o.maxDimensions, fixedDims: o.dimensions });
  const view = { x: scan.chosen.x, dims: scan.chosen.dims, nDatasets: datasets.length, ops, prod };
  const deltaOf = new Map<string, number>();
  for (const tf of twoFolds) deltaOf.set(rotKey(tf.rot), tf.deltaDeg);
  const scoring = scorePattersonGroups(view, deltaOf);
  const sameGroup = (a: readonly IntMat3[], b: readonly IntMat3[]) => a.map(rotKey).sort().join('|') === b.map(rotKey).sort().join('|');
  const pick = (subs: SubgroupScore[]) => {
    if (!o.forceGroup) return subs[0];
    const f = subs.find((s) => sameGroup(s.rotations, o.forceGroup!));
    if (!f) throw new RangeError('the requested Patterson group is not a subgroup of the lattice symmetry');
    return f;
  };
  // Judge the groups on pooled intensities, cross-validated: split the reflections into two
  // halves by lattice orbit (so every pair related by a lattice operation stays in one half); on
  // each half run the whole analysis (correlations, embedding, group, reindexing) and measure the
  // element correlations on the other half with those reindexing operators. Reindexing chosen on
  // the same data it is judged on would flatter any group, weak data most (103 narrow wedges).
  const embeddingBest = pick(scoring.subgroups);
  let pooled: PattersonScoring;
  if (o.crossValidate) {
    const parts: ElementStat[][] = [];
    for (const half of [0, 1]) {
      const train = datasets.map((d) => splitByOrbit(d, ops, half)), test = datasets.map((d) => splitByOrbit(d, ops, 1 - half));
      const t = pairwiseCorrelations(train, ops, o.minPairs);
      // the dimension is a property of the lattice and the group, so the full data's choice is kept
      const sc = embedAutoDimensions(t, prod, rand, { maxDims: o.maxDimensions, fixedDims: scan.chosen.dims });
      const v = { x: sc.chosen.x, dims: sc.chosen.dims, nDatasets: datasets.length, ops, prod };
      const g = pick(scorePattersonGroups(v, deltaOf).subgroups);
      const c = consensusReindexing(v, g.rotations, rand);
      parts.push(pooledElementStats(test, Array.from(c.opOfDataset, (a) => ops[a]), ops));
    }
    pooled = scoreFromStats(combineStats(parts), ops, deltaOf);
  } else {
    const c = consensusReindexing(view, embeddingBest.rotations, rand);
    pooled = scoreFromStats(pooledElementStats(datasets, Array.from(c.opOfDataset, (a) => ops[a]), ops), ops, deltaOf);
  }
  const best = pick(pooled.subgroups);
  // the reindexing itself uses all the data
  const consensus = consensusReindexing(view, best.rotations, rand);
  const reindex = Array.from(consensus.opOfDataset, (a) => ops[a]);
  const second = pooled.subgroups.find((s) => s !== best)?.likelihood ?? 0;
  const confidence = Math.sqrt(Math.max(best.likelihood * (best.likelihood - second), 0));
  const setting = conventionalSetting(best.rotations, reducedCell);
  return { ops, twoFolds, table, scan, scoring, pooled, best, confidence, setting, consensus, reindex };
}

/** The reflections of one half of the lattice orbits (parity of a hash of the orbit's smallest key). */
export function splitByOrbit(d: CosymDataset, ops: readonly IntMat3[], half: number): CosymDataset {
  const keep: number[] = [];
  for (let r = 0; r < d.E2.length; r++) {
    const h = d.hkl[3 * r], k = d.hkl[3 * r + 1], l = d.hkl[3 * r + 2];
    let key = Infinity;
    for (const R of ops) key = Math.min(key, friedelKey(h * R[0] + k * R[3] + l * R[6], h * R[1] + k * R[4] + l * R[7], h * R[2] + k * R[5] + l * R[8]));
    if (((Math.imul(key, 2654435761) >>> 16) & 1) === half) keep.push(r);
  }
  const hkl = new Int32Array(3 * keep.length), E2 = new Float64Array(keep.length);
  keep.forEach((r, q) => { hkl[3 * q] = d.hkl[3 * r]; hkl[3 * q + 1] = d.hkl[3 * r + 1]; hkl[3 * q + 2] = d.hkl[3 * r + 2]; E2[q] = d.E2[r]; });
  return { hkl, E2 };
}
