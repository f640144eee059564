/**
 * What keeps integration's memory flat as the sweep grows: block tasks built only when a worker
 * is about to take them and results handed over in block order (streamBlocks), and the output
 * table streamed to disk column by column instead of encoded as a second copy (reflChunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { splitImages, streamBlocks, workerScriptUrl } from '../../../src/core/parallel/index.js';
import { UserError } from '../../../src/core/errors.js';
import { decodeRefl, encodeRefl, reflChunks, writeRefl } from '../../../src/core/io/refl.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { squaresOfBlock, type SquaresTask } from '../../core/parallel/fixtures/blocks.js';

const script = workerScriptUrl(new URL('../../core/parallel/fixtures/blocks-worker.ts', import.meta.url).href, './blocks-worker');
type Out = { first: number; values: Float64Array };

async function stream(n: number, nBlocks: number, nproc: number, failAt?: number): Promise<{ values: number[]; order: number[]; maxOutstanding: number }> {
  const blocks = splitImages(n, nBlocks);
  let built = 0, delivered = 0, maxOutstanding = 0;
  const order: number[] = [], values: number[] = [];
  await streamBlocks<SquaresTask, Out>({
    workerScript: script, method: 'squares', local: squaresOfBlock, nproc, count: blocks.length,
    task: (i) => {
      assert.equal(i, built, 'tasks are built once each, in order');
      built++;
      maxOutstanding = Math.max(maxOutstanding, built - delivered);
      return { block: blocks[i], failAt };
    },
    onResult: (i, r) => {
      order.push(i);
      delivered++;
      assert.ok(r.values instanceof Float64Array);
      values.push(...r.values);
    },
  });
  return { values, order, maxOutstanding };
}

test('streamBlocks: results in block order, the same for 1 and 2 workers, few tasks alive at once', async () => {
  const n = 240, expect = Array.from({ length: n }, (_, i) => i * i);
  const one = await stream(n, 16, 1);
  assert.deepEqual(one.values, expect);
  assert.equal(one.maxOutstanding, 1, 'in this thread: one block at a time');
  const two = await stream(n, 16, 2);
  assert.deepEqual(two.values, expect);
  assert.deepEqual(two.order, Array.from({ length: two.order.length }, (_, i) => i));
  assert.ok(two.maxOutstanding <= 4, `at most 2·nproc tasks built and not yet handed back (saw ${two.maxOutstanding})`);
});

test('streamBlocks: a failing block is one UserError naming the image', async () => {
  await assert.rejects(stream(60, 8, 2, 37), (e: Error) => e instanceof UserError && /image 38 is truncated/.test(e.message));
  await assert.rejects(stream(60, 8, 1, 37), (e: Error) => /image 38 is truncated/.test(e.message));
});

test('writeRefl streams: no piece is a copy of the table, and the file is the encoded table', async () => {
  const n = 150_000; // more rows than one size_t chunk
  const t = ReflectionTable.empty(n);
  const flags = new Float64Array(n), x = new Float64Array(3 * n), id = new Int32Array(n);
  for (let i = 0; i < n; i++) { flags[i] = i * 65537 + (i % 3) * 2 ** 40; x[3 * i] = i / 7; x[3 * i + 1] = -i; x[3 * i + 2] = 0.5; id[i] = i % 2; }
  t.setSizeT('flags', flags).setVec3('xyzcal.px', x).setInt('id', id);
  t.identifiers.set(0, 'a'); t.identifiers.set(1, 'b');
  let largest = 0;
  for (const c of reflChunks(t)) largest = Math.max(largest, c.byteLength);
  assert.equal(largest, x.byteLength, 'the largest piece is one column (a view of it), not the whole table');
  const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-memory-'));
  try {
    const file = path.join(dir, 'big.refl');
    await writeRefl(file, t);
    const bytes = new Uint8Array(readFileSync(file));
    assert.deepEqual(bytes, encodeRefl(t));
    const back = decodeRefl(bytes, file);
    assert.deepEqual(back.sizeT('flags'), flags);
    assert.deepEqual(back.vec3('xyzcal.px'), x);
    assert.deepEqual(back.int('id'), id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
