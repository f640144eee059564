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
export function truthKey(h: number, k: number, l: number): string {
  let a = Math.abs(h), b = Math.abs(k);
  if (a < b) [a, b] = [b, a];
  return `${a},${b},${Math.abs(l)}`;
}

export function loadTruth(dir = SWEEP_DIR): { I: Map<string, number>; d: Map<string, number>; A: Mat3 } {
  const I = new Map<string, number>(), d = new Map<string, number>();
  const lines = readFileSync(path.join(dir, 'ground_truth_F.csv'), 'utf8').trim().split('\n');
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const k = truthKey(+f[0], +f[1], +f[2]);
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
  /**
   * per resolution bin: CCs, and the RMS of (I − k·I_true)/σ(I) with k the bin's least-squares
   * scale: ≈ 1 when σ(I) describes the actual error (the simulation's own systematic errors
   * push it above 1 for any integration program)
   */
  bins: { dMax: number; dMin: number; ccPrf: number; ccSum: number; n: number; zSum: number; zPrf: number; /** over the weak observations (see WEAK_SIGMAS): robust width of z about its median, and the median */ zWeakSum: number; zWeakPrf: number; medianWeakSum: number; medianWeakPrf: number; nWeak: number }[];
}

/**
 * Weak observations are those whose expected intensity k·I_true is below this many σ(I): there
 * the simulation's systematic errors (a few per cent of I) are small against σ, so the RMS of
 * z = (I − k·I_true)/σ(I) tests σ itself (1 when honest). Chosen on the truth, not on I, so the
 * selection does not bias z.
 */
const WEAK_SIGMAS = 5;

/** CC with truth of one integrated table whose crystal A (φ = 0) is `A`. */
export function compareWithTruth(table: ReflectionTable, A: Mat3, truth = loadTruth(), nBins = 10): TruthComparison {
  const T = Mat3.mul(Mat3.inverse(truth.A), A);
  const hkl = table.miller('miller_index'), flags = table.sizeT('flags'), lp = table.double('lp');
  const part = table.double('partiality');
  const sum = table.double('intensity.sum.value'), vSum = table.double('intensity.sum.variance');
  const vPrf = table.has('intensity.prf.variance') ? table.double('intensity.prf.variance') : null;
  // DIALS' published figures (0.9907 / 0.9923) are reproduced only with the qe division as well.
  const qe = table.has('qe') ? table.double('qe') : null;
  const qeOf = (i: number) => (qe ? qe[i] : 1);
  const prf = table.has('intensity.prf.value') ? table.double('intensity.prf.value') : null;
  type Obs = { t: number; d: number; s: number | null; p: number | null; vs: number; vp: number };
  const obs: Obs[] = [];
  for (let i = 0; i < table.nrows; i++) {
    if (!(part[i] > 0.95)) continue;
    const f = flags[i] >>> 0;
    const hasSum = (f & Flags.integrated_sum) !== 0, hasPrf = prf !== null && (f & Flags.integrated_prf) !== 0;
    if (!hasSum && !hasPrf) continue;
    const h = hkl[3 * i], k = hkl[3 * i + 1], l = hkl[3 * i + 2];
    const ht = Math.round(T[0] * h + T[1] * k + T[2] * l), kt = Math.round(T[3] * h + T[4] * k + T[5] * l), lt = Math.round(T[6] * h + T[7] * k + T[8] * l);
    const kk = truthKey(ht, kt, lt);
    const t = truth.I.get(kk);
    if (t === undefined) continue;
    const c = lp[i] / qeOf(i);
    obs.push({ t, d: truth.d.get(kk)!, s: hasSum ? sum[i] * c : null, p: hasPrf ? prf![i] * c : null, vs: vSum[i] * c * c, vp: vPrf ? vPrf[i] * c * c : 0 });
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
    const zRms = (which: 's' | 'p') => {
      const v = (o: Obs) => (which === 's' ? o.vs : o.vp);
      const sel = part2.filter((o) => o[which] !== null && v(o) > 0);
      // least-squares scale with weights 1/σ²
      let num = 0, den = 0;
      for (const o of sel) { num += (o[which]! * o.t) / v(o); den += (o.t * o.t) / v(o); }
      const k = num / den;
      const rms = (list: Obs[]) => Math.sqrt(list.reduce((a, o) => a + (o[which]! - k * o.t) ** 2 / v(o), 0) / list.length);
      // robust width of z about its median (1.4826 × MAD): a few outliers (a module edge) do not
      // hide whether σ describes the bulk of the errors, and the median shift (the simulated
      // images carry ~0.2 % of each face neighbour's intensity in a spot's core; see
      // weak_bias.ts) is reported apart rather than counted as scatter
      const weak = sel.filter((o) => k * o.t < WEAK_SIGMAS * Math.sqrt(v(o)));
      const z = weak.map((o) => (o[which]! - k * o.t) / Math.sqrt(v(o))).sort((a, b) => a - b);
      const med = z.length ? z[z.length >> 1] : NaN;
      const dev = z.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
      return { all: rms(sel), weak: 1.4826 * (dev.length ? dev[dev.length >> 1] : NaN), weakMedian: med, nWeak: weak.length };
    };
    const zs = zRms('s'), zp = zRms('p');
    bins.push({ dMax: part2[0].d, dMin: part2[part2.length - 1].d, ccPrf: cc(part2, 'p').cc, ccSum: cc(part2, 's').cc, n: part2.length, zSum: zs.all, zPrf: zp.all, zWeakSum: zs.weak, zWeakPrf: zp.weak, medianWeakSum: zs.weakMedian, medianWeakPrf: zp.weakMedian, nWeak: zs.nWeak });
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
  lines.push(`  d_max   d_min   CC prf  CC sum      n  rms z prf  rms z sum   n weak  (k·I_true < ${WEAK_SIGMAS}σ): z width prf  sum   median z prf  sum`);
  for (const b of c.bins) lines.push(`${b.dMax.toFixed(2).padStart(7)} ${b.dMin.toFixed(2).padStart(7)} ${b.ccPrf.toFixed(4).padStart(8)} ${b.ccSum.toFixed(4).padStart(7)} ${String(b.n).padStart(6)} ${b.zPrf.toFixed(2).padStart(10)} ${b.zSum.toFixed(2).padStart(10)} ${String(b.nWeak).padStart(8)} ${b.zWeakPrf.toFixed(2).padStart(27)} ${b.zWeakSum.toFixed(2).padStart(4)} ${b.medianWeakPrf.toFixed(2).padStart(14)} ${b.medianWeakSum.toFixed(2).padStart(4)}`);
  return lines.join('\n');
}


export interface DialsComparison {
  nOursSum: number; nOursPrf: number; nDialsSum: number; nDialsPrf: number; nMatched: number;
  /** per resolution bin over reflections both integrated: mean I/σ ours vs DIALS */
  bins: { dMax: number; dMin: number; n: number; oursSum: number; dialsSum: number; oursPrf: number; dialsPrf: number }[];
}

/**
 * Our integrated table against DIALS' for the same reflections (Miller index, nearest centroid
 * within 1 frame): counts, and mean I/σ(I) per resolution bin (equal counts) for summation and
 * profile fitting over the reflections both integrated.
 */
export function compareWithDials(ours: ReflectionTable, dials: ReflectionTable, nBins = 10): DialsComparison {
  const count = (t: ReflectionTable, f: number) => { const fl = t.sizeT('flags'); let n = 0; for (let i = 0; i < t.nrows; i++) if ((fl[i] >>> 0) & f) n++; return n; };
  const index = new Map<string, number[]>();
  const dh = dials.miller('miller_index'), dz = dials.vec3('xyzcal.px');
  for (let i = 0; i < dials.nrows; i++) {
    const k = `${dh[3 * i]},${dh[3 * i + 1]},${dh[3 * i + 2]}`;
    const l = index.get(k); if (l) l.push(i); else index.set(k, [i]);
  }
  const oh = ours.miller('miller_index'), oz = ours.vec3('xyzcal.px'), of = ours.sizeT('flags'), df = dials.sizeT('flags');
  const os = ours.double('intensity.sum.value'), ov = ours.double('intensity.sum.variance'), op = ours.double('intensity.prf.value'), opv = ours.double('intensity.prf.variance');
  const ds = dials.double('intensity.sum.value'), dv = dials.double('intensity.sum.variance'), dp = dials.double('intensity.prf.value'), dpv = dials.double('intensity.prf.variance');
  const d = ours.double('d');
  const pairs: { d: number; os: number; ds: number; op: number; dp: number }[] = [];
  const both = Flags.integrated_sum | Flags.integrated_prf;
  for (let i = 0; i < ours.nrows; i++) {
    const l = index.get(`${oh[3 * i]},${oh[3 * i + 1]},${oh[3 * i + 2]}`);
    if (!l) continue;
    let best = -1, bd = 1;
    for (const j of l) { const dd = Math.abs(dz[3 * j + 2] - oz[3 * i + 2]); if (dd < bd) { bd = dd; best = j; } }
    if (best < 0 || ((of[i] >>> 0) & both) !== both || ((df[best] >>> 0) & both) !== both) continue;
    if (!(ov[i] > 0 && dv[best] > 0 && opv[i] > 0 && dpv[best] > 0)) continue;
    pairs.push({ d: d[i], os: os[i] / Math.sqrt(ov[i]), ds: ds[best] / Math.sqrt(dv[best]), op: op[i] / Math.sqrt(opv[i]), dp: dp[best] / Math.sqrt(dpv[best]) });
  }
  pairs.sort((a, b) => b.d - a.d);
  const bins: DialsComparison['bins'] = [];
  for (let b = 0; b < nBins; b++) {
    const part = pairs.slice(Math.floor((b * pairs.length) / nBins), Math.floor(((b + 1) * pairs.length) / nBins));
    if (part.length === 0) continue;
    const mean = (f: (p: (typeof part)[0]) => number) => part.reduce((a, p) => a + f(p), 0) / part.length;
    bins.push({ dMax: part[0].d, dMin: part[part.length - 1].d, n: part.length, oursSum: mean((p) => p.os), dialsSum: mean((p) => p.ds), oursPrf: mean((p) => p.op), dialsPrf: mean((p) => p.dp) });
  }
  return {
    nOursSum: count(ours, Flags.integrated_sum), nOursPrf: count(ours, Flags.integrated_prf),
    nDialsSum: count(dials, Flags.integrated_sum), nDialsPrf: count(dials, Flags.integrated_prf), nMatched: pairs.length, bins,
  };
}

export function formatDialsComparison(c: DialsComparison): string {
  const lines = [`integrated: sum ${c.nOursSum} (DIALS ${c.nDialsSum}, ${(100 * c.nOursSum / c.nDialsSum).toFixed(1)} %), prf ${c.nOursPrf} (DIALS ${c.nDialsPrf}, ${(100 * c.nOursPrf / c.nDialsPrf).toFixed(1)} %); ${c.nMatched} integrated by both`];
  lines.push('  d_max   d_min      n  <I/σ>sum  DIALS   ratio  <I/σ>prf  DIALS   ratio');
  for (const b of c.bins) {
    lines.push(`${b.dMax.toFixed(2).padStart(7)} ${b.dMin.toFixed(2).padStart(7)} ${String(b.n).padStart(6)} ${b.oursSum.toFixed(2).padStart(9)} ${b.dialsSum.toFixed(2).padStart(6)} ${(b.oursSum / b.dialsSum).toFixed(3).padStart(7)} ${b.oursPrf.toFixed(2).padStart(9)} ${b.dialsPrf.toFixed(2).padStart(6)} ${(b.oursPrf / b.dialsPrf).toFixed(3).padStart(7)}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [e, r] = process.argv.slice(2);
  const c = await compareFiles(e, r);
  console.log(formatComparison(c));
  const dialsRefl = path.join(SWEEP_DIR, 'dials_reference', 'integrated.refl');
  if (existsSync(dialsRefl)) console.log(formatDialsComparison(compareWithDials(await readRefl(r), await readRefl(dialsRefl))));
}
