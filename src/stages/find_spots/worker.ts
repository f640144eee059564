/**
 * Worker-thread entry for spot finding: opens the sweep's images itself (image sources do not
 * cross threads), runs one block, and moves the pixel lists back without copying.
 */
import type { Experiment } from '../../core/models/types.js';
import { registerWorker, transferable, workerEmit } from '../../core/parallel/index.js';
import { decodeBlock, findStrongPixels, type BlockResult, type BlockTask } from './block.js';
import { openSource } from './source.js';

export interface WorkerTask extends BlockTask {
  experiment: Experiment;
  dir: string;
}

async function findStrongPixelsTask(task: WorkerTask): Promise<BlockResult> {
  const source = await openSource(task.experiment, task.dir);
  try {
    const r = await findStrongPixels(source, task, workerEmit);
    return transferable(r);
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
