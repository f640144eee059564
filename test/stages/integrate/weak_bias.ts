/**
 * Why weak reflections of the simulated lysozyme sweep come out too strong (issue 7): per
 * resolution bin, the weak observations' mean z = (I − k·I_true)/σ, and how much of the excess
 * I − k·I_true is explained by the true intensities of the six face neighbours (h±1, k±1, l±1 in
 * the truth's basis). Same selection as truth_cc.ts: partiality > 0.95, I × lp / qe, k the bin's
 * 1/σ²-weighted least-squares scale, weak = k·I_true < 5σ (chosen on the truth).
 *
 * The fit, weighted by 1/σ² in raw counts: excess = f·Σ₆ k·I_neighbour/c + b (c = lp/qe of the
 * observation). f is the fraction of each face neighbour's intensity that turns up in the weak
 * reflection's integrated intensity; "resid z" is the mean z left after removing the fitted
 * excess. On this sweep f ≈ 0.1–0.4 % and the residual mean z is ≈ 0 from 3.6 Å outwards, for
 * our integration and for DIALS' alike (see lattice_pixels.ts for where that intensity sits).
 *
 *   npx tsx test/stages/integrate/weak_bias.ts integrated.expt integrated.refl [sum|prf]
 */
import { readExperiments } from '../../../src/core/io/expt.js';
import { readRefl } from '../../../src/core/io/refl.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { loadTruth, truthKey } from './truth_cc.js';

const FACE: readonly (readonly [number, number, number])[] = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];

async function main(): Promise<void> {
  const [exptFile, reflFile, which = 'sum'] = process.argv.slice(2);
  if (!exptFile || !reflFile || (which !== 'sum' && which !== 'prf')) throw new Error('usage: weak_bias.ts integrated.expt integrated.refl [sum|prf]');
  const expts = await readExperiments(exptFile);
  const t = await readRefl(reflFile);
  const truth = loadTruth();
  const T = Mat3.mul(Mat3.inverse(truth.A), Crystal.A(expts[0].crystal!));
  const hkl = t.miller('miller_index'), flags = t.sizeT('flags'), lp = t.double('lp'), part = t.double('partiality');
  const qe = t.has('qe') ? t.double('qe') : null;
  const I = t.double(`intensity.${which}.value`), V = t.double(`intensity.${which}.variance`);
  const bit = which === 'sum' ? Flags.integrated_sum : Flags.integrated_prf;
  type Obs = { d: number; t: number; i: number; v: number; c: number; nb: number };
  const obs: Obs[] = [];
  for (let r = 0; r < t.nrows; r++) {
    if (!(part[r] > 0.95) || !((flags[r] >>> 0) & bit) || !(V[r] > 0)) continue;
    const h = hkl[3 * r], k = hkl[3 * r + 1], l = hkl[3 * r + 2];
    const ht = Math.round(T[0] * h + T[1] * k + T[2] * l), kt = Math.round(T[3] * h + T[4] * k + T[5] * l), lt = Math.round(T[6] * h + T[7] * k + T[8] * l);
    const kk = truthKey(ht, kt, lt), ti = truth.I.get(kk);
    if (ti === undefined) continue;
    let nb = 0;
    for (const [a, b, e] of FACE) nb += truth.I.get(truthKey(ht + a, kt + b, lt + e)) ?? 0;
    obs.push({ d: truth.d.get(kk)!, t: ti, i: I[r], v: V[r], c: lp[r] / (qe ? qe[r] : 1), nb });
  }
  obs.sort((a, b) => b.d - a.d);
  console.log(`${which}: ${obs.length} observations`);
  console.log('  d_min  n weak  mean z  median z   leak f (%)   b (counts)  resid mean z   f only, b = 0 (%)  resid mean z');
  const nBins = 10;
  for (let bin = 0; bin < nBins; bin++) {
    const p = obs.slice(Math.floor((bin * obs.length) / nBins), Math.floor(((bin + 1) * obs.length) / nBins));
    let num = 0, den = 0;
    for (const o of p) { const ii = o.i * o.c, vv = o.v * o.c * o.c; num += (ii * o.t) / vv; den += (o.t * o.t) / vv; }
    const k = num / den;
    const weak = p.filter((o) => k * o.t < 5 * Math.sqrt(o.v) * o.c);
    // raw counts: excess y, regressor x = Σ₆ neighbours' expected counts, weights 1/σ²
    let sxx = 0, sx = 0, s1 = 0, sxy = 0, sy = 0;
    const z: number[] = [];
    for (const o of weak) {
      const y = o.i - (k * o.t) / o.c, x = (k * o.nb) / o.c, w = 1 / o.v;
      sxx += w * x * x; sx += w * x; s1 += w; sxy += w * x * y; sy += w * y;
      z.push(y / Math.sqrt(o.v));
    }
    const det = sxx * s1 - sx * sx;
    const f = (sxy * s1 - sx * sy) / det, b = (sxx * sy - sx * sxy) / det, f0 = sxy / sxx;
    let r1 = 0, r0 = 0;
    for (const o of weak) {
      const y = o.i - (k * o.t) / o.c, x = (k * o.nb) / o.c, s = Math.sqrt(o.v);
      r1 += (y - f * x - b) / s; r0 += (y - f0 * x) / s;
    }
    const mean = z.reduce((a, v) => a + v, 0) / z.length;
    const med = z.slice().sort((a, c) => a - c)[z.length >> 1];
    console.log(`${p[p.length - 1].d.toFixed(2).padStart(7)} ${String(weak.length).padStart(7)} ${mean.toFixed(2).padStart(7)} ${med.toFixed(2).padStart(9)} ${(100 * f).toFixed(3).padStart(12)} ${b.toFixed(1).padStart(12)} ${(r1 / weak.length).toFixed(2).padStart(13)} ${(100 * f0).toFixed(3).padStart(19)} ${(r0 / weak.length).toFixed(2).padStart(13)}`);
  }
}

await main();
