/**
 * The integration summary DIALS prints: per resolution bin and overall, fully/partially recorded
 * counts, overloads, reflections on ice rings (flagged only with integration.filter.ice_rings), numbers integrated by summation and by
 * profile fitting, mean background, ⟨I/σ(I)⟩ of both and mean profile CC; plus the figures and the
 * I/σ-by-resolution plot for the report.
 */
import type { IntegrationResults } from '../../core/integration/integrator.js';
import type { PlotData } from '../../core/report/plot.js';
import { Flags } from '../../core/reflections/flags.js';

export interface Summary {
  id: number;
  predicted: number;
  /** per predicted (kept) reflection: results, partiality and resolution, same rows */
  results: IntegrationResults;
  partiality: Float64Array;
  d: Float64Array;
}

/** One experiment's tables and plot, and the sums the overall figures are made of. */
export interface ExperimentSummary {
  tables: { title: string; text: string }[];
  plots: Record<string, PlotData>;
  nSum: number; nPrf: number; ioSum: number; ioPrf: number; ccSum: number; nPred: number;
}

interface Bin { dMin: number; dMax: number; full: number; part: number; over: number; ice: number; nSum: number; nPrf: number; bg: number; nBg: number; ioSum: number; ioPrf: number; cc: number }

function emptyBin(): Bin {
  return { dMin: Infinity, dMax: 0, full: 0, part: 0, over: 0, ice: 0, nSum: 0, nPrf: 0, bg: 0, nBg: 0, ioSum: 0, ioPrf: 0, cc: 0 };
}

function addTo(b: Bin, d: number, partiality: number, flags: number, r: IntegrationResults, k: number): void {
  b.dMin = Math.min(b.dMin, d); b.dMax = Math.max(b.dMax, d);
  if (partiality >= 0.99) b.full++; else b.part++;
  if (flags & Flags.overloaded) b.over++;
  if (flags & Flags.in_powder_ring) b.ice++;
  if (!(flags & Flags.failed_during_background_modelling)) { b.bg += r.bgMean[k]; b.nBg++; }
  if (flags & Flags.integrated_sum && r.vSum[k] > 0) { b.nSum++; b.ioSum += r.iSum[k] / Math.sqrt(r.vSum[k]); }
  if (flags & Flags.integrated_prf && r.vPrf[k] > 0) { b.nPrf++; b.ioPrf += r.iPrf[k] / Math.sqrt(r.vPrf[k]); b.cc += r.cc[k]; }
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');

function row(b: Bin, label: string): string {
  const cols = [label, String(b.full), String(b.part), String(b.over), String(b.ice), String(b.nSum), String(b.nPrf),
    f2(b.bg / b.nBg), f2(b.ioSum / b.nSum), f2(b.ioPrf / b.nPrf), f2(b.cc / b.nPrf)];
  const w = [8, 9, 9, 8, 6, 8, 8, 7, 10, 10, 8];
  return cols.map((c, i) => c.padStart(w[i])).join(' ');
}

const HEADER = ['   d min', '   # full', '   # part', '  # over', ' # ice', '   # sum', '   # prf', '    Ibg', '  I/sigI', '  I/sigI', '  CC prf'].join(' ')
  + '\n' + ['        ', '         ', '         ', '        ', '      ', '        ', '        ', '       ', '    (sum)', '    (prf)', '        '].join(' ');

/**
 * One experiment's summary, taken while its per-prediction results are still at hand (the output
 * table keeps only the integrated rows).
 */
export function experimentSummary(s: Summary, nBins = 10): ExperimentSummary {
  const tables: { title: string; text: string }[] = [];
  const plots: Record<string, PlotData> = {};
  const r = s.results, n = s.d.length;
  // equal-volume bins in 1/d³ between the extreme resolutions
  let dmin = Infinity, dmax = 0;
  for (let k = 0; k < n; k++) { const d = s.d[k]; dmin = Math.min(dmin, d); dmax = Math.max(dmax, d); }
  const v0 = 1 / dmax ** 3, v1 = 1 / dmin ** 3;
  const bins = Array.from({ length: nBins }, emptyBin);
  const overall = emptyBin();
  for (let k = 0; k < n; k++) {
    const d = s.d[k], fl = r.flags[k] >>> 0;
    const b = Math.min(nBins - 1, Math.max(0, Math.floor(((1 / d ** 3 - v0) / (v1 - v0)) * nBins)));
    addTo(bins[b], d, s.partiality[k], fl, r, k);
    addTo(overall, d, s.partiality[k], fl, r, k);
  }
  const lines = [HEADER];
  for (const b of bins) if (b.full + b.part > 0) lines.push(row(b, f2(b.dMin)));
  tables.push({ title: `Summary vs resolution, experiment ${s.id}`, text: lines.join('\n') });
  tables.push({ title: `Summary for experiment ${s.id}`, text: [HEADER, row(overall, 'overall')].join('\n') });
  const used = bins.filter((b) => b.nSum > 0);
  plots[`i_over_sigma_vs_resolution_${s.id}`] = {
    title: `⟨I/σ(I)⟩ by resolution (experiment ${s.id})`, xLabel: 'resolution (Å)', yLabel: '⟨I/σ(I)⟩', kind: 'line', xTickFormat: 'd_from_s2',
    x: used.map((b) => 1 / (0.5 * (b.dMin + b.dMax)) ** 2),
    series: [{ label: 'summation', y: used.map((b) => b.ioSum / b.nSum) }, { label: 'profile fitting', y: used.map((b) => (b.nPrf ? b.ioPrf / b.nPrf : NaN)) }],
  };
  return { tables, plots, nSum: overall.nSum, nPrf: overall.nPrf, ioSum: overall.ioSum, ioPrf: overall.ioPrf, ccSum: overall.cc, nPred: s.predicted };
}

export function summaryTables(parts: ExperimentSummary[]): { tables: { title: string; text: string }[]; figures: Record<string, number>; plots: Record<string, PlotData> } {
  const tables: { title: string; text: string }[] = [];
  let nSum = 0, nPrf = 0, ioSum = 0, ioPrf = 0, ccSum = 0, nPred = 0;
  let plots: Record<string, PlotData> = {};
  for (const p of parts) {
    tables.push(...p.tables);
    plots = { ...plots, ...p.plots };
    nSum += p.nSum; nPrf += p.nPrf; ioSum += p.ioSum; ioPrf += p.ioPrf; ccSum += p.ccSum; nPred += p.nPred;
  }
  return {
    tables,
    figures: {
      n_predicted: nPred, n_integrated_sum: nSum, n_integrated_prf: nPrf,
      i_over_sigma_overall: nSum ? ioSum / nSum : 0, i_over_sigma_prf_overall: nPrf ? ioPrf / nPrf : 0, cc_prf_mean: nPrf ? ccSum / nPrf : 0,
    },
    plots,
  };
}
