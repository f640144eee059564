/**
 * The cosym embedding (Gildea & Winter 2018): one vector x_(i,a) ∈ ℝ^d for every dataset i under
 * every lattice operation a, found by minimising
 *
 *   Φ(x) = Σ_{(i,a) < (j,b)} w · (r_(i,a),(j,b) − x_(i,a)·x_(j,b))² / Σ w
 *
 * where r is the correlation of dataset i reindexed by a with dataset j reindexed by b and w the
 * number of common reflections. If the datasets share one structure, r ≈ ρ_i ρ_j c(R_a R_b⁻¹)
 * (ρ: data quality, c: the structure's self-correlation under an operation, 1 for true symmetry),
 * so x_(i,a) = ρ_i u_a: vector lengths carry data quality and directions carry the setting.
 * Vectors related by a true symmetry point the same way; the dimension needed is the number of
 * cosets of the Patterson group that do not correlate.
 *
 * Dimensions are added until one more no longer pays for its parameters by Akaike's criterion,
 * P·ln(Φ_d/Φ_(d+1)) > 2·N·m (P pairs with information, N·m new coordinates). That test alone
 * keeps fitting small systematic effects (per-dataset B factors change which reflections two
 * datasets share), so the scan also stops once the last two steps each gained less than half
 * the largest one, and the dimension used is the elbow of Φ(d) over the scanned range: the point
 * farthest below the chord from the first to the last (the "kneedle" rule).
 */
import { minimiseLbfgs } from './lbfgs.js';
import type { CorrelationTable } from './correlation.js';

export interface EmbeddingResult {
  /** Coordinates, (i·m + a)·d + c. */
  x: Float64Array;
  dims: number;
  /** Φ at the minimum. */
  functional: number;
  iterations: number;
}

/** Φ and its gradient; hot loop, allocation-free. */
export function functionalAndGradient(t: CorrelationTable, prod: Int32Array, dims: number, x: Float64Array, g: Float64Array, wTotal: number): number {
  const N = t.nDatasets, m = t.nOps, d = dims;
  const cc = t.cc, w = t.count;
  g.fill(0);
  let f = 0;
  const inv = 1 / wTotal;
  for (let i = 0; i < N; i++) {
    for (let a = 0; a < m; a++) {
      const I = (i * m + a) * d;
      for (let j = i; j < N; j++) {
        const base = (i * N + j) * m;
        for (let b = j === i ? a + 1 : 0; b < m; b++) {
          const at = base + prod[a * m + b];
          const wi = w[at];
          if (wi === 0) continue;
          const J = (j * m + b) * d;
          let dot = 0;
          for (let c = 0; c < d; c++) dot += x[I + c] * x[J + c];
          const e = dot - cc[at];
          const we = wi * inv;
          f += we * e * e;
          const s = 2 * we * e;
          for (let c = 0; c < d; c++) { g[I + c] += s * x[J + c]; g[J + c] += s * x[I + c]; }
        }
      }
    }
  }
  return f;
}

function pairStats(t: CorrelationTable, prod: Int32Array): { wTotal: number; nPairs: number } {
  const N = t.nDatasets, m = t.nOps;
  let wTotal = 0, nPairs = 0;
  for (let i = 0; i < N; i++) for (let a = 0; a < m; a++) for (let j = i; j < N; j++) for (let b = j === i ? a + 1 : 0; b < m; b++) {
    const w = t.count[(i * N + j) * m + prod[a * m + b]];
    if (w > 0) { wTotal += w; nPairs++; }
  }
  return { wTotal, nPairs };
}

/** Minimise Φ in `dims` dimensions from `x0` (length N·m·dims). */
export function embed(t: CorrelationTable, prod: Int32Array, dims: number, x0: Float64Array, maxIterations = 500): EmbeddingResult {
  const { wTotal } = pairStats(t, prod);
  if (wTotal === 0) return { x: x0, dims, functional: 0, iterations: 0 };
  const x = Float64Array.from(x0);
  const r = minimiseLbfgs(x, (xx, gg) => functionalAndGradient(t, prod, dims, xx, gg, wTotal), { maxIterations, relTolerance: 1e-8 });
  return { x, dims, functional: r.f, iterations: r.iterations };
}

export interface DimensionScan {
  chosen: EmbeddingResult;
  /** Φ for d = 1, 2, … as far as the scan went. */
  functional: number[];
  nPairs: number;
}

/**
 * Embed in 1, 2, … dimensions (each warm-started from the previous solution plus a small random
 * new coordinate) until one more dimension no longer pays for itself (see top of file), or
 * `maxDims` is reached. `fixedDims` skips the scan.
 */
export function embedAutoDimensions(t: CorrelationTable, prod: Int32Array, rand: () => number, opts: { maxDims: number; fixedDims?: number | null; maxIterations?: number }): DimensionScan {
  const N = t.nDatasets, m = t.nOps, V = N * m;
  const { nPairs } = pairStats(t, prod);
  const start = (d: number, prev: EmbeddingResult | null) => {
    const x = new Float64Array(V * d);
    for (let v = 0; v < V; v++) for (let c = 0; c < d; c++) {
      x[v * d + c] = prev && c < prev.dims ? prev.x[v * prev.dims + c] : (prev ? 0.1 : 1) * rand();
    }
    return x;
  };
  if (opts.fixedDims) {
    const r = embed(t, prod, opts.fixedDims, start(opts.fixedDims, null), opts.maxIterations);
    return { chosen: r, functional: [r.functional], nPairs };
  }
  const results: EmbeddingResult[] = [];
  const maxDims = Math.max(1, Math.min(opts.maxDims, m));
  let prev: EmbeddingResult | null = null;
  for (let d = 1; d <= maxDims; d++) {
    const r = embed(t, prod, d, start(d, prev), opts.maxIterations);
    results.push(r);
    if (prev && !(nPairs * Math.log(prev.functional / Math.max(r.functional, 1e-300)) > 2 * V)) break;
    // the curve has flattened: the last two steps each gained less than half the largest step
    if (results.length >= 3) {
      const steps = results.slice(1).map((q, k) => results[k].functional - q.functional);
      const big = Math.max(...steps);
      if (steps[steps.length - 1] < 0.5 * big && steps[steps.length - 2] < 0.5 * big) break;
    }
    prev = r;
  }
  const k = elbow(results.map((r) => r.functional));
  return { chosen: results[k], functional: results.map((r) => r.functional), nPairs };
}

/** Index of the elbow of a decreasing curve (0-based); 0 when fewer than 3 points. */
export function elbow(f: readonly number[]): number {
  const n = f.length;
  if (n < 3) return n === 2 && f[1] < f[0] ? 1 : 0;
  const lo = Math.min(...f), hi = Math.max(...f);
  if (!(hi > lo)) return 0;
  let best = 0, bestDist = -Infinity;
  for (let d = 0; d < n; d++) {
    // normalised curve vs the chord from (0, y0) to (1, yn)
    const x = d / (n - 1), y = (f[d] - lo) / (hi - lo);
    const chord = (f[0] - lo) / (hi - lo) + x * ((f[n - 1] - f[0]) / (hi - lo));
    const dist = chord - y;
    if (dist > bestDist + 1e-12) { bestDist = dist; best = d; }
  }
  return best;
}
