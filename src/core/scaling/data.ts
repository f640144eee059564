/**
 * What the scaler needs from one sweep (plain typed arrays, independent of file formats) and the
 * preparation of its observations: intensity choice (prf / sum / combined), Lorentz-polarisation
 * and detector-efficiency correction, partiality, and the exclusion rules.
 *
 * Overlap note: src/core/stats owns intensity preparation for merging; this is the minimal part the
 * scaler needs on its own arrays (see the issue-9 report).
 */
import type { Vec3 } from '../math/vec3.js';
import type { Mat3 } from '../math/mat3.js';

import { Flags } from '../reflections/flags.js';

/** The DIALS reflection flag bits scaling reads and writes (values from src/core/reflections/flags.ts). */
export const ScalingFlags = {
  integratedSum: Flags.integrated_sum,
  integratedPrf: Flags.integrated_prf,
  userExcludedInScaling: Flags.user_excluded_in_scaling,
  outlierInScaling: Flags.outlier_in_scaling,
  excludedForScaling: Flags.excluded_for_scaling,
  scaled: Flags.scaled,
} as const;

export interface SweepData {
  identifier: string;
  /** h,k,l interleaved (3·n). */
  miller: Int32Array;
  prfValue: Float64Array | null;
  prfVariance: Float64Array | null;
  sumValue: Float64Array;
  sumVariance: Float64Array;
  /** DIALS flag bits (exact in a double up to 2⁵³). */
  flags: Float64Array;
  partiality: Float64Array | null;
  /** Lorentz-polarisation factor (multiplies the raw intensity). */
  lp: Float64Array | null;
  /** Detector quantum efficiency (divides the raw intensity). */
  qe: Float64Array | null;
  /** Resolution of each reflection, Å. */
  d: Float64Array;
  /** Observed frame coordinate z (image units from the scan start, image n covers [n−1, n)). */
  zFrame: Float64Array;
  /** Diffracted beam vectors, 3·n, lab frame, 1/Å. */
  s1: Float64Array;
  s0: Vec3;
  rotationAxis: Vec3;
  fixedRotation: Mat3;
  settingRotation: Mat3;
  /** First and last image numbers of the scan. */
  imageRange: [number, number];
  /** [φ of the first image's start, width per image], degrees. */
  oscillation: [number, number];
  /** Stills (no rotation) take the KB model. */
  stills?: boolean;
}

export type IntensityChoice = { kind: 'prf' } | { kind: 'sum' } | { kind: 'combine'; imid: number };

export function describeChoice(c: IntensityChoice): string {
  return c.kind === 'combine' ? `Imid = ${c.imid.toFixed(2)}` : `${c.kind} only`;
}

export interface PrepOptions {
  /** Reflections below this partiality are dropped from everything (DIALS' partiality_cutoff). */
  partialityCutoff: number;
  /** Only reflections at least this complete refine the model. */
  minPartialityForModel: number;
  /** I/σ below this is excluded. */
  minIsigi: number;
  dMin: number | null;
  dMax: number | null;
  /** Image ranges per sweep index to exclude ([sweep, first, last]). */
  excludeImages: [number, number, number][];
}

export const DEFAULT_PREP: PrepOptions = {
  partialityCutoff: 0.4, minPartialityForModel: 0.95, minIsigi: -5, dMin: null, dMax: null, excludeImages: [],
};

/** Image number of an observation (frame z → image). */
export function imageNumber(sweep: SweepData, i: number): number {
  return sweep.imageRange[0] + Math.floor(sweep.zFrame[i]);
}

/** Rotation angle of an observation, degrees. */
export function phiDeg(sweep: SweepData, i: number): number {
  return sweep.oscillation[0] + sweep.zFrame[i] * sweep.oscillation[1];
}

/**
 * Corrected intensity and variance of one reflection for an intensity choice, or false when the
 * chosen kind is missing. The profile-fitted intensity is already the full reflection, the summed
 * one is divided by the partiality; the combination weights prf by 1/(1 + (I/Imid)³) so weak
 * reflections use the profile and strong ones the sum (Leslie 1999; AIMLESS).
 */
export function correctedIntensity(s: SweepData, i: number, choice: IntensityChoice, out: Float64Array): boolean {
  const f = s.flags[i];
  const hasSum = (f & ScalingFlags.integratedSum) !== 0 && s.sumVariance[i] > 0;
  const hasPrf = s.prfValue !== null && s.prfVariance !== null && (f & ScalingFlags.integratedPrf) !== 0 && s.prfVariance[i] > 0;
  const conv = (s.lp ? s.lp[i] : 1) / (s.qe && s.qe[i] > 0 ? s.qe[i] : 1);
  const p = s.partiality ? s.partiality[i] : 1;
  const pDiv = p > 0 && p < 1 ? p : 1;
  const sumI = hasSum ? (s.sumValue[i] * conv) / pDiv : 0;
  const sumV = hasSum ? (s.sumVariance[i] * conv * conv) / (pDiv * pDiv) : 0;
  const prfI = hasPrf ? s.prfValue![i] * conv : 0;
  const prfV = hasPrf ? s.prfVariance![i] * conv * conv : 0;
  if (choice.kind === 'prf' || (choice.kind === 'combine' && !hasSum)) {
    if (!hasPrf) {
      if (choice.kind === 'combine' && hasSum) { out[0] = sumI; out[1] = sumV; return true; }
      return false;
    }
    out[0] = prfI; out[1] = prfV; return true;
  }
  if (choice.kind === 'sum' || !hasPrf) {
    if (!hasSum) return false;
    out[0] = sumI; out[1] = sumV; return true;
  }
  // the weight follows the raw summed counts (before LP/QE/partiality), so Imid is in counts
  const w = 1 / (1 + Math.pow(Math.max(s.sumValue[i], 0) / choice.imid, 3));
  out[0] = w * prfI + (1 - w) * sumI;
  // both estimates come from the same pixels, so their errors are close to fully correlated:
  // σ = w·σprf + (1−w)·σsum (the independent-errors formula would understate it up to twofold)
  out[1] = (w * Math.sqrt(prfV) + (1 - w) * Math.sqrt(sumV)) ** 2;
  return true;
}
