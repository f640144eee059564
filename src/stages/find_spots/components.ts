/**
 * Strong pixels of a block of consecutive images, joined into connected regions.
 *
 * Pixels are 6-connected in (x, y, image): left/right, up/down within an image, and the same pixel
 * on the neighbouring image. A block is labelled on its own (by a worker); blocks are then merged
 * by uniting the labels of identical pixels on the last image of one block and the first image of
 * the next. Spot numbers are given in order of each spot's first pixel in (panel, image, y, x)
 * order, so the final labelling does not depend on where the blocks were cut.
 */

/** Strong pixels of images [firstImage, firstImage + nImages) of one sweep. */
export interface StrongPixelBlock {
  /** 0-based image index within the sweep. */
  firstImage: number;
  nImages: number;
  nPanels: number;
  /** Pixels of (image i, panel p) are [offsets[i·nPanels + p], offsets[i·nPanels + p + 1]). */
  offsets: Int32Array;
  /** y·width + x within the panel, ascending within each (image, panel). */
  index: Int32Array;
  /** Raw counts. */
  value: Int32Array;
  /** Block-local component label per pixel, 0 … nLabels−1. */
  label: Int32Array;
  nLabels: number;
}

/** Panel sizes [width, height] needed to find neighbours. */
export type PanelSizes = readonly (readonly [number, number])[];

function find(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r];
  while (parent[i] !== r) { const next = parent[i]; parent[i] = r; i = next; }
  return r;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a), rb = find(parent, b);
  // The smaller root wins, which keeps roots deterministic (not needed for correctness).
  if (ra < rb) parent[rb] = ra; else if (rb < ra) parent[ra] = rb;
}

/**
 * Reusable dense maps (pixel → node + 1) for the current and previous image of one panel; only the
 * entries that were set are cleared again, so the cost follows the number of strong pixels.
 */
class NodeMaps {
  cur = new Int32Array(0);
  prev = new Int32Array(0);
  ensure(n: number): void {
    if (this.cur.length < n) { this.cur = new Int32Array(n); this.prev = new Int32Array(n); }
  }
  swap(): void { const t = this.prev; this.prev = this.cur; this.cur = t; }
}

/**
 * Label the pixels of a block in place (fills `label`, sets `nLabels`). Labels are numbered by
 * first appearance in (panel, image, index) order.
 */
export function labelBlock(block: StrongPixelBlock, panels: PanelSizes): void {
  const { nImages, nPanels, offsets, index } = block;
  const n = index.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const maps = new NodeMaps();
  for (let p = 0; p < nPanels; p++) {
    const w = panels[p][0];
    maps.ensure(panels[p][0] * panels[p][1]);
    for (let im = 0; im < nImages; im++) {
      const a = offsets[im * nPanels + p], b = offsets[im * nPanels + p + 1];
      const cur = maps.cur, prev = maps.prev;
      for (let k = a; k < b; k++) {
        const idx = index[k];
        cur[idx] = k + 1;
        const x = idx % w;
        if (x > 0 && cur[idx - 1] !== 0) union(parent, k, cur[idx - 1] - 1);
        if (idx >= w && cur[idx - w] !== 0) union(parent, k, cur[idx - w] - 1);
        if (prev[idx] !== 0) union(parent, k, prev[idx] - 1);
      }
      // Clear the previous image's entries, then the current map becomes "previous".
      if (im > 0) {
        const pa = offsets[(im - 1) * nPanels + p], pb = offsets[(im - 1) * nPanels + p + 1];
        for (let k = pa; k < pb; k++) prev[index[k]] = 0;
      }
      maps.swap();
    }
    if (nImages > 0) {
      const pa = offsets[(nImages - 1) * nPanels + p], pb = offsets[(nImages - 1) * nPanels + p + 1];
      for (let k = pa; k < pb; k++) maps.prev[index[k]] = 0;
    }
  }
  // Number components by first appearance in (panel, image, index) order.
  const compOf = new Int32Array(n).fill(-1);
  let next = 0;
  const label = block.label.length === n ? block.label : new Int32Array(n);
  for (let p = 0; p < nPanels; p++) {
    for (let im = 0; im < nImages; im++) {
      const a = offsets[im * nPanels + p], b = offsets[im * nPanels + p + 1];
      for (let k = a; k < b; k++) {
        const r = find(parent, k);
        if (compOf[r] < 0) compOf[r] = next++;
        label[k] = compOf[r];
      }
    }
  }
  block.label = label;
  block.nLabels = next;
}

/** Pixels of a whole sweep with global spot numbers. */
export interface LabelledSweep {
  blocks: StrongPixelBlock[];
  /** Per block, per pixel: spot number (0 … nSpots−1). */
  spotOf: Int32Array[];
  nSpots: number;
}

/**
 * Merge labelled blocks (given in image order, contiguous) into sweep-wide spots.
 */
export function mergeBlocks(blocks: StrongPixelBlock[], panels: PanelSizes): LabelledSweep {
  const base: number[] = [];
  let total = 0;
  for (const b of blocks) { base.push(total); total += b.nLabels; }
  const parent = new Int32Array(total);
  for (let i = 0; i < total; i++) parent[i] = i;
  const maps = new NodeMaps();
  for (let bi = 0; bi + 1 < blocks.length; bi++) {
    const A = blocks[bi], B = blocks[bi + 1];
    if (A.firstImage + A.nImages !== B.firstImage) throw new Error('blocks are not contiguous');
    if (A.nImages === 0 || B.nImages === 0) continue;
    for (let p = 0; p < A.nPanels; p++) {
      maps.ensure(panels[p][0] * panels[p][1]);
      const m = maps.cur;
      const la = (A.nImages - 1) * A.nPanels + p;
      for (let k = A.offsets[la]; k < A.offsets[la + 1]; k++) m[A.index[k]] = base[bi] + A.label[k] + 1;
      for (let k = B.offsets[p]; k < B.offsets[p + 1]; k++) {
        const other = m[B.index[k]];
        if (other !== 0) union(parent, base[bi + 1] + B.label[k], other - 1);
      }
      for (let k = A.offsets[la]; k < A.offsets[la + 1]; k++) m[A.index[k]] = 0;
    }
  }
  // Canonical spot numbers: first appearance in (panel, image, index) order over the whole sweep.
  const spotOfRoot = new Int32Array(total).fill(-1);
  const spotOf = blocks.map((b) => new Int32Array(b.index.length));
  let nSpots = 0;
  const nPanels = blocks.length > 0 ? blocks[0].nPanels : 0;
  for (let p = 0; p < nPanels; p++) {
    for (let bi = 0; bi < blocks.length; bi++) {
      const B = blocks[bi], out = spotOf[bi];
      for (let im = 0; im < B.nImages; im++) {
        const a = B.offsets[im * nPanels + p], e = B.offsets[im * nPanels + p + 1];
        for (let k = a; k < e; k++) {
          const r = find(parent, base[bi] + B.label[k]);
          if (spotOfRoot[r] < 0) spotOfRoot[r] = nSpots++;
          out[k] = spotOfRoot[r];
        }
      }
    }
  }
  return { blocks, spotOf, nSpots };
}
