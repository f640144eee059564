/**
 * What a scaling run leaves behind besides scale factors: the scaling-model JSON DIALS keeps in
 * `.expt` files, and the plain data behind the scaling report's plots.
 */
import type { MergingStatistics } from '../stats/merging.js';
import { smootherPositionDeg, smootherWeights, SMOOTHER_MAX_NEIGHBOURS as K } from './smoother.js';
import type { ScaleRun } from './scale.js';

const round = (x: number) => Number(x.toPrecision(10));

/** DIALS-style scaling model JSON for one experiment (parameters in our own parameterisation). */
export function scalingModelJson(run: ScaleRun, si: number): Record<string, unknown> {
  const m = run.models[si], b = run.problem.blocks[si], p = run.problem.params, sd = run.paramSd;
  const comp = (from: number, to: number, nullValue: number) => ({
    n_parameters: to - from,
    parameters: Array.from(p.subarray(from, to), round),
    null_parameter_value: nullValue,
    est_standard_devs: Array.from(sd.subarray(from, to), round),
  });
  const s = run.problem.sweeps[si];
  const corrections = ['scale', ...(m.decay ? ['decay'] : []), ...(m.lmax > 0 ? ['absorption'] : [])];
  const out: Record<string, unknown> = { __id__: m.kind, is_scaled: true, scale: comp(b.scale, b.decay, 1) };
  if (m.decay) out.decay = comp(b.decay, b.absorption, 0);
  if (m.lmax > 0) out.absorption = comp(b.absorption, b.end, 0);
  const cfg: Record<string, unknown> = {
    corrections,
    error_model_type: 'BasicErrorModel',
    error_model_parameters: [round(run.errorModel.a), round(run.errorModel.b)],
    valid_image_range: [s.imageRange[0], s.imageRange[1]],
    valid_osc_range: [m.oscStartDeg, m.oscStartDeg + m.oscRangeDeg],
  };
  if (m.kind === 'physical') {
    cfg.scale_rot_interval = m.scale.intervalDeg;
    cfg.s_norm_fac = s.oscillation[1] / m.scale.intervalDeg;
    if (m.decay) { cfg.decay_rot_interval = m.decay.intervalDeg; cfg.d_norm_fac = s.oscillation[1] / m.decay.intervalDeg; }
    if (m.lmax > 0) { cfg.lmax = m.lmax; cfg.abs_surface_weight = m.surfaceWeight; }
  }
  if (run.choice.kind === 'combine') cfg.Imid = run.choice.imid;
  out.configuration_parameters = cfg;
  return out;
}

export interface SweepPlot {
  phiDeg: number[];
  scale: number[];
  decayB: number[];
  /** Mean absorption correction of the observations around each angle (1 = none). */
  absorption: number[];
  /** Parameter positions and values (the points the curves are smoothed from). */
  scaleParams: { phiDeg: number; value: number }[];
}

export interface ScalingPlots {
  sweeps: SweepPlot[];
  resolution: { dMax: number; dMin: number; ccHalf: number; iOverSigma: number; completeness: number; multiplicity: number; rMerge: number }[];
  /** Rmerge of the observations on each image against their merged means. */
  batches: { sweep: number; image: number; rMerge: number; n: number; meanScale: number }[];
}

export function scalingPlots(run: ScaleRun, st: MergingStatistics): ScalingPlots {
  const pr = run.problem, p = pr.params;
  const first = new Int32Array(1), w = new Float64Array(K);
  const sweeps: SweepPlot[] = run.models.map((m, si) => {
    const b = pr.blocks[si];
    const nPts = 100;
    const phi: number[] = [], scale: number[] = [], decay: number[] = [], absn: number[] = [];
    const absSum = new Float64Array(nPts), absCnt = new Float64Array(nPts);
    for (let o = 0; o < pr.nObs; o++) {
      if (pr.sweepOf[o] !== si || pr.nSh[o] === 0) continue;
      let A = 1;
      for (let k = 0; k < pr.nSh[o]; k++) A += p[b.absorption + k] * pr.sh[pr.shOff[o] + k];
      const j = Math.min(nPts - 1, Math.max(0, Math.floor(((pr.phi[o] - m.oscStartDeg) / Math.max(m.oscRangeDeg, 1e-9)) * nPts)));
      absSum[j] += A; absCnt[j]++;
    }
    for (let j = 0; j < nPts; j++) {
      const x = m.oscStartDeg + ((j + 0.5) * m.oscRangeDeg) / nPts;
      phi.push(x);
      smootherWeights(m.scale, x, first, w, 0);
      let C = 0;
      for (let k = 0; k < K; k++) if (w[k] && first[0] + k < m.scale.nParams) C += w[k] * p[b.scale + first[0] + k];
      scale.push(C);
      let B = 0;
      if (m.decay) {
        smootherWeights(m.decay, x, first, w, 0);
        for (let k = 0; k < K; k++) if (w[k] && first[0] + k < m.decay.nParams) B += w[k] * p[b.decay + first[0] + k];
      }
      decay.push(B);
      absn.push(absCnt[j] ? absSum[j] / absCnt[j] : 1);
    }
    const scaleParams = Array.from({ length: m.scale.nParams }, (_, i) => ({ phiDeg: smootherPositionDeg(m.scale, i), value: p[b.scale + i] }));
    return { phiDeg: phi, scale, decayB: decay, absorption: absn, scaleParams };
  });
  const resolution = st.bins.map((s) => ({ dMax: s.dMax, dMin: s.dMin, ccHalf: s.ccHalf, iOverSigma: s.meanIOverSigma, completeness: 100 * s.completeness, multiplicity: s.multiplicity, rMerge: s.rMerge }));
  // Rmerge per image
  const n = new Float64Array(pr.nGroups), sx = new Float64Array(pr.nGroups);
  for (let o = 0; o < pr.nObs; o++) if (!pr.outlier[o]) { const u = pr.group[o]; n[u]++; sx[u] += pr.I[o] / run.g[o]; }
  const key = (si: number, img: number) => si * 1e7 + img;
  const acc = new Map<number, { num: number; den: number; n: number; gs: number }>();
  for (let o = 0; o < pr.nObs; o++) {
    if (pr.outlier[o]) continue;
    const u = pr.group[o];
    const k = key(pr.sweepOf[o], pr.image[o]);
    let a = acc.get(k);
    if (!a) { a = { num: 0, den: 0, n: 0, gs: 0 }; acc.set(k, a); }
    a.n++; a.gs += run.g[o];
    if (n[u] < 2) continue;
    const x = pr.I[o] / run.g[o];
    a.num += Math.abs(x - sx[u] / n[u]); a.den += x;
  }
  const batches = [...acc.entries()].sort((x, y) => x[0] - y[0]).map(([k, a]) => ({
    sweep: Math.floor(k / 1e7), image: k % 1e7, rMerge: a.den > 0 ? a.num / a.den : 0, n: a.n, meanScale: a.gs / a.n,
  }));
  return { sweeps, resolution, batches };
}
