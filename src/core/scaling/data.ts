/**
 * What the scaler needs from one sweep (plain typed arrays, independent of file formats): its
 * corrected integrated intensities (src/core/stats/prepare.ts: LP/QE, split partials, usable
 * estimates — the same preparation symmetry, cosym and merging use), geometry, and the scaler's
 * exclusion rules.
 */
import type { Vec3 } from '../math/vec3.js';
import type { Mat3 } from '../math/mat3.js';
import type { IntegratedIntensities } from '../stats/prepare.js';
export { chooseIntensity, describeChoice, type IntensityChoice } from '../stats/prepare.js';
import { Flags } from '../reflections/flags.js';

/** The DIALS reflection flag bits scaling writes (values from src/core/reflections/flags.ts). */
export const ScalingFlags = {
  userExcludedInScaling: Flags.user_excluded_in_scaling,
  outlierInScaling: Flags.outlier_in_scaling,
  excludedForScaling: Flags.excluded_for_scaling,
  scaled: Flags.scaled,
} as const;

export interface SweepData {
  identifier: string;
  /** h,k,l interleaved (3·n). */
  miller: Int32Array;
  /** Corrected profile-fitted / summed intensities and partialities of the rows. */
  intensities: IntegratedIntensities;
  /** DIALS flag bits (exact in a double up to 2⁵³), for the output flags. */
  flags: Float64Array;
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

/** Which rows the scaler uses (the intensities themselves come from src/core/stats/prepare.ts). */
export interface PrepOptions {
  /** Reflections below this partiality are dropped from everything (DIALS' partiality_cutoff). */
  partialityCutoff: number;
  /** Only reflections at least this complete refine the model. */
  minPartialityForModel: number;
  /**
   * Partials (below minPartialityForModel) on the first or last image of a scan take the summed
   * intensity over their partiality whatever the intensity choice (see ScalingProblem.edgeSum).
   */
  edgePartialsBySum: boolean;
  /** I/σ below this is excluded. */
  minIsigi: number;
  dMin: number | null;
  dMax: number | null;
  /** Image ranges per sweep index to exclude ([sweep, first, last]). */
  excludeImages: [number, number, number][];
}

export const DEFAULT_PREP: PrepOptions = {
  partialityCutoff: 0.4, minPartialityForModel: 0.95, edgePartialsBySum: true, minIsigi: -5, dMin: null, dMax: null, excludeImages: [],
};

/** Image number of an observation (frame z → image; DIALS counts z from image 1, see Scan). */
export function imageNumber(sweep: SweepData, i: number): number {
  return Math.floor(sweep.zFrame[i]) + 1;
}

/** Rotation angle of an observation, degrees. */
export function phiDeg(sweep: SweepData, i: number): number {
  return sweep.oscillation[0] + (sweep.zFrame[i] - (sweep.imageRange[0] - 1)) * sweep.oscillation[1];
}
