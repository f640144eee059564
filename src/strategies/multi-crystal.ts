/**
 * Rule 7: the multi-crystal path. Sweeps of one crystal related by known goniometer settings are
 * indexed jointly and go through `symmetry`; several crystals (sweeps that joint indexing could
 * not describe with one crystal, or the user's word) go through per-crystal indexing, `cosym`
 * and ΔCC½ filtering by dataset.
 */
import { decision, type Decision } from './decision.js';

export interface MultiCrystalInputs {
  user: 'auto' | 'true' | 'false';
  nSweeps: number;
  /**
   * Whether one crystal model explains every sweep: joint indexing indexed each sweep at a usual
   * rate (null when not tried yet).
   */
  jointIndexingConsistent: boolean | null;
  /** Percentage indexed per sweep by joint indexing, when tried. */
  percentIndexedPerSweep?: number[];
}

export const JOINT_MIN_PERCENT_PER_SWEEP = 50;

export function chooseMultiCrystal(x: MultiCrystalInputs): Decision<boolean> {
  const f = { n_sweeps: x.nSweeps, joint_consistent: x.jointIndexingConsistent, min_percent_per_sweep: x.percentIndexedPerSweep ? Math.min(...x.percentIndexedPerSweep) : null };
  if (x.user === 'true') return decision('multi_crystal', true, 'multi_crystal=true', f);
  if (x.user === 'false') return decision('multi_crystal', false, 'multi_crystal=false', f);
  if (x.nSweeps < 2) return decision('multi_crystal', false, 'one sweep: single-crystal path', f);
  if (x.jointIndexingConsistent === false) {
    return decision('multi_crystal', true, `${x.nSweeps} sweeps are not described by one crystal (joint indexing ${f.min_percent_per_sweep?.toFixed(0) ?? '?'} % in the worst sweep): per-crystal indexing, cosym, ΔCC½ filtering`, f);
  }
  return decision('multi_crystal', false, `${x.nSweeps} sweeps indexed jointly by one crystal model: single-crystal path (symmetry)`, f);
}

/** Whether joint indexing explains every sweep. */
export function jointIndexingConsistent(percentIndexedPerSweep: readonly number[], minPercent = JOINT_MIN_PERCENT_PER_SWEEP): boolean {
  return percentIndexedPerSweep.length > 0 && percentIndexedPerSweep.every((p) => p >= minPercent);
}

/**
 * Joint indexing failed outright on several sweeps: before the indexing ladder is declared
 * exhausted, index each sweep on its own — several crystals cannot share one lattice model.
 */
export function indexSeparatelyAfterJointFailure(nSweeps: number, user: MultiCrystalInputs['user'], failure: string): Decision<boolean> {
  const f = { n_sweeps: nSweeps, joint_failure: failure };
  if (user === 'false') return decision('multi_crystal', false, `joint indexing of ${nSweeps} sweeps failed (${failure}); multi_crystal=false keeps one crystal`, f);
  if (nSweeps < 2) return decision('multi_crystal', false, 'one sweep: nothing to index separately', f);
  return decision('multi_crystal', true, `joint indexing of ${nSweeps} sweeps failed (${failure}): index each sweep separately as its own crystal (multi-crystal path)`, f);
}
