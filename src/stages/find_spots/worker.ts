/**
 * Worker-thread entry for spot finding: opens the sweep's images itself (image sources do not
 * cross threads), runs one block, and sends the pixel lists back as copies. Moving them instead
 * (transfer) would detach their buffers, and the first detached buffer in a thread makes V8
 * throw away every optimised function that touches typed arrays (threshold passes, decoder) and
 * compile them again with detach checks; copying a block's pixel lists (a few MB) costs far less.
 */
import type { Experiment } from '../../core/models/types.js';
import { registerWorker, workerEmit } from '../../core/parallel/index.js';
import { decodeBlock, findStrongPixels, type BlockResult, type BlockTask } from './block.js';
import { openSource } from './source.js';

export interface WorkerTask extends BlockTask {
  experiment: Experiment;
  dir: string;
}

async function findStrongPixelsTask(task: WorkerTask): Promise<BlockResult> {
  const source = await openSource(task.experiment, task.dir);
  try {
    return await findStrongPixels(source, task, workerEmit);
  } finally {
    await source.close();
  }
}

/** The decode-only baseline (benchmark): same reads, no spot finding. */
async function decodeTask(task: WorkerTask): Promise<{ pixels: number }> {
  const source = await openSource(task.experiment, task.dir);
  try {
    return await decodeBlock(source, task, workerEmit);
  } finally {
    await source.close();
  }
}

registerWorker({ findStrongPixels: findStrongPixelsTask, decode: decodeTask });
