/**
 * Unit-cell clustering: which crystals share a lattice, before their intensities are compared.
 *
 * The distance between two cells must not depend on how each crystal happened to be indexed
 * (axis order, signs, a reduced cell near a Niggli boundary). Instead of the Andrews–Bernstein G6
 * metric with its boundary mappings, each lattice is described by the lengths of its shortest
 * lattice vectors: the sorted lengths of the 13 shortest (up to sign) non-zero vectors of the
 * Niggli cell with coefficients in [−2, 2] — the Voronoi-relevant vectors of any reduced
 * lattice are among them (Conway & Sloane), so equal lattices give equal lists whatever the basis.
 * The distance is the root-mean-square relative difference of the two lists (a fraction: 0.01 =
 * 1 %). Clustering is agglomerative with average linkage, merging while the closest clusters are
 * within `threshold`; the largest cluster is "the majority".
 */
import { niggliReduce } from '../symmetry/niggli.js';
import { UnitCell, type CellParams } from '../symmetry/unitcell.js';

export const N_SHORTEST = 13;

/** Sorted lengths (Å) of the 13 shortest lattice vectors (±v counted once). */
export function shortestVectorLengths(params: readonly number[]): Float64Array {
  const red = niggliReduce(UnitCell.fromParams(params)).cell;
  const G = red.metric;
  const lens: number[] = [];
  for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) for (let c = -2; c <= 2; c++) {
    // one of ±v: first non-zero coefficient positive
    const first = a !== 0 ? a : b !== 0 ? b : c;
    if (first <= 0) continue;
    const q = G[0] * a * a + G[4] * b * b + G[8] * c * c + 2 * (G[1] * a * b + G[2] * a * c + G[5] * b * c);
    lens.push(Math.sqrt(q));
  }
  lens.sort((x, y) => x - y);
  return Float64Array.from(lens.slice(0, N_SHORTEST));
}

/** RMS relative difference of two shortest-vector lists. */
export function cellDistance(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) { const r = (u[i] - v[i]) / (0.5 * (u[i] + v[i])); s += r * r; }
  return Math.sqrt(s / u.length);
}

export interface CellClustering {
  /** Cluster label per cell; 0 = largest cluster. */
  labels: Int32Array;
  /** Cluster sizes, largest first. */
  sizes: number[];
  /** Indices of the cells in the largest cluster. */
  majority: number[];
  /** Pairwise distances (N×N, row-major). */
  distances: Float64Array;
}

export function clusterUnitCells(cells: readonly (CellParams | number[])[], threshold = 0.025): CellClustering {
  const N = cells.length;
  const vecs = cells.map((c) => shortestVectorLengths(c));
  const D = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) { const d = cellDistance(vecs[i], vecs[j]); D[i * N + j] = d; D[j * N + i] = d; }
  // average linkage on an explicit cluster-distance matrix (N ≤ a few thousand)
  let clusters: number[][] = Array.from({ length: N }, (_, i) => [i]);
  const cd = new Map<string, number>();
  // a cluster only grows, so (smallest member, size) names it uniquely over the whole run
  const key = (a: number[], b: number[]) => `${a[0]}:${a.length}|${b[0]}:${b.length}`;
  const linkage = (a: number[], b: number[]) => {
    let s = 0;
    for (const i of a) for (const j of b) s += D[i * N + j];
    return s / (a.length * b.length);
  };
  for (;;) {
    let bi = -1, bj = -1, best = Infinity;
    for (let i = 0; i < clusters.length; i++) for (let j = i + 1; j < clusters.length; j++) {
      const k = key(clusters[i], clusters[j]);
      let d = cd.get(k);
      if (d === undefined) { d = linkage(clusters[i], clusters[j]); cd.set(k, d); }
      if (d < best) { best = d; bi = i; bj = j; }
    }
    if (bi < 0 || best > threshold) break;
    const merged = [...clusters[bi], ...clusters[bj]].sort((x, y) => x - y);
    clusters = clusters.filter((_, k) => k !== bi && k !== bj);
    clusters.push(merged);
  }
  clusters.sort((a, b) => b.length - a.length || a[0] - b[0]);
  const labels = new Int32Array(N);
  clusters.forEach((c, k) => { for (const i of c) labels[i] = k; });
  return { labels, sizes: clusters.map((c) => c.length), majority: clusters[0] ?? [], distances: D };
}
