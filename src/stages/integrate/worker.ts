/**
 * Worker-thread entry for integration: opens the sweep's images itself (image sources do not
 * cross threads), runs one block and moves the result arrays back without copying.
 */
import type { Experiment } from '../../core/models/types.js';
import { openImageSource } from '../../core/formats/sweep.js';
import { registerWorker, transferable, workerEmit } from '../../core/parallel/index.js';
import { runBlock, type BlockOutput, type BlockTask } from './block.js';

export interface WorkerTask extends BlockTask {
  experiment: Experiment;
  dir: string;
}

async function integrateBlock(task: WorkerTask): Promise<BlockOutput> {
  const source = await openImageSource(task.experiment, task.dir);
  try {
    const r = await runBlock(source, task, workerEmit);
    return transferable(r);
  } finally {
    await source.close();
  }
}


registerWorker({ integrateBlock });
