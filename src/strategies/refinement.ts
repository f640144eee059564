/** Rule 4: scan-varying refinement only for scans wide enough to constrain a smoothed model. */
import { decision, type Decision } from './decision.js';

export const SCAN_VARYING_MIN_WIDTH_DEG = 5;

export function useScanVarying(scanWidthDeg: number, minWidthDeg = SCAN_VARYING_MIN_WIDTH_DEG): Decision<boolean> {
  const yes = scanWidthDeg > minWidthDeg;
  return decision('scan_varying', yes,
    yes ? `scan of ${scanWidthDeg.toFixed(1)}° > ${minWidthDeg}°: scan-static then scan-varying refinement`
      : `scan of ${scanWidthDeg.toFixed(1)}° ≤ ${minWidthDeg}°: scan-static refinement only`,
    { scan_width_deg: scanWidthDeg, threshold_deg: minWidthDeg });
}
