/**
 * How spot finding opens a sweep's images: through the formats module's ImageSource, in the main
 * thread for nproc = 1 and again inside each worker (sources hold file handles and cannot be sent).
 */
import type { ImageSource } from '../../core/formats/types.js';
import { openImageSource } from '../../core/formats/sweep.js';
import type { Experiment } from '../../core/models/types.js';

export type SourceOpener = (experiment: Experiment) => Promise<ImageSource> | ImageSource;

/**
 * Open an experiment's images. Paths in experiments read from an .expt are already absolute
 * (the reader resolves them); `dir` resolves any that are still relative.
 */
export function openSource(experiment: Experiment, dir: string = process.cwd()): Promise<ImageSource> {
  return openImageSource(experiment, dir);
}
