/** `import` on shipped and shared images: sweeps, templates, directories, overrides, .expt round trip, reading images back. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, program, params as importParams, openImageSource } from '../../../src/stages/import/index.js';
import { parseCommandLine } from '../../../src/core/params/index.js';
import { readExperiments } from '../../../src/core/io/expt.js';
import { beamCentreOnPanel } from '../../../src/core/geometry/beam_centre.js';
import { Panel as PanelFns } from '../../../src/core/models/detector.js';
import { memoryLog } from '../../../src/core/log.js';
import { REGRESSION_IMAGES, SHARED_DATA, HAVE_SHARED, readJson, type PixelRef } from '../../core/formats/paths.js';
import { panelStats } from '../../core/formats/stats.js';


/** A scratch directory removed when the tests end. */
function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const P = (...words: string[]) => parseCommandLine(importParams, words).params;
const LCYST = path.join(REGRESSION_IMAGES, 'l_cysteine');
const expected = readJson<{ pixels: PixelRef[] }>(path.join(REGRESSION_IMAGES, 'expected.json')).pixels;

test('three consecutive full-CBF images form one sweep with a multi-axis goniometer', async () => {
  const r = await run([LCYST], P());
  assert.equal(r.outputs.experiments.length, 1);
  const e = r.outputs.experiments[0];
  assert.deepEqual(e.scan!.imageRange, [1, 3]);
  assert.deepEqual(e.scan!.oscillation, [-145, 0.1]);
  assert.equal(e.goniometer!.names!.join(','), 'PHI,OMEGA');
  assert.equal(e.goniometer!.scanAxis, 1);
  assert.ok(e.imageset!.template!.endsWith('l-cyst_01_#####.cbf.gz'));
  assert.equal(r.figures.n_images, 3);
  assert.equal(r.figures.n_sweeps, 1);
});

test('a template names the same sweep; image_range selects part of it', async () => {
  const r = await run([path.join(LCYST, 'l-cyst_01_#####.cbf.gz')], P('image_range=2,3'));
  const e = r.outputs.experiments[0];
  assert.deepEqual(e.scan!.imageRange, [2, 3]);
  close(e.scan!.oscillation[0], -144.9);
  const src = r.outputs.sweeps[0].source;
  assert.equal(src.length, 2);
  const img = await src.read(0);
  const ref = expected.find((x) => x.file.endsWith('l-cyst_01_00002.cbf.gz'))!;
  assert.equal(panelStats(img.panels[0]).sha256, ref.panels[0].sha256);
});

function close(a: number, b: number, tol = 1e-9) {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}

test('geometry overrides: distance, beam centre (fast/slow px and mosflm mm), wavelength, rotation axis', async () => {
  const smv = path.join(REGRESSION_IMAGES, 'smv', 'TIMEPIX_SU_516-stdgoni_0001.img');
  const a = (await run([smv], P('distance=2193', 'wavelength=0.0197', 'goniometer.axis=-107,-122,0', 'fast_slow_beam_centre=250.5,240.25'))).outputs.experiments[0];
  const p0 = a.detector!.panels[0];
  close(PanelFns.distance(p0), 2193, 1e-9);
  close(a.beam!.wavelength, 0.0197);
  const bc = beamCentreOnPanel(p0, a.beam!)!.xyMm;
  close(bc[0], 250.5 * 0.055, 1e-9);
  close(bc[1], 240.25 * 0.055, 1e-9);
  const n = Math.hypot(107, 122);
  close(a.goniometer!.rotationAxis[0], -107 / n);
  close(a.goniometer!.rotationAxis[1], -122 / n);
  const b = (await run([smv], P('mosflm_beam_centre=13.2,13.5', 'geometry.goniometer.axis=0,1,0'))).outputs.experiments[0];
  const bc2 = beamCentreOnPanel(b.detector!.panels[0], b.beam!)!.xyMm;
  close(bc2[0], 13.5, 1e-9);
  close(bc2[1], 13.2, 1e-9);
  assert.deepEqual(b.goniometer!.rotationAxis, [0, 1, 0]);
});

test('main writes imported.expt with relative templates; openImageSource reads the images back', async () => {
  const dir = tempDir('xtalflow-import-');
  const out = path.join(dir, 'sub', 'imported.expt');
  mkdirSync(path.dirname(out));
  const log = memoryLog();
  const files = [path.join(REGRESSION_IMAGES, 'smv', 'TIMEPIX_SU_512-stdgoni_0001.img'), ...['1', '2', '3'].map((n) => path.join(LCYST, `l-cyst_01_0000${n}.cbf.gz`))];
  const params = P(`output.experiments=${out}`);
  await program.main({ files, params, log, verbose: false });
  assert.ok(log.lines.some((l) => /sweep: {4}2/.test(l)), log.lines.join('\n'));
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(json.experiment.length, 2);
  for (const s of json.imageset) {
    assert.equal(s.__id__, 'ImageSequence');
    assert.ok(!path.isAbsolute(s.template), s.template);
  }
  const list = await readExperiments(out);
  const tp = list.find((e) => e.detector!.panels.length === 4)!;
  const src = await openImageSource(tp, path.dirname(out));
  const img = await src.read(0);
  const ref = expected.find((x) => x.file.endsWith('TIMEPIX_SU_512-stdgoni_0001.img'))!;
  img.panels.forEach((p, k) => assert.equal(panelStats(p).sha256, ref.panels[k].sha256));
  const cys = list.find((e) => e.detector!.panels.length === 1)!;
  const src2 = await openImageSource(cys, path.dirname(out));
  assert.equal(src2.length, 3);
  const third = await src2.read(2);
  assert.equal(panelStats(third.panels[0]).sha256, expected.find((x) => x.file.endsWith('l-cyst_01_00003.cbf.gz'))!.panels[0].sha256);
});

test('images copied under new numbers break the sweep where the oscillation jumps', async () => {
  const dir = tempDir('xtalflow-gap-');
  // Images 1 and 3 renamed as 1 and 2: consecutive numbers, but φ jumps by two widths.
  copyFileSync(path.join(LCYST, 'l-cyst_01_00001.cbf.gz'), path.join(dir, 'x_0001.cbf.gz'));
  copyFileSync(path.join(LCYST, 'l-cyst_01_00003.cbf.gz'), path.join(dir, 'x_0002.cbf.gz'));
  const r = await run([dir], P());
  assert.equal(r.outputs.experiments.length, 2);
});

test('shared l_cysteine: 60 images import as 4 sweeps of 15, each with its own multi-axis goniometer', { skip: HAVE_SHARED ? false : 'shared data not available' }, async () => {
  const dir = path.join(SHARED_DATA, 'l_cysteine');
  assert.ok(existsSync(dir));
  const r = await run([dir], P());
  assert.equal(r.outputs.experiments.length, 4);
  r.outputs.experiments.forEach((e, i) => {
    assert.deepEqual(e.scan!.imageRange, [1, 15]);
    assert.ok(e.imageset!.template!.endsWith(`l-cyst_0${i + 1}_#####.cbf.gz`));
    assert.ok(e.goniometer!.axes && e.goniometer!.axes.length === 2);
    close(e.scan!.oscillation[1], 0.1);
  });
  assert.equal(r.figures.n_images, 60);
});

/**
 * Compare our import with DIALS' imported.expt for the simulated sweeps (models DIALS wrote, not
 * our own output). With `firstImages`, only that many leading images were imported.
 */
async function compareWithDials(inputs: string[], referenceExpt: string, firstImages?: number) {
  const ours = (await run(inputs, P())).outputs.experiments;
  const theirs = await readExperiments(referenceExpt);
  assert.equal(ours.length, theirs.length);
  const key = (t?: string) => path.basename(t ?? '');
  for (const d of theirs) {
    const o = ours.find((e) => key(e.imageset!.template) === key(d.imageset!.template))!;
    assert.ok(o, `no sweep for ${d.imageset!.template}`);
    const range = firstImages ? [d.scan!.imageRange[0], d.scan!.imageRange[0] + firstImages - 1] : d.scan!.imageRange;
    assert.deepEqual(o.scan!.imageRange, range);
    o.scan!.oscillation.forEach((v, i) => close(v, d.scan!.oscillation[i], 1e-9));
    o.scan!.exposureTimes.forEach((v, i) => close(v, d.scan!.exposureTimes[i], 1e-9));
    o.scan!.epochs.forEach((v, i) => close(v, d.scan!.epochs[i], 1e-6));
    assert.deepEqual(o.detector!.hierarchy, d.detector!.hierarchy);
    close(o.beam!.wavelength, d.beam!.wavelength);
    o.beam!.direction.forEach((v, i) => close(v, d.beam!.direction[i]));
    close(o.beam!.polarizationFraction, d.beam!.polarizationFraction);
    o.goniometer!.rotationAxis.forEach((v, i) => close(v, d.goniometer!.rotationAxis[i]));
    const [po, pd] = [o.detector!.panels[0], d.detector!.panels[0]];
    po.origin.forEach((v, i) => close(v, pd.origin[i], 1e-9));
    po.fastAxis.forEach((v, i) => close(v, pd.fastAxis[i]));
    po.slowAxis.forEach((v, i) => close(v, pd.slowAxis[i]));
    assert.deepEqual(po.imageSize, pd.imageSize);
    assert.deepEqual(po.trustedRange, pd.trustedRange);
    assert.deepEqual(po.mask, pd.mask);
    close(po.thickness, pd.thickness);
    close(po.mu, pd.mu, 1e-3 * pd.mu);
    assert.equal(po.pxMmStrategy.type, pd.pxMmStrategy.type);
  }
}

test('shared simulated sweeps: models equal DIALS\' imported.expt (lysozyme 120 images; p41 4 crystals)', { skip: HAVE_SHARED ? false : 'shared data not available' }, async () => {
  const sim = path.join(SHARED_DATA, 'simulated');
  await compareWithDials([path.join(sim, 'lysozyme_sweep', 'images')], path.join(sim, 'lysozyme_sweep', 'dials_reference', 'imported.expt'));
  await compareWithDials([1, 2, 3, 4].map((k) => path.join(sim, 'p41_multi', `xtal_${k}`, 'images')), path.join(sim, 'p41_multi', 'dials_reference', 'imported.expt'));
});

test('sweeps with equal beam/detector/goniometer share the model objects (one entry each in the .expt)', async () => {
  const dir = tempDir('xtalflow-share-');
  copyFileSync(path.join(LCYST, 'l-cyst_01_00001.cbf.gz'), path.join(dir, 'a_0001.cbf.gz'));
  copyFileSync(path.join(LCYST, 'l-cyst_01_00002.cbf.gz'), path.join(dir, 'b_0001.cbf.gz'));
  const r = await run([dir], P());
  const [e1, e2] = r.outputs.experiments;
  assert.equal(r.outputs.experiments.length, 2);
  assert.equal(e1.detector, e2.detector);
  assert.equal(e1.beam, e2.beam);
  assert.notEqual(e1.scan, e2.scan);
});

test('a multi-panel sweep reads every panel through its ImageSource (Pilatus 12M: 24 panels)', async () => {
  const file = path.join(REGRESSION_IMAGES, 'cbf', 'DLS_I23_P12M_thau_00001.cbf.gz');
  const r = await run([file], P());
  const img = await r.outputs.sweeps[0].source.read(0);
  const ref = expected.find((x) => x.file.endsWith('DLS_I23_P12M_thau_00001.cbf.gz'))!;
  assert.equal(img.panels.length, 24);
  img.panels.forEach((p, k) => assert.equal(panelStats(p).sha256, ref.panels[k].sha256, `panel ${k}`));
});

test('slow_fast_beam_centre and its exclusivity with the other beam-centre overrides', async () => {
  const smv = path.join(REGRESSION_IMAGES, 'smv', 'TIMEPIX_SU_516-stdgoni_0001.img');
  const e = (await run([smv], P('slow_fast_beam_centre=240,250'))).outputs.experiments[0];
  const bc = beamCentreOnPanel(e.detector!.panels[0], e.beam!)!.xyMm;
  close(bc[0], 250 * 0.055, 1e-9);
  close(bc[1], 240 * 0.055, 1e-9);
  await assert.rejects(run([smv], P('slow_fast_beam_centre=240,250', 'mosflm_beam_centre=1,2')), /only one of/);
});

test('template= and directory= parameters name inputs as DIALS allows', async () => {
  const a = await run([], P(`template=${path.join(LCYST, 'l-cyst_01_#####.cbf.gz')}`));
  assert.deepEqual(a.outputs.experiments[0].scan!.imageRange, [1, 3]);
  const b = await run([], P(`directory=${LCYST}`));
  assert.equal(b.outputs.experiments.length, 1);
});

test('readRange streams a range of images in order and refuses one outside the source', async () => {
  const { readRange } = await import('../../../src/core/formats/sweep.js');
  const r = await run([LCYST], P());
  const src = r.outputs.sweeps[0].source;
  const shas: string[] = [];
  for await (const img of readRange(src, 1, 2)) shas.push(panelStats(img.panels[0]).sha256);
  assert.deepEqual(shas, ['2', '3'].map((n) => expected.find((x) => x.file.endsWith(`l-cyst_01_0000${n}.cbf.gz`))!.panels[0].sha256));
  await assert.rejects(async () => { for await (const _ of readRange(src, 2, 5)) { /* nothing */ } }, /outside/);
});

test('shipped simulated images: models equal DIALS\' imported.expt for the same sweep', async () => {
  const dir = path.join(REGRESSION_IMAGES, 'simulated');
  await compareWithDials([dir], path.join(dir, 'dials_imported.expt'), 2);
});
