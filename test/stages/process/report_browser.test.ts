/**
 * The process report in a real browser: headless Chromium renders it, takes a screenshot, and
 * the rendered DOM holds every plot with its drawn series. Skips only when Chromium is absent
 * (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMachine } from '../../../src/stages/process/run.js';
import { processReportHtml } from '../../../src/stages/process/report.js';
import type { StepRequest, StepResult } from '../../../src/stages/process/context.js';

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('which', [c]).status === 0);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

test('report renders in headless Chromium with every plot present', { skip: chromium ? false : 'chromium not installed' }, async () => {
  const runner = async (req: StepRequest): Promise<StepResult> => {
    const line = (title: string) => ({ title, xLabel: 'image', yLabel: 'value', kind: 'line' as const, x: [1, 2, 3, 4], series: [{ label: 'a', y: [1, 3, 2, 4] }] });
    switch (req.step) {
      case 'find_spots': return { figures: { plots: { spots: { ...line('Spots per image'), kind: 'bar' } } }, files: {} };
      case 'index': return { figures: { percent_indexed: 99, rmsd_x_px: 0.1, rmsd_y_px: 0.1, rmsd_z_images: 0.05, n_spots: 1000, indexed_per_lattice: [990] }, files: {} };
      case 'refine_bravais_settings': return { figures: { settings: [{ settingId: 1, lattice: 'aP', recommended: true, rmsd: 0.1, metricFitDeg: 0, cbOp: 'a,b,c' }] }, files: {} };
      case 'refine': return { figures: { plots: { rmsd: line('RMSDs per image') } }, files: {} };
      case 'scale': return { figures: { plots: { scale: line('Scale vs rotation') } }, files: {} };
      case 'estimate_resolution': return { figures: { d_min_cc_half: 2.0, d_min_data: 1.9, plots: { cc: { ...line('CC½ vs resolution'), markers: [{ x: 2.5, label: 'cut' }] } } }, files: {} };
      default: return { figures: {}, files: {} };
    }
  };
  const out = await runMachine({ entry: 'import', files: {}, options: { spaceGroup: null, unitCell: null, lattice: null, dMin: null, anomalous: false, multiCrystal: 'auto', ccHalf: 0.3, absorptionLevel: null, stopAfter: null, minIndexedPercent: 80 } }, runner);
  const dir = mkdtempSync(path.join(tmpdir(), 'xf-browser-'));
  const html = path.join(dir, 'xtalflow.html');
  writeFileSync(html, processReportHtml(out.context, { finalState: out.finalState, command: 'xtalflow process' }));
  const png = path.join(dir, 'shot.png');
  const common = [...FLAGS, `--user-data-dir=${path.join(dir, 'profile')}`, '--window-size=1200,2400'];
  const shot = spawnSync(chromium!, [...common, `--screenshot=${png}`, `file://${html}`], { timeout: 60_000 });
  assert.equal(shot.status, 0, shot.stderr?.toString());
  assert.ok(statSync(png).size > 20_000, 'screenshot has content');
  assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');
  const dom = spawnSync(chromium!, [...common, '--dump-dom', `file://${html}`], { timeout: 60_000 }).stdout.toString();
  const figures = dom.match(/<figure id="plot-[^"]+">/g) ?? [];
  assert.equal(figures.length, 4);
  for (const t of ['Spots per image', 'RMSDs per image', 'Scale vs rotation', 'CC½ vs resolution']) assert.ok(dom.includes(`aria-label="${t}"`), t);
  assert.equal((dom.match(/class="series"/g) ?? []).length, 4);
  assert.ok(dom.includes('class="marker"'));
});
