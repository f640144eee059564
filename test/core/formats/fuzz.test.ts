/**
 * Random byte mutations of each format's small sample, for a bounded time: every outcome must be
 * a decoded image or a clean UserError/FileFormatError — never another exception or a hang.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { openImageFile } from '../../../src/core/formats/detect.js';
import { UserError } from '../../../src/core/errors.js';
import { REGRESSION_IMAGES } from './paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'xtalflow-fuzz-'));
const BUDGET_MS = 900;
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, rand: () => number, headerBytes: number): Uint8Array {
  const out = Uint8Array.from(src);
  const kind = rand();
  if (kind < 0.15) return out.subarray(0, Math.floor(rand() * out.length));
  const n = 1 + Math.floor(rand() * 16);
  for (let i = 0; i < n; i++) {
    // Mostly hit the header, where the parsers live; sometimes anywhere.
    const pos = rand() < 0.7 ? Math.floor(rand() * Math.min(headerBytes, out.length)) : Math.floor(rand() * out.length);
    const r = rand();
    out[pos] = r < 0.3 ? 0x80 : r < 0.5 ? 0x30 + Math.floor(rand() * 10) : r < 0.6 ? 0x0a : Math.floor(rand() * 256);
  }
  return out;
}

const MIN_RUNS = 12;

async function fuzz(name: string, sample: Uint8Array, headerBytes: number, ext: string, seed: number, wrap?: (b: Uint8Array) => Uint8Array) {
  const rand = rng(seed);
  const t0 = Date.now();
  let runs = 0, clean = 0, ok = 0;
  // A fixed number of mutations always runs (the check must not depend on machine load); the
  // time budget only adds more when the machine is fast.
  while (runs < MIN_RUNS || Date.now() - t0 < BUDGET_MS) {
    const bytes = mutate(sample, rand, headerBytes);
    // One file per format, overwritten each run: the disk use stays one sample.
    const p = path.join(tmp, `${name}_0001${ext}`);
    writeFileSync(p, wrap ? wrap(bytes) : bytes);
    runs++;
    try {
      const f = await openImageFile(p);
      const img = await f.read(0);
      assert.equal(img.panels.length, f.detector.panels.length);
      await f.close();
      ok++;
    } catch (e) {
      if (!(e instanceof UserError)) assert.fail(`${name} run ${runs} (seed ${seed}): ${e instanceof Error ? e.stack : String(e)}`);
      assert.ok(!e.message.includes('\n'), e.message);
      clean++;
    }
  }
  return { runs, clean, ok };
}

test('fuzz: SMV', async () => {
  const s = readFileSync(path.join(REGRESSION_IMAGES, 'smv', 'TIMEPIX_SU_516-stdgoni_0001.img'));
  await fuzz('smv', s, 512, '.img', 1);
});

test('fuzz: full CBF (imgCIF) and byte_offset', async () => {
  const s = gunzipSync(readFileSync(path.join(REGRESSION_IMAGES, 'l_cysteine', 'l-cyst_01_00001.cbf.gz')));
  await fuzz('fullcbf', s, 7000, '.cbf', 2);
});

test('fuzz: miniCBF, gzip-wrapped', async () => {
  const s = gunzipSync(readFileSync(path.join(REGRESSION_IMAGES, 'l_cysteine', 'l-cyst_01_00001.cbf.gz')));
  const text = s.toString('latin1');
  // Keep only the Pilatus header_contents part: a miniCBF with the same pixels.
  const start = text.indexOf('# CBF_template_file');
  const bin = text.indexOf('_array_data.data');
  const mini = Buffer.concat([s.subarray(0, start), Buffer.from(';\n'), s.subarray(bin)]);
  await fuzz('minicbf', mini, 2000, '.cbf.gz', 3, (b) => gzipSync(b, { level: 1 }));
});

test('fuzz: HDF5 (NeXus master + data)', async () => {
  const s = readFileSync(path.join(REGRESSION_IMAGES, 'hdf5', 'dectris_h5-testfiles', 'dataset_artificial_small_001', 'test_master.h5'));
  await fuzz('h5', s, s.length, '.h5', 4);
});
