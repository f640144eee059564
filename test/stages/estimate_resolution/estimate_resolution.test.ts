import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLog } from '../../../src/core/log.js';
import { resolveParams as scaleParams, run as scale } from '../../../src/stages/scale/index.js';
import { resolutionHtml, resolveParams, run } from '../../../src/stages/estimate_resolution/index.js';
import { loadLCysteineRegression } from '../scale/data.js';

test('estimate_resolution on scaled l-cysteine: tables, figures for process, and an HTML plot', () => {
  const ds = loadLCysteineRegression();
  const scaled = scale(ds, scaleParams({ 'symmetry.space_group': 'P 21 21 21', 'cut_data.d_min': 0.7 }), silentLog);
  const r = run({ ...ds, experiments: scaled.outputs.experiments, reflections: scaled.outputs.reflections }, resolveParams({ 'resolution.misigma': 1, 'resolution.n_bins': 30 }), silentLog);
  assert.equal(r.outputs.points.length, 30);
  assert.ok(Math.abs((r.figures.d_min_data as number) - 0.7) < 0.01, `data edge ${r.figures.d_min_data}`);
  assert.ok(typeof r.figures.d_min_cc_half === 'number');
  assert.ok(Object.keys(r.figures).some((k) => k.startsWith('d_min_mn')), Object.keys(r.figures).join(' '));
  assert.match(r.tables.map((t) => t.text).join('\n'), /Resolution cc_half \(limit 0\.3\): 0\.70/);
  const html = resolutionHtml(r.outputs);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<svg[^>]*role="img"/);
  assert.match(html, /<polyline fill="none" stroke="#d62728"/);
  assert.ok((html.match(/<circle /g) ?? []).length >= 25);
});
