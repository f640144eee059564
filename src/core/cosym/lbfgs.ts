/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, alg. 7.4/7.5) with a
 * backtracking Armijo line search. The cosym functional is a smooth quartic in the coordinates
 * with tens of thousands of parameters, where a dense Hessian is out of the question and plain
 * gradient descent converges far too slowly along the flat rotational directions.
 *
 * `fg(x, g)` returns f(x) and writes ∇f into g; all work arrays are allocated once.
 */
export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when the relative decrease of f over one iteration falls below this. */
  relTolerance: number;
  /** Stop when ‖g‖∞ falls below this. */
  gradTolerance: number;
  /** Number of correction pairs kept. */
  memory: number;
}

export const DEFAULT_LBFGS: LbfgsOptions = { maxIterations: 500, relTolerance: 1e-9, gradTolerance: 1e-8, memory: 7 };

export interface LbfgsResult { f: number; iterations: number; evaluations: number }

export function minimiseLbfgs(x: Float64Array, fg: (x: Float64Array, g: Float64Array) => number, options: Partial<LbfgsOptions> = {}): LbfgsResult {
  const o = { ...DEFAULT_LBFGS, ...options };
  const n = x.length, m = o.memory;
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m), alpha = new Float64Array(m);
  const g = new Float64Array(n), gNew = new Float64Array(n), dir = new Float64Array(n), xNew = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1, stored = 0, head = 0, it = 0;
  for (; it < o.maxIterations; it++) {
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < o.gradTolerance) break;
    // two-loop recursion: dir = −H·g
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m;
      let s = 0;
      const Sj = S[j];
      for (let i = 0; i < n; i++) s += Sj[i] * dir[i];
      alpha[j] = rho[j] * s;
      const Yj = Y[j];
      for (let i = 0; i < n; i++) dir[i] -= alpha[j] * Yj[i];
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m;
      let sy = 0, yy = 0;
      for (let i = 0; i < n; i++) { sy += S[j][i] * Y[j][i]; yy += Y[j][i] * Y[j][i]; }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      let s = 0;
      const Yj = Y[j];
      for (let i = 0; i < n; i++) s += Yj[i] * dir[i];
      const beta = rho[j] * s;
      const Sj = S[j];
      for (let i = 0; i < n; i++) dir[i] += (alpha[j] - beta) * Sj[i];
    }
    let slope = 0;
    for (let i = 0; i < n; i++) slope += g[i] * dir[i];
    if (!(slope < 0)) {
      // not a descent direction (curvature information went stale): restart along −g
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      slope = 0;
      for (let i = 0; i < n; i++) slope -= g[i] * g[i];
      stored = 0;
    }
    // first iteration: a step of unit length in parameter space is a reasonable scale
    let step = stored === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNew = Infinity;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = fg(xNew, gNew);
      evaluations++;
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no progress possible along this direction
    const j = head;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      S[j][i] = xNew[i] - x[i];
      Y[j][i] = gNew[i] - g[i];
      sy += S[j][i] * Y[j][i];
    }
    if (sy > 1e-300) { rho[j] = 1 / sy; head = (head + 1) % m; stored = Math.min(stored + 1, m); }
    const decrease = f - fNew;
    x.set(xNew); g.set(gNew);
    f = fNew;
    if (decrease <= o.relTolerance * Math.max(Math.abs(f), 1e-300)) { it++; break; }
  }
  return { f, iterations: it, evaluations };
}
