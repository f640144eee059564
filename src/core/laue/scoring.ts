/**
 * Laue-group scoring from normalised intensities, after Evans (2006, Acta D62, 72: POINTLESS) and
 * Gildea & Winter (2018, Acta D74, 405: dials.symmetry / cosym).
 *
 * For each symmetry element of the lattice (the rotations of one order about one axis) the
 * correlation CC between E² of reflections related by it; Z = CC/σ(CC) with
 * σ(CC) = max(1/√N, 0.1) (1/√N is the spread of a correlation over N unrelated pairs; the floor
 * keeps thousands of pairs from turning small systematic differences into overwhelming Z). The likelihood that the element is present compares
 *   p(CC | present) — a Lorentzian of width σ around E(CC), the CC expected for true symmetry
 *     (estimated from the identity: pairs of repeated measurements of the same reflection),
 *   p(CC | absent) — the same Lorentzian around an unknown μ ∈ [0, E(CC)] with prior
 *     ∝ (1 − μ²)^2, so that partial (pseudo-)symmetry is possible but less likely,
 * each normalised over CC ∈ [−1, 1]. A subgroup's likelihood is the product over elements of
 * P(present) for its own elements and 1 − P for the others, normalised over all subgroups.
 */
import type { IntMat3 } from '../symmetry/op.js';
import { rotKey, type SymmetryElement } from './lattice.js';

export interface P1Data {
  /** Reflection indices (reduced cell), flat h,k,l. */
  miller: Int32Array;
  /** Normalised intensity E² of each observation. */
  E2: Float64Array;
}

/** Canonical key of ±h (Friedel mates are equivalent in the Laue group). */
export function friedelKey(h: number, k: number, l: number): number {
  const a = ((h + 512) * 1024 + (k + 512)) * 1024 + (l + 512);
  const b = ((-h + 512) * 1024 + (-k + 512)) * 1024 + (-l + 512);
  return a < b ? a : b;
}

export interface ElementScore {
  element: SymmetryElement;
  cc: number;
  n: number;
  z: number;
  likelihood: number;
}

export interface PairStats { sx: number; sy: number; sxx: number; syy: number; sxy: number; n: number }

function newPairStats(): PairStats { return { sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0, n: 0 }; }

function addPair(s: PairStats, x: number, y: number): void {
  // both orders, so that the correlation is symmetric in the pair
  s.sx += x + y; s.sy += x + y; s.sxx += x * x + y * y; s.syy += x * x + y * y; s.sxy += 2 * x * y; s.n += 1;
}

export function pairCc(s: PairStats): number {
  const m = 2 * s.n;
  if (s.n < 2) return 0;
  const mx = s.sx / m, my = s.sy / m;
  const vx = s.sxx / m - mx * mx, vy = s.syy / m - my * my, cxy = s.sxy / m - mx * my;
  return vx > 0 && vy > 0 ? cxy / Math.sqrt(vx * vy) : 0;
}

/** Observations grouped by Friedel key. */
export function groupByKey(d: P1Data): Map<number, number[]> {
  const m = new Map<number, number[]>();
  const n = d.E2.length;
  for (let i = 0; i < n; i++) {
    const k = friedelKey(d.miller[3 * i], d.miller[3 * i + 1], d.miller[3 * i + 2]);
    const g = m.get(k);
    if (g) g.push(i); else m.set(k, [i]);
  }
  return m;
}

/**
 * Pairs (i, j) of observations related by one of the rotations (h_j ≡ ±h_i·R): each unordered
 * pair of reflection groups once; for the identity, pairs within a group.
 */
export function elementPairs(d: P1Data, groups: Map<number, number[]>, rotations: readonly IntMat3[], maxPairsPerGroup = 64): PairStats {
  const s = newPairStats();
  const identity = rotations.length === 1 && rotKey(rotations[0]) === '1,0,0,0,1,0,0,0,1';
  for (const [k, g] of groups) {
    if (identity) {
      let c = 0;
      for (let a = 0; a < g.length && c < maxPairsPerGroup; a++) for (let b = a + 1; b < g.length && c < maxPairsPerGroup; b++, c++) addPair(s, d.E2[g[a]], d.E2[g[b]]);
      continue;
    }
    const i0 = g[0];
    const h = d.miller[3 * i0], kk = d.miller[3 * i0 + 1], l = d.miller[3 * i0 + 2];
    const partners = new Set<number>();
    for (const R of rotations) {
      const h2 = h * R[0] + kk * R[3] + l * R[6], k2 = h * R[1] + kk * R[4] + l * R[7], l2 = h * R[2] + kk * R[5] + l * R[8];
      const k2key = friedelKey(h2, k2, l2);
      if (k2key === k || k2key < k) continue; // same reflection, or the pair is counted from the other side
      partners.add(k2key);
    }
    for (const pk of partners) {
      const g2 = groups.get(pk);
      if (!g2) continue;
      let c = 0;
      for (const a of g) for (const b of g2) { if (c++ >= maxPairsPerGroup) break; addPair(s, d.E2[a], d.E2[b]); }
    }
  }
  return s;
}

/** CC over random unrelated pairs: its spread gives σ₀ for σ(CC) = σ₀/√N. */
export function unrelatedPairs(d: P1Data, nPairs = 5000, seed = 7): { cc: number; n: number } {
  let a = seed >>> 0;
  const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const n = d.E2.length;
  const s = newPairStats();
  for (let p = 0; p < Math.min(nPairs, n * 2); p++) {
    const i = Math.floor(rand() * n), j = Math.floor(rand() * n);
    if (i === j) continue;
    addPair(s, d.E2[i], d.E2[j]);
  }
  return { cc: pairCc(s), n: s.n };
}

function lorentzNorm(x: number, mu: number, sigma: number): number {
  // Lorentzian density normalised over x ∈ [−1, 1]
  const z = (Math.atan((1 - mu) / sigma) - Math.atan((-1 - mu) / sigma)) / Math.PI;
  return (sigma / (Math.PI * ((x - mu) ** 2 + sigma * sigma))) / z;
}

/** P(element present | CC) as described at the top of the file. */
export function elementLikelihood(cc: number, expectedCc: number, sigma: number): number {
  const pPresent = lorentzNorm(cc, expectedCc, sigma);
  // ∫₀^E q(μ) L(cc; μ, σ) dμ / ∫₀^E q(μ) dμ, q(μ) = (1 − μ²)²
  const steps = 200;
  let num = 0, den = 0;
  for (let s = 0; s <= steps; s++) {
    const mu = (expectedCc * s) / steps;
    const w = (s === 0 || s === steps ? 0.5 : 1) * (1 - mu * mu) ** 2;
    num += w * lorentzNorm(cc, mu, sigma);
    den += w;
  }
  const pAbsent = num / den;
  return pPresent / (pPresent + pAbsent);
}

export interface ScoringContext {
  expectedCc: number;
  sigma0: number;
  unrelatedCc: number;
  nUnrelated: number;
  identityCc: number;
}

export function scoreElements(d: P1Data, elements: readonly SymmetryElement[]): { scores: ElementScore[]; context: ScoringContext } {
  const groups = groupByKey(d);
  const unrelated = unrelatedPairs(d);
  const raw = elements.map((e) => ({ e, s: elementPairs(d, groups, e.rotations) }));
  const identity = raw.find((r) => r.e.order === 1)!;
  const identityCc = pairCc(identity.s);
  // E(CC): the identity's CC when there are enough repeated measurements, else the best element's
  // (true symmetry cannot correlate better than repeated measurements); never below 0.6.
  const ccs = raw.filter((r) => r.s.n >= 10).map((r) => pairCc(r.s));
  const expectedCc = Math.min(0.99, Math.max(0.6, identity.s.n >= 20 ? identityCc : Math.max(...ccs, 0.6)));
  // The standard deviation of CC over N unrelated pairs is about 1/√N.
  const sigma0 = 1;
  const scores = raw.map(({ e, s }) => {
    const cc = pairCc(s);
    const sigma = Math.max(sigma0 / Math.sqrt(Math.max(s.n, 1)), 0.1);
    return { element: e, cc, n: s.n, z: cc / sigma, likelihood: s.n >= 2 ? elementLikelihood(cc, expectedCc, sigma) : 0.5 };
  });
  return { scores, context: { expectedCc, sigma0, unrelatedCc: unrelated.cc, nUnrelated: unrelated.n, identityCc } };
}

export interface SubgroupScore {
  rotations: IntMat3[];
  likelihood: number;
  zccPlus: number;
  zccMinus: number;
  netZcc: number;
  ccPlus: number;
  ccMinus: number;
  /** Largest Le Page δ of the subgroup's two-folds (degrees). */
  deltaDeg: number;
}

export function scoreSubgroups(subgroups: readonly IntMat3[][], scores: readonly ElementScore[], twoFoldDelta: Map<string, number>): SubgroupScore[] {
  const raw = subgroups.map((g) => {
    const keys = new Set(g.map(rotKey));
    const inG = scores.filter((s) => s.element.rotations.every((r) => keys.has(rotKey(r))));
    const out = scores.filter((s) => !inG.includes(s));
    const mean = (a: ElementScore[], f: (s: ElementScore) => number) => (a.length ? a.reduce((t, s) => t + f(s), 0) / a.length : 0);
    let logL = 0;
    for (const s of inG) logL += Math.log(Math.max(s.likelihood, 1e-300));
    for (const s of out) logL += Math.log(Math.max(1 - s.likelihood, 1e-300));
    let delta = 0;
    for (const r of g) { const d = twoFoldDelta.get(rotKey(r)); if (d !== undefined && d > delta) delta = d; }
    const zp = mean(inG, (s) => s.z), zm = mean(out, (s) => s.z);
    return { rotations: g.slice(), logL, zccPlus: zp, zccMinus: zm, netZcc: zp - zm, ccPlus: mean(inG, (s) => s.cc), ccMinus: mean(out, (s) => s.cc), deltaDeg: delta };
  });
  const maxL = Math.max(...raw.map((r) => r.logL));
  const total = raw.reduce((t, r) => t + Math.exp(r.logL - maxL), 0);
  return raw
    .map(({ logL, ...r }) => ({ ...r, likelihood: Math.exp(logL - maxL) / total }))
    .sort((a, b) => b.likelihood - a.likelihood || b.netZcc - a.netZcc);
}
