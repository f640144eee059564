/**
 * The per-block work of spot finding, as run by a worker (or in this thread for nproc = 1):
 * read each image of the block, mask, threshold every panel, keep the strong pixels as sparse
 * lists, and label their connected regions within the block.
 */
import { FileFormatError } from '../../core/errors.js';
import type { ImageSource, RawImage } from '../../core/formats/types.js';
import type { Emit, ImageBlock } from '../../core/parallel/index.js';
import { labelBlock, type StrongPixelBlock } from './components.js';
import { findStrongPixelsPanel, ThresholdWorkspace, type ThresholdParams } from './threshold.js';

export interface BlockTask {
  block: ImageBlock;
  /** Image number of the sweep's first image minus one (image_range[0] − 1), for messages. */
  imageNumberOffset: number;
  /** Per panel: [width, height]. */
  panelSizes: [number, number][];
  trustedRanges: [number, number][];
  /** Per panel, 1 = usable (static part of the mask). */
  staticMasks: Uint8Array[];
  threshold: ThresholdParams;
  /** An image with a larger fraction of strong (usable) pixels is not used; null: no limit. */
  maxStrongPixelFraction: number | null;
}

/** What a block sends back: its labelled strong pixels and per-image strong-pixel counts. */
export interface BlockResult {
  pixels: StrongPixelBlock;
  strongPerImage: Int32Array;
  /** 1 for images whose pixels were dropped by maxStrongPixelFraction. */
  rejected: Uint8Array;
}

/** Progress event: one image done (0-based index in the sweep). */
export interface ImageDoneEvent { image: number; strong: number }

/** Growable Int32 list; grows by doubling so appends are amortised O(1) without per-pixel objects. */
class IntList {
  data = new Int32Array(1 << 16);
  length = 0;
  /** Room for `extra` more values. */
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const d = new Int32Array(size);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }
  /** Append src[0 … n). */
  append(src: Int32Array, n: number): void {
    this.reserve(n);
    this.data.set(src.subarray(0, n), this.length);
    this.length += n;
  }
  toArray(): Int32Array { return this.data.slice(0, this.length); }
}

/**
 * Threshold workspaces of this thread by panel size, kept from block to block: a workspace's
 * buffers (a WebAssembly memory of about ten times the panel's pixel count in bytes) cost more to
 * set up than an image does to threshold. addImage uses one synchronously from start to copy-out,
 * so blocks that interleave at their image reads can share it.
 */
const workspaces = new Map<string, ThresholdWorkspace>();

/**
 * Everything a block accumulates, and the per-image work. The work lives in a plain method, not
 * in the async block function: V8 compiles a loop inside an async function on the fly (on-stack)
 * and recompiles it whenever anything inlined into it changes, which cost more compile time
 * than several images of spot finding.
 */
class BlockState {
  readonly nPanels: number;
  readonly offsets: Int32Array;
  readonly index = new IntList();
  readonly value = new IntList();
  readonly strongPerImage: Int32Array;
  readonly rejected: Uint8Array;

  constructor(readonly task: BlockTask, readonly source: ImageSource) {
    this.nPanels = task.panelSizes.length;
    this.offsets = new Int32Array(task.block.count * this.nPanels + 1);
    this.strongPerImage = new Int32Array(task.block.count);
    this.rejected = new Uint8Array(task.block.count);
  }

  /** Threshold image `im` of the block (all panels) and append its strong pixels. Returns their number. */
  addImage(im: number, raw: RawImage): number {
    const { task, nPanels, offsets, index, value } = this;
    const { panelSizes, trustedRanges, staticMasks, threshold } = task;
    const imageIndex = task.block.first + im;
    if (raw.panels.length !== nPanels) {
      throw new FileFormatError(this.source.pathOf(imageIndex), `image ${task.imageNumberOffset + imageIndex + 1} has ${raw.panels.length} panels, the detector model ${nPanels}`);
    }
    let count = 0, usable = 0;
    const imageStart = index.length;
    for (let p = 0; p < nPanels; p++) {
      const [w, h] = panelSizes[p];
      const values = raw.panels[p];
      if (values.length !== w * h) {
        throw new FileFormatError(this.source.pathOf(imageIndex), `image ${task.imageNumberOffset + imageIndex + 1}, panel ${p}: ${values.length} pixels, the detector model has ${w}×${h}`);
      }
      const key = `${w}x${h}`;
      let ws = workspaces.get(key);
      if (!ws) { ws = new ThresholdWorkspace(w, h); workspaces.set(key, ws); }
      const n = findStrongPixelsPanel(values, staticMasks[p], trustedRanges[p], w, h, threshold, null, ws);
      usable += ws.usable;
      count += n;
      offsets[im * nPanels + p] = index.length;
      index.append(ws.strong, n);
      value.append(ws.strongValue, n);
    }
    if (task.maxStrongPixelFraction !== null && count > task.maxStrongPixelFraction * usable) {
      index.length = imageStart;
      value.length = imageStart;
      for (let p = 0; p < nPanels; p++) offsets[im * nPanels + p] = imageStart;
      this.rejected[im] = 1;
    }
    this.strongPerImage[im] = count;
    return count;
  }

  finish(): BlockResult {
    const { task, nPanels, offsets, index, value } = this;
    offsets[task.block.count * nPanels] = index.length;
    const pixels: StrongPixelBlock = {
      firstImage: task.block.first, nImages: task.block.count, nPanels, offsets,
      index: index.toArray(), value: value.toArray(), label: new Int32Array(index.length), nLabels: 0,
    };
    labelBlock(pixels, task.panelSizes);
    return { pixels, strongPerImage: this.strongPerImage, rejected: this.rejected };
  }
}

export async function findStrongPixels(source: ImageSource, task: BlockTask, emit: Emit): Promise<BlockResult> {
  const state = new BlockState(task, source);
  for (let im = 0; im < task.block.count; im++) {
    const imageIndex = task.block.first + im;
    let raw: RawImage;
    try {
      raw = await source.read(imageIndex);
    } catch (e) {
      const number = task.imageNumberOffset + imageIndex + 1;
      const file = source.pathOf(imageIndex);
      const detail = (e instanceof Error ? e.message : String(e)).replace(file + ': ', '');
      throw new FileFormatError(file, `image ${number} of ${source.description} cannot be read: ${detail}`);
    }
    const strong = state.addImage(im, raw);
    emit({ image: imageIndex, strong } satisfies ImageDoneEvent);
  }
  return state.finish();
}

/**
 * Read the block's images and nothing else: the decode-only baseline the benchmark compares spot
 * finding with. Returns the number of pixels read (so the work cannot be optimised away).
 */
export async function decodeBlock(source: ImageSource, task: { block: ImageBlock }, emit: Emit): Promise<{ pixels: number }> {
  let pixels = 0;
  for (let im = 0; im < task.block.count; im++) {
    const raw = await source.read(task.block.first + im);
    for (const p of raw.panels) pixels += p.length;
    emit({ image: task.block.first + im, strong: 0 } satisfies ImageDoneEvent);
  }
  return { pixels };
}
