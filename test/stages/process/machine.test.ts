/**
 * The process machine on recorded figures: a fake step runner returns what the real stages
 * measured (DIALS 3.12 figures from shared/data/README.md), and the tests check the path the
 * machine takes and the decisions it records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMachine } from '../../../src/stages/process/run.js';
import type { ProcessInput } from '../../../src/stages/process/machine.js';
import type { StepRequest, StepResult } from '../../../src/stages/process/context.js';
import { journaledRunner, loadJournal, saveJournal } from '../../../src/stages/process/journal.js';
import { silentLog } from '../../../src/core/log.js';

const options: ProcessInput['options'] = {
  spaceGroup: null, unitCell: null, lattice: null, dMin: null, anomalous: false, multiCrystal: 'auto',
  ccHalf: 0.3, absorptionLevel: null, stopAfter: null, minIndexedPercent: 80,
};

type Script = Partial<Record<string, (req: StepRequest, n: number) => StepResult>>;

function fakeRunner(script: Script, calls: string[]) {
  const counts: Record<string, number> = {};
  return async (req: StepRequest): Promise<StepResult> => {
    counts[req.step] = (counts[req.step] ?? 0) + 1;
    calls.push(`${req.key}${Object.keys(req.params).length ? ' ' + JSON.stringify(req.params) : ''}`);
    const f = script[req.step];
    if (f) return f(req, counts[req.step]);
    return { figures: {}, files: {} };
  };
}

const simulatedSweep: Script = {
  import: () => ({ figures: { scan_width_deg: 60, wavelength: 0.9795, n_sweeps: 1 }, files: { experiments: 'imported.expt' } }),
  find_spots: () => ({ figures: { n_spots: 58615 }, files: { reflections: 'strong.refl' } }),
  index: () => ({ figures: { percent_indexed: 99.8, rmsd_x_px: 0.064, rmsd_y_px: 0.044, rmsd_z_images: 0.028, n_spots: 58615, indexed_per_lattice: [58498], percent_indexed_per_sweep: [99.8] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } }),
  refine_bravais_settings: () => ({
    figures: {
      settings: [
        { settingId: 9, lattice: 'tP', recommended: true, rmsd: 0.051, metricFitDeg: 0.02, cbOp: 'b,c,a' },
        { settingId: 5, lattice: 'oP', recommended: true, rmsd: 0.050, metricFitDeg: 0.02, cbOp: 'a,b,c' },
        { settingId: 1, lattice: 'aP', recommended: true, rmsd: 0.049, metricFitDeg: 0, cbOp: 'a,b,c' },
      ],
    },
    files: {},
  }),
  reindex: () => ({ figures: {}, files: { experiments: 'bravais_setting_9.expt', reflections: 'reindexed.refl' } }),
  estimate_resolution: () => ({ figures: { d_min_cc_half: 1.9, d_min_data: 1.45 }, files: {} }),
};

test('simulated sweep: full chain, tP chosen, scan-varying, no absorption (60°), cut at 1.9 Å and rescale', async () => {
  const calls: string[] = [];
  const out = await runMachine({ entry: 'import', files: {}, options }, fakeRunner(simulatedSweep, calls));
  assert.equal(out.finalState, 'done');
  const steps = calls.map((c) => c.split(' ')[0]);
  assert.deepEqual(steps, ['import#1', 'find_spots#1', 'index#1', 'refine_bravais_settings#1', 'reindex#1', 'refine#1', 'integrate#1', 'symmetry#1', 'scale#1', 'estimate_resolution#1', 'rescale#1', 'merge#1', 'export#1', 'report#1']);
  const rules = out.context.decisions.map((d) => `${d.rule}=${JSON.stringify(d.choice && typeof d.choice === 'object' ? (d.choice as { lattice?: string }).lattice : d.choice)}`);
  assert.deepEqual(rules, ['multi_crystal=false', 'lattice_choice="tP"', 'scan_varying=true', 'absorption_level="none"', 'resolution_cut=1.9']);
  assert.match(calls.find((c) => c.startsWith('rescale'))!, /"d_min":1.9/);
  assert.equal(out.context.files.experiments, 'bravais_setting_9.expt');
});

test('MyD88: entering at index, the axis rule fires and picks the inverted axis; both RMSD_Z recorded', async () => {
  const calls: string[] = [];
  const script: Script = {
    index: () => ({ figures: { percent_indexed: 89.0, rmsd_x_px: 0.507, rmsd_y_px: 0.656, rmsd_z_images: 0.553, n_spots: 646, indexed_per_lattice: [575] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } }),
    index_inverted: () => ({ figures: { percent_indexed: 89.0, rmsd_x_px: 0.518, rmsd_y_px: 0.668, rmsd_z_images: 0.301, n_spots: 645, indexed_per_lattice: [574] }, files: { experiments: 'indexed_inverted.expt', reflections: 'indexed_inverted.refl' } }),
  };
  const out = await runMachine({ entry: 'index', files: { experiments: 'imported.expt', reflections: 'strong.refl' }, options: { ...options, stopAfter: 'index' } }, fakeRunner(script, calls));
  assert.deepEqual(calls.map((c) => c.split(' ')[0]), ['index#1', 'index_inverted#1', 'report#1']);
  const axis = out.context.decisions.find((d) => d.rule === 'rotation_axis')!;
  assert.equal(axis.choice, 'inverted');
  assert.equal(axis.figures.rmsd_z_original, 0.553);
  assert.equal(axis.figures.rmsd_z_inverted, 0.301);
  assert.equal(out.context.files.experiments, 'indexed_inverted.expt');
});

test('indexing ladder: fft3d fails, fft1d succeeds at low rate, second lattice tried and dropped', async () => {
  const calls: string[] = [];
  const script: Script = {
    ...simulatedSweep,
    index: (req, n) => {
      if (n === 1) throw Object.assign(new Error('no lattice found'), { code: 'no_lattice' });
      const two = req.params.max_lattices === 2;
      return { figures: { percent_indexed: two ? 62 : 60, rmsd_x_px: 0.3, rmsd_y_px: 0.3, rmsd_z_images: 0.2, n_spots: 1000, indexed_per_lattice: two ? [600, 20] : [600], percent_indexed_per_sweep: [60] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } };
    },
  };
  const out = await runMachine({ entry: 'index', files: { experiments: 'imported.expt', reflections: 'strong.refl' }, options: { ...options, stopAfter: 'index' } }, fakeRunner(script, calls));
  assert.deepEqual(calls.slice(0, 3).map((c) => c.split(' ')[0]), ['index#1', 'index#2', 'index#3']);
  assert.match(calls[1], /"indexing.method":"fft1d"/);
  assert.match(calls[2], /"max_lattices":2/);
  const keep = out.context.decisions.find((d) => d.rule === 'extra_lattices')!;
  assert.equal(keep.choice, 1);
});

test('index failing on every rung ends in a failure with the report still written', async () => {
  const calls: string[] = [];
  const script: Script = { index: () => { throw Object.assign(new Error('too few spots (12)'), { code: 'too_few_spots' }); } };
  const out = await runMachine({ entry: 'index', files: { experiments: 'imported.expt', reflections: 'strong.refl' }, options }, fakeRunner(script, calls));
  assert.equal(out.finalState, 'stopped');
  assert.match(out.context.failure!, /too few spots/);
  assert.equal(calls[calls.length - 1], 'report#1');
});

test('several sweeps that one crystal does not explain take the multi-crystal path (cosym)', async () => {
  const calls: string[] = [];
  const script: Script = {
    ...simulatedSweep,
    import: () => ({ figures: { scan_width_deg: 7.5, wavelength: 0.9795, n_sweeps: 4 }, files: { experiments: 'imported.expt' } }),
    index: (req) => req.params.joint === false
      ? { figures: { percent_indexed: 97, rmsd_x_px: 0.2, rmsd_y_px: 0.2, rmsd_z_images: 0.1, n_spots: 4000, indexed_per_lattice: [3880], percent_indexed_per_sweep: [97, 98, 96, 97] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } }
      : { figures: { percent_indexed: 26, rmsd_x_px: 0.3, rmsd_y_px: 0.3, rmsd_z_images: 0.2, n_spots: 4000, indexed_per_lattice: [1040], percent_indexed_per_sweep: [98, 3, 2, 4] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } },
  };
  const out = await runMachine({ entry: 'import', files: {}, options }, fakeRunner(script, calls));
  const steps = calls.map((c) => c.split(' ')[0]);
  assert.ok(steps.includes('cosym#1') && !steps.includes('symmetry#1') && !steps.includes('refine_bravais_settings#1'));
  assert.match(calls.find((c) => c.startsWith('index#2'))!, /"joint":false/);
  assert.match(calls.find((c) => c.startsWith('scale#1'))!, /deltacchalf/);
  assert.equal(out.context.multiCrystal, true);
});

test('resume: a run killed during integrate replays the journal and ends as an uninterrupted run', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xf-resume-'));
  const files: Script = {};
  for (const [k, f] of Object.entries(simulatedSweep)) {
    files[k] = (req, n) => {
      const r = f!(req, n);
      for (const name of Object.values(r.files)) if (name) writeFileSync(path.join(dir, name), 'x');
      return r;
    };
  }
  const command = ['process', 'images'];
  // First run: integrate never returns (the process is killed there).
  const j1 = loadJournal(dir, command, false, silentLog);
  const calls1: string[] = [];
  const base1 = fakeRunner(files, calls1);
  const killed = runMachine({ entry: 'import', files: {}, options }, journaledRunner(dir, j1, async (req) => {
    if (req.step === 'integrate') return new Promise<StepResult>(() => {});
    return base1(req);
  }, silentLog));
  void killed;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(calls1.includes('refine#1 {"scan_varying":true}') && !calls1.some((c) => c.startsWith('symmetry')));
  // Second run in the same directory: only integrate onwards runs.
  const j2 = loadJournal(dir, command, false, silentLog);
  assert.equal(j2.entries.length, 6);
  const calls2: string[] = [];
  const out = await runMachine({ entry: 'import', files: {}, options }, journaledRunner(dir, j2, fakeRunner(files, calls2), silentLog));
  assert.equal(calls2[0].split(' ')[0], 'integrate#1');
  const fresh = await runMachine({ entry: 'import', files: {}, options }, fakeRunner(simulatedSweep, []));
  assert.deepEqual(out.context.decisions, fresh.context.decisions);
  assert.deepEqual(out.context.files, fresh.context.files);
  saveJournal(dir, j2);
  // --force starts over.
  assert.equal(loadJournal(dir, command, true, silentLog).entries.length, 0);
  assert.equal(loadJournal(dir, ['process', 'other'], false, silentLog).entries.length, 0);
});

test('joint indexing failing on several sweeps (four crystals) goes to per-crystal indexing, then cosym', async () => {
  const calls: string[] = [];
  const script: Script = {
    ...simulatedSweep,
    import: () => ({ figures: { scan_width_deg: 15, wavelength: 0.9795, n_sweeps: 4 }, files: { experiments: 'imported.expt' } }),
    index: (req) => {
      if (req.params.joint !== false) throw Object.assign(new Error('no lattice found'), { code: 'no_lattice' });
      return { figures: { percent_indexed: 96, rmsd_x_px: 0.2, rmsd_y_px: 0.2, rmsd_z_images: 0.1, n_spots: 95000, indexed_per_lattice: [22000, 24000, 23000, 22000], percent_indexed_per_sweep: [96, 97, 92, 99] }, files: { experiments: 'indexed.expt', reflections: 'indexed.refl' } };
    },
  };
  const out = await runMachine({ entry: 'import', files: {}, options }, fakeRunner(script, calls));
  const steps = calls.map((c) => c.split(' ')[0]);
  assert.deepEqual(steps.slice(0, 4), ['import#1', 'find_spots#1', 'index#1', 'index#2']);
  assert.match(calls[3], /"joint":false/);
  assert.match(calls[3], /"indexing.method":"fft3d"/);
  assert.ok(steps.includes('cosym#1') && !steps.includes('refine_bravais_settings#1'));
  const d = out.context.decisions.find((x) => x.rule === 'multi_crystal')!;
  assert.equal(d.choice, true);
  assert.match(d.reason, /index each sweep separately/);
  assert.equal(out.finalState, 'done');
});
