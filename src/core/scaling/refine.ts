/**
 * Refinement of the scaling model: weighted least squares of observed intensities against g·Ih,
 * Ih the current inverse-variance weighted estimate of each unique reflection, solved by
 * Levenberg–Marquardt on the full normal matrix. Ih is held fixed while the normal equations are
 * built and recomputed after every step: at the optimum of Ih the gradient of the target with Ih
 * eliminated equals the gradient at fixed Ih, so the fixed point is the true least-squares solution.
 */
import { DECAY_RESTRAINT_WEIGHT } from './model.js';
import type { ScalingProblem } from './problem.js';
import type { Log } from '../log.js';

export interface RefineReport { steps: { nref: number; rmsd: number }[]; converged: boolean }

/**
 * Ih = Σ w g I / Σ w g² per group over the selected observations (weights w = 1/Vem); also returns
 * Σ w g² (the inverse variance of Ih) in `wsum`.
 */
export function computeIh(pr: ScalingProblem, g: Float64Array, use: Uint8Array, Ih: Float64Array, wsum: Float64Array): void {
  Ih.fill(0); wsum.fill(0);
  for (let o = 0; o < pr.nObs; o++) {
    if (!use[o]) continue;
    const w = 1 / pr.Vem[o];
    const gr = pr.group[o];
    Ih[gr] += w * g[o] * pr.I[o];
    wsum[gr] += w * g[o] * g[o];
  }
  for (let k = 0; k < pr.nGroups; k++) Ih[k] = wsum[k] > 0 ? Ih[k] / wsum[k] : 0;
}

/** Observations that refine the model: fully recorded, not outliers, in groups with ≥ 2 such. */
export function modelSelection(pr: ScalingProblem): Uint8Array {
  const use = new Uint8Array(pr.nObs);
  const count = new Int32Array(pr.nGroups);
  for (let o = 0; o < pr.nObs; o++) if (pr.forModel[o] && !pr.outlier[o]) count[pr.group[o]]++;
  for (let o = 0; o < pr.nObs; o++) use[o] = pr.forModel[o] && !pr.outlier[o] && count[pr.group[o]] >= 2 ? 1 : 0;
  return use;
}

function restraintTerm(pr: ScalingProblem, p: Float64Array): number {
  let f = 0;
  pr.models.forEach((m, si) => {
    const b = pr.blocks[si];
    if (m.decay) for (let j = b.decay; j < b.absorption; j++) f += DECAY_RESTRAINT_WEIGHT * p[j] * p[j];
    for (let j = b.absorption; j < b.end; j++) f += m.surfaceWeight * p[j] * p[j];
  });
  return f;
}

/** Target Σ w (I − g Ih)² + restraints, with Ih recomputed from p. */
export function target(pr: ScalingProblem, p: Float64Array, use: Uint8Array, g: Float64Array, Ih: Float64Array, wsum: Float64Array): { f: number; chi2: number; n: number } {
  pr.scales(p, g);
  computeIh(pr, g, use, Ih, wsum);
  let chi2 = 0, n = 0;
  for (let o = 0; o < pr.nObs; o++) {
    if (!use[o]) continue;
    const r = pr.I[o] - g[o] * Ih[pr.group[o]];
    chi2 += (r * r) / pr.Vem[o];
    n++;
  }
  return { f: chi2 + restraintTerm(pr, p), chi2, n };
}

/** Cholesky solve of the symmetric positive-definite n×n system A x = b (A row-major, overwritten). */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= A[j * n + k] * A[j * n + k];
    if (!(s > 0)) return null;
    const d = Math.sqrt(s);
    A[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = t / d;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) { let t = x[i]; for (let k = 0; k < i; k++) t -= A[i * n + k] * x[k]; x[i] = t / A[i * n + i]; }
  for (let i = n - 1; i >= 0; i--) { let t = x[i]; for (let k = i + 1; k < n; k++) t -= A[k * n + i] * x[k]; x[i] = t / A[i * n + i]; }
  return x;
}

/** Normal matrix JᵀWJ (with restraints) and gradient at fixed Ih. */
export function normalEquations(pr: ScalingProblem, p: Float64Array, use: Uint8Array, Ih: Float64Array): { N: Float64Array; grad: Float64Array } {
  const n = pr.nParams;
  const N = new Float64Array(n * n);
  const grad = new Float64Array(n);
  const mx = pr.maxNonZero();
  const idx = new Int32Array(mx), val = new Float64Array(mx), nnz = new Int32Array(1);
  for (let o = 0; o < pr.nObs; o++) {
    if (!use[o]) continue;
    const g = pr.evaluate(o, p, idx, val, nnz);
    const ih = Ih[pr.group[o]];
    const w = 1 / pr.Vem[o];
    const r = pr.I[o] - g * ih;
    const nz = nnz[0];
    for (let a = 0; a < nz; a++) {
      const ja = val[a] * ih;
      grad[idx[a]] -= w * r * ja;
      const row = idx[a] * n;
      const wja = w * ja;
      for (let c = 0; c < nz; c++) N[row + idx[c]] += wja * val[c] * ih;
    }
  }
  pr.models.forEach((m, si) => {
    const b = pr.blocks[si];
    if (m.decay) for (let j = b.decay; j < b.absorption; j++) { N[j * n + j] += DECAY_RESTRAINT_WEIGHT; grad[j] += DECAY_RESTRAINT_WEIGHT * p[j]; }
    for (let j = b.absorption; j < b.end; j++) { N[j * n + j] += m.surfaceWeight; grad[j] += m.surfaceWeight * p[j]; }
  });
  return { N, grad };
}

/**
 * Levenberg–Marquardt cycles until the RMS normalised residual stops falling by more than
 * `tolerance` (relative), like DIALS' "RMSD no longer decreasing".
 */
export function refineModel(pr: ScalingProblem, opts: { maxIterations?: number; tolerance?: number; log?: Log; minimiser?: 'auto' | 'lm' | 'lbfgs' } = {}): RefineReport {
  const kind = opts.minimiser ?? 'auto';
  if (kind === 'lbfgs' || (kind === 'auto' && pr.nParams > LM_MAX_PARAMS)) return refineLbfgs(pr, opts);
  const maxIt = opts.maxIterations ?? 20;
  const tol = opts.tolerance ?? 1e-4;
  const use = modelSelection(pr);
  const n = pr.nParams;
  const g = new Float64Array(pr.nObs), Ih = new Float64Array(pr.nGroups), ws = new Float64Array(pr.nGroups);
  let p = Float64Array.from(pr.params);
  let cur = target(pr, p, use, g, Ih, ws);
  const steps = [{ nref: cur.n, rmsd: Math.sqrt(cur.chi2 / Math.max(1, cur.n)) }];
  let lambda = 1e-3;
  let converged = false;
  for (let it = 0; it < maxIt; it++) {
    const { N, grad } = normalEquations(pr, p, use, Ih);
    let accepted = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const A = Float64Array.from(N);
      for (let j = 0; j < n; j++) A[j * n + j] += lambda * (N[j * n + j] + 1e-12);
      const neg = new Float64Array(n);
      for (let j = 0; j < n; j++) neg[j] = -grad[j];
      const step = choleskySolve(A, neg, n);
      if (!step) { lambda *= 10; continue; }
      const trial = new Float64Array(n);
      for (let j = 0; j < n; j++) trial[j] = p[j] + step[j];
      const next = target(pr, trial, use, g, Ih, ws);
      if (next.f < cur.f && Number.isFinite(next.f)) {
        const rel = (cur.f - next.f) / cur.f;
        p = trial; cur = next; accepted = true;
        lambda = Math.max(lambda / 5, 1e-7);
        steps.push({ nref: cur.n, rmsd: Math.sqrt(cur.chi2 / Math.max(1, cur.n)) });
        if (rel < tol) converged = true;
        break;
      }
      lambda *= 5;
    }
    if (!accepted) { converged = true; target(pr, p, use, g, Ih, ws); break; }
    if (converged) break;
  }
  pr.params = p;
  normaliseScale(pr);
  return { steps, converged };
}

/** Above this many parameters the dense normal matrix (n² memory, n³ solve) gives way to L-BFGS. */
export const LM_MAX_PARAMS = 800;

/** Half-gradient of the target at fixed Ih (equal to the total gradient at the Ih optimum). */
export function gradient(pr: ScalingProblem, p: Float64Array, use: Uint8Array, Ih: Float64Array): Float64Array {
  const grad = new Float64Array(pr.nParams);
  const mx = pr.maxNonZero();
  const idx = new Int32Array(mx), val = new Float64Array(mx), nnz = new Int32Array(1);
  for (let o = 0; o < pr.nObs; o++) {
    if (!use[o]) continue;
    const g = pr.evaluate(o, p, idx, val, nnz);
    const ih = Ih[pr.group[o]];
    const wr = (pr.I[o] - g * ih) / pr.Vem[o];
    for (let a = 0; a < nnz[0]; a++) grad[idx[a]] -= wr * val[a] * ih;
  }
  pr.models.forEach((m, si) => {
    const b = pr.blocks[si];
    if (m.decay) for (let j = b.decay; j < b.absorption; j++) grad[j] += DECAY_RESTRAINT_WEIGHT * p[j];
    for (let j = b.absorption; j < b.end; j++) grad[j] += m.surfaceWeight * p[j];
  });
  return grad;
}

/**
 * Limited-memory BFGS (Nocedal & Wright, alg. 7.4, 10 correction pairs) with a backtracking
 * Armijo line search, for problems with many sweeps where the normal matrix would be too big.
 */
export function refineLbfgs(pr: ScalingProblem, opts: { maxIterations?: number; tolerance?: number } = {}): RefineReport {
  const maxIt = (opts.maxIterations ?? 20) * 10;
  const tol = opts.tolerance ?? 1e-4;
  const use = modelSelection(pr);
  const n = pr.nParams, M = 10;
  const gArr = new Float64Array(pr.nObs), Ih = new Float64Array(pr.nGroups), ws = new Float64Array(pr.nGroups);
  let p = Float64Array.from(pr.params);
  let cur = target(pr, p, use, gArr, Ih, ws);
  let grad = gradient(pr, p, use, Ih);
  const steps = [{ nref: cur.n, rmsd: Math.sqrt(cur.chi2 / Math.max(1, cur.n)) }];
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  let converged = false;
  let fAtCheck = cur.f;
  for (let it = 0; it < maxIt; it++) {
    // two-loop recursion: d = −H·grad
    const q = Float64Array.from(grad);
    const alpha = new Float64Array(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0; for (let j = 0; j < n; j++) a += S[k][j] * q[j];
      alpha[k] = rho[k] * a;
      for (let j = 0; j < n; j++) q[j] -= alpha[k] * Y[k][j];
    }
    let gamma = 1;
    if (S.length) {
      const k = S.length - 1;
      let sy = 0, yy = 0; for (let j = 0; j < n; j++) { sy += S[k][j] * Y[k][j]; yy += Y[k][j] * Y[k][j]; }
      gamma = sy / yy;
    } else {
      // first step: scale so the step is small relative to the parameters
      let gg = 0; for (let j = 0; j < n; j++) gg += grad[j] * grad[j];
      gamma = 1e-3 / Math.sqrt(gg + 1e-300);
    }
    for (let j = 0; j < n; j++) q[j] *= gamma;
    for (let k = 0; k < S.length; k++) {
      let b = 0; for (let j = 0; j < n; j++) b += Y[k][j] * q[j];
      b *= rho[k];
      for (let j = 0; j < n; j++) q[j] += S[k][j] * (alpha[k] - b);
    }
    let slope = 0; for (let j = 0; j < n; j++) slope -= grad[j] * q[j];
    if (!(slope < 0)) { S.length = 0; Y.length = 0; rho.length = 0; continue; }
    let t = 1, accepted = false;
    const trial = new Float64Array(n);
    let next = cur;
    for (let ls = 0; ls < 30; ls++) {
      for (let j = 0; j < n; j++) trial[j] = p[j] - t * q[j];
      next = target(pr, trial, use, gArr, Ih, ws);
      // target() is the full sum of squares; grad is its half-gradient
      if (Number.isFinite(next.f) && next.f <= cur.f + 2e-4 * t * slope) { accepted = true; break; }
      t /= 2;
    }
    if (!accepted) { target(pr, p, use, gArr, Ih, ws); converged = true; break; }
    const gNew = gradient(pr, trial, use, Ih);
    const s = new Float64Array(n), y = new Float64Array(n);
    let sy = 0;
    for (let j = 0; j < n; j++) { s[j] = trial[j] - p[j]; y[j] = gNew[j] - grad[j]; sy += s[j] * y[j]; }
    if (sy > 1e-300) { S.push(s); Y.push(y); rho.push(1 / sy); if (S.length > M) { S.shift(); Y.shift(); rho.shift(); } }
    p = trial; grad = gNew; cur = next;
    steps.push({ nref: cur.n, rmsd: Math.sqrt(cur.chi2 / Math.max(1, cur.n)) });
    // like DIALS: stop when ten steps together improve the target by less than the tolerance
    if ((it + 1) % 10 === 0) {
      if ((fAtCheck - cur.f) / fAtCheck < tol) { converged = true; break; }
      fAtCheck = cur.f;
    }
  }
  pr.params = p;
  normaliseScale(pr);
  return { steps, converged };
}

/**
 * The data fix the scales only up to one common factor; choose it so the scale term averages 1
 * over the first sweep's observations, which keeps merged intensities on the input scale.
 */
export function normaliseScale(pr: ScalingProblem): void {
  let sum = 0, cnt = 0;
  const b = pr.blocks[0];
  const p = pr.params;
  const K = pr.sW.length / Math.max(1, pr.nObs);
  for (let o = 0; o < pr.nObs; o++) {
    if (pr.sweepOf[o] !== 0) continue;
    let C = 0;
    const s0 = pr.sIdx[o];
    const ns = pr.models[0].scale.nParams;
    for (let k = 0; k < K; k++) { const w = pr.sW[o * K + k]; if (w !== 0 && s0 + k < ns) C += w * p[b.scale + s0 + k]; }
    sum += C; cnt++;
  }
  if (cnt === 0 || !(sum > 0)) return;
  const f = cnt / sum;
  pr.blocks.forEach((bl, si) => { for (let j = 0; j < pr.models[si].scale.nParams; j++) p[bl.scale + j] *= f; });
}

/**
 * Parameter covariance (JᵀWJ)⁻¹ at the solution and the variance of every observation's inverse
 * scale factor, ∇gᵀ·Cov·∇g.
 */
export function scaleVariances(pr: ScalingProblem): { obsVariance: Float64Array; paramSd: Float64Array } {
  const use = modelSelection(pr);
  const g = new Float64Array(pr.nObs), Ih = new Float64Array(pr.nGroups), ws = new Float64Array(pr.nGroups);
  target(pr, pr.params, use, g, Ih, ws);
  const n = pr.nParams;
  const { N } = normalEquations(pr, pr.params, use, Ih);
  for (let j = 0; j < n; j++) N[j * n + j] *= 1 + 1e-9;
  // invert via n Cholesky solves (n is a few hundred at most)
  const L = Float64Array.from(N);
  const cov = new Float64Array(n * n);
  const e = new Float64Array(n);
  const chol = choleskySolve(L, e, n); // factorises L in place
  const out = new Float64Array(pr.nObs);
  const paramSd = new Float64Array(n);
  if (!chol) return { obsVariance: out, paramSd };
  for (let c = 0; c < n; c++) {
    const x = new Float64Array(n); x[c] = 1;
    for (let i = 0; i < n; i++) { let t = x[i]; for (let k = 0; k < i; k++) t -= L[i * n + k] * x[k]; x[i] = t / L[i * n + i]; }
    for (let i = n - 1; i >= 0; i--) { let t = x[i]; for (let k = i + 1; k < n; k++) t -= L[k * n + i] * x[k]; x[i] = t / L[i * n + i]; }
    for (let i = 0; i < n; i++) cov[i * n + c] = x[i];
  }
  const mx = pr.maxNonZero();
  const idx = new Int32Array(mx), val = new Float64Array(mx), nnz = new Int32Array(1);
  for (let o = 0; o < pr.nObs; o++) {
    pr.evaluate(o, pr.params, idx, val, nnz);
    let v = 0;
    for (let a = 0; a < nnz[0]; a++) for (let b = 0; b < nnz[0]; b++) v += val[a] * cov[idx[a] * n + idx[b]] * val[b];
    out[o] = Math.max(0, v);
  }
  for (let j = 0; j < n; j++) paramSd[j] = Math.sqrt(Math.max(0, cov[j * n + j]));
  return { obsVariance: out, paramSd };
}
