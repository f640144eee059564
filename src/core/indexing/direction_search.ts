/**
 * Basis-vector searches over directions on a hemisphere.
 *
 * fft1d (Rossmann & van Beek 1999; Steller et al. 1997): for each direction u the rlps projected on
 * u, x·u, are binned and Fourier transformed; a real-space lattice vector along u shows up as a
 * strong non-zero frequency whose value is its length. The best directions give candidates.
 *
 * real_space_grid_search (with a known cell): for each direction u and each cell edge length L,
 * score the periodicity of x·(L·u) directly: Σ cos 2π x·t is large only when t is a lattice vector.
 *
 * Both return candidate real-space vectors for the same basis selection as fft3d.
 */
import FFT from 'fft.js';
import type { Vec3 } from '../math/vec3.js';

/** Roughly uniform unit vectors on the hemisphere z ≥ 0 (Fibonacci lattice), spacing ≈ stepDeg. */
export function hemisphereDirections(stepDeg: number): Float64Array {
  const step = (stepDeg * Math.PI) / 180;
  const n = Math.max(8, Math.round((2 * Math.PI) / (step * step)));
  const out = new Float64Array(3 * n);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const z = 1 - (i + 0.5) / n; // (0, 1]
    const r = Math.sqrt(1 - z * z);
    const phi = i * golden;
    out[3 * i] = r * Math.cos(phi); out[3 * i + 1] = r * Math.sin(phi); out[3 * i + 2] = z;
  }
  return out;
}

interface Scored { vector: Vec3; score: number }

/** Keep the best-scoring vectors, skipping near-duplicates (within `sepDeg` of a kept one). */
function bestDistinct(items: Scored[], count: number, sepDeg: number): Scored[] {
  items.sort((a, b) => b.score - a.score);
  const cosSep = Math.cos((sepDeg * Math.PI) / 180);
  const kept: Scored[] = [];
  for (const it of items) {
    const l = Math.hypot(...it.vector);
    const dup = kept.some((k) => {
      const lk = Math.hypot(...k.vector);
      const c = Math.abs(k.vector[0] * it.vector[0] + k.vector[1] * it.vector[1] + k.vector[2] * it.vector[2]) / (l * lk);
      return c > cosSep && Math.abs(l - lk) < 0.2 * Math.min(l, lk);
    });
    if (!dup) kept.push(it);
    if (kept.length >= count) break;
  }
  return kept;
}

/** fft1d candidates from rlps (Å⁻¹) within 1/dMin; vectors up to maxCell (Å). */
export function fft1dCandidates(rlpAll: Float64Array, opts: { dMin: number; maxCell: number; minCell?: number; stepDeg?: number; count?: number; maxPoints?: number }): Vec3[] {
  const lim = 1 / opts.dMin;
  // every direction projects every point: an even sample of the rlps inside 1/d_min keeps this fast
  const inside: number[] = [];
  for (let i = 0; i < rlpAll.length / 3; i++) if (Math.hypot(rlpAll[3 * i], rlpAll[3 * i + 1], rlpAll[3 * i + 2]) <= lim) inside.push(i);
  const n = Math.min(inside.length, opts.maxPoints ?? 8000);
  const rlp = new Float64Array(3 * n);
  for (let k = 0; k < n; k++) { const i = inside[Math.floor((k * inside.length) / n)]; rlp[3 * k] = rlpAll[3 * i]; rlp[3 * k + 1] = rlpAll[3 * i + 1]; rlp[3 * k + 2] = rlpAll[3 * i + 2]; }
  // bins fine enough to see maxCell with margin: period 1/L in projection, ≥ 4 bins per period
  let N = 256;
  while ((2 * lim) / N > 1 / (4 * opts.maxCell) && N < 1 << 14) N *= 2;
  const binWidth = (2 * lim) / N;
  const fft = new FFT(N);
  const inp = fft.createComplexArray() as number[];
  const out = fft.createComplexArray() as number[];
  const dirs = hemisphereDirections(opts.stepDeg ?? 1.5);
  const scored: Scored[] = [];
  const minCell = opts.minCell ?? 3;
  const kMin = Math.max(1, Math.ceil(minCell * binWidth * N)), kMax = Math.min(N / 2 - 1, Math.floor(opts.maxCell * binWidth * N));
  for (let d = 0; d < dirs.length / 3; d++) {
    const ux = dirs[3 * d], uy = dirs[3 * d + 1], uz = dirs[3 * d + 2];
    inp.fill(0);
    for (let i = 0; i < n; i++) {
      const p = rlp[3 * i] * ux + rlp[3 * i + 1] * uy + rlp[3 * i + 2] * uz;
      const b = Math.floor((p + lim) / binWidth);
      if (b >= 0 && b < N) inp[2 * b] += 1;
    }
    fft.transform(out, inp);
    // frequency k ↔ real-space length k/(N·binWidth)
    let best = 0, bestK = 0;
    for (let k = kMin; k <= kMax; k++) {
      const a = out[2 * k] * out[2 * k] + out[2 * k + 1] * out[2 * k + 1];
      if (a > best) { best = a; bestK = k; }
    }
    if (bestK === 0) continue;
    const L = bestK / (N * binWidth);
    scored.push({ vector: [ux * L, uy * L, uz * L], score: best });
  }
  return bestDistinct(scored, opts.count ?? 30, 5).map((s) => s.vector);
}

/** Real-space grid search: candidate vectors with the known cell's edge lengths. */
export function realSpaceGridCandidates(rlp: Float64Array, lengths: number[], opts: { stepDeg?: number; perLength?: number; maxPoints?: number } = {}): Vec3[] {
  const n = rlp.length / 3;
  // An even sample over all resolutions: low-resolution points alone give peaks too broad (width
  // ≈ 1/(|x|·L) rad) to tell neighbouring directions apart; basis selection sharpens the winners.
  const m = Math.min(n, opts.maxPoints ?? 3000);
  const pts = new Float64Array(3 * m);
  for (let k = 0; k < m; k++) { const i = Math.floor((k * n) / m); pts[3 * k] = rlp[3 * i]; pts[3 * k + 1] = rlp[3 * i + 1]; pts[3 * k + 2] = rlp[3 * i + 2]; }
  const dirs = hemisphereDirections(opts.stepDeg ?? 1);
  const distinct = [...new Set(lengths.map((l) => Number(l.toFixed(3))))];
  const out: Vec3[] = [];
  for (const L of distinct) {
    const scored: Scored[] = [];
    for (let d = 0; d < dirs.length / 3; d++) {
      const tx = dirs[3 * d] * L, ty = dirs[3 * d + 1] * L, tz = dirs[3 * d + 2] * L;
      let s = 0;
      for (let k = 0; k < m; k++) s += Math.cos(2 * Math.PI * (pts[3 * k] * tx + pts[3 * k + 1] * ty + pts[3 * k + 2] * tz));
      scored.push({ vector: [tx, ty, tz], score: s });
    }
    out.push(...bestDistinct(scored, opts.perLength ?? 10, 8).map((s) => s.vector));
  }
  return out;
}
