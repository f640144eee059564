/**
 * From candidate real-space vectors to a crystal basis: sharpen each vector against the rlps
 * (least squares on x·t ≈ integer), drop parallel duplicates, score non-coplanar triples by how
 * many rlps they index, and take the smallest-volume triple among the best-indexing ones (every
 * triple of true lattice vectors indexes everything; only the smallest is the primitive cell).
 * The result is reduced to short, near-orthogonal axes.
 */
import { Mat3 } from '../math/mat3.js';
import { Vec3 } from '../math/vec3.js';
import { invert3 } from '../geometry/prediction.js';

/** Least-squares sharpening of a direct-lattice vector: x·t ≈ n for the rlps close to a plane set. */
export function refineVector(t: Vec3, rlp: Float64Array, order: Int32Array, tolerance = 0.2): Vec3 {
  let v = Vec3.clone(t);
  const n = order.length;
  for (const frac of [0.1, 0.3, 1]) {
    const use = Math.max(Math.floor(n * frac), Math.min(n, 30));
    for (let it = 0; it < 2; it++) {
      const M = new Float64Array(9), b = new Float64Array(3);
      let count = 0;
      for (let k = 0; k < use; k++) {
        const i = order[k];
        const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
        const p = x * v[0] + y * v[1] + z * v[2];
        const m = Math.round(p);
        if (Math.abs(p - m) > tolerance) continue;
        M[0] += x * x; M[1] += x * y; M[2] += x * z; M[4] += y * y; M[5] += y * z; M[8] += z * z;
        b[0] += m * x; b[1] += m * y; b[2] += m * z;
        count++;
      }
      if (count < 10) return v;
      M[3] = M[1]; M[6] = M[2]; M[7] = M[5];
      let Mi: Float64Array;
      try { Mi = invert3(M); } catch { return v; }
      const nv: Vec3 = [Mi[0] * b[0] + Mi[1] * b[1] + Mi[2] * b[2], Mi[3] * b[0] + Mi[4] * b[1] + Mi[5] * b[2], Mi[6] * b[0] + Mi[7] * b[1] + Mi[8] * b[2]];
      if (!nv.every(Number.isFinite) || Vec3.length(nv) < 0.5 * Vec3.length(v) || Vec3.length(nv) > 2 * Vec3.length(v)) return v;
      v = nv;
    }
  }
  return v;
}

/** Indices of rlps sorted from low to high resolution (small |x| first). */
export function resolutionOrder(rlp: Float64Array): Int32Array {
  const n = rlp.length / 3;
  const len = new Float64Array(n);
  for (let i = 0; i < n; i++) len[i] = Math.hypot(rlp[3 * i], rlp[3 * i + 1], rlp[3 * i + 2]);
  return Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => len[a] - len[b]);
}

/** Count rlps (over `sample`) whose fractional indices are all within `tolerance` of integers. */
export function countIndexed(M: Mat3 | Float64Array, rlp: Float64Array, sample: Int32Array, tolerance: number): number {
  let c = 0;
  for (let k = 0; k < sample.length; k++) {
    const i = sample[k];
    const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
    const h = M[0] * x + M[1] * y + M[2] * z;
    if (Math.abs(h - Math.round(h)) > tolerance) continue;
    const kk = M[3] * x + M[4] * y + M[5] * z;
    if (Math.abs(kk - Math.round(kk)) > tolerance) continue;
    const l = M[6] * x + M[7] * y + M[8] * z;
    if (Math.abs(l - Math.round(l)) > tolerance) continue;
    c++;
  }
  return c;
}

/**
 * Reduce a direct basis (rows of M) to short vectors (Gauss/Buerger-style pairwise reduction),
 * all-acute or all-obtuse like a Niggli cell, right-handed.
 */
export function reduceBasis(M: Mat3): Mat3 {
  const v: Vec3[] = [Mat3.row(M, 0), Mat3.row(M, 1), Mat3.row(M, 2)];
  for (let pass = 0; pass < 100; pass++) {
    let changed = false;
    v.sort((a, b) => Vec3.dot(a, a) - Vec3.dot(b, b));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      const m = Math.round(Vec3.dot(v[i], v[j]) / Vec3.dot(v[j], v[j]));
      if (m !== 0) {
        const nv = Vec3.sub(v[i], Vec3.scale(v[j], m));
        if (Vec3.dot(nv, nv) < Vec3.dot(v[i], v[i]) - 1e-9) { v[i] = nv; changed = true; }
      }
    }
    // also try v0 ± v1 ± v2 against the longest
    for (const s1 of [-1, 1]) for (const s2 of [-1, 1]) {
      const nv = Vec3.add(v[2], Vec3.add(Vec3.scale(v[0], s1), Vec3.scale(v[1], s2)));
      if (Vec3.dot(nv, nv) < Vec3.dot(v[2], v[2]) - 1e-9) { v[2] = nv; changed = true; }
    }
    if (!changed) break;
  }
  v.sort((a, b) => Vec3.dot(a, a) - Vec3.dot(b, b));
  // Niggli sign convention: the three dot products all positive (type I) or all ≤ 0 (type II)
  const d = () => [Vec3.dot(v[1], v[2]), Vec3.dot(v[0], v[2]), Vec3.dot(v[0], v[1])];
  let [bc, ac, ab] = d();
  const pos = [bc, ac, ab].filter((x) => x > 0).length;
  if (pos === 2 || pos === 1) {
    // flip signs to make all acute or all obtuse
    if (pos === 2) {
      if (bc <= 0) v[0] = Vec3.neg(v[0]); else if (ac <= 0) v[1] = Vec3.neg(v[1]); else v[2] = Vec3.neg(v[2]);
    } else {
      if (bc > 0) v[0] = Vec3.neg(v[0]); else if (ac > 0) v[1] = Vec3.neg(v[1]); else v[2] = Vec3.neg(v[2]);
    }
    [bc, ac, ab] = d();
  }
  let R = Mat3.fromRows(v[0], v[1], v[2]);
  if (Mat3.determinant(R) < 0) R = Mat3.scale(R, -1);
  return R;
}

export interface BasisChoice {
  /** rows a, b, c (Å) */
  direct: Mat3;
  nIndexed: number;
  nSample: number;
  volume: number;
}

/**
 * Choose a basis from candidate vectors. `maxCandidates` shortest (after removing parallel
 * duplicates) are combined; scoring uses up to `sampleSize` rlps.
 */
export function selectBasis(vectors: Vec3[], rlp: Float64Array, opts: { tolerance?: number; maxCandidates?: number; sampleSize?: number; minVolume?: number } = {}): BasisChoice[] {
  const n = rlp.length / 3;
  const order = resolutionOrder(rlp);
  const refined = vectors.map((t) => refineVector(t, rlp, order));
  const distinct: Vec3[] = [];
  for (const t of refined.sort((a, b) => Vec3.length(a) - Vec3.length(b))) {
    const parallel = distinct.some((u) => Vec3.length(Vec3.cross(u, t)) < Math.sin((5 * Math.PI) / 180) * Vec3.length(u) * Vec3.length(t));
    if (!parallel) distinct.push(t);
    if (distinct.length >= (opts.maxCandidates ?? 30)) break;
  }
  const sampleSize = Math.min(n, opts.sampleSize ?? 3000);
  const step = n / sampleSize;
  const sample = Int32Array.from({ length: sampleSize }, (_, k) => Math.floor(k * step));
  const tol = opts.tolerance ?? 0.25;
  const minVolume = opts.minVolume ?? 25;
  const results: BasisChoice[] = [];
  const m = distinct.length;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) {
    const ab = Vec3.cross(distinct[i], distinct[j]);
    for (let k = j + 1; k < m; k++) {
      let vol = Vec3.dot(ab, distinct[k]);
      const c = vol < 0 ? Vec3.neg(distinct[k]) : distinct[k];
      vol = Math.abs(vol);
      if (vol < minVolume) continue;
      // reject nearly coplanar triples
      const li = Vec3.length(distinct[i]), lj = Vec3.length(distinct[j]), lk = Vec3.length(distinct[k]);
      if (vol < 0.2 * li * lj * lk) continue;
      const M = Mat3.fromRows(distinct[i], distinct[j], c);
      results.push({ direct: M, nIndexed: countIndexed(M, rlp, sample, tol), nSample: sampleSize, volume: vol });
    }
  }
  if (results.length === 0) return [];
  const best = results.reduce((a, r) => Math.max(a, r.nIndexed), 0);
  return results
    .filter((r) => r.nIndexed >= 0.9 * best)
    .sort((a, b) => a.volume - b.volume || b.nIndexed - a.nIndexed)
    .map((r) => ({ ...r, direct: reduceBasis(r.direct) }));
}

/** Assign Miller indices: h = round(M·x) when every component is within tolerance; else (0,0,0) and false. */
export function assignIndices(A: Mat3, rlp: Float64Array, tolerance: number, miller: Int32Array, indexed: Uint8Array, rows?: ArrayLike<number>): number {
  const M = Mat3.inverse(A);
  let count = 0;
  const n = rows ? rows.length : rlp.length / 3;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
    const h = M[0] * x + M[1] * y + M[2] * z, kk = M[3] * x + M[4] * y + M[5] * z, l = M[6] * x + M[7] * y + M[8] * z;
    const rh = Math.round(h), rk = Math.round(kk), rl = Math.round(l);
    const ok = Math.abs(h - rh) <= tolerance && Math.abs(kk - rk) <= tolerance && Math.abs(l - rl) <= tolerance && (rh !== 0 || rk !== 0 || rl !== 0);
    indexed[i] = ok ? 1 : 0;
    miller[3 * i] = ok ? rh : 0; miller[3 * i + 1] = ok ? rk : 0; miller[3 * i + 2] = ok ? rl : 0;
    if (ok) count++;
  }
  return count;
}
