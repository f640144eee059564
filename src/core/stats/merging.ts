/**
 * Merging statistics on plain typed arrays: observations whose Miller indices are already mapped
 * to the (non-anomalous) reciprocal ASU, with a Friedel sign telling I(+) from I(−).
 *
 * Definitions (Diederichs & Karplus 1997; Weiss 2001; Karplus & Diederichs 2012; Assmann,
 * Brehm & Diederichs 2016):
 *   Rmerge = ΣhΣi |Ihi − ⟨Ih⟩| / ΣhΣi Ihi
 *   Rmeas  = Σh √(nh/(nh−1)) Σi |Ihi − ⟨Ih⟩| / ΣhΣi Ihi
 *   Rpim   = Σh √(1/(nh−1)) Σi |Ihi − ⟨Ih⟩| / ΣhΣi Ihi
 * over reflections measured at least twice; ⟨Ih⟩ is the inverse-variance weighted mean, whose
 * σ is (Σ 1/σi²)^−½. CC½ is the correlation between the means of two random halves of each
 * reflection's observations, or its σ-τ estimate from the variance of the means and the mean
 * variance of the means (no random split, hence reproducible on small data).
 */
import { equalVolumeBins, type ResolutionBins } from './binning.js';
import { mulberry32 } from '../math/random.js';

export interface Observations {
  /** Miller indices in the non-anomalous ASU. */
  h: Int32Array;
  k: Int32Array;
  l: Int32Array;
  /** +1 when observed as the ASU index (I+), −1 as its Friedel mate (I−); centric reflections +1. */
  friedel: Int8Array;
  /** Scaled intensity and its σ. */
  I: Float64Array;
  sigma: Float64Array;
  /** d-spacing (Å) of each observation, from the (common) cell. */
  d: Float64Array;
  centric: Uint8Array;
}

/** Every symmetry-unique reflection the crystal could give in the resolution range (absences removed). */
export interface CompleteSet {
  d: Float64Array;
  centric: Uint8Array;
}

/** One merged reflection (non-anomalous or one Bijvoet half). */
export interface MergedReflection {
  h: number; k: number; l: number;
  /** +1 / −1 for I(+)/I(−) when merged anomalously, 0 for the combined mean. */
  sign: number;
  d: number;
  centric: boolean;
  n: number;
  I: number;
  sigma: number;
}

export interface ShellStats {
  dMax: number;
  dMin: number;
  nObs: number;
  nUnique: number;
  nPossible: number;
  multiplicity: number;
  completeness: number;
  meanI: number;
  meanIOverSigma: number;
  rMerge: number;
  rMeas: number;
  rPim: number;
  rMergeAnom: number;
  rMeasAnom: number;
  rPimAnom: number;
  ccHalf: number;
  ccHalfSigmaTau: number;
  /** CC½ significant at the 1 % level (one-sided t-test on the number of pairs). */
  ccHalfSignificant: boolean;
  ccHalfN: number;
  anomCompleteness: number;
  anomMultiplicity: number;
  ccAnom: number;
  ccAnomSignificant: boolean;
  rAnom: number;
  /** Mean |ΔI|/σ(ΔI) over Bijvoet pairs. */
  meanDanoOverSigma: number;
}

export interface MergingStatistics {
  bins: ShellStats[];
  overall: ShellStats;
  /** Slope of the normal probability plot of ΔI/σ(ΔI) (1 = no anomalous signal beyond noise). */
  anomalousSlope: number;
  /**
   * Bijvoet ratio ⟨(F+ − F−)²⟩^½ / ⟨F²⟩^½, F = (F+ + F−)/2, F = √I, over Bijvoet pairs with both
   * intensities positive: the RMS form is the one dials.merge reports as dF/F (it matched DIALS on
   * six subsets of l-cysteine where the mean-|ΔF| ratio was 4–13 % low).
   */
  dFOverF: number;
  /** ⟨|I+ − I−|⟩ / ⟨σ(I+ − I−)⟩ over Bijvoet pairs (a ratio of means, so weak pairs do not dominate). */
  dIOverSigma: number;
  merged: MergedReflection[];
  mergedAnomalous: MergedReflection[];
}

export interface MergingOptions {
  nBins?: number;
  /** Seed of the random half-dataset split. */
  seed?: number;
  /** Override the d range (otherwise that of the observations). */
  dMin?: number;
  dMax?: number;
  /** Inverse-variance weighted half-dataset means for CC½ (default: plain means). */
  weightedHalves?: boolean;
  /**
   * Count a shell's possible reflections over its whole d range. By default (false) they are
   * counted from the shell's low-resolution edge down to its lowest observed d only, which is
   * what dials.merge reports (established by running it on l-cysteine with 10–40 shells and on a
   * single sweep: every shell's count agreed only under this rule). The overall figure always
   * uses the whole range, so DIALS' shells can sum to fewer possible reflections than its total.
   */
  fullShellCompleteness?: boolean;
}


function key(h: number, k: number, l: number): number {
  return ((h + 1024) * 2048 + (k + 1024)) * 2048 + (l + 1024);
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, n = x.length): number {
  if (n < 2) return NaN;
  let sx = 0, sy = 0;
  for (let i = 0; i < n; i++) { sx += x[i]; sy += y[i]; }
  const mx = sx / n, my = sy / n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Significance of a correlation at the 1 % level (one-sided), via the t distribution approximated by Fisher's z. */
function significant(cc: number, n: number): boolean {
  if (!(n > 3) || !Number.isFinite(cc)) return false;
  return Math.atanh(Math.min(0.999999, cc)) * Math.sqrt(n - 3) > 2.326;
}

/** Groups of observation indices with the same key; `order` lists indices grouped, `start` the group boundaries. */
interface Groups { order: Int32Array; start: Int32Array; count: number }

function groupBy(keys: Float64Array): Groups {
  const n = keys.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const start: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || keys[order[i]] !== keys[order[i - 1]]) start.push(i);
  start.push(n);
  return { order, start: Int32Array.from(start), count: start.length - 1 };
}

interface GroupSummary {
  /** Representative observation. */
  first: Int32Array;
  n: Int32Array;
  I: Float64Array;
  sigma: Float64Array;
  sumAbsDev: Float64Array;
  sumI: Float64Array;
  /** Unweighted sample variance of the observations (for σ-τ CC½). */
  varObs: Float64Array;
  /** Means of the two random halves (NaN when n < 2). */
  half1: Float64Array;
  half2: Float64Array;
}

function summarise(obs: Observations, g: Groups, rand: () => number, weightedHalves: boolean): GroupSummary {
  const m = g.count;
  const s: GroupSummary = {
    first: new Int32Array(m), n: new Int32Array(m), I: new Float64Array(m), sigma: new Float64Array(m),
    sumAbsDev: new Float64Array(m), sumI: new Float64Array(m), varObs: new Float64Array(m),
    half1: new Float64Array(m).fill(NaN), half2: new Float64Array(m).fill(NaN),
  };
  const { I, sigma } = obs;
  const scratch: number[] = [];
  for (let j = 0; j < m; j++) {
    const a = g.start[j], b = g.start[j + 1];
    const n = b - a;
    let sw = 0, swI = 0, sI = 0;
    for (let p = a; p < b; p++) {
      const i = g.order[p];
      const w = 1 / (sigma[i] * sigma[i]);
      sw += w; swI += w * I[i]; sI += I[i];
    }
    const mean = swI / sw;
    const meanU = sI / n;
    let dev = 0, v = 0;
    for (let p = a; p < b; p++) {
      const i = g.order[p];
      dev += Math.abs(I[i] - mean);
      v += (I[i] - meanU) ** 2;
    }
    s.first[j] = g.order[a];
    s.n[j] = n; s.I[j] = mean; s.sigma[j] = 1 / Math.sqrt(sw);
    s.sumAbsDev[j] = dev; s.sumI[j] = sI; s.varObs[j] = n > 1 ? v / (n - 1) : NaN;
    if (n >= 2) {
      // Random split: shuffle, the first ⌊n/2⌋ (or ⌈n/2⌉ at random for odd n) go to half 1.
      scratch.length = 0;
      for (let p = a; p < b; p++) scratch.push(g.order[p]);
      for (let p = scratch.length - 1; p > 0; p--) {
        const q = Math.floor(rand() * (p + 1));
        const t = scratch[p]; scratch[p] = scratch[q]; scratch[q] = t;
      }
      let n1 = Math.floor(n / 2);
      if (n % 2 === 1 && rand() < 0.5) n1 += 1;
      let s1 = 0, w1 = 0, s2 = 0, w2 = 0;
      for (let p = 0; p < n; p++) {
        const i = scratch[p];
        const w = weightedHalves ? 1 / (sigma[i] * sigma[i]) : 1;
        if (p < n1) { s1 += w * I[i]; w1 += w; } else { s2 += w * I[i]; w2 += w; }
      }
      s.half1[j] = s1 / w1; s.half2[j] = s2 / w2;
    }
  }
  return s;
}

function emptyShell(dMax: number, dMin: number): ShellStats {
  return {
    dMax, dMin, nObs: 0, nUnique: 0, nPossible: 0, multiplicity: NaN, completeness: NaN, meanI: NaN,
    meanIOverSigma: NaN, rMerge: NaN, rMeas: NaN, rPim: NaN, rMergeAnom: NaN, rMeasAnom: NaN, rPimAnom: NaN,
    ccHalf: NaN, ccHalfSigmaTau: NaN, ccHalfSignificant: false, ccHalfN: 0, anomCompleteness: NaN,
    anomMultiplicity: NaN, ccAnom: NaN, ccAnomSignificant: false, rAnom: NaN, meanDanoOverSigma: NaN,
  };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after one Newton step is not needed here). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The statistics per resolution shell and overall. `complete` gives the possible reflections for
 * completeness; without it completeness is NaN.
 */
export function mergingStatistics(obs: Observations, complete: CompleteSet | null, opts: MergingOptions = {}): MergingStatistics {
  const nObs = obs.I.length;
  if (nObs === 0) throw new RangeError('no observations to merge');
  let dLo = 0, dHi = Infinity;
  for (let i = 0; i < nObs; i++) { const d = obs.d[i]; if (d > dLo) dLo = d; if (d < dHi) dHi = d; }
  const dMax = opts.dMax ?? dLo, dMin = opts.dMin ?? dHi;
  const nBins = opts.nBins ?? 20;
  const bins: ResolutionBins = equalVolumeBins(dMin, dMax * (1 + 1e-9), nBins);
  const rand = mulberry32(opts.seed ?? 1);

  // Non-anomalous groups (Friedel mates together) and anomalous groups (I+ and I− apart).
  const keys = new Float64Array(nObs), akeys = new Float64Array(nObs);
  for (let i = 0; i < nObs; i++) {
    const k0 = key(obs.h[i], obs.k[i], obs.l[i]);
    keys[i] = k0;
    akeys[i] = k0 * 2 + (obs.friedel[i] < 0 && !obs.centric[i] ? 1 : 0);
  }
  const g = groupBy(keys), ga = groupBy(akeys);
  const wh = opts.weightedHalves ?? false;
  const s = summarise(obs, g, rand, wh), sa = summarise(obs, ga, rand, wh);
  const binOf = (i: number) => bins.indexOf(obs.d[i]);

  // Per-bin accumulators.
  const nb = nBins + 1; // last slot = overall
  const acc = {
    nObs: new Float64Array(nb), nUnique: new Float64Array(nb), sumI: new Float64Array(nb), sumIOverSig: new Float64Array(nb),
    rNum: new Float64Array(nb), rMeasNum: new Float64Array(nb), rPimNum: new Float64Array(nb), rDen: new Float64Array(nb),
    raNum: new Float64Array(nb), raMeasNum: new Float64Array(nb), raPimNum: new Float64Array(nb), raDen: new Float64Array(nb),
    possible: new Float64Array(nb), possibleAcentric: new Float64Array(nb),
    anomPairs: new Float64Array(nb), anomObs: new Float64Array(nb), anomGroups: new Float64Array(nb),
    rAnomNum: new Float64Array(nb), rAnomDen: new Float64Array(nb), danoSig: new Float64Array(nb),
  };
  const half1: number[][] = Array.from({ length: nb }, () => []), half2: number[][] = Array.from({ length: nb }, () => []);
  const stMeans: number[][] = Array.from({ length: nb }, () => []), stVar: number[][] = Array.from({ length: nb }, () => []);

  const merged: MergedReflection[] = [];
  for (let j = 0; j < g.count; j++) {
    const i0 = s.first[j];
    const b = binOf(i0);
    const n = s.n[j];
    for (let pass = 0, t = b; pass < 2; pass++, t = nBins) {
      acc.nObs[t] += n; acc.nUnique[t] += 1; acc.sumI[t] += s.I[j]; acc.sumIOverSig[t] += s.I[j] / s.sigma[j];
      if (n >= 2) {
        acc.rNum[t] += s.sumAbsDev[j];
        acc.rMeasNum[t] += Math.sqrt(n / (n - 1)) * s.sumAbsDev[j];
        acc.rPimNum[t] += Math.sqrt(1 / (n - 1)) * s.sumAbsDev[j];
        acc.rDen[t] += s.sumI[j];
        half1[t].push(s.half1[j]); half2[t].push(s.half2[j]);
        stMeans[t].push(s.sumI[j] / n); stVar[t].push(s.varObs[j] / n);
      }
    }
    merged.push({ h: obs.h[i0], k: obs.k[i0], l: obs.l[i0], sign: 0, d: obs.d[i0], centric: obs.centric[i0] === 1, n, I: s.I[j], sigma: s.sigma[j] });
  }

  const mergedAnomalous: MergedReflection[] = [];
  for (let j = 0; j < ga.count; j++) {
    const i0 = sa.first[j];
    const b = binOf(i0);
    const n = sa.n[j];
    const sign = obs.friedel[i0] < 0 && !obs.centric[i0] ? -1 : 1;
    mergedAnomalous.push({ h: obs.h[i0], k: obs.k[i0], l: obs.l[i0], sign, d: obs.d[i0], centric: obs.centric[i0] === 1, n, I: sa.I[j], sigma: sa.sigma[j] });
    if (n >= 2) for (let pass = 0, t = b; pass < 2; pass++, t = nBins) {
      acc.raNum[t] += sa.sumAbsDev[j];
      acc.raMeasNum[t] += Math.sqrt(n / (n - 1)) * sa.sumAbsDev[j];
      acc.raPimNum[t] += Math.sqrt(1 / (n - 1)) * sa.sumAbsDev[j];
      acc.raDen[t] += sa.sumI[j];
    }
  }

  // Bijvoet pairs: consecutive anomalous groups share the non-anomalous key (sorted by key·2 + sign bit).
  const pairs: { plus: number; minus: number; bin: number }[] = [];
  for (let j = 0; j < ga.count; j++) {
    const ip = sa.first[j];
    // Anomalous multiplicity counts every Bijvoet-separated group, centric ones included (as DIALS reports it).
    for (let pass = 0, t = binOf(ip); pass < 2; pass++, t = nBins) { acc.anomObs[t] += sa.n[j]; acc.anomGroups[t] += 1; }
    if (obs.centric[ip]) continue;
    if (j + 1 < ga.count && akeys[ip] % 2 === 0 && akeys[sa.first[j + 1]] === akeys[ip] + 1) {
      pairs.push({ plus: j, minus: j + 1, bin: binOf(ip) });
    }
  }
  // Anomalous CC from random halves: ΔI in half 1 vs ΔI in half 2.
  const ah1: number[][] = Array.from({ length: nb }, () => []), ah2: number[][] = Array.from({ length: nb }, () => []);
  const danoZ: number[] = [];
  let sumDF2 = 0, sumF2 = 0, sumAbsDI = 0, sumSigDI = 0;
  for (const p of pairs) {
    const dI = sa.I[p.plus] - sa.I[p.minus];
    const sdI = Math.hypot(sa.sigma[p.plus], sa.sigma[p.minus]);
    for (let pass = 0, t = p.bin; pass < 2; pass++, t = nBins) {
      acc.anomPairs[t] += 1;
      acc.rAnomNum[t] += Math.abs(dI);
      acc.rAnomDen[t] += 0.5 * (sa.I[p.plus] + sa.I[p.minus]);
      acc.danoSig[t] += Math.abs(dI) / sdI;
      if (sa.n[p.plus] >= 2 && sa.n[p.minus] >= 2) {
        ah1[t].push(sa.half1[p.plus] - sa.half1[p.minus]);
        ah2[t].push(sa.half2[p.plus] - sa.half2[p.minus]);
      }
    }
    danoZ.push(dI / sdI);
    sumAbsDI += Math.abs(dI); sumSigDI += sdI;
    if (sa.I[p.plus] > 0 && sa.I[p.minus] > 0) {
      const fp = Math.sqrt(sa.I[p.plus]), fm = Math.sqrt(sa.I[p.minus]);
      sumDF2 += (fp - fm) ** 2; sumF2 += (0.5 * (fp + fm)) ** 2;
    }
  }

  if (complete) {
    // Lowest observed d per shell: the shell's possible reflections end there unless fullShellCompleteness.
    const shellLow = new Float64Array(nBins).fill(opts.fullShellCompleteness ? 0 : Infinity);
    if (!opts.fullShellCompleteness) for (let i = 0; i < nObs; i++) { const b = binOf(i); if (obs.d[i] < shellLow[b]) shellLow[b] = obs.d[i]; }
    for (let i = 0; i < complete.d.length; i++) {
      const d = complete.d[i];
      if (d < dMin * (1 - 1e-9) || d > dMax * (1 + 1e-9)) continue;
      const b = bins.indexOf(d);
      const acentric = complete.centric[i] ? 0 : 1;
      acc.possible[nBins] += 1; acc.possibleAcentric[nBins] += acentric;
      if (d < shellLow[b] * (1 - 1e-9)) continue;
      acc.possible[b] += 1; acc.possibleAcentric[b] += acentric;
    }
  }

  const shell = (t: number): ShellStats => {
    const st = emptyShell(t === nBins ? dMax : bins.dMax[t], t === nBins ? dMin : bins.dMin[t]);
    st.nObs = acc.nObs[t]; st.nUnique = acc.nUnique[t]; st.nPossible = acc.possible[t];
    if (st.nUnique === 0) return st;
    st.multiplicity = st.nObs / st.nUnique;
    // Possible reflections exclude systematic absences but observed ones may include them, so a
    // low-resolution shell can exceed 100 %; DIALS reports such shells as complete, and so do we.
    st.completeness = complete && st.nPossible > 0 ? Math.min(1, st.nUnique / st.nPossible) : NaN;
    st.meanI = acc.sumI[t] / st.nUnique;
    st.meanIOverSigma = acc.sumIOverSig[t] / st.nUnique;
    st.rMerge = acc.rNum[t] / acc.rDen[t];
    st.rMeas = acc.rMeasNum[t] / acc.rDen[t];
    st.rPim = acc.rPimNum[t] / acc.rDen[t];
    st.rMergeAnom = acc.raNum[t] / acc.raDen[t];
    st.rMeasAnom = acc.raMeasNum[t] / acc.raDen[t];
    st.rPimAnom = acc.raPimNum[t] / acc.raDen[t];
    st.ccHalf = pearson(half1[t], half2[t]);
    st.ccHalfN = half1[t].length;
    st.ccHalfSignificant = significant(st.ccHalf, st.ccHalfN);
    st.ccHalfSigmaTau = sigmaTauCcHalf(stMeans[t], stVar[t]);
    st.anomCompleteness = complete && acc.possibleAcentric[t] > 0 ? acc.anomPairs[t] / acc.possibleAcentric[t] : NaN;
    st.anomMultiplicity = acc.anomGroups[t] > 0 ? acc.anomObs[t] / acc.anomGroups[t] : NaN;
    st.ccAnom = pearson(ah1[t], ah2[t]);
    st.ccAnomSignificant = significant(st.ccAnom, ah1[t].length);
    st.rAnom = acc.rAnomDen[t] > 0 ? acc.rAnomNum[t] / acc.rAnomDen[t] : NaN;
    st.meanDanoOverSigma = acc.anomPairs[t] > 0 ? acc.danoSig[t] / acc.anomPairs[t] : NaN;
    return st;
  };
  const binStats = Array.from({ length: nBins }, (_, t) => shell(t));
  return {
    bins: binStats,
    overall: shell(nBins),
    anomalousSlope: normalProbabilitySlope(danoZ),
    dFOverF: sumF2 > 0 ? Math.sqrt(sumDF2 / sumF2) : NaN,
    dIOverSigma: sumSigDI > 0 ? sumAbsDI / sumSigDI : NaN,
    merged,
    mergedAnomalous,
  };
}

/**
 * σ-τ CC½ (Assmann et al. 2016): with σ²y the variance of the reflection means and σ²ε the mean
 * variance of a mean, CC½ = (σ²y − σ²ε/2)/(σ²y + σ²ε/2).
 */
export function sigmaTauCcHalf(means: readonly number[], varOfMean: readonly number[]): number {
  const n = means.length;
  if (n < 2) return NaN;
  let m = 0;
  for (const v of means) m += v;
  m /= n;
  let vy = 0;
  for (const v of means) vy += (v - m) ** 2;
  vy /= n - 1;
  let ve = 0;
  for (const v of varOfMean) ve += v;
  ve /= n;
  return (vy - 0.5 * ve) / (vy + 0.5 * ve);
}

/**
 * Slope of the normal probability plot of ΔI/σ(ΔI): sorted values against the expected normal
 * order statistics, fitted through the central part (|expected| ≤ centralZ: 0.9 for the anomalous
 * slope; the error model's a step uses 1.5) where outliers and real signal in the tails do not
 * dominate. Random noise gives 1; anomalous signal more. NaN for fewer than 10 values.
 */
export function normalProbabilitySlope(z: ArrayLike<number>, centralZ = 0.9): number {
  const n = z.length;
  if (n < 10) return NaN;
  const sorted = Float64Array.from(z).sort();
  let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (let i = 0; i < n; i++) {
    const e = normalQuantile((i + 0.5) / n);
    if (Math.abs(e) > centralZ) continue;
    sx += e; sy += sorted[i]; sxx += e * e; sxy += e * sorted[i]; m++;
  }
  const den = m * sxx - sx * sx;
  return den > 0 ? (m * sxy - sx * sy) / den : NaN;
}

/**
 * Outliers among symmetry mates: repeatedly drop the observation whose normalised deviation from
 * the weighted mean of the others, |I − ⟨I⟩others| / √(σ² + σ²⟨I⟩others), is largest and above
 * `cutoff`, while at least three observations remain (with two one cannot tell which is wrong).
 * Returns a keep-mask over the observations.
 */
export function rejectOutliers(obs: Observations, cutoff = 6): Uint8Array {
  const n = obs.I.length;
  const keep = new Uint8Array(n).fill(1);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = key(obs.h[i], obs.k[i], obs.l[i]);
  const g = groupBy(keys);
  const { I, sigma } = obs;
  for (let j = 0; j < g.count; j++) {
    const a = g.start[j], b = g.start[j + 1];
    for (;;) {
      let sw = 0, swI = 0, m = 0;
      for (let p = a; p < b; p++) {
        const i = g.order[p];
        if (!keep[i]) continue;
        const w = 1 / (sigma[i] * sigma[i]);
        sw += w; swI += w * I[i]; m++;
      }
      if (m < 3) break;
      let worst = -1, worstZ = cutoff;
      for (let p = a; p < b; p++) {
        const i = g.order[p];
        if (!keep[i]) continue;
        const w = 1 / (sigma[i] * sigma[i]);
        const swo = sw - w;
        const meanO = (swI - w * I[i]) / swo;
        const z = Math.abs(I[i] - meanO) / Math.sqrt(sigma[i] * sigma[i] + 1 / swo);
        if (z > worstZ) { worstZ = z; worst = i; }
      }
      if (worst < 0) break;
      keep[worst] = 0;
    }
  }
  return keep;
}

/** Observations where mask is set. */
export function selectObservations(obs: Observations, mask: Uint8Array): Observations {
  let m = 0;
  for (let i = 0; i < mask.length; i++) m += mask[i] ? 1 : 0;
  const pick = <T extends Int32Array | Int8Array | Float64Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as { new(n: number): T })(m);
    for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) out[k++] = a[i];
    return out;
  };
  return { h: pick(obs.h), k: pick(obs.k), l: pick(obs.l), friedel: pick(obs.friedel), I: pick(obs.I), sigma: pick(obs.sigma), d: pick(obs.d), centric: pick(obs.centric) };
}
