/**
 * Pairwise correlations of datasets under the lattice symmetry operations (Gildea & Winter 2018,
 * Acta D74, 405; Brehm & Diederichs 2014, Acta D70, 101).
 *
 * cc(i, j, k) = Pearson correlation over the reflections h of dataset i whose image h·R_k is
 * measured in dataset j, of E²_i(h) and E²_j(h·R_k); its weight is the number of such pairs. Only
 * the N·N·m numbers are stored: the correlation of dataset i reindexed by a with dataset j
 * reindexed by b is cc(i, j, k) with R_k = R_a·R_b⁻¹ (see `opProductTable`), so the full
 * (N·m)² matrix of the embedding never needs to exist.
 *
 * Reflections are keyed up to Friedel's law (Laue symmetry is centrosymmetric) in one common
 * basis; each dataset's repeated measurements of a reflection are averaged first.
 */
import type { IntMat3 } from '../symmetry/op.js';

export interface CosymDataset {
  /** Miller indices in the common (reduced) basis, flat h,k,l. */
  hkl: Int32Array;
  /** Normalised intensities E² (per-dataset resolution shells). */
  E2: Float64Array;
}

export interface CorrelationTable {
  nDatasets: number;
  nOps: number;
  /** cc(i, j, k) at (i·N + j)·m + k. */
  cc: Float64Array;
  /** Number of common reflections behind each cc (0: no information). */
  count: Float64Array;
  /** Unique reflections over all datasets. */
  nUnique: number;
}

const OFF = 512;
/** Canonical key of ±h: indices up to ±511 in 10 bits each. */
export function friedelKey(h: number, k: number, l: number): number {
  const a = ((h + OFF) * 1024 + (k + OFF)) * 1024 + (l + OFF);
  const b = ((-h + OFF) * 1024 + (-k + OFF)) * 1024 + (-l + OFF);
  return a < b ? a : b;
}

export function mulRot(a: readonly number[], b: readonly number[]): IntMat3 {
  const r = [0, 0, 0, 0, 0, 0, 0, 0, 0] as IntMat3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  return r;
}

/** Inverse of an integer rotation (orthogonal in some basis, so det = 1 and the adjugate is integral). */
export function invRot(r: readonly number[]): IntMat3 {
  const [a, b, c, d, e, f, g, h, i] = r;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det].map((x) => x + 0) as IntMat3;
}

const key = (r: readonly number[]) => r.join(',');

/** table[a·m + b] = index k of R_a·R_b⁻¹ in `ops` (which must form a group). */
export function opProductTable(ops: readonly IntMat3[]): Int32Array {
  const m = ops.length;
  const index = new Map(ops.map((r, i) => [key(r), i]));
  const t = new Int32Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
    const k = index.get(key(mulRot(ops[a], invRot(ops[b]))));
    if (k === undefined) throw new RangeError('operators do not form a group');
    t[a * m + b] = k;
  }
  return t;
}

/**
 * The correlation table. `minPairs`: correlations from fewer common reflections get weight 0
 * (a correlation of two numbers is ±1 whatever the data).
 */
export function pairwiseCorrelations(datasets: readonly CosymDataset[], ops: readonly IntMat3[], minPairs = 3): CorrelationTable {
  const N = datasets.length, m = ops.length;
  // universe of unique reflections
  const uid = new Map<number, number>();
  const hklU: number[] = [];
  const perDatasetU: Int32Array[] = [];
  for (const ds of datasets) {
    const n = ds.E2.length;
    const u = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const h = ds.hkl[3 * r], k = ds.hkl[3 * r + 1], l = ds.hkl[3 * r + 2];
      const kk = friedelKey(h, k, l);
      let id = uid.get(kk);
      if (id === undefined) { id = hklU.length / 3; uid.set(kk, id); hklU.push(h, k, l); }
      u[r] = id;
    }
    perDatasetU.push(u);
  }
  const U = hklU.length / 3;
  // image of every unique reflection under every op (−1: not measured anywhere)
  const perm = new Int32Array(m * U);
  for (let k = 0; k < m; k++) {
    const R = ops[k];
    for (let v = 0; v < U; v++) {
      const h = hklU[3 * v], kk = hklU[3 * v + 1], l = hklU[3 * v + 2];
      const h2 = h * R[0] + kk * R[3] + l * R[6], k2 = h * R[1] + kk * R[4] + l * R[7], l2 = h * R[2] + kk * R[5] + l * R[8];
      perm[k * U + v] = uid.get(friedelKey(h2, k2, l2)) ?? -1;
    }
  }
  // per dataset: merged E² over its unique reflections
  const lists: Int32Array[] = [];
  const values: Float64Array[] = [];
  for (let i = 0; i < N; i++) {
    const u = perDatasetU[i], E2 = datasets[i].E2;
    const sum = new Map<number, [number, number]>();
    for (let r = 0; r < u.length; r++) {
      const s = sum.get(u[r]);
      if (s) { s[0] += E2[r]; s[1]++; } else sum.set(u[r], [E2[r], 1]);
    }
    const ids = Int32Array.from(sum.keys()).sort();
    lists.push(ids);
    values.push(Float64Array.from(ids, (id) => { const s = sum.get(id)!; return s[0] / s[1]; }));
  }
  // inverted index: for every unique reflection, the datasets measuring it and their values, so
  // that the work is proportional to the pairs that exist rather than to N² lookups
  const start = new Int32Array(U + 1);
  for (const ids of lists) for (const v of ids) start[v + 1]++;
  for (let v = 0; v < U; v++) start[v + 1] += start[v];
  const fill = start.slice(0, U);
  const owner = new Int32Array(start[U]), ownerValue = new Float64Array(start[U]);
  for (let j = 0; j < N; j++) {
    const ids = lists[j], vals = values[j];
    for (let q = 0; q < ids.length; q++) { const at = fill[ids[q]]++; owner[at] = j; ownerValue[at] = vals[q]; }
  }
  const cc = new Float64Array(N * N * m), count = new Float64Array(N * N * m);
  // sums per (j, k): n, Σx, Σy, Σx², Σy², Σxy
  const acc = new Float64Array(N * m * 6);
  for (let i = 0; i < N; i++) {
    const ids = lists[i], vals = values[i];
    acc.fill(0);
    for (let k = 0; k < m; k++) {
      const off = k * U;
      for (let q = 0; q < ids.length; q++) {
        const v = perm[off + ids[q]];
        if (v < 0) continue;
        const x = vals[q];
        for (let p = start[v]; p < start[v + 1]; p++) {
          const j = owner[p];
          if (j === i && v === ids[q]) continue; // within a dataset, h paired with itself says nothing
          const y = ownerValue[p];
          const a = (j * m + k) * 6;
          acc[a] += 1; acc[a + 1] += x; acc[a + 2] += y; acc[a + 3] += x * x; acc[a + 4] += y * y; acc[a + 5] += x * y;
        }
      }
    }
    for (let j = 0; j < N; j++) for (let k = 0; k < m; k++) {
      const a = (j * m + k) * 6;
      const n = acc[a];
      if (n < minPairs) continue;
      const sx = acc[a + 1], sy = acc[a + 2];
      const vx = acc[a + 3] - (sx * sx) / n, vy = acc[a + 4] - (sy * sy) / n;
      if (!(vx > 0 && vy > 0)) continue;
      const at = (i * N + j) * m + k;
      cc[at] = (acc[a + 5] - (sx * sy) / n) / Math.sqrt(vx * vy);
      count[at] = n;
    }
  }
  return { nDatasets: N, nOps: m, cc, count, nUnique: U };
}
