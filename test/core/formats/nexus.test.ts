/**
 * The NeXus master path end to end on a master we write ourselves (h5wasm) around a real Dectris
 * bitshuffle-LZ4 data file: metadata → models, external links → frames, and the missing-data error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { hdf5Ready } from '../../../src/core/formats/nexus.js';
import { openImageFile } from '../../../src/core/formats/detect.js';
import { beamCentreOnPanel } from '../../../src/core/geometry/beam_centre.js';
import { Panel as PanelFns } from '../../../src/core/models/detector.js';
import { run, params as importParams, openImageSource } from '../../../src/stages/import/index.js';
import { parseCommandLine } from '../../../src/core/params/index.js';
import { REGRESSION_IMAGES, readJson, type Hdf5Ref } from './paths.js';
import { panelStats } from './stats.js';


/** A scratch directory removed when the tests end. */
function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const DATA_REL = 'hdf5/dectris_h5-testfiles/datasets_eiger2/eiger2_simread7_2datafiles_4images_bslz4_data_000001.h5';
const ref = readJson<{ hdf5: Hdf5Ref[] }>(path.join(REGRESSION_IMAGES, 'expected.json')).hdf5.find((d) => d.file === DATA_REL)!;

async function writeMaster(dir: string): Promise<string> {
  await hdf5Ready();
  copyFileSync(path.join(REGRESSION_IMAGES, DATA_REL), path.join(dir, 'synthetic_data_000001.h5'));
  const master = path.join(dir, 'synthetic_master.h5');
  const f = new h5wasm.File(master, 'w');
  const put = (name: string, data: number | number[], dtype = '<d') => {
    f.create_dataset({ name, data: Array.isArray(data) ? new Float64Array(data) : data, shape: Array.isArray(data) ? [data.length] : [], dtype });
  };
  for (const g of ['entry', 'entry/data', 'entry/instrument', 'entry/instrument/beam', 'entry/instrument/detector', 'entry/instrument/detector/detectorSpecific', 'entry/sample', 'entry/sample/goniometer']) f.create_group(g);
  f.create_external_link('synthetic_data_000001.h5', '/entry/data/data', 'entry/data/data_000001');
  put('entry/instrument/beam/incident_wavelength', 0.9801);
  put('entry/instrument/detector/x_pixel_size', 7.5e-5);
  put('entry/instrument/detector/y_pixel_size', 7.5e-5);
  put('entry/instrument/detector/detector_distance', 0.2);
  put('entry/instrument/detector/beam_center_x', 500.5);
  put('entry/instrument/detector/beam_center_y', 250.25);
  put('entry/instrument/detector/count_time', 0.01);
  put('entry/instrument/detector/sensor_thickness', 0.00045);
  put('entry/instrument/detector/detectorSpecific/x_pixels_in_detector', 1028, '<i');
  put('entry/instrument/detector/detectorSpecific/y_pixels_in_detector', 512, '<i');
  put('entry/instrument/detector/detectorSpecific/countrate_correction_count_cutoff', 12440, '<i');
  put('entry/sample/goniometer/omega', [10, 10.1]);
  put('entry/sample/goniometer/omega_range_average', 0.1);
  f.close();
  return master;
}

test('Eiger master with an external bitshuffle-LZ4 data file: models and frames', async () => {
  const dir = tempDir('xtalflow-nexus-');
  const master = await writeMaster(dir);
  const file = await openImageFile(master);
  assert.equal(file.nImages, 2);
  const p0 = file.detector.panels[0];
  assert.deepEqual(p0.imageSize, [1028, 512]);
  assert.ok(Math.abs(PanelFns.distance(p0) - 200) < 1e-9);
  const bc = beamCentreOnPanel(p0, file.beam)!.xyMm;
  assert.ok(Math.abs(bc[0] - 500.5 * 0.075) < 1e-6 && Math.abs(bc[1] - 250.25 * 0.075) < 1e-6);
  assert.deepEqual(p0.trustedRange, [-1, 12440]);
  assert.deepEqual(file.scanPoints!.map((s) => s.oscillation), [[10, 0.1], [10.1, 0.1]]);
  for (let i = 0; i < 2; i++) {
    const s = panelStats((await file.read(i)).panels[0]);
    const e = ref.frames[i];
    assert.deepEqual([s.sum, s.min, s.max, s.count_ge0], [e.sum, e.min, e.max, e.count_ge0]);
  }
  await assert.rejects(file.read(2), /outside/);
  await file.close();

  const r = await run([master], parseCommandLine(importParams, []).params);
  const e = r.outputs.experiments[0];
  assert.deepEqual(e.scan!.imageRange, [1, 2]);
  assert.deepEqual(e.imageset!.singleFileIndices, [0, 1]);
  const src = await openImageSource(e, dir);
  const s1 = panelStats((await src.read(1)).panels[0]);
  assert.equal(s1.sum, ref.frames[1].sum);
  await src.close();
  await Promise.all(r.outputs.sweeps.map((s) => s.source.close()));

  rmSync(path.join(dir, 'synthetic_data_000001.h5'));
  await assert.rejects(openImageFile(master), /synthetic_data_000001\.h5.*missing/);
});

/** An NXmx master: geometry only from NXtransformations chains (McStas frame). */
async function writeNxmxMaster(dir: string, twoThetaDeg: number): Promise<string> {
  await hdf5Ready();
  copyFileSync(path.join(REGRESSION_IMAGES, DATA_REL), path.join(dir, 'nxmx_data_000001.h5'));
  const master = path.join(dir, `nxmx_${twoThetaDeg}_master.h5`);
  const f = new h5wasm.File(master, 'w');
  for (const g of ['entry', 'entry/data', 'entry/instrument', 'entry/instrument/beam', 'entry/instrument/detector', 'entry/instrument/detector/transformations', 'entry/instrument/detector/module', 'entry/sample', 'entry/sample/transformations']) f.create_group(g);
  f.create_external_link('nxmx_data_000001.h5', '/entry/data/data', 'entry/data/data_000001');
  f.create_dataset({ name: 'entry/instrument/beam/incident_wavelength', data: 0.9795 });
  f.create_dataset({ name: 'entry/instrument/detector/sensor_thickness', data: 0.45 });
  (f.get('entry/instrument/detector/sensor_thickness') as InstanceType<typeof h5wasm.Dataset>).create_attribute('units', 'mm');
  f.create_dataset({ name: 'entry/instrument/detector/saturation_value', data: 60000 });
  f.create_dataset({ name: 'entry/instrument/detector/count_time', data: 0.02 });
  const axis = (name: string, data: number | Float64Array, type: string, vector: number[], dependsOn: string, units: string, offset?: number[]) => {
    f.create_dataset({ name, data });
    const d = f.get(name) as InstanceType<typeof h5wasm.Dataset>;
    d.create_attribute('transformation_type', type);
    d.create_attribute('vector', new Float64Array(vector));
    d.create_attribute('depends_on', dependsOn);
    d.create_attribute('units', units);
    if (offset) { d.create_attribute('offset', new Float64Array(offset)); d.create_attribute('offset_units', 'mm'); }
  };
  const T = 'entry/instrument/detector/transformations';
  axis(`${T}/two_theta`, twoThetaDeg, 'rotation', [-1, 0, 0], '.', 'deg');
  axis(`${T}/det_z`, 0.3, 'translation', [0, 0, 1], `/${T}/two_theta`, 'm');
  const M = 'entry/instrument/detector/module';
  axis(`${M}/module_offset`, 0, 'translation', [1, 0, 0], `/${T}/det_z`, 'mm', [500.5 * 0.075, 250.25 * 0.075, 0]);
  axis(`${M}/fast_pixel_direction`, 0.075, 'translation', [-1, 0, 0], `/${M}/module_offset`, 'mm');
  axis(`${M}/slow_pixel_direction`, 0.075, 'translation', [0, -1, 0], `/${M}/module_offset`, 'mm');
  f.create_dataset({ name: 'entry/sample/depends_on', data: '/entry/sample/transformations/omega' });
  axis('entry/sample/transformations/omega', new Float64Array([30, 30.2]), 'rotation', [-1, 0, 0], '.', 'deg');
  f.close();
  return master;
}

test('NXmx master: panel and goniometer from NXtransformations (analytic, with and without 2θ)', async () => {
  const dir = tempDir('xtalflow-nxmx-');
  const flat = await openImageFile(await writeNxmxMaster(dir, 0));
  assert.equal(flat.format, 'NexusNXmx');
  const p = flat.detector.panels[0];
  const near = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `${a} vs ${b}`));
  near(p.origin, [-500.5 * 0.075, 250.25 * 0.075, -300]);
  near(p.fastAxis, [1, 0, 0]);
  near(p.slowAxis, [0, -1, 0]);
  near(p.pixelSize, [0.075, 0.075]);
  assert.ok(Math.abs(p.thickness - 0.45) < 1e-12);
  assert.deepEqual(p.trustedRange, [-1, 60000]);
  near(beamCentreOnPanel(p, flat.beam)!.xyMm, [500.5 * 0.075, 250.25 * 0.075]);
  near(flat.goniometer!.rotationAxis, [1, 0, 0]);
  near(flat.scanPoints![1].oscillation, [30.2, 0.2]);
  assert.equal(panelStats((await flat.read(1)).panels[0]).sum, ref.frames[1].sum);
  await flat.close();

  // 2θ = 20° about the McStas −x axis = DIALS +x: the whole detector turns about x.
  const tilted = await openImageFile(await writeNxmxMaster(dir, 20));
  const q = tilted.detector.panels[0];
  const c = Math.cos((20 * Math.PI) / 180), s = Math.sin((20 * Math.PI) / 180);
  const o = [-500.5 * 0.075, 250.25 * 0.075, -300];
  near(q.origin, [o[0], c * o[1] - s * o[2], s * o[1] + c * o[2]]);
  near(q.slowAxis, [0, -c, -s]);
  assert.ok(Math.abs(PanelFns.distance(q) - 300) < 1e-9);
  await tilted.close();
});
