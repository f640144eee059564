/**
 * The process report: summary (cell, space group, resolution, merging table), every decision
 * with the figures that made it, plots and tables from every stage, warnings.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderHtml, packageRoot } from '../../core/report/html.js';
import type { PlotData } from '../../core/report/plot.js';
import type { ProcessContext } from './context.js';

function isPlot(v: unknown): v is PlotData {
  const p = v as PlotData;
  return !!p && typeof p === 'object' && Array.isArray(p.x) && Array.isArray(p.series) && typeof p.title === 'string';
}

function choiceText(c: unknown): string {
  if (c === null || c === undefined) return 'none';
  if (typeof c === 'object') {
    const o = c as Record<string, unknown>;
    if (typeof o.lattice === 'string') return `${o.lattice} (${String(o.cbOp ?? '')})`;
    if (typeof o.method === 'string') return `${o.method}${o.relaxedSpots ? ', relaxed spots' : ''}${(o.maxLattices as number) > 1 ? `, max_lattices=${o.maxLattices}` : ''}`;
    return JSON.stringify(c);
  }
  return String(c);
}

function version(): string {
  try { return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version; } catch { return '?'; }
}

/** Last value of a figure over the steps, latest step first. */
function latest(ctx: ProcessContext, name: string): unknown {
  const keys = Object.keys(ctx.figures);
  for (let i = keys.length - 1; i >= 0; i--) {
    const v = ctx.figures[keys[i]][name];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

export function processReportHtml(ctx: ProcessContext, opts: { finalState: string; command: string }): string {
  const plots: { id: string; plot: PlotData }[] = [];
  const stages = Object.entries(ctx.figures).map(([key, figs]) => {
    const scalar: { name: string; value: unknown }[] = [];
    for (const [name, v] of Object.entries(figs)) {
      if (name === 'plots' && v && typeof v === 'object') {
        for (const [pid, p] of Object.entries(v as Record<string, unknown>)) if (isPlot(p)) plots.push({ id: `${key.replace('#', '-')}-${pid}`, plot: p });
      } else if (typeof v !== 'object' || v === null || (Array.isArray(v) && v.length <= 12 && v.every((x) => typeof x !== 'object'))) {
        scalar.push({ name, value: v });
      }
    }
    return { key, figures: scalar, tables: ctx.tables.filter((t) => t.step === key), open: false };
  });
  const cell = latest(ctx, 'unit_cell');
  const summary = [
    { label: 'Space group', value: String(latest(ctx, 'space_group') ?? '–') },
    { label: 'Unit cell (Å, °)', value: Array.isArray(cell) ? (cell as number[]).map((x) => x.toFixed(3)).join(' ') : '–' },
    { label: 'Resolution (Å)', value: String(latest(ctx, 'resolution_range') ?? latest(ctx, 'd_min') ?? '–') },
    { label: 'Lattice', value: ctx.lattice ? `${ctx.lattice.lattice} (${ctx.lattice.cbOp})` : '–' },
    { label: 'Multi-crystal path', value: ctx.multiCrystal ? 'yes (cosym)' : 'no' },
    { label: 'Rotation axis', value: ctx.indexing.axis },
    { label: 'Last stage', value: String(ctx.lastStep ?? '–') },
  ];
  const summaryTables = ctx.tables.filter((t) => /summary of merging statistics/i.test(t.title)).slice(-1);
  return renderHtml('xtalflow', {
    title: String(latest(ctx, 'space_group') ?? ''),
    generated: new Date().toISOString(),
    version: version(),
    command: opts.command,
    status: opts.finalState === 'done' ? 'done' : 'stopped',
    statusText: opts.finalState === 'done' ? 'finished' : 'stopped before the end',
    failure: ctx.failure,
    summary,
    summaryTables,
    warnings: ctx.warnings,
    decisions: ctx.decisions.map((d, i) => ({ index: i + 1, rule: d.rule, choice: choiceText(d.choice), reason: d.reason, figures: d.figures })),
    plots,
    stages,
    data: { decisions: ctx.decisions, figures: ctx.figures, files: ctx.files, options: ctx.options },
  });
}
