/**
 * Issue 11 acceptance on real data: MyD88 3D-ED spots (DIALS tutorial), `process` entering at
 * index with the rotation axis as imported. The axis rule must fire and pick the inverted axis
 * (DIALS: RMSD_Z 0.553 → 0.301 images), and the report must show both RMSD_Z values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProgram } from '../../../src/cli.js';
import { packageRoot } from '../../../src/core/report/html.js';

test('MyD88: process picks the inverted rotation axis and reports both RMSD_Z', async () => {
  const data = path.join(packageRoot(), 'regression-data', 'indexing');
  const dir = mkdtempSync(path.join(tmpdir(), 'xf-myd88-'));
  copyFileSync(path.join(data, 'myd88_imported_axis_pos.expt'), path.join(dir, 'imported.expt'));
  writeFileSync(path.join(dir, 'strong.refl'), gunzipSync(readFileSync(path.join(data, 'myd88_strong.refl.gz'))));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await runProgram('process', ['imported.expt', 'strong.refl', 'index.detector.fix=distance', 'index.goniometer.fix=None', 'stop_after=index', 'output.log=xtalflow.log']);
    assert.equal(code, 0);
  } finally {
    process.chdir(cwd);
  }
  const html = readFileSync(path.join(dir, 'xtalflow.html'), 'utf8');
  const run = JSON.parse(/<script type="application\/json" id="xtalflow-data">(.*?)<\/script>/s.exec(html)![1]);
  const check = run.decisions.find((d: { rule: string }) => d.rule === 'rotation_axis_check');
  const axis = run.decisions.find((d: { rule: string }) => d.rule === 'rotation_axis');
  assert.equal(check.choice, true);
  assert.equal(axis.choice, 'inverted');
  const zPos = axis.figures.rmsd_z_original as number, zNeg = axis.figures.rmsd_z_inverted as number;
  assert.ok(zNeg < 0.8 * zPos, `RMSD_Z ${zNeg} vs ${zPos}`);
  assert.ok(zNeg < 0.4 && zPos > 0.4, `RMSD_Z inverted ${zNeg}, as imported ${zPos} (DIALS 0.301, 0.553)`);
  assert.ok(axis.figures.indexed_inverted > 85, `indexed ${axis.figures.indexed_inverted} % (DIALS 89 %)`);
  assert.ok(html.includes(`rmsd_z_original=${Number(zPos.toPrecision(4))}`) && html.includes(`rmsd_z_inverted=${Number(zNeg.toPrecision(4))}`));
});
