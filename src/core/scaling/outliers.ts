/**
 * Outlier rejection across all sweeps: within each unique reflection, an observation is compared
 * with the weighted mean of the *others* (so a single wild value cannot hide by pulling the mean),
 * and the worst one beyond zmax normalised deviations is rejected; repeat until none is left.
 */
import type { ScalingProblem } from './problem.js';

export function rejectOutliers(pr: ScalingProblem, g: Float64Array, zmax: number): number {
  pr.outlier.fill(0);
  let total = 0;
  for (let gr = 0; gr < pr.nGroups; gr++) {
    const a = pr.groupStart[gr], b = pr.groupStart[gr + 1];
    if (b - a < 2) continue;
    for (;;) {
      let sw = 0, swi = 0, n = 0;
      for (let r = a; r < b; r++) {
        const o = pr.groupObs[r];
        if (pr.outlier[o]) continue;
        const w = (g[o] * g[o]) / pr.Vem[o];
        sw += w; swi += (w * pr.I[o]) / g[o]; n++;
      }
      if (n < 2) break;
      let worst = -1, worstZ = zmax;
      for (let r = a; r < b; r++) {
        const o = pr.groupObs[r];
        if (pr.outlier[o]) continue;
        const w = (g[o] * g[o]) / pr.Vem[o];
        const swo = sw - w;
        if (!(swo > 0)) continue;
        const mean = (swi - (w * pr.I[o]) / g[o]) / swo;
        const z = Math.abs(pr.I[o] - g[o] * mean) / Math.sqrt(pr.Vem[o] + (g[o] * g[o]) / swo);
        if (z > worstZ) { worstZ = z; worst = o; }
      }
      if (worst < 0) break;
      pr.outlier[worst] = 1;
      total++;
    }
  }
  return total;
}
