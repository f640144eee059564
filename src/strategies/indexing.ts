/**
 * Rule 1: the indexing ladder. fft3d first; on failure fft1d; then a real-space grid search if the
 * user gave a cell; then relaxed spot finding (lower σ_strong, smaller spots) with a larger
 * max_cell. When indexing succeeds but leaves many spots unindexed, try a second lattice and keep it
 * only when it indexes a real share of the spots.
 */
import { decision, type Decision } from './decision.js';

export type IndexingMethod = 'fft3d' | 'fft1d' | 'real_space_grid_search';

export interface IndexingAttempt {
  method: IndexingMethod;
  /** Spot finding relaxed (sigma_strong lowered, min_spot_size 2) before this attempt. */
  relaxedSpots: boolean;
  /** Multiplier on the estimated max_cell. */
  maxCellFactor: number;
  maxLattices: number;
}

export interface IndexingOutcome {
  attempt: IndexingAttempt;
  /** Failure code from index (`too_few_spots`, `no_lattice`, `unit_cell_mismatch`) or null on success. */
  failure: string | null;
  /** Percentage of strong spots indexed (all lattices), 0 when failed. */
  percentIndexed: number;
  /** Spots indexed by each lattice, in order found. */
  indexedPerLattice: number[];
  nSpots: number;
}

export const FIRST_ATTEMPT: IndexingAttempt = { method: 'fft3d', relaxedSpots: false, maxCellFactor: 1, maxLattices: 1 };

/** The attempt after a failed one, or null when the ladder is exhausted. */
export function nextIndexingAttempt(history: readonly IndexingOutcome[], knownCell: boolean): Decision<IndexingAttempt | null> {
  const tried = (m: IndexingMethod, relaxed: boolean) => history.some((h) => h.attempt.method === m && h.attempt.relaxedSpots === relaxed);
  const last = history[history.length - 1];
  const why = last ? `${last.attempt.method} failed (${last.failure ?? 'low indexing rate'})` : 'first attempt';
  const ladder: IndexingAttempt[] = [
    FIRST_ATTEMPT,
    { method: 'fft1d', relaxedSpots: false, maxCellFactor: 1, maxLattices: 1 },
    ...(knownCell ? [{ method: 'real_space_grid_search' as const, relaxedSpots: false, maxCellFactor: 1, maxLattices: 1 }] : []),
    { method: 'fft3d', relaxedSpots: true, maxCellFactor: 1.5, maxLattices: 1 },
  ];
  for (const a of ladder) {
    if (!tried(a.method, a.relaxedSpots)) {
      return decision('indexing_ladder', a, `${why}: try ${a.method}${a.relaxedSpots ? ' with relaxed spot finding and max_cell ×' + a.maxCellFactor : ''}`,
        { attempts: history.length });
    }
  }
  return decision('indexing_ladder', null, `${why}: every indexing method has been tried`, { attempts: history.length });
}

/** Below this percentage indexed, a second lattice is looked for. */
export const LOW_INDEXED_PERCENT = 80;

export function shouldTrySecondLattice(outcome: IndexingOutcome, minPercent = LOW_INDEXED_PERCENT): Decision<boolean> {
  const low = outcome.failure === null && outcome.percentIndexed < minPercent && outcome.attempt.maxLattices < 2;
  return decision('second_lattice_search', low,
    low ? `only ${outcome.percentIndexed.toFixed(1)} % of spots indexed (< ${minPercent} %): search for a second lattice (max_lattices=2)`
      : `${outcome.percentIndexed.toFixed(1)} % of spots indexed: no second lattice search`,
    { percent_indexed: outcome.percentIndexed, threshold: minPercent });
}

/**
 * Keep an extra lattice only when it indexes a real share of the spots: at least `minShare` of all
 * spots and at least `minSpots` spots (a handful of spots fits some lattice by chance).
 */
export function keepExtraLattices(outcome: IndexingOutcome, minShare = 0.1, minSpots = 20): Decision<number> {
  let keep = outcome.indexedPerLattice.length > 0 ? 1 : 0;
  for (let i = 1; i < outcome.indexedPerLattice.length; i++) {
    const n = outcome.indexedPerLattice[i];
    if (n >= minSpots && n >= minShare * outcome.nSpots) keep = i + 1; else break;
  }
  const extra = outcome.indexedPerLattice.slice(1);
  return decision('extra_lattices', keep,
    keep > 1 ? `kept ${keep} lattices: extra lattices index ${extra.slice(0, keep - 1).join(', ')} of ${outcome.nSpots} spots`
      : extra.length ? `extra lattice indexes only ${extra[0]} of ${outcome.nSpots} spots (< ${Math.max(minSpots, Math.ceil(minShare * outcome.nSpots))}): dropped`
        : 'one lattice',
    { n_spots: outcome.nSpots, extra_indexed: extra.length ? extra[0] : 0, min_share: minShare, min_spots: minSpots });
}
