/**
 * Rule 5: the absorption correction level for scaling. Absorption matters more at long wavelength
 * (μ grows roughly as λ³), needs a wide rotation to be determined, and matters most for anomalous
 * differences. A first choice from the experiment; optionally revised by comparing scaling outcomes.
 */
import { decision, type Decision } from './decision.js';

export type AbsorptionLevel = 'none' | 'low' | 'medium' | 'high';

export interface AbsorptionInputs {
  wavelengthA: number;
  totalRotationDeg: number;
  anomalous: boolean;
  /** Anomalous signal, e.g. the anomalous slope or CC_anom from a first scaling; null if unknown. */
  anomalousSignal?: number | null;
}

export const MIN_ROTATION_FOR_ABSORPTION_DEG = 60;
export const LONG_WAVELENGTH_A = 1.5;

export function chooseAbsorptionLevel(x: AbsorptionInputs): Decision<AbsorptionLevel> {
  const f = { wavelength: x.wavelengthA, total_rotation_deg: x.totalRotationDeg, anomalous: x.anomalous, anomalous_signal: x.anomalousSignal ?? null };
  if (x.totalRotationDeg <= MIN_ROTATION_FOR_ABSORPTION_DEG) {
    return decision('absorption_level', 'none', `total rotation ${x.totalRotationDeg.toFixed(1)}° ≤ ${MIN_ROTATION_FOR_ABSORPTION_DEG}° cannot determine an absorption surface: no absorption term`, f);
  }
  if (x.wavelengthA >= LONG_WAVELENGTH_A) {
    return decision('absorption_level', 'high', `long wavelength ${x.wavelengthA.toFixed(3)} Å (≥ ${LONG_WAVELENGTH_A} Å): strong absorption, level high`, f);
  }
  if (x.anomalous || (x.anomalousSignal ?? 0) > 1.2) {
    return decision('absorption_level', 'medium', `anomalous data${x.anomalousSignal ? ` (signal ${x.anomalousSignal.toFixed(2)})` : ''}: absorption affects Bijvoet differences, level medium`, f);
  }
  return decision('absorption_level', 'low', `λ ${x.wavelengthA.toFixed(3)} Å, ${x.totalRotationDeg.toFixed(0)}° rotation, no anomalous signal sought: level low`, f);
}

export interface ScalingOutcome { level: AbsorptionLevel; rmeas: number; ccHalf: number }

/**
 * Keep the higher level only if it improves Rmeas by at least `minRelGain` (default 2 %) without lowering
 * CC½; a bigger model that does not fit the data better is not worth its parameters.
 */
export function compareAbsorptionOutcomes(lower: ScalingOutcome, higher: ScalingOutcome, minRelGain = 0.02): Decision<AbsorptionLevel> {
  const gain = (lower.rmeas - higher.rmeas) / lower.rmeas;
  const keepHigher = gain >= minRelGain && higher.ccHalf >= lower.ccHalf - 1e-4;
  return decision('absorption_level_compare', keepHigher ? higher.level : lower.level,
    keepHigher ? `${higher.level} absorption lowers Rmeas ${lower.rmeas.toFixed(4)} → ${higher.rmeas.toFixed(4)} (${(100 * gain).toFixed(1)} %)`
      : `${higher.level} absorption does not pay: Rmeas ${lower.rmeas.toFixed(4)} → ${higher.rmeas.toFixed(4)}, CC½ ${lower.ccHalf.toFixed(4)} → ${higher.ccHalf.toFixed(4)}; keep ${lower.level}`,
    { rmeas_lower: lower.rmeas, rmeas_higher: higher.rmeas, cc_half_lower: lower.ccHalf, cc_half_higher: higher.ccHalf, min_rel_gain: minRelGain });
}
