/**
 * Systematic absences along screw axes, and the space group they point to.
 *
 * For each screw axis the Laue group allows, the merged axial reflections split into those the
 * screw would extinguish ("absent") and the rest ("present"). Two models for the absent set:
 *   screw:    each is truly zero, I ~ N(0, (kσ)² + (f·m)²): k = 2 because σ of unscaled integrated
 *             data is usually underestimated, and the small second term (f = 0.002) allows
 *             leakage from strong neighbours that grows with the data's strength; a fraction
 *             ε = 0.1 of the absent class may still be contaminated (overlaps, ice, a neighbour's
 *             tail) and then looks like an ordinary reflection: p = (1 − ε)·N + ε·p_no;
 *   no screw: each is an ordinary axial (centric) reflection, J ~ Wilson centric with mean m,
 *             measured with noise σ: p_no(I) = ∫ p(J) N(I; J, σ) dJ.
 * m is the local mean of the present class (the nearest present reflections along the axis),
 * because axial intensities fall with resolution.
 * With equal priors, P(screw) = 1/(1 + exp(log L_no − log L_screw)). An axis without absent-class
 * reflections cannot be judged (P = 0.5). A space group's score is the product of P or 1 − P over
 * the tests, and groups that differ only in untestable axes tie: then the one that assumes no
 * untested screw is recommended and the others listed.
 */
import type { SpaceGroup } from '../symmetry/spacegroup.js';
import { fmt, formatTable } from '../table.js';

export interface AxialReflection {
  h: number; k: number; l: number;
  I: number;
  sigma: number;
}

export interface ScrewTest {
  name: string;
  /** Axis along which the index varies: 0 = a (h00), 1 = b, 2 = c. */
  axis: 0 | 1 | 2;
  /** Indices n along the axis not divisible by this are absent when the screw is there. */
  modulus: number;
  /**
   * Only indices divisible by this take part (default 1). A 4₁ differs from a 4₂ only on
   * l = 4n + 2 (both remove odd l), so its own test looks at even l alone; a group with a 4₁
   * then needs both tests, and a single odd-l reflection cannot speak for the 4₁.
   */
  within?: number;
}

export interface ScrewResult {
  test: ScrewTest;
  score: number;
  testable: boolean;
  nPresent: number;
  nAbsent: number;
  meanIPresent: number;
  meanIAbsent: number;
  meanIOverSigmaPresent: number;
  meanIOverSigmaAbsent: number;
}

export interface SpaceGroupCandidate {
  /** Hermann–Mauguin symbol. */
  symbol: string;
  /** Screw tests this group requires. */
  screws: string[];
}

export interface LaueCandidates {
  tests: ScrewTest[];
  groups: SpaceGroupCandidate[];
}

const T = (name: string, axis: 0 | 1 | 2, modulus: number, within = 1): ScrewTest => ({ name, axis, modulus, within });

/**
 * Sohncke groups per Patterson group (conventional setting) and the screw tests that tell them
 * apart. Groups that absences cannot distinguish (I 2 2 2 / I 21 21 21, I 2 3 / I 21 3) and
 * enantiomorphs (P 41 / P 43 …) share tests; enantiomorphs are reported with the recommendation.
 */
export function laueCandidates(patterson: string): LaueCandidates | null {
  const p = patterson.replace(/\s*:H$/, '').trim();
  switch (p) {
    case 'P -1': return { tests: [], groups: [{ symbol: 'P 1', screws: [] }] };
    case 'P 1 2/m 1': return { tests: [T('21b', 1, 2)], groups: [{ symbol: 'P 1 2 1', screws: [] }, { symbol: 'P 1 21 1', screws: ['21b'] }] };
    case 'C 1 2/m 1': return { tests: [], groups: [{ symbol: 'C 1 2 1', screws: [] }] };
    case 'P m m m': return {
      tests: [T('21a', 0, 2), T('21b', 1, 2), T('21c', 2, 2)],
      groups: [
        { symbol: 'P 2 2 2', screws: [] }, { symbol: 'P 2 2 21', screws: ['21c'] }, { symbol: 'P 2 21 2', screws: ['21b'] },
        { symbol: 'P 21 2 2', screws: ['21a'] }, { symbol: 'P 21 21 2', screws: ['21a', '21b'] }, { symbol: 'P 21 2 21', screws: ['21a', '21c'] },
        { symbol: 'P 2 21 21', screws: ['21b', '21c'] }, { symbol: 'P 21 21 21', screws: ['21a', '21b', '21c'] },
      ],
    };
    case 'C m m m': return { tests: [T('21c', 2, 2)], groups: [{ symbol: 'C 2 2 2', screws: [] }, { symbol: 'C 2 2 21', screws: ['21c'] }] };
    case 'I m m m': return { tests: [], groups: [{ symbol: 'I 2 2 2', screws: [] }, { symbol: 'I 21 21 21', screws: [] }] };
    case 'F m m m': return { tests: [], groups: [{ symbol: 'F 2 2 2', screws: [] }] };
    case 'P 4/m': return {
      tests: [T('41c', 2, 4, 2), T('42c', 2, 2)],
      groups: [{ symbol: 'P 4', screws: [] }, { symbol: 'P 41', screws: ['41c', '42c'] }, { symbol: 'P 42', screws: ['42c'] }, { symbol: 'P 43', screws: ['41c', '42c'] }],
    };
    case 'I 4/m': return { tests: [T('41c', 2, 4, 2)], groups: [{ symbol: 'I 4', screws: [] }, { symbol: 'I 41', screws: ['41c'] }] };
    case 'P 4/m m m': return {
      tests: [T('41c', 2, 4, 2), T('21a', 0, 2), T('42c', 2, 2)],
      groups: [
        { symbol: 'P 4 2 2', screws: [] }, { symbol: 'P 4 21 2', screws: ['21a'] }, { symbol: 'P 41 2 2', screws: ['41c', '42c'] },
        { symbol: 'P 42 2 2', screws: ['42c'] }, { symbol: 'P 41 21 2', screws: ['41c', '42c', '21a'] }, { symbol: 'P 42 21 2', screws: ['42c', '21a'] },
        { symbol: 'P 43 2 2', screws: ['41c', '42c'] }, { symbol: 'P 43 21 2', screws: ['41c', '42c', '21a'] },
      ],
    };
    case 'I 4/m m m': return { tests: [T('41c', 2, 4, 2)], groups: [{ symbol: 'I 4 2 2', screws: [] }, { symbol: 'I 41 2 2', screws: ['41c'] }] };
    case 'P -3': return { tests: [T('31c', 2, 3)], groups: [{ symbol: 'P 3', screws: [] }, { symbol: 'P 31', screws: ['31c'] }, { symbol: 'P 32', screws: ['31c'] }] };
    case 'R -3': return { tests: [], groups: [{ symbol: 'R 3 :H', screws: [] }] };
    case 'P -3 1 m': return { tests: [T('31c', 2, 3)], groups: [{ symbol: 'P 3 1 2', screws: [] }, { symbol: 'P 31 1 2', screws: ['31c'] }, { symbol: 'P 32 1 2', screws: ['31c'] }] };
    case 'P -3 m 1': return { tests: [T('31c', 2, 3)], groups: [{ symbol: 'P 3 2 1', screws: [] }, { symbol: 'P 31 2 1', screws: ['31c'] }, { symbol: 'P 32 2 1', screws: ['31c'] }] };
    case 'R -3 m': return { tests: [], groups: [{ symbol: 'R 3 2 :H', screws: [] }] };
    case 'P 6/m': return {
      // a 6₁ removes l ≠ 6n: exactly the union of what 6₂ (l ≠ 3n) and 6₃ (odd l) remove
      tests: [T('62c', 2, 3), T('63c', 2, 2)],
      groups: [
        { symbol: 'P 6', screws: [] }, { symbol: 'P 61', screws: ['62c', '63c'] }, { symbol: 'P 65', screws: ['62c', '63c'] },
        { symbol: 'P 62', screws: ['62c'] }, { symbol: 'P 64', screws: ['62c'] }, { symbol: 'P 63', screws: ['63c'] },
      ],
    };
    case 'P 6/m m m': return {
      tests: [T('62c', 2, 3), T('63c', 2, 2)],
      groups: [
        { symbol: 'P 6 2 2', screws: [] }, { symbol: 'P 61 2 2', screws: ['62c', '63c'] }, { symbol: 'P 65 2 2', screws: ['62c', '63c'] },
        { symbol: 'P 62 2 2', screws: ['62c'] }, { symbol: 'P 64 2 2', screws: ['62c'] }, { symbol: 'P 63 2 2', screws: ['63c'] },
      ],
    };
    case 'P m -3': return { tests: [T('21a', 0, 2)], groups: [{ symbol: 'P 2 3', screws: [] }, { symbol: 'P 21 3', screws: ['21a'] }] };
    case 'I m -3': return { tests: [], groups: [{ symbol: 'I 2 3', screws: [] }, { symbol: 'I 21 3', screws: [] }] };
    case 'F m -3': return { tests: [], groups: [{ symbol: 'F 2 3', screws: [] }] };
    case 'P m -3 m': return {
      tests: [T('41a', 0, 4, 2), T('42a', 0, 2)],
      groups: [{ symbol: 'P 4 3 2', screws: [] }, { symbol: 'P 42 3 2', screws: ['42a'] }, { symbol: 'P 41 3 2', screws: ['41a', '42a'] }, { symbol: 'P 43 3 2', screws: ['41a', '42a'] }],
    };
    case 'I m -3 m': return { tests: [T('41a', 0, 4, 2)], groups: [{ symbol: 'I 4 3 2', screws: [] }, { symbol: 'I 41 3 2', screws: ['41a'] }] };
    case 'F m -3 m': return { tests: [T('41a', 0, 4, 2)], groups: [{ symbol: 'F 4 3 2', screws: [] }, { symbol: 'F 41 3 2', screws: ['41a'] }] };
  }
  return null;
}

/** log ∫ Wilson-centric(J; mean m) · N(I; J, σ) dJ, by quadrature in √J (removes the 1/√J singularity). */
function logCentricWilsonNoisy(I: number, sigma: number, m: number): number {
  const jMax = Math.max(I, 0) + 8 * sigma + 20 * m;
  const steps = 400;
  const fMax = Math.sqrt(jMax);
  let s = 0;
  for (let q = 0; q <= steps; q++) {
    const f = (fMax * q) / steps, J = f * f;
    // p(J) dJ = exp(−J/2m)/√(2πmJ) · 2f df = 2 exp(−J/2m)/√(2πm) df
    const w = (q === 0 || q === steps ? 0.5 : 1) * (2 * Math.exp(-J / (2 * m)) / Math.sqrt(2 * Math.PI * m)) * Math.exp(-((I - J) ** 2) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
    s += w;
  }
  return Math.log(Math.max(s * (fMax / steps), 1e-300));
}

export function screwTest(test: ScrewTest, axial: readonly AxialReflection[], sigmaFactor = 2, leakage = 0.002, contamination = 0.1): ScrewResult {
  const index = (r: AxialReflection) => [r.h, r.k, r.l][test.axis];
  const within = test.within ?? 1;
  const on = axial.filter((r) => [r.h, r.k, r.l].every((x, i) => (i === test.axis ? x !== 0 : x === 0)) && index(r) % within === 0);
  const present = on.filter((r) => index(r) % test.modulus === 0);
  const absent = on.filter((r) => index(r) % test.modulus !== 0);
  const mean = (a: AxialReflection[], f: (r: AxialReflection) => number) => (a.length ? a.reduce((t, r) => t + f(r), 0) / a.length : 0);
  const res: ScrewResult = {
    test, score: 0.5, testable: absent.length > 0, nPresent: present.length, nAbsent: absent.length,
    meanIPresent: mean(present, (r) => r.I), meanIAbsent: mean(absent, (r) => r.I),
    meanIOverSigmaPresent: mean(present, (r) => r.I / r.sigma), meanIOverSigmaAbsent: mean(absent, (r) => r.I / r.sigma),
  };
  if (!res.testable) return res;
  // Scale of real axial intensities near each absent one: the closest present reflections.
  const globalMean = Math.max(present.length ? res.meanIPresent : Math.abs(res.meanIAbsent), 1e-6);
  const localMean = (n: number) => {
    const near = present.map((r) => ({ r, dist: Math.abs(index(r) - n) })).sort((a, b) => a.dist - b.dist).slice(0, 2);
    const m = near.length ? near.reduce((t, x) => t + x.r.I, 0) / near.length : globalMean;
    return m > 0 ? m : globalMean;
  };
  let llScrew = 0, llNo = 0;
  for (const r of absent) {
    const m = localMean(index(r));
    const s2 = (sigmaFactor * r.sigma) ** 2 + (leakage * m) ** 2;
    const lZero = -0.5 * (r.I * r.I) / s2 - 0.5 * Math.log(2 * Math.PI * s2);
    const lNo = logCentricWilsonNoisy(r.I, r.sigma, m);
    const hi = Math.max(lZero, lNo);
    llScrew += hi + Math.log((1 - contamination) * Math.exp(lZero - hi) + contamination * Math.exp(lNo - hi));
    llNo += lNo;
  }
  const x = llNo - llScrew;
  res.score = x > 700 ? 0 : 1 / (1 + Math.exp(x));
  return res;
}

export interface AbsenceAnalysis {
  screws: ScrewResult[];
  groups: { symbol: string; score: number }[];
  recommended: string;
  /** Groups absences cannot tell from the recommended one (untested axes, enantiomorphs). */
  equivalent: string[];
}

export function analyseAbsences(patterson: string, axial: readonly AxialReflection[]): AbsenceAnalysis | null {
  const cand = laueCandidates(patterson);
  if (!cand) return null;
  const screws = cand.tests.map((t) => screwTest(t, axial));
  const byName = new Map(screws.map((s) => [s.test.name, s]));
  const groups = cand.groups.map((g) => {
    let score = 1;
    for (const s of screws) score *= g.screws.includes(s.test.name) ? s.score : 1 - s.score;
    return { symbol: g.symbol, score };
  });
  const best = Math.max(...groups.map((g) => g.score));
  const tied = cand.groups.filter((g, i) => groups[i].score >= best * (1 - 1e-6));
  // among ties, the group assuming the fewest untested screws
  const untested = (g: SpaceGroupCandidate) => g.screws.filter((n) => !byName.get(n)?.testable).length;
  tied.sort((a, b) => untested(a) - untested(b) || a.screws.length - b.screws.length);
  const recommended = tied[0].symbol;
  return { screws, groups, recommended, equivalent: tied.slice(1).map((g) => g.symbol) };
}

/**
 * Intensities of axial reflections merged in the Laue group (inverse-variance weights):
 * each observation's symmetry mates are searched for one on a positive axis (h00, 0k0, 00l).
 */
export function axialReflections(hConv: Int32Array, I: Float64Array, sigma: Float64Array, patterson: SpaceGroup): AxialReflection[] {
  const rots = patterson.symOps.map((o) => o.rot);
  const acc = new Map<string, { h: number; k: number; l: number; sw: number; swI: number }>();
  for (let j = 0; j < I.length; j++) {
    const h = hConv[3 * j], k = hConv[3 * j + 1], l = hConv[3 * j + 2];
    const zeros = (h === 0 ? 1 : 0) + (k === 0 ? 1 : 0) + (l === 0 ? 1 : 0);
    if (zeros !== 2) continue; // lattice rotations map axes onto axes, so axial mates are axial
    // canonical mate: on a positive axis, the earliest axis preferred (a before b before c), so
    // that h00 and 0k0 of a tetragonal or cubic group land on a
    let best: number[] | null = null;
    for (const R of rots) {
      const v = [h * R[0] + k * R[3] + l * R[6], h * R[1] + k * R[4] + l * R[7], h * R[2] + k * R[5] + l * R[8]];
      if (v.filter((x) => x === 0).length !== 2 || v.some((x) => x < 0)) continue;
      if (!best || v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
    }
    if (!best) continue;
    const key = best.join(',');
    const w = 1 / (sigma[j] * sigma[j]);
    const e = acc.get(key) ?? { h: best[0], k: best[1], l: best[2], sw: 0, swI: 0 };
    e.sw += w; e.swI += w * I[j];
    acc.set(key, e);
  }
  return [...acc.values()].map((e) => ({ h: e.h, k: e.k, l: e.l, I: e.swI / e.sw, sigma: 1 / Math.sqrt(e.sw) }));
}

/** The screw-axis table as DIALS prints it. */
export function screwTable(a: AbsenceAnalysis): string {
  return formatTable(['Screw axis', 'Score', 'No. present', 'No. absent', '<I> present', '<I> absent', '<I/sig> present', '<I/sig> absent'], a.screws.map((s) => [
    s.test.name, s.testable ? fmt(s.score, 3) : 'n/a', s.nPresent, s.nAbsent, fmt(s.meanIPresent, 1), fmt(s.meanIAbsent, 1), fmt(s.meanIOverSigmaPresent, 2), fmt(s.meanIOverSigmaAbsent, 2),
  ]), { align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] });
}
