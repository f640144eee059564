/**
 * Per-reflection sums of scaled observations and the σ-τ CC½ built from them: what the scaler needs
 * for its own decisions (Rmeas / CC½ of the candidate intensity choices). The project's merging
 * statistics (shells, completeness, R factors, anomalous figures) are src/core/stats/merging.ts;
 * this file deliberately stays this small so the two do not grow into two engines.
 */

export interface MergeInput {
  /** Group (unique reflection) of each observation and its d. */
  group: Int32Array;
  groupD: Float64Array;
  nGroups: number;
  /** Scaled intensities and variances; observations with use[o] = 0 are ignored. */
  I: Float64Array;
  V: Float64Array;
  use: Uint8Array;
  /** Groups that are systematically absent (not counted towards completeness). */
  groupAbsent?: Uint8Array;
}

/** Per-unique sums that every figure is built from. */
export interface GroupSums { n: Float64Array; sw: Float64Array; swx: Float64Array; sx: Float64Array; sxx: Float64Array }

export function groupSums(m: MergeInput): GroupSums {
  const n = new Float64Array(m.nGroups), sw = new Float64Array(m.nGroups), swx = new Float64Array(m.nGroups);
  const sx = new Float64Array(m.nGroups), sxx = new Float64Array(m.nGroups);
  for (let o = 0; o < m.group.length; o++) {
    if (!m.use[o]) continue;
    const g = m.group[o], w = 1 / m.V[o], x = m.I[o];
    n[g]++; sw[g] += w; swx[g] += w * x; sx[g] += x; sxx[g] += x * x;
  }
  return { n, sw, swx, sx, sxx };
}

/**
 * CC½ by the σ-τ method (Assmann, Brehm & Diederichs 2016): from the variance of the merged means
 * across reflections (σ²_y) and the mean error variance of a merged mean (σ²_ε, from the spread
 * within each reflection), CC½ = (σ²_y − σ²_ε)/(σ²_y + σ²_ε). Deterministic, unlike random halves.
 */
export function ccHalfSigmaTau(sums: GroupSums, select: (g: number) => boolean): number {
  let k = 0, sMean = 0, sMean2 = 0, sErr = 0;
  for (let g = 0; g < sums.n.length; g++) {
    const n = sums.n[g];
    if (n < 2 || !select(g)) continue;
    const mean = sums.sx[g] / n;
    const varWithin = Math.max(0, (sums.sxx[g] - n * mean * mean) / (n - 1));
    k++; sMean += mean; sMean2 += mean * mean; sErr += varWithin / n;
  }
  if (k < 3) return NaN;
  const mu = sMean / k;
  const varY = (sMean2 - k * mu * mu) / (k - 1);
  const varE = sErr / k;
  return (varY - varE) / (varY + varE);
}
