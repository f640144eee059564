/** The merging-statistics tables as DIALS prints them (per shell, and the summary). */
import type { MergingStatistics, ShellStats } from './merging.js';

const f = (v: number, w: number, p: number) => (Number.isFinite(v) ? v.toFixed(p) : '-').padStart(w);

export type CcHalfMethod = 'half_dataset' | 'sigma_tau';

const cc = (s: ShellStats, m: CcHalfMethod) => (m === 'sigma_tau' ? s.ccHalfSigmaTau : s.ccHalf);

export function shellTable(st: MergingStatistics, method: CcHalfMethod = 'half_dataset'): string {
  const head = ' d_max  d_min   #obs  #uniq   mult.  %comp       <I>  <I/sI>    r_mrg   r_meas    r_pim   r_anom   cc1/2   cc_ano';
  const row = (b: ShellStats) =>
    f(b.dMax, 6, 2) + f(b.dMin, 7, 2) + String(b.nObs).padStart(7) + String(b.nUnique).padStart(7) + f(b.multiplicity, 8, 2) +
    f(100 * b.completeness, 7, 2) + f(b.meanI, 10, 1) + f(b.meanIOverSigma, 8, 1) + f(b.rMerge, 9, 3) + f(b.rMeas, 9, 3) +
    f(b.rPim, 9, 3) + f(b.rAnom, 9, 3) + f(cc(b, method), 8, 3) + (b.ccHalfSignificant ? '*' : ' ') + f(b.ccAnom, 8, 3) + (b.ccAnomSignificant ? '*' : ' ');
  return [head, ...st.bins.map(row), row(st.overall)].join('\n');
}

export function summaryTable(st: MergingStatistics, extra: { wilsonB?: number; ccHalfMethod?: CcHalfMethod } = {}): string {
  const o = st.overall, lo = st.bins[0], hi = st.bins[st.bins.length - 1];
  const line = (name: string, vals: (number | null)[], _w: number, p: number) =>
    name.padEnd(45) + vals.map((v, i) => (v === null ? '' : f(v, i === 0 ? 7 : 8, p))).join('');
  const three = (g: (s: ShellStats) => number) => [g(o), g(lo), g(hi)];
  const rows = [
    ' '.repeat(45) + 'Overall' + 'Low'.padStart(8) + 'High'.padStart(8),
    line('High resolution limit', three((s) => s.dMin), 11, 2),
    line('Low resolution limit', three((s) => s.dMax), 11, 2),
    line('Completeness', three((s) => 100 * s.completeness), 10, 1),
    line('Multiplicity', three((s) => s.multiplicity), 11, 1),
    line('I/sigma', three((s) => s.meanIOverSigma), 11, 1),
    line('Rmerge(I)', three((s) => s.rMerge), 11, 3),
    line('Rmerge(I+/-)', three((s) => s.rMergeAnom), 11, 3),
    line('Rmeas(I)', three((s) => s.rMeas), 11, 3),
    line('Rmeas(I+/-)', three((s) => s.rMeasAnom), 11, 3),
    line('Rpim(I)', three((s) => s.rPim), 11, 3),
    line('Rpim(I+/-)', three((s) => s.rPimAnom), 11, 3),
    line('CC half', three((s) => cc(s, extra.ccHalfMethod ?? 'half_dataset')), 11, 3),
    ...(extra.wilsonB !== undefined && Number.isFinite(extra.wilsonB) ? [line('Wilson B factor', [extra.wilsonB], 11, 3)] : []),
    line('Anomalous completeness', three((s) => 100 * s.anomCompleteness), 11, 1),
    line('Anomalous multiplicity', three((s) => s.anomMultiplicity), 11, 1),
    line('Anomalous correlation', three((s) => (Number.isFinite(s.ccAnom) ? s.ccAnom : 0)), 11, 3),
    line('Anomalous slope', [st.anomalousSlope], 11, 3),
    line('dF/F', [st.dFOverF], 11, 3),
    line('dI/s(dI)', [st.dIOverSigma], 11, 3),
    line('Total observations', three((s) => s.nObs), 11, 0),
    line('Total unique', three((s) => s.nUnique), 11, 0),
  ];
  return rows.join('\n');
}

/** Plain-number figures for the pipeline and the report. */
export function mergingFigures(st: MergingStatistics): Record<string, number> {
  const o = st.overall, lo = st.bins[0], hi = st.bins[st.bins.length - 1];
  const out: Record<string, number> = {};
  for (const [name, s] of [['overall', o], ['low', lo], ['high', hi]] as const) {
    out[`d_min_${name}`] = s.dMin; out[`d_max_${name}`] = s.dMax;
    out[`completeness_${name}`] = 100 * s.completeness; out[`multiplicity_${name}`] = s.multiplicity;
    out[`i_over_sigma_${name}`] = s.meanIOverSigma; out[`r_merge_${name}`] = s.rMerge; out[`r_meas_${name}`] = s.rMeas;
    out[`r_pim_${name}`] = s.rPim; out[`cc_half_${name}`] = s.ccHalf; out[`cc_half_sigma_tau_${name}`] = s.ccHalfSigmaTau;
    out[`n_obs_${name}`] = s.nObs; out[`n_unique_${name}`] = s.nUnique;
    out[`anomalous_completeness_${name}`] = 100 * s.anomCompleteness; out[`anomalous_multiplicity_${name}`] = s.anomMultiplicity;
    out[`cc_anom_${name}`] = s.ccAnom;
  }
  out.anomalous_slope = st.anomalousSlope; out.dF_over_F = st.dFOverF; out.dI_over_sigma_dI = st.dIOverSigma;
  return out;
}
