/**
 * The one interface every image format sits behind. A format reader turns files into
 * `ImportedSweep`s (models + a lazy `ImageSource`); later stages read pixels through
 * `ImageSource.read` only, image by image or in ranges, never holding a whole sweep.
 */
import type { Beam, Detector, Goniometer, Scan, ImageSetRef } from '../models/types.js';

/** Raw pixel values of one image, one array per detector panel (row-major, slow × fast). */
export interface RawImage {
  /** Per panel, length imageSize[0] * imageSize[1]. Invalid/gap pixels carry DIALS' values (e.g. −1, −2). */
  panels: Int32Array[];
}

export interface ImageSource {
  /** Human-readable origin for messages (template or file). */
  readonly description: string;
  /** Number of images this source can read. */
  readonly length: number;
  /** File path of image i (0-based), for error messages. */
  pathOf(index: number): string;
  /** Read image i (0-based within this source); throws FileFormatError naming the file and image number. */
  read(index: number): Promise<RawImage>;
  /** Release file handles (HDF5). */
  close(): Promise<void>;
}

/** A sweep (or a single still image) as a format reader describes it. */
export interface ImportedSweep {
  /** dxtbx-like format class name, e.g. 'CBFMiniPilatus', 'SMVTimePix512', 'NexusEiger'. */
  format: string;
  beam: Beam;
  detector: Detector;
  goniometer?: Goniometer;
  scan?: Scan;
  imageset: ImageSetRef;
  source: ImageSource;
}
