/**
 * Real images (regression-data/integrate: three images of the simulated lysozyme sweep with
 * DIALS' refined models cut to them): the program end to end, identical results for nproc = 1
 * and nproc = 2, DIALS-readable output columns, and the one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readExperiments } from '../../../src/core/io/expt.js';
import { readRefl } from '../../../src/core/io/refl.js';
import { silentLog, memoryLog } from '../../../src/core/log.js';
import { UserError } from '../../../src/core/errors.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { run, resolveParams, program } from '../../../src/stages/integrate/index.js';
import { defaults } from '../../../src/core/params/index.js';
import { PARAMS } from '../../../src/stages/integrate/index.js';

const R = new URL('../../../regression-data/integrate/', import.meta.url).pathname;
const EXPT = R + 'lysozyme_3images.expt', REFL = R + 'lysozyme_3images_refined.refl';

async function integrate(nproc: number) {
  const experiments = await readExperiments(EXPT);
  const strong = await readRefl(REFL);
  return run(experiments, strong, resolveParams({ nproc, 'integration.block.size': 0.5 }), { log: silentLog, dir: R });
}

test('nproc = 1 and nproc = 2 give identical tables', async () => {
  const a = await integrate(1), b = await integrate(2);
  const ta = a.outputs.reflections, tb = b.outputs.reflections;
  assert.ok(ta.nrows > 500, `${ta.nrows} rows`);
  assert.equal(ta.nrows, tb.nrows);
  assert.deepEqual(ta.columnNames().sort(), tb.columnNames().sort());
  for (const c of ta.columnNames()) assert.deepEqual(ta.get(c), tb.get(c), `column ${c}`);
  assert.deepEqual(a.figures.n_integrated_sum, b.figures.n_integrated_sum);
  assert.ok((a.figures.n_integrated_prf as number) > 0.8 * (a.figures.n_integrated_sum as number));
});

test('the program writes integrated.expt/.refl with DIALS\' columns and the profile model', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-integrate-'));
  try {
    const params = { ...defaults(PARAMS), nproc: 1, 'output.experiments': path.join(dir, 'integrated.expt'), 'output.reflections': path.join(dir, 'integrated.refl') };
    const log = memoryLog();
    await program.main({ files: [EXPT, REFL], params, log, verbose: false });
    const t = await readRefl(path.join(dir, 'integrated.refl'));
    for (const c of ['miller_index', 'id', 'panel', 'flags', 'bbox', 's1', 'xyzcal.px', 'xyzcal.mm', 'xyzobs.px.value', 'partiality', 'partial_id', 'lp', 'qe', 'd',
      'intensity.sum.value', 'intensity.sum.variance', 'intensity.prf.value', 'intensity.prf.variance', 'profile.correlation', 'background.mean', 'entering']) {
      assert.ok(t.has(c), `column ${c}`);
    }
    const e = await readExperiments(path.join(dir, 'integrated.expt'));
    assert.equal(e.length, 1);
    assert.ok(e[0].crystal && e[0].profile && (e[0].profile as { sigma_b: number }).sigma_b > 0);
    assert.ok(log.lines.some((l) => /sigma b: \d/.test(l)) && log.lines.some((l) => /sigma m: \d/.test(l)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable image is reported with its number and file, nothing written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-integrate-bad-'));
  try {
    for (const i of [1, 3]) copyFileSync(R + `sim_000${i}.cbf.gz`, path.join(dir, `sim_000${i}.cbf.gz`));
    const good = readFileSync(R + 'sim_0002.cbf.gz');
    writeFileSync(path.join(dir, 'sim_0002.cbf.gz'), good.subarray(0, 5000)); // truncated
    const expt = JSON.parse(readFileSync(EXPT, 'utf8'));
    writeFileSync(path.join(dir, 'in.expt'), JSON.stringify(expt));
    const params = { ...defaults(PARAMS), nproc: 1, 'output.experiments': path.join(dir, 'integrated.expt'), 'output.reflections': path.join(dir, 'integrated.refl') };
    await assert.rejects(program.main({ files: [path.join(dir, 'in.expt'), REFL], params, log: silentLog, verbose: false }),
      (e: Error) => e instanceof UserError && /image 2\b/.test(e.message) && e.message.includes('sim_0002.cbf.gz') && !e.message.includes('\n'));
    assert.ok(!existsSync(path.join(dir, 'integrated.refl')) && !existsSync(path.join(dir, 'integrated.expt')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiments without a crystal are refused with a clear error', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-integrate-nocrystal-'));
  try {
    const expt = JSON.parse(readFileSync(EXPT, 'utf8'));
    delete expt.crystal;
    delete expt.experiment[0].crystal;
    for (const i of [1, 2, 3]) copyFileSync(R + `sim_000${i}.cbf.gz`, path.join(dir, `sim_000${i}.cbf.gz`));
    writeFileSync(path.join(dir, 'imported.expt'), JSON.stringify(expt));
    const params = { ...defaults(PARAMS), nproc: 1 };
    await assert.rejects(program.main({ files: [path.join(dir, 'imported.expt'), REFL], params, log: silentLog, verbose: false }),
      (e: Error) => e instanceof UserError && /no crystal model/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overlaps: a neighbour in the background is masked, not flagged; shared foregrounds are flagged', async () => {
  const t = (await integrate(1)).outputs.reflections;
  const fl = t.sizeT('flags'), bb = t.int6('bbox'), nBg = t.int('num_pixels.background');
  const flagged = (i: number, f: number) => ((fl[i] >>> 0) & f) !== 0;
  let nFg = 0;
  for (let i = 0; i < t.nrows; i++) {
    assert.ok(!flagged(i, Flags.overlapped_bg), `row ${i} flagged overlapped_bg`);
    if (flagged(i, Flags.overlapped_fg)) nFg++;
  }
  assert.ok(nFg > 0 && nFg < 0.1 * t.nrows, `${nFg} of ${t.nrows} with a shared foreground`);
  // a shared foreground needs, at the least, another shoebox intersecting this one
  const intersects = (i: number, j: number) => [0, 2, 4].every((a) => bb[6 * i + a] < bb[6 * j + a + 1] && bb[6 * j + a] < bb[6 * i + a + 1]);
  for (let i = 0; i < t.nrows; i++) {
    if (!flagged(i, Flags.overlapped_fg)) continue;
    let any = false;
    for (let j = 0; j < t.nrows && !any; j++) any = j !== i && intersects(i, j);
    assert.ok(any, `row ${i} flagged overlapped_fg with no intersecting shoebox`);
  }
  assert.ok(Array.from(nBg).every((v) => v > 0));
});
