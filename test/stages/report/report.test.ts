/** `xtalflow report` on real DIALS files (centroid test data): counts agree with DIALS' own flag counts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HtmlValidate } from 'html-validate';
import { readRefl } from '../../../src/core/io/refl.js';
import { readExperiments } from '../../../src/core/io/expt.js';
import { run } from '../../../src/stages/report/index.js';
import { runProgram } from '../../../src/cli.js';
import { packageRoot } from '../../../src/core/report/html.js';

const root = packageRoot();
const data = (f: string) => path.join(root, 'regression-data', f);
const reference = JSON.parse(readFileSync(data('refl/centroid_test_data.reference.json'), 'utf8')).figures;

test('spot and indexing counts match DIALS flag counts; residual and intensity sections present', async () => {
  const expts = await readExperiments(data('expt/centroid_indexed.expt'));
  const indexed = await readRefl(data('refl/centroid_test_data_indexed.refl.gz'));
  const r = run(expts, indexed);
  const spots = r.outputs.sections.find((s) => s.title === 'Spots per image')!;
  const [all, idx] = spots.plots[0].series;
  assert.equal(all.y.reduce((a, b) => a + b, 0), reference['indexed.refl'].rows);
  assert.equal(idx.y.reduce((a, b) => a + b, 0), reference['indexed.refl'].flag_counts.indexed);
  const resid = r.outputs.sections.find((s) => s.title === 'Centroid residuals')!;
  assert.match(resid.text!, new RegExp(`\\| ${reference['indexed.refl'].flag_counts.used_in_refinement} \\|`));
  const integrated = await readRefl(data('refl/centroid_test_data_integrated.refl.gz'));
  const ri = run(expts, integrated);
  const ints = ri.outputs.sections.find((s) => s.title === 'Intensities by resolution')!;
  const isig = ints.plots[0].series[0].y;
  // Signal falls with resolution: the inner shell is far stronger than the outer.
  assert.ok(isig[0] > 10 * isig[isig.length - 1]);
});

test('the program writes a valid HTML file with plots', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xf-report-'));
  const out = path.join(dir, 'r.html');
  const code = await runProgram('report', [data('expt/centroid_indexed.expt'), data('refl/centroid_test_data_integrated.refl.gz'), `output.html=${out}`, `output.log=${path.join(dir, 'r.log')}`]);
  assert.equal(code, 0);
  const html = readFileSync(out, 'utf8');
  assert.ok((html.match(/<svg /g) ?? []).length >= 3);
  const v = new HtmlValidate({ extends: ['html-validate:recommended'], rules: { 'no-inline-style': 'off', 'long-title': 'off' } });
  const res = await v.validateString(html);
  assert.deepEqual(res.results.flatMap((x) => x.messages.map((m) => `${m.ruleId} ${m.message}`)), []);
  assert.equal(await runProgram('report', [path.join(dir, 'missing.expt'), `output.log=${path.join(dir, 'r2.log')}`]), 1);
});
