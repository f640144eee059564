/**
 * `xtalflow estimate_resolution scaled.expt scaled.refl` — resolution limit from the merging
 * statistics of scaled data: CC½ (tanh fit, limit 0.3 by default), and on request Mn(I/σ) and
 * I/σ limits (src/core/resolution). Prints the per-shell table and the estimates, and writes the
 * plot data (JSON) and a small self-contained HTML page with the CC½ curve and its fit.
 */
import { writeFileAtomic } from '../../core/io/atomic.js';
import type { Log } from '../../core/log.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { UserError } from '../../core/errors.js';
import { loadDataset, type Dataset } from '../../core/stats/dataset.js';
import { mergingStatistics, type MergingStatistics } from '../../core/stats/merging.js';
import { completeSet, prepareIntensities, toObservations } from '../../core/stats/prepare.js';
import { SpaceGroup } from '../../core/symmetry/spacegroup.js';
import { formatTable } from '../../core/table.js';
import { estimateResolution, shellS, type ResolutionEstimate, type ShellPoint } from '../../core/resolution/index.js';

export const PARAMS: ParamDef[] = [
  { name: 'resolution.cc_half', type: 'float', default: 0.3, allowNone: true, min: 0, max: 1, help: 'CC½ limit read off the tanh fit (None: not used)', aliases: ['cc_half'] },
  { name: 'resolution.misigma', type: 'float', default: null, allowNone: true, min: 0, help: 'Mn(I/σ) limit of merged intensities (None: not used)', aliases: ['misigma'] },
  { name: 'resolution.isigma', type: 'float', default: null, allowNone: true, min: 0, help: 'I/σ limit of unmerged intensities (None: not used)', aliases: ['isigma'] },
  { name: 'resolution.n_bins', type: 'int', default: 50, min: 5, help: 'Resolution shells (equal reciprocal volume) for the fits', aliases: ['n_bins'] },
  { name: 'symmetry.space_group', type: 'str', default: null, allowNone: true, help: 'Space group to merge in (default: that of the experiments)' },
  { name: 'output.json', type: 'path', default: 'estimate_resolution.json', allowNone: true, help: 'Estimates and plot data (None: not written)' },
  { name: 'output.html', type: 'path', default: 'estimate_resolution.html', allowNone: true, help: 'HTML page with the CC½ plot (None: not written)' },
];

export interface ResolutionParams { ccHalf: number | null; misigma: number | null; isigma: number | null; nBins: number; spaceGroup: string | null }

export function resolveParams(p: Params): ResolutionParams {
  return {
    ccHalf: p['resolution.cc_half'] === undefined ? 0.3 : p['resolution.cc_half'],
    misigma: p['resolution.misigma'] ?? null,
    isigma: p['resolution.isigma'] ?? null,
    nBins: p['resolution.n_bins'] ?? 50,
    spaceGroup: p['symmetry.space_group'] ?? null,
  };
}

export interface ResolutionOutputs {
  statistics: MergingStatistics;
  points: ShellPoint[];
  estimates: ResolutionEstimate[];
}

export function run(ds: Dataset, params: ResolutionParams, log: Log): StageResult<ResolutionOutputs> {
  if (params.ccHalf === null && params.misigma === null && params.isigma === null) throw new UserError('no resolution criterion: set cc_half, misigma or isigma');
  const sg = params.spaceGroup ? SpaceGroup.find(params.spaceGroup) : ds.spaceGroup;
  const prep = prepareIntensities(ds.reflections, ds.d, { intensity: 'scale' }, 'scaled reflections');
  log.info(`Selected ${prep.rows.length} scaled reflections (${prep.kind} intensities)`);
  const obs = toObservations(ds.reflections.miller('miller_index'), prep.rows, prep.I, prep.sigma, sg, ds.cell);
  let lo = Infinity, hi = 0;
  for (const d of obs.d) { if (d < lo) lo = d; if (d > hi) hi = d; }
  const st = mergingStatistics(obs, completeSet(sg, ds.cell, lo, hi), { nBins: params.nBins, dMin: lo, dMax: hi });
  // unmerged ⟨I/σ⟩ per shell for the isigma criterion
  const sumIs = new Float64Array(st.bins.length), cnt = new Float64Array(st.bins.length);
  for (let i = 0; i < obs.d.length; i++) {
    const d = obs.d[i];
    const k = st.bins.findIndex((b) => d <= b.dMax * (1 + 1e-9) && d >= b.dMin * (1 - 1e-9));
    if (k >= 0) { sumIs[k] += obs.I[i] / obs.sigma[i]; cnt[k]++; }
  }
  const points: ShellPoint[] = st.bins.map((b, k) => ({
    dMax: b.dMax, dMin: b.dMin, ccHalf: b.nUnique >= 3 && b.nObs > b.nUnique ? b.ccHalf : NaN,
    meanIsigma: b.meanIOverSigma, isigma: cnt[k] ? sumIs[k] / cnt[k] : NaN, nUnique: b.nUnique,
  }));
  const estimates = estimateResolution(points, { ccHalf: params.ccHalf, misigma: params.misigma, isigma: params.isigma });
  const table = formatTable(['d_max', 'd_min', '1/d²', '#obs', '#uniq', 'CC½', 'CC½ fit', 'Mn(I/σ)', 'I/σ'], points.map((p, k) => [
    p.dMax.toFixed(2), p.dMin.toFixed(2), shellS(p).toFixed(4), st.bins[k].nObs, p.nUnique,
    Number.isFinite(p.ccHalf) ? p.ccHalf.toFixed(3) : '-',
    estimates.find((e) => e.criterion === 'cc_half')?.fitted[k]?.toFixed(3) ?? '-',
    p.meanIsigma.toFixed(1), Number.isFinite(p.isigma) ? p.isigma.toFixed(1) : '-',
  ]));
  const lines = estimates.map((e) => `Resolution ${e.criterion} (limit ${e.limit}): ${e.dMin === null ? 'none (criterion not met in any shell)' : e.dMin.toFixed(2)}${e.atDataLimit ? ' (the edge of the data)' : ''}`);
  const figures: StageResult['figures'] = { d_min_data: lo, d_max_data: hi };
  for (const e of estimates) figures[`d_min_${e.criterion.replace(/[^a-z]/gi, '_').toLowerCase()}`] = e.dMin;
  return { outputs: { statistics: st, points, estimates }, figures, tables: [{ title: 'Resolution shells', text: table }, { title: 'Resolution estimates', text: lines.join('\n') }] };
}

function esc(s: string): string { return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!); }

/** A self-contained page: CC½ against 1/d² with the tanh fit and the estimated limit. */
export function resolutionHtml(out: ResolutionOutputs): string {
  const W = 640, H = 360, m = 50;
  const s = out.points.map(shellS);
  const sMax = Math.max(...s) * 1.02;
  const X = (v: number) => m + ((W - 2 * m) * v) / sMax;
  const Y = (v: number) => H - m - (H - 2 * m) * Math.max(-0.1, Math.min(1.05, v));
  const cc = out.estimates.find((e) => e.criterion === 'cc_half');
  const dots = out.points.map((p, k) => (Number.isFinite(p.ccHalf) ? `<circle cx="${X(s[k]).toFixed(1)}" cy="${Y(p.ccHalf).toFixed(1)}" r="3" fill="#1f77b4"/>` : '')).join('');
  const fit = cc ? `<polyline fill="none" stroke="#d62728" stroke-width="2" points="${cc.fitted.map((v, k) => `${X(s[k]).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>` : '';
  const cut = cc?.dMin ? `<line x1="${X(1 / cc.dMin ** 2).toFixed(1)}" x2="${X(1 / cc.dMin ** 2).toFixed(1)}" y1="${m}" y2="${H - m}" stroke="#555" stroke-dasharray="4 3"/>` : '';
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${m - 8}" y="${Y(v) + 4}" text-anchor="end" font-size="11">${v}</text>`).join('');
  const xt = [0.25, 0.5, 0.75, 1].map((f) => { const v = f * sMax; return `<text x="${X(v)}" y="${H - m + 16}" text-anchor="middle" font-size="11">${(1 / Math.sqrt(v)).toFixed(2)} Å</text>`; }).join('');
  const est = out.estimates.map((e) => `<li>${esc(e.criterion)} (limit ${e.limit}): ${e.dMin === null ? 'none' : e.dMin.toFixed(2) + ' Å'}${e.atDataLimit ? ' (edge of the data)' : ''}</li>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>xtalflow estimate_resolution</title></head>
<body style="font-family:sans-serif">
<h1>Resolution estimate</h1>
<ul>${est}</ul>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="CC half against resolution">
<rect x="${m}" y="${m}" width="${W - 2 * m}" height="${H - 2 * m}" fill="none" stroke="#999"/>
${ticks}${xt}${dots}${fit}${cut}
<text x="${W / 2}" y="${H - 10}" text-anchor="middle" font-size="12">resolution (1/d² scale)</text>
<text x="14" y="${H / 2}" font-size="12" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">CC½</text>
</svg>
</body></html>
`;
}

export const program: Program = {
  name: 'estimate_resolution',
  summary: 'Estimate the resolution limit from CC½ and I/σ',
  usage: 'xtalflow estimate_resolution scaled.expt scaled.refl [cc_half=0.3] [misigma=1] [isigma=0.25]',
  params: PARAMS,
  async main(ctx) {
    const params = resolveParams(ctx.params);
    if (ctx.files.length === 0) throw new UserError('give the scaled experiments (.expt) and reflections (.refl)');
    const ds = await loadDataset(ctx.files);
    const result = run(ds, params, ctx.log);
    for (const t of result.tables) ctx.log.info(`\n${t.title}\n${t.text}`);
    const json = ctx.params['output.json'];
    if (json) await writeFileAtomic(json, JSON.stringify({ figures: result.figures, estimates: result.outputs.estimates, shells: result.outputs.points }, null, 1) + '\n');
    const html = ctx.params['output.html'];
    if (html) await writeFileAtomic(html, resolutionHtml(result.outputs));
    return { outputs: null, figures: result.figures, tables: result.tables };
  },
};
