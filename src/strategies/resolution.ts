/**
 * Rule 6: resolution cut. Cut where CC½ falls to the target (0.3 by default) and rescale with that
 * d_min, but only when the cut differs meaningfully from the data's current limit: rescaling for
 * a hundredth of an ångström changes nothing a user would see.
 */
import { decision, type Decision } from './decision.js';

export interface ResolutionInputs {
  /** d_min where the fitted CC½ reaches the target, or null when it never falls that low. */
  estimatedDmin: number | null;
  /** Current high-resolution limit of the scaled data (Å). */
  currentDmin: number;
  ccHalfTarget: number;
  /** A user's d_min, which always wins. */
  userDmin?: number | null;
}

export const MIN_CUT_ANGSTROM = 0.05;
export const MIN_CUT_FRACTION = 0.02;

export function chooseResolutionCut(x: ResolutionInputs): Decision<number | null> {
  const f = { estimated_d_min: x.estimatedDmin, current_d_min: x.currentDmin, cc_half_target: x.ccHalfTarget, user_d_min: x.userDmin ?? null };
  if (x.userDmin) return decision('resolution_cut', x.userDmin, `user d_min ${x.userDmin.toFixed(2)} Å`, f);
  if (x.estimatedDmin === null) {
    return decision('resolution_cut', null, `CC½ stays above ${x.ccHalfTarget} to the edge of the data (${x.currentDmin.toFixed(2)} Å): no cut`, f);
  }
  const diff = x.estimatedDmin - x.currentDmin;
  if (diff < MIN_CUT_ANGSTROM || diff < MIN_CUT_FRACTION * x.currentDmin) {
    return decision('resolution_cut', null, `CC½ = ${x.ccHalfTarget} at ${x.estimatedDmin.toFixed(2)} Å, within ${Math.max(MIN_CUT_ANGSTROM, MIN_CUT_FRACTION * x.currentDmin).toFixed(2)} Å of the data limit ${x.currentDmin.toFixed(2)} Å: no rescale`, f);
  }
  return decision('resolution_cut', x.estimatedDmin, `CC½ falls to ${x.ccHalfTarget} at ${x.estimatedDmin.toFixed(2)} Å (data extend to ${x.currentDmin.toFixed(2)} Å): cut and rescale`, f);
}
