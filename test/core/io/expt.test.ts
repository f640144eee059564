import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { experimentsToJson, readExperiments, writeExperiments } from '../../../src/core/io/expt.js';
import { FileFormatError } from '../../../src/core/errors.js';
import { HAVE_SHARED, REGRESSION_EXPT, SHARED_DATA, regressionFile, scratchDir } from '../models/fixtures.js';

/** Every value of `a` is in `b` (b may have more keys: defaults DIALS also writes). Returns the first difference. */
function containedIn(a: unknown, b: unknown, where: string): string | null {
  if (a === null || typeof a !== 'object') return a === b ? null : `${where}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
  if (b === null || typeof b !== 'object') return `${where}: object vs ${JSON.stringify(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${where}: array vs object`;
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return `${where}: length ${a.length} ≠ ${(b as unknown[]).length}`;
  for (const k of Object.keys(a)) {
    const r = containedIn((a as any)[k], (b as any)[k], `${where}.${k}`);
    if (r) return r;
  }
  return null;
}

const MODEL_KINDS = ['beam', 'detector', 'goniometer', 'scan', 'crystal', 'profile', 'imageset', 'scaling_model'];

/** Reads `file`, writes it back beside itself's directory twin, and checks value-for-value equality per experiment. */
async function checkRoundTrip(file: string, outDir: string): Promise<void> {
  const orig = JSON.parse(readFileSync(file, 'utf8'));
  const list = await readExperiments(file);
  const out = path.join(outDir, path.basename(file).replace(/\.json$/, '.expt'));
  await writeExperiments(out, list);
  const written = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(written.experiment.length, orig.experiment.length, file);
  for (let i = 0; i < orig.experiment.length; i++) {
    const eo = orig.experiment[i], ew = written.experiment[i];
    if ('identifier' in eo) assert.equal(ew.identifier, eo.identifier);
    else assert.match(ew.identifier, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const k of MODEL_KINDS) {
      if (!(k in eo)) { assert.ok(!(k in ew), `${file} experiment ${i} gained ${k}`); continue; }
      let modelOrig = orig[k][eo[k]];
      const modelOut = written[k][ew[k]];
      if (k === 'imageset') {
        // Paths are written as the absolute paths they resolve to when the output lives elsewhere.
        modelOrig = { ...modelOrig };
        for (const f of ['template', 'mask', 'gain', 'pedestal', 'dx', 'dy']) {
          if (typeof modelOrig[f] === 'string' && modelOrig[f] !== '') modelOrig[f] = path.resolve(path.dirname(file), modelOrig[f]);
        }
      }
      const diff = containedIn(modelOrig, modelOut, `${path.basename(file)} experiment[${i}].${k}`);
      assert.equal(diff, null, diff ?? '');
    }
  }
  // Sharing: two experiments use the same model in the output exactly when they did in the input.
  for (const k of MODEL_KINDS) {
    for (let i = 0; i < orig.experiment.length; i++) {
      for (let j = 0; j < i; j++) {
        const same = k in orig.experiment[i] && orig.experiment[i][k] === orig.experiment[j][k];
        assert.equal(k in written.experiment[i] && written.experiment[i][k] === written.experiment[j][k], same, `${file} ${k} sharing ${i}/${j}`);
      }
    }
  }
  // Reading what we wrote gives the same models again (compared as JSON text: −0 is written as 0).
  const again = await readExperiments(out);
  assert.equal(JSON.stringify(experimentsToJson(again, { dir: outDir })), JSON.stringify(experimentsToJson(list, { dir: outDir })));
}

test('round trip of every regression .expt is value-for-value with sharing kept', async () => {
  const outDir = path.join(scratchDir(), 'roundtrip');
  mkdirSync(outDir, { recursive: true });
  for (const name of REGRESSION_EXPT) await checkRoundTrip(regressionFile(name), outDir);
});

test('round trip of every .expt under the shared data', { skip: !HAVE_SHARED && 'shared data absent' }, async () => {
  const files = execFileSync('find', [SHARED_DATA, '-name', '*.expt']).toString().trim().split('\n');
  files.push(path.join(SHARED_DATA, 'images/cbf/experiments_004.json'));
  assert.ok(files.length >= 70, `found ${files.length}`);
  let k = 0;
  for (const f of files) {
    const outDir = path.join(scratchDir(), 'shared', String(k++));
    mkdirSync(outDir, { recursive: true });
    await checkRoundTrip(f, outDir);
  }
});

test('models shared by index become one object; distinct indices stay distinct', async () => {
  const wedge = await readExperiments(regressionFile('wedge_sweep_003.expt'));
  assert.equal(wedge.length, 4);
  for (const e of wedge.slice(1)) {
    assert.equal(e.beam, wedge[0].beam);
    assert.equal(e.detector, wedge[0].detector);
    assert.equal(e.scan, wedge[0].scan);
    assert.notEqual(e.crystal, wedge[0].crystal);
  }
  const json = experimentsToJson(wedge) as any;
  assert.equal(json.beam.length, 1);
  assert.equal(json.crystal.length, 4);
});

test('relative template resolved against the file directory, written back as it was', async () => {
  const relDir = path.join(scratchDir(), 'relative');
  mkdirSync(relDir, { recursive: true });
  const file = path.join(relDir, 'centroid_imported.expt');
  copyFileSync(regressionFile('centroid_imported.expt'), file);
  const [e] = await readExperiments(file);
  assert.equal(e.imageset!.template, path.join(path.dirname(file), 'centroid_####.cbf'));
  // Same directory: the original relative string is kept.
  const sameDir = path.join(path.dirname(file), 'centroid_imported_copy.expt');
  await writeExperiments(sameDir, [e]);
  assert.equal(JSON.parse(readFileSync(sameDir, 'utf8')).imageset[0].template, 'centroid_####.cbf');
  // Elsewhere: the path still has to find the images, so it becomes absolute.
  const elsewhere = path.join(scratchDir(), 'elsewhere');
  mkdirSync(elsewhere, { recursive: true });
  await writeExperiments(path.join(elsewhere, 'x.expt'), [e]);
  assert.equal(JSON.parse(readFileSync(path.join(elsewhere, 'x.expt'), 'utf8')).imageset[0].template, e.imageset!.template);
  // A changed template is written as held in memory.
  const changed = { ...e, imageset: { ...e.imageset!, template: '/data/other_####.cbf' } };
  assert.equal((experimentsToJson([changed]) as any).imageset[0].template, '/data/other_####.cbf');
});

test('missing identifiers get distinct UUID v4s; present ones are kept', async () => {
  const old = await readExperiments(regressionFile('wedge_sweep_003.expt'));
  const ids = new Set(old.map((e) => e.identifier));
  assert.equal(ids.size, old.length);
  const [idx] = await readExperiments(regressionFile('centroid_indexed.expt'));
  const raw = JSON.parse(readFileSync(regressionFile('centroid_indexed.expt'), 'utf8'));
  assert.equal(idx.identifier, raw.experiment[0].identifier);
});

async function expectFormatError(content: string, pattern: RegExp): Promise<void> {
  const f = path.join(scratchDir(), `bad_${Math.random().toString(36).slice(2)}.expt`);
  writeFileSync(f, content);
  await assert.rejects(readExperiments(f), (e: unknown) => {
    assert.ok(e instanceof FileFormatError, String(e));
    assert.ok(e.message.startsWith(f + ':'), e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

test('bad input: FileFormatError naming the file and the key', async () => {
  const good = JSON.parse(readFileSync(regressionFile('centroid_indexed.expt'), 'utf8'));
  await expectFormatError('{"experiment": [', /not valid JSON/);
  await expectFormatError('[1, 2]', /top level: expected a JSON object/);
  await expectFormatError('{"__id__": "ExperimentList"}', /ExperimentList\.experiment: missing/);
  const noWavelength = structuredClone(good);
  delete noWavelength.beam[0].wavelength;
  await expectFormatError(JSON.stringify(noWavelength), /beam\[0\]\.wavelength: missing/);
  const badIndex = structuredClone(good);
  badIndex.experiment[0].detector = 3;
  await expectFormatError(JSON.stringify(badIndex), /experiment\[0\]\.detector: refers to detector\[3\] but the file has 1 detector entry/);
  const badVec = structuredClone(good);
  badVec.detector[0].panels[0].fast_axis = [1, 0];
  await expectFormatError(JSON.stringify(badVec), /detector\[0\]\.panels\[0\]\.fast_axis: expected 3 numbers/);
  const badStrategy = structuredClone(good);
  badStrategy.detector[0].panels[0].px_mm_strategy = { type: 'Mystery' };
  await expectFormatError(JSON.stringify(badStrategy), /unsupported pixel-to-mm strategy 'Mystery'/);
  await assert.rejects(readExperiments(path.join(scratchDir(), 'does_not_exist.expt')), /does_not_exist\.expt: no such file/);
});

test('writing is atomic: no temporary file left, failure leaves no output', async () => {
  const list = await readExperiments(regressionFile('centroid_indexed.expt'));
  const dir = path.join(scratchDir(), 'atomic');
  mkdirSync(dir, { recursive: true });
  await writeExperiments(path.join(dir, 'ok.expt'), list);
  assert.deepEqual(readdirSync(dir), ['ok.expt']);
  await assert.rejects(writeExperiments(path.join(dir, 'missing_dir', 'x.expt'), list));
  assert.ok(!existsSync(path.join(dir, 'missing_dir')));
});

test('model indices inside imageset entries follow renumbering', async () => {
  const good = JSON.parse(readFileSync(regressionFile('centroid_indexed.expt'), 'utf8'));
  // Two beams, the experiment uses the second; the imageset names it too.
  good.beam.unshift({ ...good.beam[0], wavelength: 2 });
  good.experiment[0].beam = 1;
  good.imageset[0].beam = 1;
  const f = path.join(scratchDir(), 'imageset_models.expt');
  writeFileSync(f, JSON.stringify(good));
  const json = experimentsToJson(await readExperiments(f)) as any;
  assert.equal(json.beam.length, 1, 'the unused beam is dropped');
  assert.equal(json.experiment[0].beam, 0);
  assert.equal(json.imageset[0].beam, 0);
  assert.equal(json.beam[0].wavelength, good.beam[1].wavelength);
});
