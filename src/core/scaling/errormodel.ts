/**
 * The `basic` error model σ'² = a²(σ² + (bI)²). After scaling, the normalised deviations
 *   δ = √((n−1)/n) · (I/g − ⟨I/g⟩) / σ'(I/g)
 * of observations from their unique reflection's mean should have unit variance at every intensity.
 * a² inflates all variances (it is the overall variance of δ); b adds an error proportional to the
 * intensity, which only shows for strong reflections. We choose (a, b) so that the variance of δ is
 * 1 in each intensity bin: a from the weak bins, b by a 1-D search with a fixed (see below).
 * ISa = 1/(a·b) is the I/σ a perfect strong measurement could reach.
 */
import type { ScalingProblem } from './problem.js';

export interface ErrorModel {
  a: number;
  b: number;
  /** Extra relative error c·(1 − p) of partially recorded observations (0: none). */
  c?: number;
}

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
  const c = em.c ?? 0;
  for (let o = 0; o < pr.nObs; o++) {
    const q = c * (1 - Math.min(1, pr.partiality[o])) * pr.I[o];
    pr.Vem[o] = em.a * em.a * (pr.V[o] + em.b * em.b * pr.I[o] * pr.I[o]) + q * q;
  }
}

/**
 * The partiality of a partially recorded reflection is a model estimate; its error grows with the
 * unrecorded fraction. Compare partial observations with the fully recorded observations of the
 * same reflection: the excess of their squared deviations over the variances already accounted
 * for gives c in σ²ₚ = (c·(1 − p)·I)², at most 1. Returns 0 when there are too few such pairs.
 */
export function refinePartialityError(pr: ScalingProblem, g: Float64Array): number {
  let num = 0, den = 0, n = 0;
  for (let gr = 0; gr < pr.nGroups; gr++) {
    let sw = 0, swx = 0;
    for (let r = pr.groupStart[gr]; r < pr.groupStart[gr + 1]; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || !pr.forModel[o]) continue;
      const x = pr.I[o] / g[o], v = pr.Vem[o] / (g[o] * g[o]);
      sw += 1 / v; swx += x / v;
    }
    if (sw === 0) continue;
    const m = swx / sw;
    for (let r = pr.groupStart[gr]; r < pr.groupStart[gr + 1]; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || pr.forModel[o]) continue;
      const x = pr.I[o] / g[o];
      // Vem holds the a, b model only here (c is applied after this estimate)
      num += (x - m) ** 2 - pr.Vem[o] / (g[o] * g[o]) - 1 / sw;
      den += ((1 - pr.partiality[o]) * x) ** 2;
      n++;
    }
  }
  if (n < 20 || !(den > 0)) return 0;
  // c = 1 already says the unrecorded part is wholly unknown; more would only reflect the few
  // wildest partials (the estimate feeds back through outlier rejection)
  return Math.min(1, Math.sqrt(Math.max(0, num / den)));
}

export function refineErrorModel(pr: ScalingProblem, g: Float64Array, nBins = 10): ErrorModelFit | null {
  // Scaled intensities x and their counting variances v (a = 1, b = 0), stored group by group,
  // from non-outliers in groups of at least two; ih is the group mean used for binning.
  const x: number[] = [], v: number[] = [], ih: number[] = [], start: number[] = [0];
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
      x.push(pr.I[o] / g[o]); v.push(pr.V[o] / (g[o] * g[o])); ih.push(mean);
    }
    start.push(x.length);
  }
  if (x.length < ERROR_MODEL_MIN_REFL) return null;
  // Intensity bins equally spaced in log ⟨I⟩, so weak and strong reflections both steer the fit.
  let lo = Infinity, hi = -Infinity;
  for (const m of ih) { lo = Math.min(lo, Math.log(m)); hi = Math.max(hi, Math.log(m)); }
  const bin = ih.map((m) => Math.min(nBins - 1, Math.floor(((Math.log(m) - lo) / (hi - lo + 1e-12)) * nBins)));
  const counts = new Float64Array(nBins);
  for (const k of bin) counts[k]++;
  /**
   * Mean δ² per bin for a = 1 and this b, each observation against the weighted mean of the *other*
   * observations of its reflection: δ = (x − m₋ᵢ)/√(σ²ᵢ + σ²(m₋ᵢ)) has unit variance when the
   * model is right (a mean that includes x itself would shrink δ by a factor (n−1)/n).
   */
  const binVars = (b: number): Float64Array => {
    const s = new Float64Array(nBins);
    for (let gi = 0; gi + 1 < start.length; gi++) {
      let S = 0, T = 0;
      for (let i = start[gi]; i < start[gi + 1]; i++) { const w = 1 / (v[i] + b * b * x[i] * x[i]); S += w; T += w * x[i]; }
      for (let i = start[gi]; i < start[gi + 1]; i++) {
        const vi = v[i] + b * b * x[i] * x[i], w = 1 / vi;
        const m = (T - w * x[i]) / (S - w);
        const d = x[i] - m;
        s[bin[i]] += (d * d) / (vi + 1 / (S - w));
      }
    }
    for (let k = 0; k < nBins; k++) s[k] = counts[k] > 0 ? s[k] / counts[k] : 0;
    return s;
  };
  // a from the weaker half of the populated bins, where σ² dominates (bI)² so var(δ) ≈ a²; then b
  // with a fixed, making the binned variances of δ as close to 1 as possible over all bins; repeat
  // with the weak bins' variances taken at the new b. Fitting both at once instead lets a and b
  // trade off along a shallow valley.
  const pop = Array.from(counts.keys()).filter((k) => counts[k] >= MIN_PER_BIN);
  if (pop.length < 2) return null;
  const weak = pop.slice(0, Math.ceil(pop.length / 2));
  let a = 1, b = 0;
  for (let cycle = 0; cycle < 10; cycle++) {
    const yb = binVars(b);
    const aNew = Math.sqrt(weak.reduce((acc, k) => acc + yb[k], 0) / weak.length);
    const cost = (t: number): number => {
      const sv = binVars(t);
      let f = 0;
      for (const k of pop) f += (sv[k] / (aNew * aNew) - 1) ** 2;
      return f;
    };
    let bestB = 0, bestF = Infinity;
    for (let t = 0; t <= 0.2; t += 0.0025) { const c = cost(t); if (c < bestF) { bestF = c; bestB = t; } }
    let lo2 = Math.max(0, bestB - 0.0025), hi2 = bestB + 0.0025;
    const gr = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 30; it++) {
      const m1 = hi2 - gr * (hi2 - lo2), m2 = lo2 + gr * (hi2 - lo2);
      if (cost(m1) < cost(m2)) hi2 = m2; else lo2 = m1;
    }
    const bNew = 0.5 * (lo2 + hi2);
    const done = Math.abs(aNew - a) < 1e-4 * a && Math.abs(bNew - b) < 1e-5;
    a = aNew; b = bNew;
    if (done) break;
  }
  const before = binVars(0), after = binVars(b);
  const bins = [];
  for (let k = nBins - 1; k >= 0; k--) {
    if (counts[k] === 0) continue;
    bins.push({ ihHigh: Math.exp(lo + ((k + 1) * (hi - lo)) / nBins), ihLow: Math.exp(lo + (k * (hi - lo)) / nBins), n: counts[k], uncorrected: before[k], corrected: after[k] / (a * a) });
  }
  // A model that cannot bring every populated bin within a factor 5 of unit variance, or that sits
  // at the edge of the search, does not describe these errors; better none than a misleading one.
  const sane = a > 0.5 && a < 10 && b < 0.199 && pop.every((k) => after[k] / (a * a) > 0.2 && after[k] / (a * a) < 5);
  if (!sane) return null;
  return { a, b, isa: 1 / (a * b), nRefl: x.length, bins };
}
