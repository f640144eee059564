/**
 * Streaming shoebox extraction: images are read one at a time, in order, and each reflection's
 * pixels are copied into its own small shoebox while its bounding box is "open"; the moment its
 * last frame has been read the shoebox is handed to `onComplete` and released. Memory is therefore
 * bounded by the shoeboxes open at one time (a few frames' worth of reflections), never by the
 * number of images, and no image is held after its reflections have copied their pixels.
 */
import { FileFormatError } from '../errors.js';
import type { ImageSource, RawImage } from '../formats/types.js';

export interface ShoeboxRequest {
  /** Reflection indices to extract (indices into bbox/panel). */
  rows: Int32Array;
  /**
   * Per reflection x0, x1, y0, y1, z0, z1: pixels and frames (0-based within the source). Frames
   * must lie inside the source; pixels outside the panel are delivered as −1 (invalid), so a
   * shoebox keeps the shape its profile needs at a panel edge.
   */
  bbox: Int32Array;
  panel: Int32Array;
  /** Panel widths and heights (pixels). */
  widths: number[];
  heights: number[];
  /** Image number of source index 0, for messages. */
  firstImageNumber: number;
}

/** A complete shoebox: counts laid out z slowest, x fastest (invalid pixels keep their negative values). */
export type ShoeboxHandler = (row: number, data: Int32Array) => void;

export async function streamShoeboxes(source: ImageSource, req: ShoeboxRequest, onComplete: ShoeboxHandler, onImage?: (index: number) => void): Promise<void> {
  const { rows, bbox, panel, widths, heights } = req;
  const n = rows.length;
  if (n === 0) return;
  const byStart = Int32Array.from(rows).sort((a, b) => bbox[6 * a + 4] - bbox[6 * b + 4] || a - b);
  let zFirst = Infinity, zLast = -Infinity;
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    zFirst = Math.min(zFirst, bbox[6 * r + 4]);
    zLast = Math.max(zLast, bbox[6 * r + 5]);
  }
  let next = 0;
  let active: number[] = [];
  const buffers = new Map<number, Int32Array>();
  for (let z = zFirst; z < zLast; z++) {
    while (next < n && bbox[6 * byStart[next] + 4] === z) {
      const r = byStart[next++];
      const o = 6 * r;
      buffers.set(r, new Int32Array((bbox[o + 1] - bbox[o]) * (bbox[o + 3] - bbox[o + 2]) * (bbox[o + 5] - bbox[o + 4])));
      active.push(r);
    }
    if (active.length === 0) continue;
    let image: RawImage;
    try {
      image = await source.read(z);
    } catch (e) {
      const file = source.pathOf(z);
      const detail = (e instanceof Error ? e.message : String(e)).replace(file + ': ', '');
      throw new FileFormatError(file, `image ${req.firstImageNumber + z} cannot be read: ${detail}`);
    }
    onImage?.(z);
    const finished: number[] = [];
    for (const r of active) {
      const o = 6 * r;
      const x0 = bbox[o], x1 = bbox[o + 1], y0 = bbox[o + 2], y1 = bbox[o + 3], z0 = bbox[o + 4];
      const nx = x1 - x0, ny = y1 - y0;
      const pix = image.panels[panel[r]], W = widths[panel[r]], H = heights[panel[r]];
      const buf = buffers.get(r)!;
      let dst = (z - z0) * nx * ny;
      const xa = Math.max(x0, 0), xb = Math.min(x1, W);
      for (let y = y0; y < y1; y++, dst += nx) {
        if (y < 0 || y >= H || xa >= xb) { buf.fill(-1, dst, dst + nx); continue; }
        if (xa > x0) buf.fill(-1, dst, dst + xa - x0);
        buf.set(pix.subarray(y * W + xa, y * W + xb), dst + xa - x0);
        if (xb < x1) buf.fill(-1, dst + xb - x0, dst + nx);
      }
      if (bbox[o + 5] === z + 1) finished.push(r);
    }
    if (finished.length > 0) {
      finished.sort((a, b) => a - b);
      for (const r of finished) {
        const buf = buffers.get(r)!;
        buffers.delete(r);
        onComplete(r, buf);
      }
      const done = new Set(finished);
      active = active.filter((r) => !done.has(r));
    }
  }
}
