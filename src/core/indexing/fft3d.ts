/**
 * Basis-vector search by 3D FFT (Steller, Bolotovsky & Rossmann 1997; Gildea et al. 2014).
 * Reciprocal-lattice points are put on an N³ grid spanning ±1/d_min; the Fourier transform of that
 * point set peaks at real-space vectors t for which x·t is an integer for most points — the direct
 * lattice vectors. Grid spacing in real space is d_min/2, so a cell edge up to N·d_min/5 is
 * resolved with margin (d_min is chosen from max_cell that way). Peaks are found by flood fill
 * above a multiple of the map's rms, and their value-weighted centroids are the candidates.
 *
 * Memory: two Float32Array grids (real, imaginary) of N³: 128 MB at N = 256.
 */
import FFT from 'fft.js';

export interface Fft3dOptions {
  gridSize?: number;
  dMin: number;
  /** peaks must exceed this many rms of the map */
  rmsdCutoff?: number;
  /** peaks smaller than this fraction of the largest (non-origin) peak volume are dropped */
  peakVolumeCutoff?: number;
  minCell?: number;
  maxCell: number;
}

export interface CandidateVector {
  vector: [number, number, number];
  length: number;
  /** grid points in the peak */
  volume: number;
  height: number;
}

/** In-place 1D FFTs along one axis of an N³ complex grid (stride 1, N or N²). */
function fftAxis(re: Float32Array, im: Float32Array, N: number, stride: number, skipEmpty: boolean): void {
  const f = new FFT(N);
  const inp = f.createComplexArray() as number[];
  const out = f.createComplexArray() as number[];
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < N; b++) {
      const base = stride === 1 ? a * N * N + b * N : stride === N ? a * N * N + b : a * N + b;
      let any = false;
      for (let j = 0, p = base; j < N; j++, p += stride) {
        const r = re[p], i = im[p];
        inp[2 * j] = r; inp[2 * j + 1] = i;
        if (r !== 0 || i !== 0) any = true;
      }
      if (skipEmpty && !any) continue;
      f.transform(out, inp);
      for (let j = 0, p = base; j < N; j++, p += stride) { re[p] = out[2 * j]; im[p] = out[2 * j + 1]; }
    }
  }
}

/** Real part of the 3D DFT of unit points at the rlps' grid positions (rlps beyond 1/d_min skipped). */
export function fftMap(rlp: Float64Array, N: number, dMin: number): { map: Float32Array; used: number } {
  const re = new Float32Array(N * N * N), im = new Float32Array(N * N * N);
  const step = 2 / (dMin * N);
  const lim2 = 1 / (dMin * dMin);
  let used = 0;
  for (let i = 0; i < rlp.length / 3; i++) {
    const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
    if (x * x + y * y + z * z > lim2) continue;
    const gx = ((Math.round(x / step) % N) + N) % N, gy = ((Math.round(y / step) % N) + N) % N, gz = ((Math.round(z / step) % N) + N) % N;
    re[(gz * N + gy) * N + gx] += 1;
    used++;
  }
  fftAxis(re, im, N, 1, true);
  fftAxis(re, im, N, N, true);
  fftAxis(re, im, N, N * N, false);
  return { map: re, used };
}

/** Flood-fill peak search on a periodic N³ map; returns real-space candidate vectors. */
export function findPeaks(map: Float32Array, N: number, dMin: number, opts: Fft3dOptions): CandidateVector[] {
  const n3 = N * N * N;
  let ss = 0;
  for (let i = 0; i < n3; i++) ss += map[i] * map[i];
  const rms = Math.sqrt(ss / n3);
  // With few spots (small molecules) even true lattice peaks stay below 15 rms (the origin peak is
  // n, the rms ~√n): cap the threshold at half the highest point away from the origin.
  let highest = 0;
  const spacingA = dMin / 2, minCellA = opts.minCell ?? 3;
  for (let z = 0; z < N; z++) {
    const tz = (z > N / 2 ? z - N : z) * spacingA;
    for (let y = 0; y < N; y++) {
      const ty = (y > N / 2 ? y - N : y) * spacingA;
      for (let x = 0; x < N; x++) {
        const v = map[(z * N + y) * N + x];
        if (v <= highest) continue;
        const tx = (x > N / 2 ? x - N : x) * spacingA;
        if (tx * tx + ty * ty + tz * tz >= minCellA * minCellA) highest = v;
      }
    }
  }
  const threshold = Math.min((opts.rmsdCutoff ?? 15) * rms, 0.5 * highest);
  const visited = new Uint8Array(n3);
  const stack = new Int32Array(n3 > 1 << 24 ? 1 << 24 : n3);
  const spacing = dMin / 2;
  const peaks: CandidateVector[] = [];
  const wrap = (j: number) => (j > N / 2 ? j - N : j);
  for (let seed = 0; seed < n3; seed++) {
    if (visited[seed] || map[seed] < threshold) continue;
    const sx = seed % N, sy = Math.floor(seed / N) % N, sz = Math.floor(seed / (N * N));
    let top = 0;
    stack[top++] = seed;
    visited[seed] = 1;
    let w = 0, cx = 0, cy = 0, cz = 0, vol = 0, height = 0;
    while (top > 0) {
      const p = stack[--top];
      const x = p % N, y = Math.floor(p / N) % N, z = Math.floor(p / (N * N));
      const v = map[p];
      // unwrap relative to the seed so peaks straddling the boundary keep one centroid
      let dx = x - sx, dy = y - sy, dz = z - sz;
      if (dx > N / 2) dx -= N; else if (dx < -N / 2) dx += N;
      if (dy > N / 2) dy -= N; else if (dy < -N / 2) dy += N;
      if (dz > N / 2) dz -= N; else if (dz < -N / 2) dz += N;
      w += v; cx += v * dx; cy += v * dy; cz += v * dz; vol++;
      if (v > height) height = v;
      for (let k = 0; k < 6; k++) {
        const q = k === 0 ? (z * N + y) * N + ((x + 1) % N)
          : k === 1 ? (z * N + y) * N + ((x + N - 1) % N)
          : k === 2 ? (z * N + ((y + 1) % N)) * N + x
          : k === 3 ? (z * N + ((y + N - 1) % N)) * N + x
          : k === 4 ? (((z + 1) % N) * N + y) * N + x
          : (((z + N - 1) % N) * N + y) * N + x;
        if (!visited[q] && map[q] >= threshold && top < stack.length) { visited[q] = 1; stack[top++] = q; }
      }
    }
    const gx = wrap(sx) + cx / w, gy = wrap(sy) + cy / w, gz = wrap(sz) + cz / w;
    const vector: [number, number, number] = [gx * spacing, gy * spacing, gz * spacing];
    peaks.push({ vector, length: Math.hypot(...vector), volume: vol, height });
  }
  // drop the origin peak, then small peaks
  const nonOrigin = peaks.filter((p) => p.length > 2 * spacing);
  const maxVol = nonOrigin.reduce((m, p) => Math.max(m, p.volume), 0);
  const minCell = opts.minCell ?? 3;
  return nonOrigin
    .filter((p) => p.volume >= (opts.peakVolumeCutoff ?? 0.15) * maxVol && p.length >= minCell && p.length <= opts.maxCell * 1.05);
}

/** Candidate real-space basis vectors by 3D FFT, one per ± pair, shortest first. */
export function fft3dCandidates(rlp: Float64Array, opts: Fft3dOptions): { candidates: CandidateVector[]; used: number } {
  const N = opts.gridSize ?? 256;
  const { map, used } = fftMap(rlp, N, opts.dMin);
  const peaks = findPeaks(map, N, opts.dMin, opts);
  // keep one of each ± pair (the map is centrosymmetric)
  const kept: CandidateVector[] = [];
  for (const p of peaks.sort((a, b) => a.length - b.length)) {
    const dup = kept.some((k) => Math.hypot(k.vector[0] + p.vector[0], k.vector[1] + p.vector[1], k.vector[2] + p.vector[2]) < opts.dMin);
    if (!dup) kept.push(p);
  }
  return { candidates: kept, used };
}
