/**
 * Instruction counts for find_spots against decoding alone, for `valgrind --tool=callgrind`
 * (repeatable where wall and CPU time on a shared machine are not). Not a `bench*` module (the
 * leading underscore keeps bench/run.ts from importing it); run it compiled:
 *
 *   npx tsc -p tsconfig.json
 *   for n in 12 24; do for mode in decode find; do
 *     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$mode$n node --single-threaded \
 *       dist/bench/_find_spots_cg.js $mode $n 2>&1 | grep Collected
 *   done; done
 *
 * Per-image cost = (count for 24 images − count for 12) / 12, which cancels start-up and module
 * loading. --single-threaded makes V8 compile on the main thread, so when optimised code
 * arrives does not depend on how valgrind schedules threads. `mode` is decode (read and decode
 * each image, as the benchmark's baseline) or find (find_spots with nproc=1); the first `n`
 * images of the simulated lysozyme sweep are linked into a temporary directory.
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLog } from '../src/core/log.js';
import { decodeBlock } from '../src/stages/find_spots/block.js';
import { resolveParams, run } from '../src/stages/find_spots/index.js';
import { openSource } from '../src/stages/find_spots/source.js';
import { DATA, importExperiments } from '../test/stages/find_spots/dials_compare.js';

const [mode, nArg] = process.argv.slice(2);
const n = Number(nArg);
if ((mode !== 'decode' && mode !== 'find') || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: node dist/bench/_find_spots_cg.js decode|find N\n');
  process.exit(2);
}
const images = path.join(DATA, 'simulated/lysozyme_sweep/images');
const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-cg-'));
try {
  for (const f of readdirSync(images).filter((x) => x.endsWith('.cbf.gz')).sort().slice(0, n)) symlinkSync(path.join(images, f), path.join(dir, f));
  const experiments = await importExperiments([dir]);
  if (mode === 'find') {
    const r = await run(experiments, resolveParams({ nproc: 1 }), { log: silentLog });
    process.stdout.write(`find_spots: ${r.outputs.reflections.nrows} spots on ${n} images\n`);
  } else {
    const source = await openSource(experiments[0]);
    try {
      const r = await decodeBlock(source, { block: { first: 0, count: source.length } }, () => {});
      process.stdout.write(`decoded ${r.pixels} pixels on ${n} images\n`);
    } finally {
      await source.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
