/**
 * Scaling model choice and layout per sweep. The inverse scale factor of an observation is
 *   g = C(φ) · exp(B(φ) / (2 d²)) · S(s0, s1)
 * with C and B Gaussian-smoothed along the rotation (the scale and decay terms) and S = 1 + Σ c_lm
 * (Y_lm(−s0ᶜ) + Y_lm(s1ᶜ))/2 the absorption surface in the crystal frame (superscript c: lab
 * vectors rotated back by the goniometer at φ). The KB model keeps C and B constant and has no S.
 */
import { constantSmoother, smootherForScan, type SmootherLayout } from './smoother.js';
import { harmonicCount } from './harmonics.js';
import { UserError } from '../errors.js';

export type AbsorptionLevel = 'low' | 'medium' | 'high';

/**
 * absorption_level → (lmax, surface restraint weight). The weight multiplies Σ c_lm² in the target,
 * whose data term is a sum of squared normalised residuals (≈ one per observation), so a weight w
 * makes a coefficient of 1/√w cost as much as one observation misfit by 1σ; larger coefficients
 * need evidence from many observations. Surfaces with large coefficients are bumpy, so the higher
 * levels also get a higher lmax. low is what the auto choice uses for scans wider than 60°.
 * The values are DIALS 3.12's: run as a black box with physical.absorption_level=low|medium|high
 * it writes lmax / abs_surface_weight 4 / 5·10⁵, 6 / 5·10⁴ and 6 / 5·10³ into scaled.expt, and
 * 4 / 5·10⁵ is also its default with no level (`dials.scale -c -e2`). With 5·10⁵ our l-cysteine
 * scale factors leave the data as tight as DIALS' (Rpim 0.0107 vs 0.011) and, with the
 * `individual` error model, a/b/I/σ come within 2 % of DIALS' (errormodel.ts header); the weaker
 * 10⁴ / 400 / 16 used before left the data tighter than DIALS'.
 */
export const ABSORPTION_LEVELS: Record<AbsorptionLevel, { lmax: number; surfaceWeight: number }> = {
  low: { lmax: 4, surfaceWeight: 5e5 },
  medium: { lmax: 6, surfaceWeight: 5e4 },
  high: { lmax: 6, surfaceWeight: 5e3 },
};

/** Scans narrower than this (degrees) get the KB model under model=auto. */
export const KB_MAX_RANGE_DEG = 5;
/** Absorption is switched on by default for scans wider than this (degrees). */
export const ABSORPTION_MIN_RANGE_DEG = 60;
/** Restraint weight pulling each smoothed B parameter (Å²) towards 0; weak, only removes drift where data are thin. */
export const DECAY_RESTRAINT_WEIGHT = 1e-1;

export interface SweepModel {
  kind: 'physical' | 'KB';
  scale: SmootherLayout;
  decay: SmootherLayout | null;
  /** 0 = no absorption term. */
  lmax: number;
  surfaceWeight: number;
  absorptionLevel: AbsorptionLevel | null;
  oscStartDeg: number;
  oscRangeDeg: number;
}

export interface ModelOptions {
  model: 'auto' | 'physical' | 'KB';
  /** null = auto (on above 60°). */
  absorptionCorrection: boolean | null;
  absorptionLevel: AbsorptionLevel;
  /** null = chosen from the scan width. */
  scaleIntervalDeg: number | null;
  decayIntervalDeg: number | null;
  decayCorrection: boolean;
  /** Explicit lmax/surface weight override the level when given. */
  lmax: number | null;
  surfaceWeight: number | null;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  model: 'auto', absorptionCorrection: null, absorptionLevel: 'low', scaleIntervalDeg: null,
  decayIntervalDeg: null, decayCorrection: true, lmax: null, surfaceWeight: null,
};

/**
 * Parameter spacing from the scan width: 15° (scale) and 20° (decay) for wide scans; for scans under
 * 90° half of that, so even a 60° sweep has enough points to follow a changing beam.
 */
export function defaultIntervals(rangeDeg: number): { scaleDeg: number; decayDeg: number } {
  return rangeDeg < 90 ? { scaleDeg: 7.5, decayDeg: 10 } : { scaleDeg: 15, decayDeg: 20 };
}

export function chooseSweepModel(oscStartDeg: number, oscRangeDeg: number, opts: ModelOptions, stills = false): SweepModel {
  const kind = opts.model === 'auto' ? (stills || oscRangeDeg < KB_MAX_RANGE_DEG ? 'KB' : 'physical') : opts.model;
  if (kind === 'physical' && (stills || oscRangeDeg <= 0)) throw new UserError('model=physical needs a rotation scan; use model=KB for stills');
  if (kind === 'KB') {
    return { kind, scale: constantSmoother(), decay: opts.decayCorrection ? constantSmoother() : null, lmax: 0, surfaceWeight: 0, absorptionLevel: null, oscStartDeg, oscRangeDeg };
  }
  const iv = defaultIntervals(oscRangeDeg);
  const absOn = opts.absorptionCorrection ?? oscRangeDeg > ABSORPTION_MIN_RANGE_DEG;
  const lvl = ABSORPTION_LEVELS[opts.absorptionLevel];
  return {
    kind,
    scale: smootherForScan(oscStartDeg, oscRangeDeg, opts.scaleIntervalDeg ?? iv.scaleDeg),
    decay: opts.decayCorrection ? smootherForScan(oscStartDeg, oscRangeDeg, opts.decayIntervalDeg ?? iv.decayDeg) : null,
    lmax: absOn ? opts.lmax ?? lvl.lmax : 0,
    surfaceWeight: absOn ? opts.surfaceWeight ?? lvl.surfaceWeight : 0,
    absorptionLevel: absOn ? opts.absorptionLevel : null,
    oscStartDeg, oscRangeDeg,
  };
}

export function modelParameterCount(m: SweepModel): number {
  return m.scale.nParams + (m.decay?.nParams ?? 0) + harmonicCount(m.lmax) * (m.lmax > 0 ? 1 : 0);
}
