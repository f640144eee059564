/**
 * Levenberg–Marquardt on normal equations. The problem supplies the objective Σ w r² with JᵀWJ and
 * JᵀWr at the current parameters; the engine only decides steps and when to stop, so the same
 * engine serves indexing, refine_bravais_settings and refine.
 *
 * Marquardt's scaling (damping proportional to diag(JᵀWJ)) keeps the step invariant to parameter
 * units; parameters with zero curvature (unobservable here) are left untouched rather than allowed
 * to wander.
 */
import { Matrix, CholeskyDecomposition, solve } from 'ml-matrix';

export interface LeastSquaresProblem {
  readonly nParams: number;
  getValues(): Float64Array;
  setValues(v: Float64Array): void;
  /** Objective and, when asked, normal matrix (row-major m×m) and gradient JᵀWr. */
  evaluate(withNormal: boolean): { objective: number; normal?: Float64Array; gradient?: Float64Array };
  /** Optional early stop, e.g. RMSDs below target. */
  converged?(): boolean;
  /** Called at the start and after every accepted step (the problem's state is that step's). */
  onStep?(): void;
}

export interface EngineOptions {
  maxIterations?: number;
  /** Stop when the relative decrease of the objective over an accepted step is below this. */
  relativeTolerance?: number;
}

export interface EngineHistory {
  iterations: number;
  objective: number[];
  /** why the loop ended */
  reason: 'converged' | 'tolerance' | 'max_iterations' | 'no_decrease' | 'no_parameters' | 'target';
  /** (JᵀWJ)⁻¹ scaled by the reduced χ² at the solution, for parameter e.s.d.s; null if singular. */
  covariance: Float64Array | null;
}

function solveDamped(normal: Float64Array, gradient: Float64Array, m: number, lambda: number): Float64Array | null {
  const N = new Matrix(m, m);
  const g = new Matrix(m, 1);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const ok = normal[i * m + i] > 0 && normal[j * m + j] > 0;
      N.set(i, j, ok ? 0.5 * (normal[i * m + j] + normal[j * m + i]) : 0);
    }
    const d = normal[i * m + i];
    N.set(i, i, d > 0 ? d * (1 + lambda) : 1);
    g.set(i, 0, d > 0 ? -gradient[i] : 0);
  }
  let x: Matrix;
  const ch = new CholeskyDecomposition(N);
  if (ch.isPositiveDefinite()) x = ch.solve(g);
  else {
    try { x = solve(N, g, true); } catch { return null; }
  }
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) out[i] = x.get(i, 0);
  return out.every(Number.isFinite) ? out : null;
}

export function levenbergMarquardt(problem: LeastSquaresProblem, opts: EngineOptions = {}): EngineHistory {
  const m = problem.nParams;
  const maxIt = opts.maxIterations ?? 30;
  const tol = opts.relativeTolerance ?? 1e-6;
  const history: number[] = [];
  if (m === 0) {
    const { objective } = problem.evaluate(false);
    return { iterations: 0, objective: [objective], reason: 'no_parameters', covariance: null };
  }
  let x = problem.getValues();
  let cur = problem.evaluate(true);
  history.push(cur.objective);
  problem.onStep?.();
  let lambda = 1e-3;
  let reason: EngineHistory['reason'] = 'max_iterations';
  let it = 0;
  for (; it < maxIt; it++) {
    if (problem.converged?.()) { reason = 'target'; break; }
    let accepted = false;
    for (let tries = 0; tries < 12; tries++) {
      const step = solveDamped(cur.normal!, cur.gradient!, m, lambda);
      if (!step) { lambda *= 10; continue; }
      const trial = x.map((v, i) => v + step[i]);
      let next: ReturnType<LeastSquaresProblem['evaluate']>;
      try {
        // a step can leave the valid domain (e.g. a metric that is not positive definite)
        problem.setValues(trial);
        next = problem.evaluate(true);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        lambda *= 10;
        continue;
      }
      if (Number.isFinite(next.objective) && next.objective <= cur.objective) {
        const rel = (cur.objective - next.objective) / Math.max(cur.objective, 1e-300);
        x = trial; cur = next; history.push(cur.objective);
        problem.onStep?.();
        lambda = Math.max(lambda / 10, 1e-9);
        accepted = true;
        if (rel < tol) reason = 'tolerance';
        break;
      }
      lambda *= 10;
    }
    if (!accepted) { problem.setValues(x); reason = 'no_decrease'; break; }
    if (reason === 'tolerance') { it++; break; }
  }
  problem.setValues(x);
  return { iterations: it, objective: history, reason, covariance: covarianceOf(cur.normal!, m) };
}

function covarianceOf(normal: Float64Array, m: number): Float64Array | null {
  const N = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) N.set(i, j, 0.5 * (normal[i * m + j] + normal[j * m + i]));
  const ch = new CholeskyDecomposition(N);
  if (!ch.isPositiveDefinite()) return null;
  const inv = ch.solve(Matrix.eye(m, m));
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out[i * m + j] = inv.get(i, j);
  return out;
}
