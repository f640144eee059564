/**
 * Per-spot properties from labelled strong pixels, and the spot filters.
 *
 * Conventions checked against DIALS 3.12 strong.refl files (same pixels → same numbers):
 * - centroid = count-weighted mean of pixel centres (x + 0.5, y + 0.5, z + 0.5), z in frames with
 *   frame 0 at the start of the scan's first image (DIALS' array range, image_range[0] − 1);
 * - centroid variance per axis = s² / W + 1/12, where W = Σw and s² = Σw(x − x̄)² / (W − Σw²/W) is the
 *   unbiased weighted spread: the standard error of the mean plus the variance of a uniform pixel;
 * - intensity = Σ counts, its variance = Σ counts (Poisson, no background subtracted).
 */
import type { LabelledSweep, StrongPixelBlock } from './components.js';

/** Spots as columns; row i is spot i. */
export interface SpotList {
  n: number;
  panel: Int32Array;
  /** x0, x1, y0, y1, z0, z1 (half-open), pixels and frames. */
  bbox: Int32Array;
  nSignal: Int32Array;
  intensity: Float64Array;
  intensityVariance: Float64Array;
  /** x, y, z centroid (px, px, frames). */
  xyz: Float64Array;
  xyzVariance: Float64Array;
  /** Centre of the brightest pixel (px, px, frames). */
  peak: Float64Array;
}

export function emptySpotList(n: number): SpotList {
  return {
    n,
    panel: new Int32Array(n), bbox: new Int32Array(6 * n), nSignal: new Int32Array(n),
    intensity: new Float64Array(n), intensityVariance: new Float64Array(n),
    xyz: new Float64Array(3 * n), xyzVariance: new Float64Array(3 * n), peak: new Float64Array(3 * n),
  };
}

type PixelVisitor = (spot: number, panel: number, x: number, y: number, z: number, v: number) => void;

function forEachPixel(sweep: LabelledSweep, widths: readonly number[], zOffset: number, visit: PixelVisitor): void {
  sweep.blocks.forEach((b: StrongPixelBlock, bi) => {
    const spotOf = sweep.spotOf[bi];
    for (let im = 0; im < b.nImages; im++) {
      const z = zOffset + b.firstImage + im;
      for (let p = 0; p < b.nPanels; p++) {
        const w = widths[p];
        const a = b.offsets[im * b.nPanels + p], e = b.offsets[im * b.nPanels + p + 1];
        for (let k = a; k < e; k++) {
          const idx = b.index[k];
          const y = (idx / w) | 0;
          visit(spotOf[k], p, idx - y * w, y, z, b.value[k]);
        }
      }
    }
  });
}

/**
 * Compute every spot's properties. `zOffset` is the frame number of the sweep's first image
 * (image_range[0] − 1 for a scan, 0 for a still). Two passes over the pixels: means first, then
 * spreads about them, which stays exact where Σw·x² − W·x̄² would cancel. The passes are plain
 * loops over each (block, image, panel) pixel list (see accumulateMeans), not calls of a visitor
 * per pixel: there are millions of pixels in a sweep.
 */
export function computeSpots(sweep: LabelledSweep, widths: readonly number[], zOffset: number): SpotList {
  const n = sweep.nSpots;
  const s = emptySpotList(n);
  const W = new Float64Array(n), W2 = new Float64Array(n), peakValue = new Float64Array(n).fill(-Infinity);
  const { bbox, xyz } = s;
  for (let i = 0; i < n; i++) {
    bbox[6 * i] = bbox[6 * i + 2] = bbox[6 * i + 4] = 2147483647;
    bbox[6 * i + 1] = bbox[6 * i + 3] = bbox[6 * i + 5] = -2147483648;
  }
  forEachList(sweep, widths, zOffset, (spotOf, index, value, a, e, p, w, z) => accumulateMeans(s, W, W2, peakValue, spotOf, index, value, a, e, p, w, z));
  for (let i = 0; i < n; i++) {
    s.intensity[i] = W[i];
    s.intensityVariance[i] = W[i];
    for (let d = 0; d < 3; d++) xyz[3 * i + d] = W[i] > 0 ? xyz[3 * i + d] / W[i] : NaN;
  }
  const spread = s.xyzVariance;
  forEachList(sweep, widths, zOffset, (spotOf, index, value, a, e, _p, w, z) => accumulateSpreads(xyz, spread, spotOf, index, value, a, e, w, z));
  for (let i = 0; i < n; i++) {
    const effective = W[i] - W2[i] / W[i];
    for (let d = 0; d < 3; d++) {
      const s2 = effective > 0 ? spread[3 * i + d] / effective : 0;
      spread[3 * i + d] = s2 / W[i] + 1 / 12;
    }
  }
  return s;
}

type ListVisitor = (spotOf: Int32Array, index: Int32Array, value: Int32Array, a: number, e: number, panel: number, w: number, z: number) => void;

/** Call `visit` once per (block, image, panel) with that pixel list's range [a, e). */
function forEachList(sweep: LabelledSweep, widths: readonly number[], zOffset: number, visit: ListVisitor): void {
  sweep.blocks.forEach((b: StrongPixelBlock, bi) => {
    for (let im = 0; im < b.nImages; im++) {
      for (let p = 0; p < b.nPanels; p++) {
        visit(sweep.spotOf[bi], b.index, b.value, b.offsets[im * b.nPanels + p], b.offsets[im * b.nPanels + p + 1], p, widths[p], zOffset + b.firstImage + im);
      }
    }
  });
}

/** computeSpots' first pass over pixels [a, e) of one list: counts, weights, weighted sums, bounding boxes, peaks. */
function accumulateMeans(s: SpotList, W: Float64Array, W2: Float64Array, peakValue: Float64Array, spotOf: Int32Array,
  index: Int32Array, value: Int32Array, a: number, e: number, p: number, w: number, z: number): void {
  const { panel, nSignal, xyz, bbox, peak } = s;
  for (let k = a; k < e; k++) {
    const i = spotOf[k], idx = index[k], v = value[k];
    const y = (idx / w) | 0, x = idx - y * w;
    panel[i] = p;
    nSignal[i]++;
    W[i] += v;
    W2[i] += v * v;
    xyz[3 * i] += v * (x + 0.5);
    xyz[3 * i + 1] += v * (y + 0.5);
    xyz[3 * i + 2] += v * (z + 0.5);
    const o = 6 * i;
    if (x < bbox[o]) bbox[o] = x;
    if (x + 1 > bbox[o + 1]) bbox[o + 1] = x + 1;
    if (y < bbox[o + 2]) bbox[o + 2] = y;
    if (y + 1 > bbox[o + 3]) bbox[o + 3] = y + 1;
    if (z < bbox[o + 4]) bbox[o + 4] = z;
    if (z + 1 > bbox[o + 5]) bbox[o + 5] = z + 1;
    // The first pixel wins ties, in the canonical pixel order, so the peak is deterministic.
    if (v > peakValue[i]) {
      peakValue[i] = v;
      peak[3 * i] = x + 0.5; peak[3 * i + 1] = y + 0.5; peak[3 * i + 2] = z + 0.5;
    }
  }
}

/** computeSpots' second pass over pixels [a, e) of one list: weighted squared deviations from the centroids. */
function accumulateSpreads(xyz: Float64Array, spread: Float64Array, spotOf: Int32Array, index: Int32Array, value: Int32Array,
  a: number, e: number, w: number, z: number): void {
  for (let k = a; k < e; k++) {
    const i = spotOf[k], idx = index[k], v = value[k];
    const y = (idx / w) | 0, x = idx - y * w;
    const dx = x + 0.5 - xyz[3 * i], dy = y + 0.5 - xyz[3 * i + 1], dz = z + 0.5 - xyz[3 * i + 2];
    spread[3 * i] += v * dx * dx;
    spread[3 * i + 1] += v * dy * dy;
    spread[3 * i + 2] += v * dz * dz;
  }
}

export interface SpotFilterParams {
  minSpotSize: number;
  maxSpotSize: number;
  /** Largest allowed distance (px, frames) between the brightest pixel and the centroid; null: no test. */
  maxSeparation: number | null;
}

export interface SpotFilterResult {
  spots: SpotList;
  /** Row i of `spots` is spot sourceIndex[i] of the unfiltered list. */
  sourceIndex: Int32Array;
  removedSmall: number;
  removedLarge: number;
  removedSeparation: number;
  /** Spots with no positive counts (centroid undefined). */
  removedEmpty: number;
}

/** Select rows `keep[i] ≠ 0`, preserving order. */
export function selectSpots(s: SpotList, keep: Uint8Array): SpotList {
  let m = 0;
  for (let i = 0; i < s.n; i++) if (keep[i]) m++;
  const out = emptySpotList(m);
  let j = 0;
  for (let i = 0; i < s.n; i++) {
    if (!keep[i]) continue;
    out.panel[j] = s.panel[i];
    out.nSignal[j] = s.nSignal[i];
    out.intensity[j] = s.intensity[i];
    out.intensityVariance[j] = s.intensityVariance[i];
    for (let d = 0; d < 6; d++) out.bbox[6 * j + d] = s.bbox[6 * i + d];
    for (let d = 0; d < 3; d++) {
      out.xyz[3 * j + d] = s.xyz[3 * i + d];
      out.xyzVariance[3 * j + d] = s.xyzVariance[3 * i + d];
      out.peak[3 * j + d] = s.peak[3 * i + d];
    }
    j++;
  }
  return out;
}

/** The size filters, then the peak–centroid separation filter (the order DIALS reports them in). */
export function filterSpots(s: SpotList, p: SpotFilterParams): SpotFilterResult {
  const keep = new Uint8Array(s.n);
  let removedSmall = 0, removedLarge = 0, removedSeparation = 0, removedEmpty = 0;
  for (let i = 0; i < s.n; i++) {
    const size = s.nSignal[i];
    if (size < p.minSpotSize) { removedSmall++; continue; }
    if (size > p.maxSpotSize) { removedLarge++; continue; }
    if (!(s.intensity[i] > 0)) { removedEmpty++; continue; }
    if (p.maxSeparation !== null) {
      const dx = s.peak[3 * i] - s.xyz[3 * i], dy = s.peak[3 * i + 1] - s.xyz[3 * i + 1], dz = s.peak[3 * i + 2] - s.xyz[3 * i + 2];
      if (dx * dx + dy * dy + dz * dz > p.maxSeparation * p.maxSeparation) { removedSeparation++; continue; }
    }
    keep[i] = 1;
  }
  const sourceIndex = new Int32Array(s.n);
  let m = 0;
  for (let i = 0; i < s.n; i++) if (keep[i]) sourceIndex[m++] = i;
  return { spots: selectSpots(s, keep), sourceIndex: sourceIndex.slice(0, m), removedSmall, removedLarge, removedSeparation, removedEmpty };
}

/** Spots per image for the histogram: a spot counts on the image holding its centroid. */
export function spotsPerImage(s: SpotList, zFirst: number, nImages: number): Int32Array {
  const counts = new Int32Array(nImages);
  for (let i = 0; i < s.n; i++) {
    const z = Math.floor(s.xyz[3 * i + 2]) - zFirst;
    counts[z < 0 ? 0 : z >= nImages ? nImages - 1 : z]++;
  }
  return counts;
}

/** Shoeboxes of one sweep's spots, flat: pixels of row i are the bbox in (z, y, x) order. */
export interface ShoeboxParts {
  panel: Uint32Array;
  bbox: Int32Array;
  data: Float32Array;
  mask: Int32Array;
}

/** DIALS' find_spots mask code for a spot pixel: valid | foreground. */
export const SHOEBOX_SPOT_PIXEL = 1 | 4;

/**
 * Shoeboxes as DIALS' find_spots stores them: the bbox holding the spot's own pixel counts, mask
 * valid|foreground on them and 0 (with count 0) elsewhere.
 */
export function buildShoeboxes(sweep: LabelledSweep, widths: readonly number[], zOffset: number,
  spots: SpotList, sourceIndex: Int32Array): ShoeboxParts {
  const rowOf = new Int32Array(sweep.nSpots).fill(-1);
  sourceIndex.forEach((src, row) => { rowOf[src] = row; });
  const start = new Float64Array(spots.n + 1);
  for (let i = 0; i < spots.n; i++) {
    const b = 6 * i;
    start[i + 1] = start[i] + (spots.bbox[b + 1] - spots.bbox[b]) * (spots.bbox[b + 3] - spots.bbox[b + 2]) * (spots.bbox[b + 5] - spots.bbox[b + 4]);
  }
  const data = new Float32Array(start[spots.n]), mask = new Int32Array(start[spots.n]);
  const { bbox } = spots;
  forEachPixel(sweep, widths, zOffset, (spot, _p, x, y, z, v) => {
    const row = rowOf[spot];
    if (row < 0) return;
    const b = 6 * row;
    const nx = bbox[b + 1] - bbox[b], ny = bbox[b + 3] - bbox[b + 2];
    const at = start[row] + ((z - bbox[b + 4]) * ny + (y - bbox[b + 2])) * nx + (x - bbox[b]);
    data[at] = v;
    mask[at] = SHOEBOX_SPOT_PIXEL;
  });
  return { panel: Uint32Array.from(spots.panel), bbox: spots.bbox.slice(), data, mask };
}
