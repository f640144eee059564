/**
 * What a format reader knows about one file before reading pixels: the models, how many images
 * the file holds, and how to read image i. Sweeps (sweep.ts) are assembled from these.
 */
import type { Beam, Detector, Goniometer } from '../models/types.js';
import type { RawImage } from './types.js';

/** One image's place in a rotation scan. */
export interface ScanPoint {
  /** [φ start, width] of this image, degrees */
  oscillation: [number, number];
  exposureTime: number;
  /** seconds since 1970 (0 when unknown) */
  epoch: number;
}

/** A rectangle of the stored image that DIALS treats as a separate panel. */
export interface PanelWindow { x0: number; y0: number; nFast: number; nSlow: number }

export interface ImageHeader {
  path: string;
  /** dxtbx-like format class name (without the 'Format' prefix). */
  format: string;
  beam: Beam;
  detector: Detector;
  goniometer?: Goniometer;
  /** For single-image files: this image's scan point. */
  scan?: ScanPoint;
  /** For multi-image containers (NeXus): the scan points of every image. */
  scanPoints?: ScanPoint[];
  nImages: number;
  /** When one stored array is split into several panels. */
  panelWindows?: PanelWindow[];
}

/** Cut panels out of one stored (slow × fast) array; without windows the array is the single panel. */
export function splitPanels(full: Int32Array, nFastFull: number, windows: PanelWindow[] | undefined): RawImage {
  if (!windows) return { panels: [full] };
  const panels = windows.map((w) => {
    const out = new Int32Array(w.nFast * w.nSlow);
    for (let y = 0; y < w.nSlow; y++) {
      const src = (w.y0 + y) * nFastFull + w.x0;
      out.set(full.subarray(src, src + w.nFast), y * w.nFast);
    }
    return out;
  });
  return { panels };
}
