import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { program, run } from '../../../src/stages/show/index.js';
import { g6 } from '../../../src/stages/show/format.js';
import { memoryLog } from '../../../src/core/log.js';
import { defaults } from '../../../src/core/params/index.js';
import { readRefl } from '../../../src/core/io/refl.js';
import { Goniometer } from '../../../src/core/models/goniometer.js';
import { loadExpt, repoRoot, regressionFile } from '../../core/models/fixtures.js';

const P = defaults(program.params);

test('g6 prints numbers as a C++ stream does', () => {
  assert.equal(g6(0.172), '0.172');
  assert.equal(g6(-212.47848), '-212.478');
  assert.equal(g6(2463), '2463');
  assert.equal(g6(3.772454e-14), '3.77245e-14');
  assert.equal(g6(1234567), '1.23457e+06');
  assert.equal(g6(0.0001), '0.0001');
  assert.equal(g6(-0), '-0');
  assert.equal(g6(0.999995), '0.999995');
});

test('experiment models: beam centre, resolution limits, crystal as dials.show lays them out', async () => {
  const list = await loadExpt('centroid_indexed.expt');
  const res = run({ experiments: [{ path: 'indexed.expt', list }], reflections: [] }, P);
  const text = res.outputs.text;
  for (const line of [
    'Experiment 0:', 'pixel_size:{0.172,0.172}', 'image_size: {2463,2527}', 'pixel to millimeter strategy: SimplePxMmStrategy',
    'Beam centre:', 'wavelength: 0.9795', 'image range:   {1,9}', 'oscillation:   {0,0.2}', 'Space group: P 4 2 2',
    'Unit cell: 42.209(8), 42.209(8), 39.693(8), 90.000, 90.000, 90.000', 'Max resolution (at corners): ', 'A = UB:',
  ]) assert.ok(text.includes(line), `missing: ${line}`);
  assert.equal(res.figures.n_experiments, 1);
  const bc = res.figures.beam_centre_px as number[];
  assert.ok(Math.abs(bc[0] - 1236.11) < 0.01 && Math.abs(bc[1] - 1278.30) < 0.01, String(bc));
});

test('parallax panels, multi-axis goniometers, scan-varying crystals and sharing are shown', async () => {
  const lcys = await loadExpt('lcys_20_integrated.expt.gz');
  lcys[0].goniometer = Goniometer.fromMultiAxis([[0.5774, -0.8165, 0], [1, 0, 0]], [0, 0], ['GON_PHI', 'GON_OMEGA'], 0);
  const wedge = await loadExpt('wedge_sweep_003.expt');
  const res = run({ experiments: [{ path: 'a', list: lcys }, { path: 'b', list: wedge }] , reflections: [] },
    { ...P, show_scan_varying: true, show_shared_models: true });
  const text = res.outputs.text;
  for (const line of ['ParallaxCorrectedPxMmStrategy', '    mu: 1.41535', '    t0: 0.32', 'Axis #1 (GON_OMEGA): {1,0,0}', 'scan axis: #0 (GON_PHI)',
    'A sampled at 1801 scan points', 'Cell at scan point 1800:', 'Experiment 3 shares beam with experiment 0, detector with experiment 0']) {
    assert.ok(text.includes(line), `missing: ${line}`);
  }
  assert.equal(res.figures.n_experiments, 5);
});

test('reflection tables get the dials.show column summary', { skip: !existsSync(path.join(repoRoot(), 'regression-data/refl/centroid_test_data_indexed.refl.gz')) && 'no refl regression data' }, async () => {
  const table = await readRefl(path.join(repoRoot(), 'regression-data/refl/centroid_test_data_indexed.refl.gz'));
  const res = run({ experiments: [], reflections: [{ path: 'indexed.refl', table }] }, P);
  assert.ok(res.outputs.text.includes('Reflection list contains 654 reflections'));
  assert.ok(res.outputs.text.includes('| xyzobs.px.value '));
  assert.equal(res.figures.n_reflections, 654);
});

test('main: files by extension, one-line errors for unknown or missing files', async () => {
  const log = memoryLog();
  await program.main({ files: [regressionFile('myd88_imported.expt')], params: P, log, verbose: false });
  assert.ok(log.lines.some((l) => l.includes('Beam centre:')));
  await assert.rejects(program.main({ files: ['x.txt'], params: P, log, verbose: false }), /x\.txt: cannot show this file/);
  await assert.rejects(program.main({ files: ['nope.expt'], params: P, log, verbose: false }), /nope\.expt: no such file/);
  await assert.rejects(program.main({ files: [], params: P, log, verbose: false }), /nothing to show/);
});

test('cell with standard uncertainties as dials.index printed it for the same crystal', async () => {
  const { withEsd, cellWithEsdText } = await import('../../../src/stages/show/format.js');
  assert.equal(withEsd(38.20942, 0.00066), '38.2094(7)');
  assert.equal(withEsd(79.116851, 0.00138), '79.1169(14)');
  assert.equal(withEsd(90.0039, 0.00100), '90.0039(10)');
  assert.equal(withEsd(79.103, 0.003), '79.103(3)');
  assert.equal(withEsd(1.5, 0), '1.5');
  const [e] = await loadExpt('lysozyme_indexed.expt');
  // shared/data/simulated/lysozyme_sweep/dials_reference/dials.index.log, "Refined crystal models"
  assert.equal(cellWithEsdText(e.crystal!), '38.2094(7), 79.1169(14), 79.1160(13), 90.0028(5), 90.0042(5), 89.9947(5)');
});

test('crystal block is line-for-line what DIALS printed for the same model', async () => {
  const { formatCrystal } = await import('../../../src/stages/show/format.js');
  const [e] = await loadExpt('lysozyme_indexed.expt');
  // The last "Crystal:" block of shared/data/simulated/lysozyme_sweep/dials_reference/dials.index.log
  const dials = [
    'Crystal:',
    '    Unit cell: 38.2094(7), 79.1169(14), 79.1160(13), 90.0028(5), 90.0042(5), 89.9947(5)',
    '    Space group: P 1',
    '    U matrix:  {{ 0.7941, -0.3781,  0.4758},',
    '                {-0.3714,  0.3177,  0.8724},',
    '                {-0.4811, -0.8695,  0.1118}}',
    '    B matrix:  {{ 0.0262,  0.0000,  0.0000},',
    '                {-0.0000,  0.0126,  0.0000},',
    '                { 0.0000,  0.0000,  0.0126}}',
    '    A = UB:    {{ 0.0208, -0.0048,  0.0060},',
    '                {-0.0097,  0.0040,  0.0110},',
    '                {-0.0126, -0.0110,  0.0014}}',
  ];
  assert.deepEqual(formatCrystal(e.crystal!).slice(0, dials.length), dials);
});

test('beam, detector, goniometer, scan and crystal text equal DIALS\' printout of the same models', async () => {
  const { formatBeam, formatDetector, formatGoniometer, formatScan, formatCrystal } = await import('../../../src/stages/show/format.js');
  const { readFileSync } = await import('node:fs');
  // shared/data/simulated/lysozyme_sweep/dials_reference/dials.integrate.log, "Models for experiment 0"
  // (DIALS 3.12 printing refined.expt, the file copied as lysozyme_refined.expt.gz)
  const dials = readFileSync(path.join(repoRoot(), 'regression-data/expt/lysozyme_refined_dials_models.txt'), 'utf8').trimEnd().split('\n');
  const [e] = await loadExpt('lysozyme_refined.expt.gz');
  const ours = [...formatBeam(e.beam!), '', ...formatDetector(e.detector!), ...formatGoniometer(e.goniometer!), '',
    ...formatScan(e.scan!), '', ...formatCrystal(e.crystal!)];
  assert.deepEqual(ours, dials);
});
