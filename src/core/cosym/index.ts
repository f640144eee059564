/**
 * cosym: consistent indexing and Patterson group of many datasets at once (Gildea & Winter 2018,
 * Acta D74, 405), on normalised intensities already in one common reduced basis.
 *
 *   correlation.ts  cc(i, j, k) of every dataset pair under every lattice operation
 *   embed.ts        vectors x_(i,a) whose dot products reproduce those correlations (L-BFGS),
 *                   dimension chosen by Akaike's criterion
 *   patterson.ts    symmetry elements and subgroups scored from angles in the embedding, and
 *                   again on the pooled reindexed intensities (the decision: its σ reflects
 *                   how much data there is)
 *   consensus.ts    one reindexing operation per dataset so that all agree
 *
 * Operations act on Miller indices as h' = h·R (R integer, in the common reduced basis).
 */
import { mulberry32 } from '../stats/merging.js';
import type { IntMat3 } from '../symmetry/op.js';
import type { UnitCell } from '../symmetry/unitcell.js';
import { conventionalSetting, latticeGroup, rotKey, type Setting, type TwoFold } from '../../stages/symmetry/lattice.js';
import type { SubgroupScore } from '../../stages/symmetry/scoring.js';
import { consensusReindexing, type Consensus } from './consensus.js';
import { opProductTable, pairwiseCorrelations, type CorrelationTable, type CosymDataset } from './correlation.js';
import { embedAutoDimensions, type DimensionScan } from './embed.js';
import { scorePattersonGroups, scorePooled, type PattersonScoring } from './patterson.js';

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
}

export const DEFAULT_COSYM: CosymOptions = { maxDeltaDeg: 5, seed: 0, dimensions: null, maxDimensions: 10, minPairs: 3 };

export interface CosymResult {
  /** Lattice operations (identity first), reduced basis. */
  ops: IntMat3[];
  twoFolds: TwoFold[];
  table: CorrelationTable;
  scan: DimensionScan;
  /** Scores from angles in the embedding (Gildea & Winter). */
  scoring: PattersonScoring;
  /** Scores from the pooled reindexed intensities: the decision. */
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
  // Reindex under the embedding's best group, then judge the groups on the pooled intensities;
  // if those prefer another group, reindex under that one and judge again (once).
  const embeddingBest = pick(scoring.subgroups);
  let consensus = consensusReindexing(view, embeddingBest.rotations, rand);
  let reindex = Array.from(consensus.opOfDataset, (a) => ops[a]);
  let pooled = scorePooled(datasets, reindex, ops, deltaOf);
  let best = pick(pooled.subgroups);
  if (!sameGroup(best.rotations, embeddingBest.rotations)) {
    consensus = consensusReindexing(view, best.rotations, rand);
    reindex = Array.from(consensus.opOfDataset, (a) => ops[a]);
    pooled = scorePooled(datasets, reindex, ops, deltaOf);
    best = pick(pooled.subgroups);
  }
  const second = pooled.subgroups.find((s) => s !== best)?.likelihood ?? 0;
  const confidence = Math.sqrt(Math.max(best.likelihood * (best.likelihood - second), 0));
  const setting = conventionalSetting(best.rotations, reducedCell);
  return { ops, twoFolds, table, scan, scoring, pooled, best, confidence, setting, consensus, reindex };
}
