/**
 * Merging statistics of scaled observations in resolution shells. Overlap note: src/core/stats is
 * the project's merging-statistics engine; this is the minimal version the scaler needs for its
 * own decisions and log (the issue-9 report says where they overlap).
 */
import type { ReflectionSymmetry } from './symops.js';

export type Cell = [number, number, number, number, number, number];

/** Cell parameters from the direct axes (rows of A⁻¹). */
export function cellFromAxes(a: number[], b: number[], c: number[]): Cell {
  const len = (v: number[]) => Math.hypot(v[0], v[1], v[2]);
  const ang = (u: number[], v: number[]) => (Math.acos((u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (len(u) * len(v))) * 180) / Math.PI;
  return [len(a), len(b), len(c), ang(b, c), ang(a, c), ang(a, b)];
}

/** Reciprocal metric tensor G* (row-major) so that 1/d² = hᵀ G* h. */
export function reciprocalMetric(cell: Cell): Float64Array {
  const [a, b, c, al, be, ga] = cell;
  const r = Math.PI / 180;
  const G = [a * a, a * b * Math.cos(ga * r), a * c * Math.cos(be * r),
    a * b * Math.cos(ga * r), b * b, b * c * Math.cos(al * r),
    a * c * Math.cos(be * r), b * c * Math.cos(al * r), c * c];
  const det = G[0] * (G[4] * G[8] - G[5] * G[7]) - G[1] * (G[3] * G[8] - G[5] * G[6]) + G[2] * (G[3] * G[7] - G[4] * G[6]);
  const inv = new Float64Array(9);
  inv[0] = (G[4] * G[8] - G[5] * G[7]) / det; inv[1] = (G[2] * G[7] - G[1] * G[8]) / det; inv[2] = (G[1] * G[5] - G[2] * G[4]) / det;
  inv[3] = (G[5] * G[6] - G[3] * G[8]) / det; inv[4] = (G[0] * G[8] - G[2] * G[6]) / det; inv[5] = (G[2] * G[3] - G[0] * G[5]) / det;
  inv[6] = (G[3] * G[7] - G[4] * G[6]) / det; inv[7] = (G[1] * G[6] - G[0] * G[7]) / det; inv[8] = (G[0] * G[4] - G[1] * G[3]) / det;
  return inv;
}

export function dSpacing(G: Float64Array, h: number, k: number, l: number): number {
  const q = h * (G[0] * h + G[1] * k + G[2] * l) + k * (G[3] * h + G[4] * k + G[5] * l) + l * (G[6] * h + G[7] * k + G[8] * l);
  return q > 0 ? 1 / Math.sqrt(q) : Infinity;
}

/**
 * d of every symmetry-unique reflection with dMin ≤ d ≤ dMax, systematic absences left out.
 * (Observed absences are still merged and counted as unique reflections, but completeness counts
 * only observed members of this set, so it never exceeds 100 %.)
 */
export function possibleReflections(sym: ReflectionSymmetry, cell: Cell, dMin: number, dMax: number, anomalous: boolean): Float64Array {
  const G = reciprocalMetric(cell);
  const hmax = Math.ceil(cell[0] / dMin) + 1, kmax = Math.ceil(cell[1] / dMin) + 1, lmax = Math.ceil(cell[2] / dMin) + 1;
  const out: number[] = [];
  const canon = new Int32Array(3);
  for (let h = -hmax; h <= hmax; h++) for (let k = -kmax; k <= kmax; k++) for (let l = -lmax; l <= lmax; l++) {
    if (h === 0 && k === 0 && l === 0) continue;
    const d = dSpacing(G, h, k, l);
    if (d < dMin || d > dMax) continue;
    const minus = sym.canonical(h, k, l, anomalous, canon);
    // count each class once: only at its canonical member (and for anomalous, its Friedel partner
    // class is counted when it is distinct, i.e. the reflection is acentric)
    if (canon[0] !== h || canon[1] !== k || canon[2] !== l) continue;
    if (anomalous && minus && sym.isCentric(h, k, l)) continue;
    if (sym.isSystematicallyAbsent(h, k, l)) continue;
    out.push(d);
  }
  return Float64Array.from(out);
}

/** Shell edges (d, descending) of equal reciprocal volume between dMax and dMin. */
export function equalVolumeShells(dMax: number, dMin: number, nBins: number): Float64Array {
  const s3a = 1 / dMax ** 3, s3b = 1 / dMin ** 3;
  const e = new Float64Array(nBins + 1);
  for (let k = 0; k <= nBins; k++) e[k] = 1 / Math.cbrt(s3a + ((s3b - s3a) * k) / nBins);
  e[0] = dMax; e[nBins] = dMin;
  return e;
}

export interface ShellStats {
  dMax: number; dMin: number;
  nObs: number; nUnique: number; nPossible: number;
  multiplicity: number; completeness: number;
  meanI: number; meanIsigma: number;
  /** Mean I/σ of the unmerged observations. */
  meanIsigmaUnmerged: number;
  rMerge: number; rMeas: number; rPim: number;
  ccHalf: number;
}

export interface MergingStats { overall: ShellStats; shells: ShellStats[] }

export interface MergeInput {
  /** Group (unique reflection) of each observation and its d. */
  group: Int32Array;
  groupD: Float64Array;
  nGroups: number;
  /** Scaled intensities and variances; observations with use[o] = 0 are ignored. */
  I: Float64Array;
  V: Float64Array;
  use: Uint8Array;
  /** Groups that are systematically absent (not counted towards completeness). */
  groupAbsent?: Uint8Array;
}

/** Per-unique sums that every figure is built from. */
export interface GroupSums { n: Float64Array; sw: Float64Array; swx: Float64Array; sx: Float64Array; sxx: Float64Array }

export function groupSums(m: MergeInput): GroupSums {
  const n = new Float64Array(m.nGroups), sw = new Float64Array(m.nGroups), swx = new Float64Array(m.nGroups);
  const sx = new Float64Array(m.nGroups), sxx = new Float64Array(m.nGroups);
  for (let o = 0; o < m.group.length; o++) {
    if (!m.use[o]) continue;
    const g = m.group[o], w = 1 / m.V[o], x = m.I[o];
    n[g]++; sw[g] += w; swx[g] += w * x; sx[g] += x; sxx[g] += x * x;
  }
  return { n, sw, swx, sx, sxx };
}

/**
 * CC½ by the σ-τ method (Assmann, Brehm & Diederichs 2016): from the variance of the merged means
 * across reflections (σ²_y) and the mean error variance of a merged mean (σ²_ε, from the spread
 * within each reflection), CC½ = (σ²_y − σ²_ε)/(σ²_y + σ²_ε). Deterministic, unlike random halves.
 */
export function ccHalfSigmaTau(sums: GroupSums, select: (g: number) => boolean): number {
  let k = 0, sMean = 0, sMean2 = 0, sErr = 0;
  for (let g = 0; g < sums.n.length; g++) {
    const n = sums.n[g];
    if (n < 2 || !select(g)) continue;
    const mean = sums.sx[g] / n;
    const varWithin = Math.max(0, (sums.sxx[g] - n * mean * mean) / (n - 1));
    k++; sMean += mean; sMean2 += mean * mean; sErr += varWithin / n;
  }
  if (k < 3) return NaN;
  const mu = sMean / k;
  const varY = (sMean2 - k * mu * mu) / (k - 1);
  const varE = sErr / k;
  return (varY - varE) / (varY + varE);
}

/** Figures per shell; `possibleD` gives the d of every possible unique reflection (for completeness). */
export function mergingStatistics(m: MergeInput, edges: Float64Array, possibleD: Float64Array): MergingStats {
  const sums = groupSums(m);
  const nb = edges.length - 1;
  const shellOf = (d: number): number => {
    if (d > edges[0] * (1 + 1e-9) || d < edges[nb] * (1 - 1e-9)) return -1;
    let k = 0;
    while (k < nb - 1 && d < edges[k + 1]) k++;
    return k;
  };
  const gShell = new Int32Array(m.nGroups);
  for (let g = 0; g < m.nGroups; g++) gShell[g] = shellOf(m.groupD[g]);
  const possible = new Float64Array(nb + 1);
  for (const d of possibleD) { const k = shellOf(d); if (k >= 0) { possible[k]++; possible[nb]++; } }
  const acc = () => ({ nObs: 0, nUnique: 0, nPresent: 0, sumI: 0, sumIsig: 0, sumIsigObs: 0, rNum: 0, rMeasNum: 0, rPimNum: 0, rDen: 0 });
  const A = Array.from({ length: nb + 1 }, acc);
  const absDev = new Float64Array(m.nGroups);
  for (let o = 0; o < m.group.length; o++) {
    if (!m.use[o]) continue;
    const g = m.group[o];
    const k = gShell[g];
    if (k >= 0) { const r = m.I[o] / Math.sqrt(m.V[o]); A[k].sumIsigObs += r; A[nb].sumIsigObs += r; }
    if (sums.n[g] < 2) continue;
    absDev[g] += Math.abs(m.I[o] - sums.sx[g] / sums.n[g]);
  }
  for (let g = 0; g < m.nGroups; g++) {
    const n = sums.n[g];
    const k = gShell[g];
    if (n === 0 || k < 0) continue;
    const Imerged = sums.swx[g] / sums.sw[g];
    const sig = 1 / Math.sqrt(sums.sw[g]);
    for (const a of [A[k], A[nb]]) {
      a.nObs += n; a.nUnique++; if (!m.groupAbsent?.[g]) a.nPresent++; a.sumI += Imerged; a.sumIsig += Imerged / sig;
      if (n >= 2) {
        a.rNum += absDev[g]; a.rMeasNum += Math.sqrt(n / (n - 1)) * absDev[g]; a.rPimNum += Math.sqrt(1 / (n - 1)) * absDev[g];
        a.rDen += sums.sx[g];
      }
    }
  }
  const make = (k: number, dMax: number, dMin: number, sel: (g: number) => boolean): ShellStats => {
    const a = A[k];
    return {
      dMax, dMin, nObs: a.nObs, nUnique: a.nUnique, nPossible: possible[k],
      multiplicity: a.nUnique ? a.nObs / a.nUnique : 0,
      completeness: possible[k] ? (100 * a.nPresent) / possible[k] : 0,
      meanI: a.nUnique ? a.sumI / a.nUnique : 0,
      meanIsigma: a.nUnique ? a.sumIsig / a.nUnique : 0,
      meanIsigmaUnmerged: a.nObs ? a.sumIsigObs / a.nObs : 0,
      rMerge: a.rDen ? a.rNum / a.rDen : 0, rMeas: a.rDen ? a.rMeasNum / a.rDen : 0, rPim: a.rDen ? a.rPimNum / a.rDen : 0,
      ccHalf: ccHalfSigmaTau(sums, sel),
    };
  };
  const shells: ShellStats[] = [];
  for (let k = 0; k < nb; k++) shells.push(make(k, edges[k], edges[k + 1], (g) => gShell[g] === k));
  return { shells, overall: make(nb, edges[0], edges[nb], (g) => gShell[g] >= 0) };
}
