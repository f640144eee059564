/**
 * How periodic a set of reciprocal-lattice points is, the quantity the beam-centre search
 * maximises (Sauter, Grosse-Kunstleve & Adams 2004, J. Appl. Cryst. 37, 399: with the right
 * direct-beam position the spots map onto a lattice, and 1-D Fourier transforms of their
 * projections on lattice directions show sharp peaks; a wrong position distorts the rlps
 * differently at every φ and smears the peaks).
 *
 * A real-space lattice vector t makes x·t an integer for every rlp x, so Σ cos 2π x·t reaches n.
 * We score with that real part, referred to the reciprocal-space origin, rather than with the
 * Fourier modulus: a beam-centre error along the rotation axis shifts all rlps by nearly the
 * same vector, which the modulus cannot see but the phase at the origin can.
 */
import FFT from 'fft.js';
import { hemisphereDirections } from '../indexing/direction_search.js';

/** 1-D FFTs of rlp projections on directions, on a fixed binning of [−1/d_min, 1/d_min]. */
export class ProjectionTransform {
  readonly N: number;
  readonly binWidth: number;
  private readonly lim: number;
  private readonly fft: FFT;
  private readonly input: Float64Array;
  private readonly spectrum: number[];
  /** cos/sin of the phase that refers bin-centre positions to p = 0, per frequency k ≤ N/2. */
  private readonly cosRef: Float64Array;
  private readonly sinRef: Float64Array;

  /**
   * `maxLengthA`: the longest real-space length (Å) to resolve with at least 8 bins per period,
   * which keeps the binning's phase error below π/8.
   */
  constructor(dMinA: number, maxLengthA: number) {
    this.lim = 1 / dMinA;
    let N = 256;
    while ((2 * this.lim) / N > 1 / (8 * maxLengthA) && N < 1 << 15) N *= 2;
    this.N = N;
    this.binWidth = (2 * this.lim) / N;
    this.fft = new FFT(N);
    this.input = new Float64Array(N);
    this.spectrum = this.fft.createComplexArray() as number[];
    this.cosRef = new Float64Array(N / 2 + 1);
    this.sinRef = new Float64Array(N / 2 + 1);
    // bin b's centre lies at p = (b + ½)·w − lim; X_k = Σ h_b e^{−2πi k b/N}, so
    // Σ cos(2π k p/(N w)) = Re(X_k)·cos α + … with α = 2π k (½ w − lim)/(N w)
    for (let k = 0; k <= N / 2; k++) {
      const a = (2 * Math.PI * k * (0.5 * this.binWidth - this.lim)) / (N * this.binWidth);
      this.cosRef[k] = Math.cos(a);
      this.sinRef[k] = Math.sin(a);
    }
  }

  /** Frequency index of real-space length L (Å). */
  kOfLength(L: number): number { return L * this.N * this.binWidth; }

  /** Real-space length (Å) of frequency index k. */
  lengthOfK(k: number): number { return k / (this.N * this.binWidth); }

  /** Standard deviation (Å⁻¹) of the projections of the last transform. */
  spread = 0;

  /** Histogram the projections of `count` rlps on (ux, uy, uz) and transform. */
  transform(rlp: Float64Array, count: number, ux: number, uy: number, uz: number): void {
    const inp = this.input, lim = this.lim, w = this.binWidth, N = this.N;
    inp.fill(0);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < count; i++) {
      const p = rlp[3 * i] * ux + rlp[3 * i + 1] * uy + rlp[3 * i + 2] * uz;
      s1 += p; s2 += p * p;
      const b = Math.floor((p + lim) / w);
      if (b >= 0 && b < N) inp[b] += 1;
    }
    const mean = count > 0 ? s1 / count : 0;
    this.spread = count > 0 ? Math.sqrt(Math.max(0, s2 / count - mean * mean)) : 0;
    this.fft.realTransform(this.spectrum, inp as unknown as number[]);
  }

  /** |X_k| of the last transform. */
  modulus(k: number): number {
    const re = this.spectrum[2 * k], im = this.spectrum[2 * k + 1];
    return Math.sqrt(re * re + im * im);
  }

  /** Σ cos(2π L p) over the projections p of the last transform, L the length of frequency k. */
  originReal(k: number): number {
    // X_k = Σ h_b e^{−iβ_b}; wanted Σ h_b cos(β_b + α) = Re(conj(X_k) e^{iα})
    const re = this.spectrum[2 * k], im = this.spectrum[2 * k + 1];
    return re * this.cosRef[k] + im * this.sinRef[k];
  }
}

/** Fewest periods per standard deviation of the projections for a period to count. */
const MIN_PERIODS_PER_SIGMA = 1.5;

/** A lattice direction with the length of its strongest period. */
export interface PeriodicDirection {
  /** unit direction */
  u: [number, number, number];
  /** real-space length, Å */
  lengthA: number;
  /** |X_k| / n at that length */
  strength: number;
}

/**
 * The `count` directions (at least `sepDeg` apart) whose projections are most periodic, with
 * lengths in [minLength, maxLength] Å. The modulus is used here, not the origin phase: candidate
 * directions must be found even when the starting beam centre is wrong.
 */
export function periodicDirections(rlp: Float64Array, n: number, tr: ProjectionTransform,
  opts: { minLengthA: number; maxLengthA: number; stepDeg: number; count: number; sepDeg: number }): PeriodicDirection[] {
  const dirs = hemisphereDirections(opts.stepDeg);
  const nd = dirs.length / 3;
  const kMin = Math.max(1, Math.ceil(tr.kOfLength(opts.minLengthA)));
  const kMax = Math.min(tr.N / 2 - 1, Math.floor(tr.kOfLength(opts.maxLengthA)));
  const best = new Float64Array(nd), bestK = new Int32Array(nd);
  for (let d = 0; d < nd; d++) {
    tr.transform(rlp, n, dirs[3 * d], dirs[3 * d + 1], dirs[3 * d + 2]);
    // a period is only seen if the projections span several of them: along the normal of a thin
    // slab of rlps (a narrow wedge) every frequency looks "periodic"
    const kLo = Math.max(kMin, Math.ceil(tr.kOfLength(MIN_PERIODS_PER_SIGMA / Math.max(tr.spread, 1e-12))));
    let b = 0, bk = 0;
    for (let k = kLo; k <= kMax; k++) { const a = tr.modulus(k); if (a > b) { b = a; bk = k; } }
    best[d] = b; bestK[d] = bk;
  }
  const order = Array.from({ length: nd }, (_, i) => i).sort((a, b) => best[b] - best[a]);
  const cosSep = Math.cos((opts.sepDeg * Math.PI) / 180);
  const out: PeriodicDirection[] = [];
  for (const d of order) {
    if (out.length >= opts.count || bestK[d] === 0) break;
    const ux = dirs[3 * d], uy = dirs[3 * d + 1], uz = dirs[3 * d + 2];
    if (out.some((o) => Math.abs(o.u[0] * ux + o.u[1] * uy + o.u[2] * uz) > cosSep)) continue;
    out.push({ u: [ux, uy, uz], lengthA: tr.lengthOfK(bestK[d]), strength: best[d] / n });
  }
  return out;
}

/** Directions within about 2·stepDeg of u: u itself and rings of 6 and 12 at stepDeg and 2·stepDeg. */
export function directionPatch(u: readonly number[], stepDeg: number): Float64Array {
  // an orthonormal pair perpendicular to u
  const ax = Math.abs(u[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  let e1 = [u[1] * ax[2] - u[2] * ax[1], u[2] * ax[0] - u[0] * ax[2], u[0] * ax[1] - u[1] * ax[0]];
  const l1 = Math.hypot(e1[0], e1[1], e1[2]);
  e1 = e1.map((v) => v / l1);
  const e2 = [u[1] * e1[2] - u[2] * e1[1], u[2] * e1[0] - u[0] * e1[2], u[0] * e1[1] - u[1] * e1[0]];
  const pts: number[] = [u[0], u[1], u[2]];
  for (const [ring, m] of [[1, 6], [2, 12]] as const) {
    const t = Math.tan((ring * stepDeg * Math.PI) / 180);
    for (let j = 0; j < m; j++) {
      const a = (2 * Math.PI * j) / m + (ring === 2 ? Math.PI / 12 : 0);
      const v = [0, 1, 2].map((c) => u[c] + t * (Math.cos(a) * e1[c] + Math.sin(a) * e2[c]));
      const l = Math.hypot(v[0], v[1], v[2]);
      pts.push(v[0] / l, v[1] / l, v[2] / l);
    }
  }
  return Float64Array.from(pts);
}

/**
 * Best origin-referred periodicity of one candidate over its direction patch and a ±10 % window
 * of lengths, as a fraction of n. Also reports the winning real-space vector in `tOut`.
 */
export function patchScore(rlp: Float64Array, n: number, tr: ProjectionTransform, patch: Float64Array, lengthA: number, tOut: Float64Array): number {
  const k0 = tr.kOfLength(lengthA);
  const kLo = Math.max(1, Math.floor(0.9 * k0) - 1), kHi = Math.min(tr.N / 2 - 1, Math.ceil(1.1 * k0) + 1);
  let best = -Infinity;
  for (let d = 0; d < patch.length / 3; d++) {
    const ux = patch[3 * d], uy = patch[3 * d + 1], uz = patch[3 * d + 2];
    tr.transform(rlp, n, ux, uy, uz);
    for (let k = kLo; k <= kHi; k++) {
      const v = tr.originReal(k);
      if (v > best) {
        best = v;
        const L = tr.lengthOfK(k);
        tOut[0] = ux * L; tOut[1] = uy * L; tOut[2] = uz * L;
      }
    }
  }
  return best / n;
}

/** Σ cos 2π x·t over the first n rlps. */
export function cosSum(rlp: Float64Array, n: number, tx: number, ty: number, tz: number): number {
  const TWO_PI = 2 * Math.PI;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.cos(TWO_PI * (rlp[3 * i] * tx + rlp[3 * i + 1] * ty + rlp[3 * i + 2] * tz));
  return s;
}

/**
 * max over t near `t` of (1/n) Σ cos 2π x·t, by damped Newton steps from `t` (updated in place).
 * Continuous in the rlps, so the fine search can resolve the beam centre below the FFT bin size.
 */
export function refineLatticeVector(rlp: Float64Array, n: number, t: Float64Array, iterations = 4): number {
  const TWO_PI = 2 * Math.PI;
  let f = NaN;
  for (let it = 0; it < iterations; it++) {
    // value, gradient g = −2π Σ sin θ x and negated Hessian A = 4π² Σ cos θ x xᵀ
    let s = 0, gx = 0, gy = 0, gz = 0, axx = 0, axy = 0, axz = 0, ayy = 0, ayz = 0, azz = 0;
    for (let i = 0; i < n; i++) {
      const x = rlp[3 * i], y = rlp[3 * i + 1], z = rlp[3 * i + 2];
      const th = TWO_PI * (x * t[0] + y * t[1] + z * t[2]);
      const c = Math.cos(th), sn = Math.sin(th);
      s += c; gx -= sn * x; gy -= sn * y; gz -= sn * z;
      axx += c * x * x; axy += c * x * y; axz += c * x * z; ayy += c * y * y; ayz += c * y * z; azz += c * z * z;
    }
    f = s;
    gx *= TWO_PI; gy *= TWO_PI; gz *= TWO_PI;
    const h = TWO_PI * TWO_PI;
    axx *= h; axy *= h; axz *= h; ayy *= h; ayz *= h; azz *= h;
    // Cholesky of A; not positive definite → no Newton step from here
    const l11 = axx > 0 ? Math.sqrt(axx) : NaN;
    const l21 = axy / l11, l31 = axz / l11;
    const d22 = ayy - l21 * l21;
    const l22 = d22 > 0 ? Math.sqrt(d22) : NaN;
    const l32 = (ayz - l31 * l21) / l22;
    const d33 = azz - l31 * l31 - l32 * l32;
    const l33 = d33 > 0 ? Math.sqrt(d33) : NaN;
    if (!(l11 > 0 && l22 > 0 && l33 > 0)) break;
    const y1 = gx / l11, y2 = (gy - l21 * y1) / l22, y3 = (gz - l31 * y1 - l32 * y2) / l33;
    const d3 = y3 / l33, d2 = (y2 - l32 * d3) / l22, d1 = (y1 - l21 * d2 - l31 * d3) / l11;
    let step = 1, accepted = false;
    for (let h2 = 0; h2 < 4; h2++) {
      const v = cosSum(rlp, n, t[0] + step * d1, t[1] + step * d2, t[2] + step * d3);
      if (v > f) { t[0] += step * d1; t[1] += step * d2; t[2] += step * d3; f = v; accepted = true; break; }
      step *= 0.5;
    }
    if (!accepted || Math.abs(step * d1) + Math.abs(step * d2) + Math.abs(step * d3) < 1e-7 * (Math.abs(t[0]) + Math.abs(t[1]) + Math.abs(t[2]))) break;
  }
  if (Number.isNaN(f)) f = cosSum(rlp, n, t[0], t[1], t[2]);
  return f / n;
}
