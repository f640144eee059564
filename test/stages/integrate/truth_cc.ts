/**
 * Accuracy of integrated intensities against the simulated sweep's ground truth, computed the way
 * the data README describes DIALS' figures: fully recorded observations (partiality > 0.95),
 * intensities × lp / qe (the README says × LP; its figures need the qe division too), Miller indices taken into the truth's basis via A_truth⁻¹·A, then Pearson CC
 * with the true I of the symmetry-equivalent unique reflection (Laue group 4/mmm for P 43 21 2).
 *
 * Shared by the skip-if-absent test and bench/integrate.ts; run directly for a report:
 *   npx tsx test/stages/integrate/truth_cc.ts integrated.expt integrated.refl
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { readExperiments } from '../../../src/core/io/expt.js';
import { readRefl } from '../../../src/core/io/refl.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import type { ReflectionTable } from '../../../src/core/reflections/table.js';

export const SWEEP_DIR = process.env.XTALFLOW_NO_SHARED ? '/nonexistent' : '/work/shared/data/simulated/lysozyme_sweep';
export const hasSweep = (): boolean => existsSync(path.join(SWEEP_DIR, 'ground_truth.json'));

/** 4/mmm Laue-group representative: all sign changes and the h↔k swap, Friedel included. */
function key(h: number, k: number, l: number): string {
  let a = Math.abs(h), b = Math.abs(k);
  if (a < b) [a, b] = [b, a];
  return `${a},${b},${Math.abs(l)}`;
}

export function loadTruth(dir = SWEEP_DIR): { I: Map<string, number>; d: Map<string, number>; A: Mat3 } {
  const I = new Map<string, number>(), d = new Map<string, number>();
  const lines = readFileSync(path.join(dir, 'ground_truth_F.csv'), 'utf8').trim().split('\n');
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const k = key(+f[0], +f[1], +f[2]);
    I.set(k, +f[6]);
    d.set(k, +f[3]);
  }
  const gt = JSON.parse(readFileSync(path.join(dir, 'ground_truth.json'), 'utf8'));
  return { I, d, A: gt.A as Mat3 };
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { const a = x[i] - mx, b = y[i] - my; sxy += a * b; sxx += a * a; syy += b * b; }
  return sxy / Math.sqrt(sxx * syy);
}

export interface TruthComparison {
  ccPrf: number; nPrf: number; ccSum: number; nSum: number;
  /** per resolution bin (prf): [dMax, dMin, cc, n] */
  bins: { dMax: number; dMin: number; ccPrf: number; ccSum: number; n: number }[];
}

/** CC with truth of one integrated table whose crystal A (φ = 0) is `A`. */
export function compareWithTruth(table: ReflectionTable, A: Mat3, truth = loadTruth(), nBins = 10): TruthComparison {
  const T = Mat3.mul(Mat3.inverse(truth.A), A);
  const hkl = table.miller('miller_index'), flags = table.sizeT('flags'), lp = table.double('lp');
  const part = table.double('partiality');
  const sum = table.double('intensity.sum.value');
  // DIALS' published figures (0.9907 / 0.9923) are reproduced only with the qe division as well.
  const qe = table.has('qe') ? table.double('qe') : null;
  const qeOf = (i: number) => (qe ? qe[i] : 1);
  const prf = table.has('intensity.prf.value') ? table.double('intensity.prf.value') : null;
  type Obs = { t: number; d: number; s: number | null; p: number | null };
  const obs: Obs[] = [];
  for (let i = 0; i < table.nrows; i++) {
    if (!(part[i] > 0.95)) continue;
    const f = flags[i] >>> 0;
    const hasSum = (f & Flags.integrated_sum) !== 0, hasPrf = prf !== null && (f & Flags.integrated_prf) !== 0;
    if (!hasSum && !hasPrf) continue;
    const h = hkl[3 * i], k = hkl[3 * i + 1], l = hkl[3 * i + 2];
    const ht = Math.round(T[0] * h + T[1] * k + T[2] * l), kt = Math.round(T[3] * h + T[4] * k + T[5] * l), lt = Math.round(T[6] * h + T[7] * k + T[8] * l);
    const kk = key(ht, kt, lt);
    const t = truth.I.get(kk);
    if (t === undefined) continue;
    obs.push({ t, d: truth.d.get(kk)!, s: hasSum ? sum[i] * lp[i] / qeOf(i) : null, p: hasPrf ? prf![i] * lp[i] / qeOf(i) : null });
  }
  const cc = (list: Obs[], which: 's' | 'p') => {
    const sel = list.filter((o) => o[which] !== null);
    return { cc: sel.length > 2 ? pearson(sel.map((o) => o[which]!), sel.map((o) => o.t)) : NaN, n: sel.length };
  };
  const all = { s: cc(obs, 's'), p: cc(obs, 'p') };
  // equal-count bins in 1/d²
  const sorted = obs.slice().sort((a, b) => b.d - a.d);
  const bins: TruthComparison['bins'] = [];
  for (let b = 0; b < nBins; b++) {
    const part2 = sorted.slice(Math.floor((b * sorted.length) / nBins), Math.floor(((b + 1) * sorted.length) / nBins));
    if (part2.length === 0) continue;
    bins.push({ dMax: part2[0].d, dMin: part2[part2.length - 1].d, ccPrf: cc(part2, 'p').cc, ccSum: cc(part2, 's').cc, n: part2.length });
  }
  return { ccPrf: all.p.cc, nPrf: all.p.n, ccSum: all.s.cc, nSum: all.s.n, bins };
}

export async function compareFiles(exptFile: string, reflFile: string): Promise<TruthComparison> {
  const expts = await readExperiments(exptFile);
  const table = await readRefl(reflFile);
  return compareWithTruth(table, Crystal.A(expts[0].crystal!));
}

export function formatComparison(c: TruthComparison): string {
  const lines = [`CC(prf, truth) = ${c.ccPrf.toFixed(4)} (${c.nPrf} obs)   CC(sum, truth) = ${c.ccSum.toFixed(4)} (${c.nSum} obs)`];
  lines.push('  d_max   d_min   CC prf  CC sum      n');
  for (const b of c.bins) lines.push(`${b.dMax.toFixed(2).padStart(7)} ${b.dMin.toFixed(2).padStart(7)} ${b.ccPrf.toFixed(4).padStart(8)} ${b.ccSum.toFixed(4).padStart(7)} ${String(b.n).padStart(6)}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [e, r] = process.argv.slice(2);
  compareFiles(e, r).then((c) => console.log(formatComparison(c)));
}
