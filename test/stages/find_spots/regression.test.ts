/**
 * Real images shipped in regression-data/find_spots (no /work/shared needed), against DIALS 3.12's
 * strong.refl for the same images: the Timepix 512 image (4 panels) and the first l-cysteine sweep
 * (15 images, 3D spots). Also: nproc = 1 and 2 give byte-identical strong.refl, and a corrupt image
 * in the middle of a sweep is reported by file name and image number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRefl, readReflSync } from '../../../src/core/io/refl.js';
import { silentLog } from '../../../src/core/log.js';
import { UserError } from '../../../src/core/errors.js';
import type { ReflectionTable } from '../../../src/core/reflections/table.js';
import { resolveParams, run } from '../../../src/stages/find_spots/index.js';
import { compareSpots, importExperiments } from './dials_compare.js';

/** regression-data/find_spots, from test/… under tsx or dist/test/… when compiled. */
function dataDir(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'regression-data', 'find_spots'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error('regression-data/find_spots not found');
    d = up;
  }
  return path.join(d, 'regression-data', 'find_spots');
}
const DATA = dataDir();

async function findSpots(inputs: string[], params: Record<string, unknown> = {}): Promise<ReflectionTable> {
  const experiments = await importExperiments(inputs);
  return (await run(experiments, resolveParams({ nproc: 1, ...params }), { log: silentLog })).outputs.reflections;
}

function onlyId(t: ReflectionTable, id: number): ReflectionTable {
  const ids = t.int('id');
  return t.select(Uint8Array.from(ids, (v) => (v === id ? 1 : 0)));
}

/** Same rows in the same order: integer columns equal, centroids and variances to 1e-9. */
function assertSameSpots(ours: ReflectionTable, dials: ReflectionTable): void {
  assert.equal(ours.nrows, dials.nrows);
  assert.deepEqual(Array.from(ours.int6('bbox')), Array.from(dials.int6('bbox')));
  assert.deepEqual(Array.from(ours.int('n_signal')), Array.from(dials.int('n_signal')));
  assert.deepEqual(Array.from(ours.sizeT('panel')), Array.from(dials.sizeT('panel')));
  assert.deepEqual(Array.from(ours.sizeT('flags')), Array.from(dials.sizeT('flags')));
  assert.deepEqual(Array.from(ours.double('intensity.sum.value')), Array.from(dials.double('intensity.sum.value')));
  assert.deepEqual(Array.from(ours.double('intensity.sum.variance')), Array.from(dials.double('intensity.sum.variance')));
  for (const col of ['xyzobs.px.value', 'xyzobs.px.variance']) {
    const a = ours.vec3(col), b = dials.vec3(col);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-9, `${col}[${i}]: ${a[i]} vs ${b[i]}`);
  }
  assert.deepEqual(ours.columnNames().sort(), dials.columnNames().sort());
}

test('Timepix 512 (4 panels): the same 18 spots as DIALS, same pixels, centroids and variances', async () => {
  const ours = await findSpots([path.join(DATA, 'TIMEPIX_SU_512-stdgoni_0001.img.gz')]);
  assertSameSpots(ours, readReflSync(path.join(DATA, 'TIMEPIX_SU_512-stdgoni_0001.dials_strong.refl')));
});

test('l-cysteine sweep 1 (15 images, 3D spots): DIALS\' spots exactly; nproc 1 and 2 byte-identical', async () => {
  const dir = path.join(DATA, 'l_cysteine_01');
  const one = await findSpots([dir], { nproc: 1 });
  const two = await findSpots([dir], { nproc: 2 });
  assert.deepEqual(encodeRefl(one), encodeRefl(two), 'byte-identical strong.refl for nproc=1 and nproc=2');
  const dials = onlyId(readReflSync(path.join(DATA, 'l_cysteine.dials_strong.refl')), 0);
  assertSameSpots(one, dials);
  const c = compareSpots(one, dials);
  assert.equal(c.matchedFraction, 1);
});

test('a corrupt image in the middle of a sweep is reported by file name and image number', async () => {
  const src = path.join(DATA, 'l_cysteine_01');
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-badsweep-'));
  try {
    const files = readdirSync(src).filter((f) => f.endsWith('.cbf.gz')).sort().slice(0, 8);
    for (const f of files) copyFileSync(path.join(src, f), path.join(dir, f));
    const experiments = await importExperiments([dir]);
    // Damage image 5 after import (headers were fine when the sweep was imported).
    const bad = path.join(dir, files[4]);
    writeFileSync(bad, readFileSync(bad).subarray(0, 2000));
    for (const nproc of [1, 2]) {
      await assert.rejects(run(experiments, resolveParams({ nproc }), { log: silentLog }),
        (e: unknown) => e instanceof UserError && e.message.includes(bad) && /image 5\b/.test(e.message) && !e.message.includes('\n'),
        `nproc=${nproc}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
