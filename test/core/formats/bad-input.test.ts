/** Bad input gives one clean line naming the file or parameter, never a stack trace or a partial result. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { openImageFile } from '../../../src/core/formats/detect.js';
import { FileFormatError, ParameterError, UserError } from '../../../src/core/errors.js';
import { parseCommandLine, COMMON_PARAMS } from '../../../src/core/params/index.js';
import { run, params as importParams } from '../../../src/stages/import/index.js';
import { ROOT, REGRESSION_IMAGES } from './paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'xtalflow-bad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const lcyst = path.join(REGRESSION_IMAGES, 'l_cysteine', 'l-cyst_01_00001.cbf.gz');

function oneLineError(e: unknown, mustName: string): boolean {
  assert.ok(e instanceof UserError, `expected a UserError, got ${e instanceof Error ? e.stack : String(e)}`);
  assert.ok(!e.message.includes('\n'), `message spans lines: ${e.message}`);
  assert.ok(e.message.includes(mustName), `message '${e.message}' does not name '${mustName}'`);
  return true;
}

async function openAndRead(p: string) {
  const f = await openImageFile(p);
  await f.read(0);
}

test('truncated CBF', async () => {
  const full = gunzipSync(readFileSync(lcyst));
  const p = path.join(tmp, 'truncated_0001.cbf');
  writeFileSync(p, full.subarray(0, Math.floor(full.length * 0.6)));
  await assert.rejects(openAndRead(p), (e) => oneLineError(e, p) && /truncated/.test((e as Error).message));
});

test('CBF with a corrupted byte_offset stream', async () => {
  const full = Buffer.from(gunzipSync(readFileSync(lcyst)));
  const marker = full.indexOf(Buffer.from([0x0c, 0x1a, 0x04, 0xd5]));
  // 0x80 0x80 0x80 … reads as an endless run of 16-bit escapes: the stream runs out long before the pixels do.
  full.fill(0x80, marker + 4 + 1000, full.length - 4096);
  const p = path.join(tmp, 'corrupt_0001.cbf');
  writeFileSync(p, full);
  await assert.rejects(openAndRead(p), (e) => oneLineError(e, p) && /byte_offset/.test((e as Error).message));
});

test('HDF5 master whose data file is missing', async () => {
  const p = path.join(REGRESSION_IMAGES, 'hdf5', 'dectris_eiger_master.h5');
  await assert.rejects(openImageFile(p), (e) => oneLineError(e, p) && /dectris_eiger_data_000001\.h5.*missing/.test((e as Error).message));
});

test('directory with no images', async () => {
  const d = path.join(tmp, 'empty');
  mkdirSync(d);
  writeFileSync(path.join(d, 'notes.txt'), 'not an image\n');
  await assert.rejects(run([d], parseCommandLine(importParams, []).params), (e) => oneLineError(e, d) && /no images/.test((e as Error).message));
});

test('image_range outside the scan', async () => {
  const p = parseCommandLine(importParams, ['image_range=2,9']).params;
  await assert.rejects(run([lcyst], p), (e) => oneLineError(e, 'image_range'));
});

test('unknown parameter', () => {
  assert.throws(() => parseCommandLine([...COMMON_PARAMS, ...importParams], ['nonsense=1']), (e) => e instanceof ParameterError && oneLineError(e, 'nonsense'));
});

test('a file that is no image at all', async () => {
  const p = path.join(tmp, 'readme_0001.img');
  writeFileSync(p, 'hello');
  await assert.rejects(openImageFile(p), (e) => e instanceof FileFormatError && oneLineError(e, p));
});

// The installed CLI: one line on stderr, exit status 1. Uses the compiled program when present (npm test builds it).
const cli = path.join(ROOT, 'dist', 'bin', 'xtalflow.js');
test('CLI prints one line and exits non-zero', { skip: existsSync(path.join(ROOT, 'dist', 'src', 'stages', 'import', 'index.js')) ? false : 'dist/ not built' }, () => {
  const cases: [string[], string][] = [
    [['import', path.join(REGRESSION_IMAGES, 'hdf5', 'dectris_eiger_master.h5')], 'dectris_eiger_data_000001.h5'],
    [['import', lcyst, 'image_range=5,99'], 'image_range'],
    [['import', lcyst, 'nonsense=1'], 'nonsense'],
  ];
  for (const [args, name] of cases) {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8' });
    assert.equal(r.status, 1, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].includes(name), lines[0]);
    assert.ok(!existsSync(path.join(tmp, 'imported.expt')), 'no output after an error');
  }
});

test('bzip2- and gzip-wrapped images decode to the same pixels as the plain file', async () => {
  const plain = path.join(REGRESSION_IMAGES, 'smv', 'TIMEPIX_SU_516-stdgoni_0001.img');
  const gz = path.join(tmp, 'TIMEPIX_SU_516-stdgoni_0001.img.gz');
  const { gzipSync } = await import('node:zlib');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  const a = (await (await openImageFile(plain)).read(0)).panels[0];
  for (const p of [plain + '.bz2', gz]) {
    const f = await openImageFile(p);
    assert.equal(f.format, 'SMVTimePix_SU_516x516');
    assert.deepEqual((await f.read(0)).panels[0], a);
  }
});
