/**
 * Centroid outlier rejection. Tukey's fences on each residual coordinate (X, Y, φ) separately,
 * per experiment: a reflection is an outlier when any of its residuals lies outside
 * [Q1 − k·IQR, Q3 + k·IQR] (k = 1.5). Robust to the heavy tails that misindexed spots and
 * overlaps produce, and cheap.
 */

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Quartiles (Q1, median, Q3) of the given values. */
export function quartiles(values: ArrayLike<number>): [number, number, number] {
  const s = Float64Array.from(values).sort();
  return [quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)];
}

/**
 * Clears active[i] for Tukey outliers among the currently active reflections. `groups` splits the
 * test (experiment ids); returns the number rejected.
 */
export function tukeyReject(residuals: readonly Float64Array[], groups: Int32Array, active: Uint8Array, iqrMultiplier = 1.5): number {
  const n = active.length;
  const nGroups = groups.reduce((a, b) => Math.max(a, b), -1) + 1;
  let rejected = 0;
  const reject = new Uint8Array(n);
  for (let g = 0; g < nGroups; g++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (active[i] && groups[i] === g) idx.push(i);
    if (idx.length < 10) continue;
    for (const r of residuals) {
      const [q1, , q3] = quartiles(idx.map((i) => r[i]));
      const iqr = q3 - q1;
      const lo = q1 - iqrMultiplier * iqr, hi = q3 + iqrMultiplier * iqr;
      for (const i of idx) if (r[i] < lo || r[i] > hi) reject[i] = 1;
    }
  }
  for (let i = 0; i < n; i++) if (reject[i] && active[i]) { active[i] = 0; rejected++; }
  return rejected;
}
