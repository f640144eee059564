/**
 * The `basic` error model σ'² = a²(σ² + (bI)²). After scaling, the normalised deviations
 *   δ = √((n−1)/n) · (I/g − ⟨I/g⟩) / σ'(I/g)
 * of observations from their unique reflection's mean should have unit variance at every intensity.
 * a² inflates all variances (it is the overall variance of δ); b adds an error proportional to the
 * intensity, which only shows for strong reflections. We choose (a, b) so that the variance of δ is
 * 1 in each intensity bin: for a given b the best a follows in closed form, and b is found by a 1-D
 * search. ISa = 1/(a·b) is the I/σ a perfect strong measurement could reach.
 */
import type { ScalingProblem } from './problem.js';

export interface ErrorModel { a: number; b: number }

export interface ErrorModelFit extends ErrorModel {
  isa: number;
  nRefl: number;
  /** Intensity bins: Ih range, count, variance of δ before (a=1, b=0) and after. */
  bins: { ihHigh: number; ihLow: number; n: number; uncorrected: number; corrected: number }[];
}

/** Smallest ⟨I⟩ of a unique reflection used: weak ones are dominated by counting noise, not by a or b. */
export const ERROR_MODEL_MIN_IH = 25;
export const ERROR_MODEL_MIN_REFL = 250;
const MIN_PER_BIN = 10;

export function applyErrorModel(pr: ScalingProblem, em: ErrorModel): void {
  for (let o = 0; o < pr.nObs; o++) pr.Vem[o] = em.a * em.a * (pr.V[o] + em.b * em.b * pr.I[o] * pr.I[o]);
}

export function refineErrorModel(pr: ScalingProblem, g: Float64Array, nBins = 10): ErrorModelFit | null {
  // Scaled intensities and their unit-weighted data, per group, from non-outliers of multiplicity ≥ 2.
  const x: number[] = [], v: number[] = [], ih: number[] = [], nfac: number[] = [];
  for (let gr = 0; gr < pr.nGroups; gr++) {
    const a = pr.groupStart[gr], b = pr.groupStart[gr + 1];
    let n = 0, sw = 0, swx = 0;
    for (let r = a; r < b; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || !pr.forModel[o]) continue;
      const xi = pr.I[o] / g[o], vi = pr.Vem[o] / (g[o] * g[o]);
      n++; sw += 1 / vi; swx += xi / vi;
    }
    if (n < 2) continue;
    const mean = swx / sw;
    if (mean < ERROR_MODEL_MIN_IH) continue;
    for (let r = a; r < b; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || !pr.forModel[o]) continue;
      x.push(pr.I[o] / g[o]); v.push(pr.V[o] / (g[o] * g[o])); ih.push(mean); nfac.push((n - 1) / n);
    }
  }
  if (x.length < ERROR_MODEL_MIN_REFL) return null;
  // Intensity bins equally spaced in log ⟨I⟩, so weak and strong reflections both steer the fit.
  let lo = Infinity, hi = -Infinity;
  for (const m of ih) { lo = Math.min(lo, Math.log(m)); hi = Math.max(hi, Math.log(m)); }
  const bin = ih.map((m) => Math.min(nBins - 1, Math.floor(((Math.log(m) - lo) / (hi - lo + 1e-12)) * nBins)));
  const counts = new Float64Array(nBins);
  for (const k of bin) counts[k]++;
  const binVars = (b: number): Float64Array => {
    // variance of δ with a = 1 for this b; the group means are those of the unit-weighted data
    const s = new Float64Array(nBins);
    for (let i = 0; i < x.length; i++) {
      const d = x[i] - ih[i];
      s[bin[i]] += (nfac[i] * d * d) / (v[i] + b * b * x[i] * x[i]);
    }
    for (let k = 0; k < nBins; k++) s[k] = counts[k] > 0 ? s[k] / counts[k] : 0;
    return s;
  };
  // Every intensity bin with at least 10 reflections counts the same: the few strong reflections
  // are what determine b, so weighting by count would let the many weak ones swamp them.
  const wts = Array.from(counts, (c) => (c >= MIN_PER_BIN ? 1 : 0));
  const cost = (b: number): { f: number; a2: number } => {
    const s = binVars(b);
    let num = 0, den = 0;
    for (let k = 0; k < nBins; k++) { num += wts[k] * s[k]; den += wts[k] * s[k] * s[k]; }
    const u = den > 0 ? num / den : 1; // u = 1/a²
    let f = 0;
    for (let k = 0; k < nBins; k++) f += wts[k] * (u * s[k] - 1) ** 2;
    return { f, a2: 1 / u };
  };
  // b by a coarse scan then golden-section refinement (the cost can have shallow local minima)
  let bestB = 0, bestF = Infinity;
  for (let t = 0; t <= 0.2; t += 0.0025) { const c = cost(t).f; if (c < bestF) { bestF = c; bestB = t; } }
  let lo2 = Math.max(0, bestB - 0.0025), hi2 = bestB + 0.0025;
  const gr = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 30; it++) {
    const m1 = hi2 - gr * (hi2 - lo2), m2 = lo2 + gr * (hi2 - lo2);
    if (cost(m1).f < cost(m2).f) hi2 = m2; else lo2 = m1;
  }
  const b = 0.5 * (lo2 + hi2);
  const a = Math.sqrt(cost(b).a2);
  const before = binVars(0), after = binVars(b);
  const bins = [];
  for (let k = nBins - 1; k >= 0; k--) {
    if (counts[k] === 0) continue;
    bins.push({ ihHigh: Math.exp(lo + ((k + 1) * (hi - lo)) / nBins), ihLow: Math.exp(lo + (k * (hi - lo)) / nBins), n: counts[k], uncorrected: before[k], corrected: after[k] / (a * a) });
  }
  return { a, b, isa: 1 / (a * b), nRefl: x.length, bins };
}
