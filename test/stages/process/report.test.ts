/** The process report: every decision with its figures, plots present as SVG, valid HTML. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HtmlValidate } from 'html-validate';
import { runMachine } from '../../../src/stages/process/run.js';
import { processReportHtml } from '../../../src/stages/process/report.js';
import type { StepRequest, StepResult } from '../../../src/stages/process/context.js';
import type { PlotData } from '../../../src/core/report/plot.js';
import { niceTicks, renderSvg } from '../../../src/core/report/plot.js';

const ccPlot: PlotData = {
  title: 'CC½ vs resolution', xLabel: 'Resolution (Å)', yLabel: 'CC½', kind: 'line', xTickFormat: 'd_from_s2',
  x: [0.01, 0.05, 0.1, 0.15, 0.2, 0.25], series: [{ label: 'CC½', y: [1, 0.99, 0.97, 0.8, 0.45, 0.1] }, { label: 'fit', y: [1, 0.995, 0.96, 0.82, 0.44, 0.12] }],
  markers: [{ x: 0.21, label: 'cut 2.18 Å' }],
};

async function fakeRun() {
  const runner = async (req: StepRequest): Promise<StepResult> => {
    switch (req.step) {
      case 'find_spots': return { figures: { n_spots: 500, plots: { spots: { title: 'Spots per image', xLabel: 'image', yLabel: 'spots', kind: 'bar', x: [1, 2, 3], series: [{ label: 'strong', y: [150, 170, 180] }] } } }, files: {} };
      case 'index': return { figures: { percent_indexed: 89, rmsd_x_px: 0.507, rmsd_y_px: 0.656, rmsd_z_images: 0.553, n_spots: 646, indexed_per_lattice: [575] }, files: {} };
      case 'index_inverted': return { figures: { percent_indexed: 89, rmsd_x_px: 0.518, rmsd_y_px: 0.668, rmsd_z_images: 0.301, n_spots: 645, indexed_per_lattice: [574] }, files: {} };
      case 'refine_bravais_settings': return { figures: { settings: [{ settingId: 1, lattice: 'aP', recommended: true, rmsd: 0.1, metricFitDeg: 0, cbOp: 'a,b,c' }] }, files: {} };
      case 'estimate_resolution': return { figures: { d_min_cc_half: 2.18, d_min_data: 1.9, plots: { cc: ccPlot } }, files: {}, tables: [{ title: 'Summary of merging statistics', text: 'Overall  Low  High\nCC½ 0.99 1.0 0.3' }] };
      default: return { figures: {}, files: {} };
    }
  };
  return runMachine({
    entry: 'import', files: {},
    options: { spaceGroup: null, unitCell: null, lattice: null, dMin: null, anomalous: false, multiCrystal: 'auto', ccHalf: 0.3, absorptionLevel: null, stopAfter: null, minIndexedPercent: 80 },
  }, runner);
}

test('report lists every decision with its figures and draws every plot', async () => {
  const out = await fakeRun();
  const html = processReportHtml(out.context, { finalState: out.finalState, command: 'xtalflow process images/' });
  for (const d of out.context.decisions) assert.ok(html.includes(d.rule), d.rule);
  assert.match(html, /rmsd_z_original=0\.553/);
  assert.match(html, /rmsd_z_inverted=0\.301/);
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.match(html, /class="marker"/);
  assert.match(html, /Summary of merging statistics/);
  const data = JSON.parse(/<script type="application\/json" id="xtalflow-data">(.*?)<\/script>/s.exec(html)![1]);
  assert.equal(data.decisions.length, out.context.decisions.length);
});

test('report is valid HTML (html-validate, recommended rules)', async () => {
  const out = await fakeRun();
  const html = processReportHtml(out.context, { finalState: out.finalState, command: 'xtalflow process images/' });
  const v = new HtmlValidate({ extends: ['html-validate:recommended'], rules: { 'no-inline-style': 'off', 'long-title': 'off' } });
  const r = await v.validateString(html);
  const msgs = r.results.flatMap((x) => x.messages.map((m) => `${m.line}:${m.column} ${m.ruleId} ${m.message}`));
  assert.deepEqual(msgs, []);
});

test('plot axes: nice ticks and 1/d² axes labelled in Å', () => {
  const t = niceTicks(0, 1);
  assert.equal(t.length, 6);
  t.forEach((v, i) => assert.ok(Math.abs(v - 0.2 * i) < 1e-12));
  assert.deepEqual(niceTicks(3, 97), [20, 40, 60, 80]);
  const svg = renderSvg(ccPlot);
  assert.match(svg, />2\.24</); // tick at 1/d² = 0.2 → d = 2.24 Å
  assert.match(svg, /data-series="fit"/);
});
