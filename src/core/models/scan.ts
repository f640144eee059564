/**
 * Scan functions. Two ways of counting images coexist in DIALS and must not be confused:
 * the image index i (as in the file names, imageRange[0] … imageRange[1]) and the continuous
 * frame (array) coordinate z used in `.refl` columns. DIALS counts z from image 1 whatever the
 * scan's first image: image i covers z ∈ [i − 1, i), so the scan's array range is
 * [first − 1, last] (a spot on image 4 of a scan starting at image 4 has z = 3.5, as in DIALS'
 * own strong.refl for example_004). Angles are in degrees.
 */
import type { Scan as ScanModel } from './types.js';

export type Scan = ScanModel;

export namespace Scan {
  export interface CreateOptions {
    imageRange: [number, number];
    /** [φ of the start of the first image, width per image], degrees */
    oscillation: [number, number];
    exposureTimes?: number[];
    epochs?: number[];
    batchOffset?: number;
  }

  export function create(o: CreateOptions): Scan {
    const [first, last] = o.imageRange;
    if (!Number.isInteger(first) || !Number.isInteger(last) || last < first) {
      throw new RangeError(`invalid image range [${first}, ${last}]`);
    }
    const n = last - first + 1;
    return {
      imageRange: [first, last],
      oscillation: [o.oscillation[0], o.oscillation[1]],
      exposureTimes: o.exposureTimes ?? new Array<number>(n).fill(0),
      epochs: o.epochs ?? new Array<number>(n).fill(0),
      batchOffset: o.batchOffset ?? 0,
    };
  }

  export function numImages(s: Scan): number {
    return s.imageRange[1] - s.imageRange[0] + 1;
  }

  /** A still has no rotation: zero oscillation width. */
  export function isStill(s: Scan): boolean {
    return s.oscillation[1] === 0;
  }

  /** Frame coordinate z at the start of the scan's first image (first − 1). */
  export function frameOffset(s: Scan): number {
    return s.imageRange[0] - 1;
  }

  /** φ (degrees) at frame coordinate z. */
  export function angleFromFrame(s: Scan, z: number): number {
    return s.oscillation[0] + (z - (s.imageRange[0] - 1)) * s.oscillation[1];
  }

  /** Frame coordinate z at φ (degrees); the inverse of angleFromFrame. Not defined for stills. */
  export function frameFromAngle(s: Scan, phiDeg: number): number {
    if (s.oscillation[1] === 0) throw new RangeError('frameFromAngle: a still scan has no angle → frame mapping');
    return s.imageRange[0] - 1 + (phiDeg - s.oscillation[0]) / s.oscillation[1];
  }

  /** φ (degrees) at the start of image i (file numbering). */
  export function angleFromImageIndex(s: Scan, image: number): number {
    return angleFromFrame(s, image - 1);
  }

  /** Image index (file numbering) containing frame coordinate z. */
  export function imageIndexFromFrame(_s: Scan, z: number): number {
    return Math.floor(z) + 1;
  }

  /** [φ start, φ end] (degrees) of image i. */
  export function imageOscillation(s: Scan, image: number): [number, number] {
    const start = angleFromImageIndex(s, image);
    return [start, start + s.oscillation[1]];
  }

  /** [φ start, φ end] (degrees) of the whole scan. */
  export function oscillationRange(s: Scan): [number, number] {
    return [s.oscillation[0], s.oscillation[0] + numImages(s) * s.oscillation[1]];
  }

  /** Frame coordinates [first − 1, last] covered by the scan (DIALS' array range). */
  export function arrayRange(s: Scan): [number, number] {
    return [s.imageRange[0] - 1, s.imageRange[1]];
  }

  /** φ (degrees) inside the scan's rotation range (either sense of rotation). */
  export function isAngleValid(s: Scan, phiDeg: number): boolean {
    const [a, b] = oscillationRange(s);
    return phiDeg >= Math.min(a, b) && phiDeg <= Math.max(a, b);
  }

  /** Frame coordinate inside the array range. */
  export function isFrameValid(s: Scan, z: number): boolean {
    return z >= s.imageRange[0] - 1 && z <= s.imageRange[1];
  }
}
