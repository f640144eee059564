/**
 * The `basic` error model σ'² = a²(σ² + (bI)²), refined as published for DIALS (Beilsten-Edmands
 * et al. 2020, Acta D76, 385, after Evans 2006/2011). After scaling, the normalised deviations
 *   δ = √(n/(n−1)) · (I/g − ⟨I_h⟩) / σ'(I/g)
 * of the observations of a unique reflection h (⟨I_h⟩ their weighted mean, the observation itself
 * included) should be standard normal at every intensity. Including the observation shrinks the
 * deviation's variance to (n−1)/n of σ'² (equal weights), which √(n/(n−1)) undoes; the inverse
 * factor √((n−1)/n) would shrink it further, and on synthetic normal errors (true a 1.5, n ≈ 6) it
 * returns a ≈ 1.26 — so the individual and regression fits use √(n/(n−1)). a scales every σ, so
 * it is the width of the δ distribution; b adds an error proportional to the intensity, which only
 * strong reflections show.
 *
 * Three ways to find (a, b) (`error_model.basic.minimisation`):
 * - unit_variance (default): each observation against the weighted mean of the *other*
 *   observations of its reflection (no shrinkage to undo), a from the weaker half of the intensity
 *   bins, then b so that the variance of δ is as close to 1 as possible in every bin.
 * - individual (DIALS' default, as we recall the paper; its text was not at hand here): a is the
 *   slope of a straight line through the central part (|z| ≤ 1.5) of the normal probability plot
 *   of δ, robust to the heavy tails real deviations have; then b with a fixed minimises
 *   Σ_bins (1 − var_k(δ))², every populated bin (equally spaced in log⟨I_h⟩) weighted alike; the
 *   two steps alternate to convergence. Because a comes from the
 *   centre of the distribution, the corrected variances of real data end up above 1.
 * - regression (DIALS' alternative): the expected squared deviation n/(n−1)·(I/g − ⟨I_h⟩)² =
 *   a²σ² + a²b²⟨I_h⟩² is linear in (a², a²b²); both come from one iteratively reweighted fit.
 * All three recover a and b from synthetic normal errors (individual's a runs ≈ 8 % high on strong
 * data where b dominates). On l-cysteine (4 sweeps; DIALS 3.12: a 1.321, b 0.0225, I/σ 36.8)
 * unit_variance / individual / regression give a 1.415 / 0.995 / 1.318, b 0.0234 / 0.0431 /
 * 0.0296, I/σ 33.7 / 35.7 / 32.6 on regression-data/scaling, and a 1.408 / 0.864 / 1.312,
 * b 0.0245 / 0.0631 / 0.0304, I/σ 33.25 / 32.70 / 32.42 on the full shared tables: individual is
 * not stable on these data. What we learnt (issue 9 follow-up):
 * - with DIALS' a and b fixed (error_model.basic.a/b) our I/σ is 36.79 (36.70 on the full
 *   tables; DIALS 36.8), so the I/σ gap is all in a and b;
 * - at DIALS' b the central normal-probability slope of our δ is 1.27 (DIALS' a 1.32), so the
 *   a step agrees; the b step does not: with DIALS' a, b every one of our bins has variance
 *   1.01–1.27 (mean 1.15; DIALS' table: 0.81–1.53, mean 1.20), so "bins towards 1" raises b, the
 *   central slope falls, and a and b slide along their correlation valley (with bins weighted by
 *   their counts b runs to the end of the search). In DIALS' table only its strongest bin (94
 *   observations at 0.81) holds b down;
 * - DIALS fits 2 777 observations (ours ≈ 11 200), depleted twenty-fold at the weak end, with
 *   larger weak-bin deviations (uncorrected 3.0–3.6 where ours are 1.9–2.7 in the same ⟨I_h⟩
 *   ranges); its documentation does not say which, and neither an E² ∈ [0.8, 5] selection nor a
 *   multiplicity cut reproduces them.
 * unit_variance stays the default: the only one with both a and b within 10 % of DIALS'.
 * Only observations of reflections measured at least twice with ⟨I_h⟩ ≥ min_Ih (25, where counting
 * noise stops hiding a and b), not outliers and fully recorded, take part.
 * ISa = 1/(a·b) is the I/σ a perfect strong measurement could reach.
 */
import type { ScalingProblem } from './problem.js';
import { normalQuantile } from '../stats/merging.js';

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

/** Smallest ⟨I⟩ of a unique reflection used (DIALS' min_Ih): weak ones are dominated by counting noise. */
export const ERROR_MODEL_MIN_IH = 25;
export const ERROR_MODEL_MIN_REFL = 250;
const MIN_PER_BIN = 10;
/** The normal probability plot is fitted where the expected normal quantile lies within ±this. */
export const NPP_CENTRAL_Z = 1.5;

export type ErrorModelMinimisation = 'unit_variance' | 'individual' | 'regression';

export interface ErrorModelOptions {
  minimisation: ErrorModelMinimisation;
  minIh: number;
  nBins: number;
}

export const DEFAULT_ERROR_MODEL_OPTIONS: ErrorModelOptions = { minimisation: 'unit_variance', minIh: ERROR_MODEL_MIN_IH, nBins: 10 };

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

/** The observations that refine the error model, grouped by unique reflection. */
interface EmData {
  /** Scaled intensity I/g and counting variance σ²/g² of each observation. */
  x: Float64Array;
  v: Float64Array;
  /** n/(n−1) of its reflection (undoes the shrinkage of including itself in the mean). */
  shrink: Float64Array;
  /** Observations of reflection k: start[k] … start[k+1]. */
  start: Int32Array;
}

function collect(pr: ScalingProblem, g: Float64Array, minIh: number): EmData | null {
  const x: number[] = [], v: number[] = [], shrink: number[] = [], start: number[] = [0];
  for (let gr = 0; gr < pr.nGroups; gr++) {
    const a = pr.groupStart[gr], b = pr.groupStart[gr + 1];
    let n = 0, sw = 0, swx = 0;
    for (let r = a; r < b; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || !pr.forModel[o]) continue;
      const xi = pr.I[o] / g[o], vi = pr.Vem[o] / (g[o] * g[o]);
      n++; sw += 1 / vi; swx += xi / vi;
    }
    if (n < 2 || swx / sw < minIh) continue;
    for (let r = a; r < b; r++) {
      const o = pr.groupObs[r];
      if (pr.outlier[o] || !pr.forModel[o]) continue;
      x.push(pr.I[o] / g[o]); v.push(pr.V[o] / (g[o] * g[o])); shrink.push(n / (n - 1));
    }
    start.push(x.length);
  }
  if (x.length < ERROR_MODEL_MIN_REFL) return null;
  return { x: Float64Array.from(x), v: Float64Array.from(v), shrink: Float64Array.from(shrink), start: Int32Array.from(start) };
}

/**
 * δ for a = 1 and this b (δ for another a is δ/a), and each observation's reflection mean ⟨I_h⟩,
 * weighted by 1/(σ² + b²I²) (a cancels in the weights).
 */
function deviations(e: EmData, b: number, delta: Float64Array, ih: Float64Array): void {
  const { x, v, shrink, start } = e;
  for (let k = 0; k + 1 < start.length; k++) {
    let S = 0, T = 0;
    for (let i = start[k]; i < start[k + 1]; i++) { const w = 1 / (v[i] + b * b * x[i] * x[i]); S += w; T += w * x[i]; }
    const m = T / S;
    // the proportional error is evaluated at ⟨I_h⟩: at the observation's own I it would shrink the
    // deviations of high observations and stretch those of low ones (a skewed δ whose normal
    // probability plot understates nothing and overstates a)
    for (let i = start[k]; i < start[k + 1]; i++) {
      delta[i] = Math.sqrt(shrink[i]) * (x[i] - m) / Math.sqrt(v[i] + b * b * m * m);
      ih[i] = m;
    }
  }
}

/** Slope of δ against the expected normal quantiles over the central part of the plot. */
export function normalProbabilitySlope(delta: Float64Array, centralZ = NPP_CENTRAL_Z): number {
  const n = delta.length;
  const s = Float64Array.from(delta).sort();
  let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (let i = 0; i < n; i++) {
    const z = normalQuantile((i + 0.5) / n);
    if (Math.abs(z) > centralZ) continue;
    sx += z; sy += s[i]; sxx += z * z; sxy += z * s[i]; m++;
  }
  return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

export function refineErrorModel(pr: ScalingProblem, g: Float64Array, options: Partial<ErrorModelOptions> = {}): ErrorModelFit | null {
  const opts = { ...DEFAULT_ERROR_MODEL_OPTIONS, ...options };
  const nBins = opts.nBins;
  if (opts.minimisation === 'unit_variance') return refineUnitVariance(pr, g, nBins, opts.minIh);
  const e = collect(pr, g, opts.minIh);
  if (!e) return null;
  const N = e.x.length;
  const delta = new Float64Array(N), ih = new Float64Array(N);
  // intensity bins equally spaced in log⟨I_h⟩, fixed by the means at b = 0
  deviations(e, 0, delta, ih);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < N; i++) { const l = Math.log(ih[i]); if (l < lo) lo = l; if (l > hi) hi = l; }
  const bin = new Int32Array(N);
  const counts = new Float64Array(nBins);
  for (let i = 0; i < N; i++) { bin[i] = Math.min(nBins - 1, Math.floor(((Math.log(ih[i]) - lo) / (hi - lo + 1e-12)) * nBins)); counts[bin[i]]++; }
  const pop = Array.from(counts.keys()).filter((k) => counts[k] >= MIN_PER_BIN);
  if (pop.length < 2) return null;
  /** Mean δ² per bin at a = 1 and this b. */
  const binVars = (b: number): Float64Array => {
    deviations(e, b, delta, ih);
    const s = new Float64Array(nBins);
    for (let i = 0; i < N; i++) s[bin[i]] += delta[i] * delta[i];
    for (let k = 0; k < nBins; k++) s[k] = counts[k] > 0 ? s[k] / counts[k] : 0;
    return s;
  };

  let a = 1, b = 0;
  if (opts.minimisation === 'individual') {
    for (let cycle = 0; cycle < 20; cycle++) {
      deviations(e, b, delta, ih);
      const aNew = normalProbabilitySlope(delta);
      // b with a fixed, every populated bin weighted alike. (Weighting by the bin counts lets b
      // absorb the heavy tails of the many moderately strong reflections; on l-cysteine a and b
      // then slide along their correlation valley to b at the search edge.)
      const cost = (t: number): number => {
        const sv = binVars(t);
        let f = 0;
        for (const k of pop) f += (sv[k] / (aNew * aNew) - 1) ** 2;
        return f;
      };
      const bNew = minimise1d(cost, 0, 0.2, 0.0025);
      const done = Math.abs(aNew - a) < 1e-4 * a && Math.abs(bNew - b) < 1e-5;
      a = aNew; b = bNew;
      if (done) break;
    }
  } else {
    // IRLS: y_i = n/(n−1)·(x_i − ⟨I_h⟩)² ≈ A·σ²_i + B·⟨I_h⟩², weights 1/(A·σ² + B·⟨I_h⟩²)² (the
    // variance of a squared normal deviation goes as the square of its expectation)
    let A = 1, B = 0;
    for (let cycle = 0; cycle < 30; cycle++) {
      deviations(e, Math.sqrt(B / A), delta, ih);
      let s11 = 0, s12 = 0, s22 = 0, r1 = 0, r2 = 0;
      for (let i = 0; i < N; i++) {
        const d = Math.sqrt(e.shrink[i]) * (e.x[i] - ih[i]);
        const y = d * d, u = e.v[i], w2 = ih[i] * ih[i];
        const p = A * u + B * w2, w = 1 / (p * p);
        s11 += w * u * u; s12 += w * u * w2; s22 += w * w2 * w2; r1 += w * u * y; r2 += w * w2 * y;
      }
      const det = s11 * s22 - s12 * s12;
      let An = (r1 * s22 - r2 * s12) / det, Bn = (s11 * r2 - s12 * r1) / det;
      if (Bn < 0) { Bn = 0; An = r1 / s11; }
      const done = Math.abs(An - A) < 1e-6 * A && Math.abs(Bn - B) < 1e-6 * (B + 1e-9);
      A = An; B = Bn;
      if (done) break;
    }
    a = Math.sqrt(A); b = Math.sqrt(B / A);
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
  return { a, b, isa: 1 / (a * b), nRefl: N, bins };
}

/** Minimum of a 1-D function on [lo, hi]: a grid of this step, then golden-section refinement. */
function minimise1d(f: (t: number) => number, lo: number, hi: number, step: number): number {
  let best = lo, bestF = Infinity;
  for (let t = lo; t <= hi + 1e-12; t += step) { const c = f(t); if (c < bestF) { bestF = c; best = t; } }
  let l = Math.max(lo, best - step), h = best + step;
  const gr = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 30; it++) {
    const m1 = h - gr * (h - l), m2 = l + gr * (h - l);
    if (f(m1) < f(m2)) h = m2; else l = m1;
  }
  return 0.5 * (l + h);
}

/**
 * unit_variance: each observation against the weighted mean of the *other* observations of its
 * reflection, a from the weaker half of the bins, b so that every bin's variance is near 1.
 */
function refineUnitVariance(pr: ScalingProblem, g: Float64Array, nBins: number, minIh: number): ErrorModelFit | null {
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
    if (mean < minIh) continue;
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
