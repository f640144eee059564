/**
 * Where the simulated lysozyme sweep puts its intensity, independently of any integration: every
 * pixel of every image mapped to fractional (h, k, l) with the ground-truth geometry (A, beam,
 * detector) at the image's mid-angle, and assigned to its nearest lattice point h0 ("cell").
 *
 * - background: per 4-px ring about the beam, the mean of the pixels far from every lattice point
 *   and every shape-transform streak (|δh|, |δk|, |δl| all > 0.3);
 * - core of a cell: the pixels with max |δ| < 0.15 (the spot); core excess = counts − background;
 * - own yield: median core excess per pixel per unit I_true over the cells stronger than the
 *   shell mean, fully covered (core pixel count within 0.7–1.5 × the shell median).
 *
 * For the weak cells (I_true(h0) < 5 % of the shell mean) it prints the core excess per pixel left
 * after the own yield·I_true(h0), by quartile of the summed true intensity of the six face
 * neighbours. Were the images' intensity in a cell F(h0)² times a shape function only, these
 * would be ≈ 0 and flat; on this sweep they rise with the neighbours' intensity by ≈ 0.25–0.35 %
 * of a neighbour's own yield per neighbour — the same fraction weak_bias.ts finds in the
 * integrated intensities. It also prints, for the pixels just outside the core along one axis
 * (0.15 ≤ |δ| < 0.2, the two other |δ| < 0.1), the regression of their excess on the neighbour
 * towards which they lie and on the opposite one.
 *
 *   npx tsx test/stages/integrate/lattice_pixels.ts [d_min=2.1]      (≈ 10 s; reads the 120 images twice)
 */
import path from 'node:path';
import { readExperiments } from '../../../src/core/io/expt.js';
import { openImageSource } from '../../../src/core/formats/sweep.js';
import { Beam } from '../../../src/core/models/beam.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { choleskySolve } from '../../../src/core/scaling/refine.js';
import { loadTruth, SWEEP_DIR, truthKey } from './truth_cc.js';

/** Least-squares fit with `n` regressors through its normal equations (NaN when singular). */
function lstsq(rows: number[][], y: number[]): number[] {
  const n = rows[0].length;
  const A = new Float64Array(n * n), b = new Float64Array(n);
  rows.forEach((r, i) => { for (let p = 0; p < n; p++) { b[p] += r[p] * y[i]; for (let q = 0; q < n; q++) A[p * n + q] += r[p] * r[q]; } });
  const x = choleskySolve(A, b, n);
  return x ? Array.from(x) : new Array(n).fill(NaN);
}

interface Cell { h: number; k: number; l: number; d: number; core: number; coreN: number; coreBg: number; /** per direction (−h,+h,−k,+k,−l,+l): excess and pixels at 0.15 ≤ |δ| < 0.2 */ st: Float64Array; stN: Float64Array }

async function main(): Promise<void> {
  const dMin = Number(process.argv[2] ?? 2.1);
  const ref = path.join(SWEEP_DIR, 'dials_reference');
  const src = await openImageSource((await readExperiments(path.join(ref, 'refined.expt')))[0], ref);
  const gt = (await readExperiments(path.join(SWEEP_DIR, 'ground_truth.expt')))[0];
  const truth = loadTruth();
  const Ainv = Mat3.inverse(truth.A);
  const p = gt.detector!.panels[0], NX = p.imageSize[0], NY = p.imageSize[1], NP = NX * NY;
  const s0 = Beam.s0(gt.beam!), lam = gt.beam!.wavelength, ps = p.pixelSize[0];
  const axis = gt.goniometer!.rotationAxis;
  if (axis[0] !== 1 || axis[1] !== 0 || axis[2] !== 0) throw new Error('expects the rotation axis (1,0,0)');
  const rx = new Float32Array(NP), ry = new Float32Array(NP), rz = new Float32Array(NP), dpx = new Float32Array(NP), ring = new Int16Array(NP);
  for (let y = 0; y < NY; y++) for (let x = 0; x < NX; x++) {
    const l = [0, 1, 2].map((j) => p.origin[j] + (x + 0.5) * ps * p.fastAxis[j] + (y + 0.5) * ps * p.slowAxis[j]);
    const L = Math.hypot(l[0], l[1], l[2]), i = y * NX + x;
    rx[i] = l[0] / L / lam - s0[0]; ry[i] = l[1] / L / lam - s0[1]; rz[i] = l[2] / L / lam - s0[2];
    dpx[i] = 1 / Math.hypot(rx[i], ry[i], rz[i]);
    ring[i] = Math.min(Math.floor(Math.hypot(l[0], l[1]) / ps / 4), 399);
  }
  const cells = new Map<number, Cell>();
  const bgS = new Float64Array(400), bgN = new Float64Array(400);
  const [phi0, dphi] = gt.scan!.oscillation;
  for (const pass of [0, 1]) {
    const bgm = bgS.map((s, i) => (bgN[i] > 0 ? s / bgN[i] : 0));
    for (let f = 0; f < src.length; f++) {
      const img = (await src.read(f)).panels[0];
      const phi = ((phi0 + (f + 0.5) * dphi) * Math.PI) / 180, c = Math.cos(phi), s = Math.sin(phi);
      const M = Mat3.mul(Ainv, [1, 0, 0, 0, c, s, 0, -s, c]); // h = A⁻¹·R(−φ)·r
      for (let i = 0; i < NP; i++) {
        const cnt = img[i];
        if (cnt < 0 || dpx[i] < dMin) continue;
        const X = rx[i], Y = ry[i], Z = rz[i];
        const fh = M[0] * X + M[1] * Y + M[2] * Z, fk = M[3] * X + M[4] * Y + M[5] * Z, fl = M[6] * X + M[7] * Y + M[8] * Z;
        const h0 = Math.round(fh), k0 = Math.round(fk), l0 = Math.round(fl);
        const dh = fh - h0, dk = fk - k0, dl = fl - l0, ah = Math.abs(dh), ak = Math.abs(dk), al = Math.abs(dl);
        if (pass === 0) { if (ah > 0.3 && ak > 0.3 && al > 0.3) { bgS[ring[i]] += cnt; bgN[ring[i]]++; } continue; }
        const m = Math.max(ah, ak, al);
        let dir = -1;
        if (m >= 0.15) {
          if (m >= 0.2) continue;
          if (ah >= 0.15 && ak < 0.1 && al < 0.1) dir = dh < 0 ? 0 : 1;
          else if (ak >= 0.15 && ah < 0.1 && al < 0.1) dir = dk < 0 ? 2 : 3;
          else if (al >= 0.15 && ah < 0.1 && ak < 0.1) dir = dl < 0 ? 4 : 5;
          else continue;
        }
        const kk = ((h0 + 200) * 400 + (k0 + 200)) * 400 + (l0 + 200);
        let cell = cells.get(kk);
        if (!cell) { cell = { h: h0, k: k0, l: l0, d: dpx[i], core: 0, coreN: 0, coreBg: 0, st: new Float64Array(6), stN: new Float64Array(6) }; cells.set(kk, cell); }
        if (dir < 0) { cell.core += cnt; cell.coreN++; cell.coreBg += bgm[ring[i]]; }
        else { cell.st[dir] += cnt - bgm[ring[i]]; cell.stN[dir]++; }
      }
    }
  }
  const dirs = [[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]];
  const rows = [...cells.values()].flatMap((c) => {
    const I0 = truth.I.get(truthKey(c.h, c.k, c.l));
    if (I0 === undefined) return [];
    return [{ ...c, I0, E: c.core - c.coreBg, In: dirs.map(([a, b, e]) => truth.I.get(truthKey(c.h + a, c.k + b, c.l + e)) ?? 0) }];
  });
  const median = (v: number[]) => v.slice().sort((a, b) => a - b)[v.length >> 1];
  console.log('weak cells (I_true < 5 % of the shell mean), core = max|δ| < 0.15, truth geometry');
  console.log('excess beyond own (counts/px) by quartile of Σ₆ I_neighbour/<I>:  mean Σ₆/<I>: excess ± s.e.');
  const shells: [number, number][] = [[1e9, 3.6], [3.6, 2.9], [2.9, 2.5], [2.5, dMin]];
  for (const [hi, lo] of shells) {
    const s = rows.filter((r) => r.d < hi && r.d >= lo);
    if (s.length === 0) continue;
    const nMed = median(s.map((r) => r.coreN)), mI = s.reduce((a, r) => a + r.I0, 0) / s.length;
    const full = s.filter((r) => r.coreN > 0.7 * nMed && r.coreN < 1.5 * nMed);
    const yld = median(full.filter((r) => r.I0 > mI).map((r) => r.E / r.coreN / r.I0));
    const weak = full.filter((r) => r.I0 < 0.05 * mI).map((r) => ({ r, x: r.In.reduce((a, v) => a + v, 0) / mI, y: (r.E - yld * r.I0 * r.coreN) / r.coreN }));
    weak.sort((a, b) => a.x - b.x);
    const q: string[] = [];
    for (let i = 0; i < 4; i++) {
      const part = weak.slice(Math.floor((i * weak.length) / 4), Math.floor(((i + 1) * weak.length) / 4));
      const my = part.reduce((a, w) => a + w.y, 0) / part.length, mx = part.reduce((a, w) => a + w.x, 0) / part.length;
      const sd = Math.sqrt(part.reduce((a, w) => a + (w.y - my) ** 2, 0) / (part.length - 1));
      q.push(`${mx.toFixed(1).padStart(5)}: ${my.toFixed(2).padStart(6)} ± ${(sd / Math.sqrt(part.length)).toFixed(2)}`);
    }
    const fit = lstsq(weak.map((w) => [w.x, 1]), weak.map((w) => w.y));
    // just outside the core, towards one face neighbour: excess per px on that neighbour and the opposite one
    const X: number[][] = [], Y: number[] = [];
    for (const w of weak) for (let j = 0; j < 6; j++) if (w.r.stN[j] > 0) { X.push([w.r.In[j] / mI, w.r.In[j ^ 1] / mI, 1]); Y.push(w.r.st[j] / w.r.stN[j]); }
    const st = lstsq(X, Y);
    console.log(`d ${hi > 1e8 ? '  ∞' : hi.toFixed(1)}–${lo.toFixed(1)} Å: ${String(weak.length).padStart(4)} weak cells   ${q.join('   ')}   slope ${fit[0].toFixed(3)}/px per <I> = ${((100 * fit[0]) / (yld * mI)).toFixed(2)} % of own yield per neighbour`);
    console.log(`                  0.15 ≤ |δ| < 0.2: excess/px = ${st[0].toFixed(3)}·I_towards/<I> ${st[1] >= 0 ? '+' : '−'} ${Math.abs(st[1]).toFixed(3)}·I_opposite/<I> + ${st[2].toFixed(3)}`);
  }
}

await main();
