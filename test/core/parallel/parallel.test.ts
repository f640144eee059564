import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveNproc, runBlocks, splitImages, workerScriptUrl } from '../../../src/core/parallel/index.js';
import { UserError } from '../../../src/core/errors.js';
import { squaresOfBlock, type SquaresTask } from './fixtures/blocks.js';

test('splitImages covers every image once, in order, for any worker count', () => {
  for (const n of [0, 1, 2, 7, 120, 1001]) {
    for (const nproc of [1, 2, 3, 8]) {
      const blocks = splitImages(n, nproc, { minBlock: 2 });
      let next = 0;
      for (const b of blocks) {
        assert.equal(b.first, next);
        assert.ok(b.count >= 1);
        next += b.count;
      }
      assert.equal(next, n);
      if (n >= 2) assert.ok(blocks.every((b) => b.count >= 2 || blocks.length === 1 || b.count >= 1));
    }
  }
  assert.equal(splitImages(120, 2).length, 8);
});

test('resolveNproc: explicit value, else all cores', () => {
  assert.equal(resolveNproc(3), 3);
  assert.ok(resolveNproc(null) >= 1);
});

const script = workerScriptUrl(import.meta.url, './fixtures/blocks-worker');
const tasks = (n: number, nproc: number, failAt?: number): SquaresTask[] => splitImages(n, nproc).map((block) => ({ block, failAt }));

async function squares(n: number, nproc: number): Promise<number[]> {
  const events: number[] = [];
  const out = await runBlocks<SquaresTask, { first: number; values: Float64Array }>({
    workerScript: script, method: 'squares', local: squaresOfBlock, tasks: tasks(n, nproc), nproc,
    onEvent: (e) => events.push((e as { image: number }).image),
  });
  assert.deepEqual(events.slice().sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), 'one progress event per image');
  for (const r of out) assert.ok(r.values instanceof Float64Array, 'typed arrays come back as typed arrays');
  return out.flatMap((r) => Array.from(r.values));
}

test('runBlocks returns results in block order, the same in this thread and in 2 workers', async () => {
  const expected = Array.from({ length: 37 }, (_, i) => i * i);
  assert.deepEqual(await squares(37, 1), expected);
  assert.deepEqual(await squares(37, 2), expected);
});

test('a user error in a worker arrives as a one-line UserError naming the file', async () => {
  for (const nproc of [1, 2]) {
    await assert.rejects(
      runBlocks({ workerScript: script, method: 'squares', local: squaresOfBlock, tasks: tasks(20, nproc, 13), nproc }),
      (e: unknown) => e instanceof UserError && /image_14\.cbf: image 14 is truncated/.test(e.message),
    );
  }
});
