/**
 * Resolution estimation from merging statistics in resolution shells.
 *
 * CC½ falls from ~1 to ~0 with resolution in a sigmoid; fitting ½(1 − tanh((s − s0)/r)) in
 * s = 1/d² smooths the shell-to-shell noise, and the limit is where the fit crosses `cc_half`
 * (0.3 by default): s = s0 + r·atanh(1 − 2·cc_half). I/σ criteria use a smooth fit of log(I/σ)
 * against s. A limit beyond the data (the curve never drops far enough) is reported as the data's
 * own d_min, since the data cannot say more.
 */

export interface ShellPoint {
  /** Shell resolution limits, Å (dMax > dMin). */
  dMax: number;
  dMin: number;
  ccHalf: number;
  /** Mean of merged I/σ(I) over unique reflections (Mn(I/σ)). */
  meanIsigma: number;
  /** Σ I / Σ σ over unique reflections (the 'I/σ' of the merged shell). */
  isigma: number;
  nUnique: number;
}

export interface TanhFit { s0: number; r: number; rms: number }

/** Centre of a shell in s = 1/d², the coordinate the fits use. */
export function shellS(p: ShellPoint): number {
  return 0.5 * (1 / (p.dMax * p.dMax) + 1 / (p.dMin * p.dMin));
}

export function tanhModel(s: number, s0: number, r: number): number {
  return 0.5 * (1 - Math.tanh((s - s0) / r));
}

/**
 * Least-squares fit of ½(1 − tanh((s − s0)/r)) to (s, cc) by Gauss–Newton with step halving,
 * started from a grid search so the result does not depend on a lucky start.
 */
export function fitTanh(s: ArrayLike<number>, cc: ArrayLike<number>): TanhFit {
  const n = s.length;
  if (n < 2) throw new Error('need at least two shells to fit CC½');
  let smin = Infinity, smax = -Infinity;
  for (let i = 0; i < n; i++) { smin = Math.min(smin, s[i]); smax = Math.max(smax, s[i]); }
  const span = Math.max(smax - smin, 1e-9);
  const ss = (s0: number, r: number) => {
    let f = 0;
    for (let i = 0; i < n; i++) { const d = cc[i] - tanhModel(s[i], s0, r); f += d * d; }
    return f;
  };
  let best = { s0: smax, r: span / 4, f: Infinity };
  for (let a = -0.5; a <= 3; a += 0.05) {
    for (let b = 0.02; b <= 2; b *= 1.25) {
      const s0 = smin + a * span, r = b * span;
      const f = ss(s0, r);
      if (f < best.f) best = { s0, r, f };
    }
  }
  let { s0, r, f } = best;
  for (let it = 0; it < 100; it++) {
    let j00 = 0, j01 = 0, j11 = 0, g0 = 0, g1 = 0;
    for (let i = 0; i < n; i++) {
      const u = (s[i] - s0) / r;
      const sech2 = 1 - Math.tanh(u) ** 2;
      const res = cc[i] - tanhModel(s[i], s0, r);
      // d model / d s0 = ½ sech²(u)/r ; d model / d r = ½ sech²(u)·u/r
      const d0 = (0.5 * sech2) / r, d1 = (0.5 * sech2 * u) / r;
      j00 += d0 * d0; j01 += d0 * d1; j11 += d1 * d1; g0 += d0 * res; g1 += d1 * res;
    }
    const det = j00 * j11 - j01 * j01;
    if (!(Math.abs(det) > 1e-300)) break;
    let ds0 = (j11 * g0 - j01 * g1) / det, dr = (j00 * g1 - j01 * g0) / det;
    let improved = false;
    for (let h = 0; h < 30; h++) {
      const r2 = r + dr;
      if (r2 > 0) {
        const f2 = ss(s0 + ds0, r2);
        if (f2 < f) { s0 += ds0; r = r2; improved = f - f2 > 1e-15 * Math.max(1, f); f = f2; break; }
      }
      ds0 /= 2; dr /= 2;
    }
    if (!improved) break;
  }
  return { s0, r, rms: Math.sqrt(f / n) };
}

export interface ResolutionEstimate {
  criterion: string;
  limit: number;
  /** Estimated d_min, Å; null when no shell satisfies the criterion. */
  dMin: number | null;
  /** True when the fitted curve stays above the limit to the edge of the data. */
  atDataLimit: boolean;
  /** Fitted curve values at each shell (for the plot). */
  fitted: number[];
}

function dataLimit(points: ShellPoint[]): number {
  return Math.min(...points.map((p) => p.dMin));
}

/** d_min where the tanh fit of CC½ crosses `limit`. Shells without a defined CC½ are left out. */
export function resolutionCcHalf(points: ShellPoint[], limit = 0.3): ResolutionEstimate {
  const use = points.filter((p) => Number.isFinite(p.ccHalf));
  const sAll = points.map(shellS);
  if (use.length < 3) return { criterion: 'cc_half', limit, dMin: null, atDataLimit: false, fitted: sAll.map(() => NaN) };
  const fit = fitTanh(use.map(shellS), use.map((p) => p.ccHalf));
  const fitted = sAll.map((s) => tanhModel(s, fit.s0, fit.r));
  const sCut = fit.s0 + fit.r * Math.atanh(1 - 2 * limit);
  const sMax = 1 / dataLimit(points) ** 2;
  if (!(sCut > 0)) return { criterion: 'cc_half', limit, dMin: null, atDataLimit: false, fitted };
  if (sCut >= sMax) return { criterion: 'cc_half', limit, dMin: dataLimit(points), atDataLimit: true, fitted };
  return { criterion: 'cc_half', limit, dMin: 1 / Math.sqrt(sCut), atDataLimit: false, fitted };
}

/**
 * d_min where a smooth fit of log(value) against s (least-squares quadratic) first drops below
 * `limit`; used for both the Mn(I/σ) and the I/σ criteria.
 */
export function resolutionFromSignal(points: ShellPoint[], values: number[], limit: number, criterion: string): ResolutionEstimate {
  const sAll = points.map(shellS);
  const idx = values.map((v, i) => i).filter((i) => values[i] > 0 && Number.isFinite(values[i]));
  if (idx.length < 3) return { criterion, limit, dMin: null, atDataLimit: false, fitted: sAll.map(() => NaN) };
  // quadratic least squares in s for log(value)
  const S = [0, 0, 0, 0, 0], T = [0, 0, 0];
  for (const i of idx) {
    const s = sAll[i], y = Math.log(values[i]);
    let p = 1;
    for (let k = 0; k < 5; k++) { S[k] += p; if (k < 3) T[k] += p * y; p *= s; }
  }
  const M = [[S[0], S[1], S[2]], [S[1], S[2], S[3]], [S[2], S[3], S[4]]];
  const c = solve3(M, T);
  const f = (s: number) => Math.exp(c[0] + c[1] * s + c[2] * s * s);
  const fitted = sAll.map(f);
  const sMax = 1 / dataLimit(points) ** 2;
  const sMin = Math.min(...sAll);
  if (f(sMin) < limit) return { criterion, limit, dMin: null, atDataLimit: false, fitted };
  // march outwards to the first crossing, then bisect
  const steps = 400;
  let prev = sMin;
  for (let k = 1; k <= steps; k++) {
    const s = sMin + ((sMax - sMin) * k) / steps;
    if (f(s) < limit) {
      let lo = prev, hi = s;
      for (let it = 0; it < 50; it++) { const m = 0.5 * (lo + hi); if (f(m) < limit) hi = m; else lo = m; }
      return { criterion, limit, dMin: 1 / Math.sqrt(0.5 * (lo + hi)), atDataLimit: false, fitted };
    }
    prev = s;
  }
  return { criterion, limit, dMin: dataLimit(points), atDataLimit: true, fitted };
}

function solve3(M: number[][], b: number[]): number[] {
  const A = M.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    for (let r = 0; r < 3; r++) {
      if (r === c || A[c][c] === 0) continue;
      const f = A[r][c] / A[c][c];
      for (let k = c; k < 4; k++) A[r][k] -= f * A[c][k];
    }
  }
  return [A[0][3] / A[0][0], A[1][3] / A[1][1], A[2][3] / A[2][2]];
}

export interface ResolutionCriteria { ccHalf: number | null; misigma: number | null; isigma: number | null }

export function estimateResolution(points: ShellPoint[], criteria: ResolutionCriteria): ResolutionEstimate[] {
  const out: ResolutionEstimate[] = [];
  if (criteria.ccHalf !== null) out.push(resolutionCcHalf(points, criteria.ccHalf));
  if (criteria.misigma !== null) out.push(resolutionFromSignal(points, points.map((p) => p.meanIsigma), criteria.misigma, 'Mn(I/sigma)'));
  if (criteria.isigma !== null) out.push(resolutionFromSignal(points, points.map((p) => p.isigma), criteria.isigma, 'I/sigma'));
  return out;
}
