/**
 * What find_spots prints: the ASCII histogram of spots per image (as DIALS draws it) and a
 * progress bar on a terminal.
 */
import cliProgress from 'cli-progress';
import type { ImageDoneEvent } from './block.js';

const MAX_COLUMNS = 60;
const ROWS = 10;

/**
 * Spots per image as columns of '*', ten rows high, at most 60 columns (consecutive images are
 * summed into one column when there are more), with the first and last image numbers below.
 */
export function histogram(perImage: ArrayLike<number>, firstImage: number): string {
  const n = perImage.length;
  if (n === 0) return 'no images';
  const nBins = Math.min(n, MAX_COLUMNS);
  const bins = new Float64Array(nBins);
  for (let i = 0; i < n; i++) bins[Math.min(nBins - 1, Math.floor((i * nBins) / n))] += perImage[i];
  let total = 0;
  for (let i = 0; i < n; i++) total += perImage[i];
  const max = Math.max(...bins);
  const lines = [`${total} spots found on ${n} images (max ${max} / bin)`];
  for (let r = ROWS; r >= 1; r--) {
    let line = '';
    for (let b = 0; b < nBins; b++) line += max > 0 && (bins[b] / max) * ROWS >= r - 0.5 ? '*' : ' ';
    lines.push(line.replace(/\s+$/, ''));
  }
  const last = String(firstImage + n - 1), first = String(firstImage);
  const width = Math.max(nBins, first.length + last.length + 7);
  const gap = width - first.length - last.length - 'image'.length;
  const left = Math.floor(gap / 2);
  lines.push(first + ' '.repeat(Math.max(1, left)) + 'image' + ' '.repeat(Math.max(1, gap - left)) + last);
  return lines.join('\n');
}

export interface ProgressReporter {
  tick: (ev: ImageDoneEvent) => void;
  stop: () => void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (logs and pipes stay clean). */
export function progressReporter(totalImages: number, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY || totalImages <= 0) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    stream, format: 'Finding spots |{bar}| {value}/{total} images | {strong} strong pixels on the last image', hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  bar.start(totalImages, 0, { strong: 0 });
  let done = 0;
  return {
    tick: (ev) => { done++; bar.update(done, { strong: ev.strong }); },
    stop: () => bar.stop(),
  };
}
