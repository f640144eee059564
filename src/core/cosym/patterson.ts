/**
 * Patterson-group scoring from the embedding (Gildea & Winter 2018, §2.4). For an operation k,
 * x_(i,a) and x_(i,a') with R_a·R_a'⁻¹ = R_k describe the same dataset before and after k, so the
 * cosine of the angle between them estimates the structure's correlation under k, free of the
 * data quality (which only sets the vectors' lengths). Averaged over datasets and over a with
 * weights |x||x'| (well-measured datasets point reliably), that gives one CC per symmetry
 * element; these go through the same Lorentzian likelihood and subgroup product as the
 * single-dataset Laue-group analysis (src/core/laue/scoring.ts), so both programs rank
 * subgroups by one rule.
 */
import type { IntMat3 } from '../symmetry/op.js';
import { rotKey, symmetryElements, type SymmetryElement } from '../laue/lattice.js';
import { elementLikelihood, scoreElements, scoreSubgroups, type ElementScore, type SubgroupScore } from '../laue/scoring.js';
import { subgroups as allSubgroups } from '../laue/lattice.js';

export interface EmbeddingView {
  x: Float64Array;
  dims: number;
  nDatasets: number;
  ops: readonly IntMat3[];
  /** R_a·R_b⁻¹ index table (opProductTable). */
  prod: Int32Array;
}

/** Index of every op by key. */
export function opIndex(ops: readonly IntMat3[]): Map<string, number> {
  return new Map(ops.map((r, i) => [rotKey(r), i]));
}

/** Weighted mean cosine between x_(i,a) and x_(i,a'), R_a R_a'⁻¹ ∈ element; plus per-dataset values. */
export function elementCosine(v: EmbeddingView, element: SymmetryElement): { cc: number; perDataset: Float64Array; weights: Float64Array } {
  const { x, dims: d, nDatasets: N, ops, prod } = v;
  const m = ops.length;
  const idx = opIndex(ops);
  const ks = element.rotations.map((r) => idx.get(rotKey(r))!);
  const per = new Float64Array(N), wts = new Float64Array(N);
  let sDot = 0, sNorm = 0;
  for (let i = 0; i < N; i++) {
    let dotI = 0, normI = 0;
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
      if (!ks.includes(prod[a * m + b])) continue;
      const A = (i * m + a) * d, B = (i * m + b) * d;
      let dot = 0, na = 0, nb = 0;
      for (let c = 0; c < d; c++) { dot += x[A + c] * x[B + c]; na += x[A + c] ** 2; nb += x[B + c] ** 2; }
      dotI += dot; normI += Math.sqrt(na * nb);
    }
    per[i] = normI > 0 ? dotI / normI : 0;
    wts[i] = normI;
    sDot += dotI; sNorm += normI;
  }
  return { cc: sNorm > 0 ? sDot / sNorm : 0, perDataset: per, weights: wts };
}

export interface PattersonScoring {
  elements: ElementScore[];
  subgroups: SubgroupScore[];
  /** CC assumed for a true symmetry element. */
  expectedCc: number;
}

/**
 * Score every symmetry element of the lattice group and every subgroup. σ(CC) of an element is
 * the weighted spread of its per-dataset cosines over √N_eff, at least 0.05 (the embedding's own
 * noise floor), so that a few datasets cannot claim certainty.
 */
export function scorePattersonGroups(v: EmbeddingView, twoFoldDelta: Map<string, number>): PattersonScoring {
  const elements = symmetryElements(v.ops);
  const raw = elements.map((e) => {
    const r = elementCosine(v, e);
    let sw = 0, sw2 = 0, swx = 0, swxx = 0;
    for (let i = 0; i < r.perDataset.length; i++) { const w = r.weights[i]; sw += w; sw2 += w * w; swx += w * r.perDataset[i]; swxx += w * r.perDataset[i] ** 2; }
    const mean = sw > 0 ? swx / sw : 0;
    const variance = sw > 0 ? Math.max(swxx / sw - mean * mean, 0) : 1;
    const nEff = sw2 > 0 ? (sw * sw) / sw2 : 1;
    const sigma = Math.max(Math.sqrt(variance / Math.max(nEff, 1)), 0.05);
    return { e, cc: r.cc, sigma, n: r.perDataset.length };
  });
  // E(CC) for a true element: the best non-identity element's cosine (symmetry cannot correlate
  // better than that), between 0.6 and 0.99 as in the single-dataset analysis.
  const best = Math.max(0, ...raw.filter((r) => r.e.order !== 1).map((r) => r.cc));
  const expectedCc = Math.min(0.99, Math.max(0.6, best));
  const scores: ElementScore[] = raw.map((r) => ({
    element: r.e, cc: r.cc, n: r.n, z: r.cc / r.sigma,
    likelihood: r.e.order === 1 ? 1 : elementLikelihood(r.cc, expectedCc, r.sigma),
  }));
  const subs = scoreSubgroups(allSubgroups(v.ops), scores, twoFoldDelta);
  return { elements: scores, subgroups: subs, expectedCc };
}

/** Raw correlation of each symmetry element on the pooled intensities after reindexing h → h·R_i. */
export interface ElementStat { element: SymmetryElement; cc: number; n: number }

export function pooledElementStats(datasets: readonly { hkl: Int32Array; E2: Float64Array }[], reindex: readonly IntMat3[], ops: readonly IntMat3[]): ElementStat[] {
  const n = datasets.reduce((s, d) => s + d.E2.length, 0);
  const miller = new Int32Array(3 * n), E2 = new Float64Array(n);
  let at = 0;
  datasets.forEach((d, i) => {
    const R = reindex[i];
    for (let r = 0; r < d.E2.length; r++, at++) {
      const h = d.hkl[3 * r], k = d.hkl[3 * r + 1], l = d.hkl[3 * r + 2];
      miller[3 * at] = h * R[0] + k * R[3] + l * R[6];
      miller[3 * at + 1] = h * R[1] + k * R[4] + l * R[7];
      miller[3 * at + 2] = h * R[2] + k * R[5] + l * R[8];
      E2[at] = d.E2[r];
    }
  });
  return scoreElements({ miller, E2 }, symmetryElements(ops)).scores.map((s) => ({ element: s.element, cc: s.cc, n: s.n }));
}

/** Pairs-weighted mean of element statistics measured on disjoint data. */
export function combineStats(parts: readonly ElementStat[][]): ElementStat[] {
  return parts[0].map((e, k) => {
    let n = 0, sc = 0;
    for (const p of parts) { n += p[k].n; sc += p[k].n * p[k].cc; }
    return { element: e.element, cc: n > 0 ? sc / n : 0, n };
  });
}

/**
 * Element and subgroup likelihoods from pooled correlations (the Lorentzian model of
 * src/core/laue/scoring.ts). E(CC) of a true element is the CC of repeated measurements
 * (the identity) whenever those are numerous enough to measure it — also when it is low: many
 * weak datasets correlate weakly, but a true symmetry still correlates as well as repeats do.
 * σ(CC) = 1/√N pairs, floored at 10 % of E(CC) so that the test means the same for weak and
 * strong data.
 */
export function scoreFromStats(stats: readonly ElementStat[], ops: readonly IntMat3[], twoFoldDelta: Map<string, number>): PattersonScoring {
  const identity = stats.find((r) => r.element.order === 1)!;
  const best = Math.max(0, ...stats.filter((r) => r.element.order !== 1 && r.n >= 10).map((r) => r.cc));
  const expectedCc = identity.n >= 100 && identity.cc > 0.05 ? Math.min(identity.cc, 0.99) : Math.min(0.99, Math.max(0.6, best));
  const scores: ElementScore[] = stats.map((r) => {
    const sigma = Math.max(1 / Math.sqrt(Math.max(r.n, 1)), 0.1 * expectedCc);
    return { element: r.element, cc: r.cc, n: r.n, z: r.cc / sigma, likelihood: r.n >= 2 ? elementLikelihood(r.cc, expectedCc, sigma) : 0.5 };
  });
  return { elements: scores, subgroups: scoreSubgroups(allSubgroups(ops), scores, twoFoldDelta), expectedCc };
}
