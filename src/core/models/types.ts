/**
 * Experimental models, as plain data. Field names follow DIALS' `.expt` JSON (camelCased);
 * lengths in mm, wavelength in Å, angles in degrees. Functions over them live in the
 * same-named modules (beam.ts, detector.ts, …). Models may be shared by several experiments
 * (object identity = sharing, as in DIALS' ExperimentList).
 */
import type { Vec3 } from '../math/vec3.js';
import type { Mat3 } from '../math/mat3.js';

/**
 * The incident beam. `direction` is the unit vector from the sample towards the source
 * (DIALS' convention), so the wavevector is s0 = −direction / wavelength.
 */
export interface Beam {
  direction: Vec3;
  /** Å */
  wavelength: number;
  /** degrees */
  divergence: number;
  /** degrees */
  sigmaDivergence: number;
  polarizationNormal: Vec3;
  polarizationFraction: number;
  flux: number;
  transmission: number;
  /** 'x-ray' | 'electron' | 'neutron' when known (DIALS ≥ 3.13 writes `probe`). */
  probe?: string;
  /** Further `.expt` fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

export type PxMmStrategy =
  | { type: 'SimplePxMmStrategy' }
  /** Parallax correction: mu is the linear attenuation coefficient (1/mm), t0 the sensor thickness (mm). */
  | { type: 'ParallaxCorrectedPxMmStrategy'; mu?: number; t0?: number };

/**
 * One flat detector module. Pixel (x, y) in mm (before parallax) lies at
 * origin + x·fastAxis + y·slowAxis, origin being the outer corner of pixel (0, 0).
 */
export interface Panel {
  name: string;
  type: string;
  identifier: string;
  fastAxis: Vec3;
  slowAxis: Vec3;
  origin: Vec3;
  /** [fast, slow] mm */
  pixelSize: [number, number];
  /** [nFast, nSlow] pixels */
  imageSize: [number, number];
  /** [min, max] counts: values ≤ min are invalid (gaps, dead pixels), ≥ max overloaded. */
  trustedRange: [number, number];
  /** Sensor thickness, mm. */
  thickness: number;
  material: string;
  /** Linear attenuation coefficient of the sensor, 1/mm. */
  mu: number;
  gain: number;
  pedestal: number;
  rawImageOffset: [number, number];
  /** Rectangles [x0, y0, x1, y1] of masked pixels (panel gaps etc.), DIALS' `mask`. */
  mask: [number, number, number, number][];
  pxMmStrategy: PxMmStrategy;
  /** Further `.expt` fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

export interface Detector {
  panels: Panel[];
  /** DIALS' hierarchy tree, kept verbatim for round trip. */
  hierarchy?: unknown;
  /** Further `.expt` fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

/**
 * Rotation goniometer. A lab vector v at scan angle φ maps to S·R(axis, φ)·F·v with S the setting
 * rotation, F the fixed rotation and axis the rotation axis in the frame after F. For a multi-axis
 * goniometer, `axes`/`angles`/`names`/`scanAxis` describe the stack (DIALS' MultiAxisGoniometer);
 * rotationAxis, fixedRotation and settingRotation are always kept consistent with them.
 */
export interface Goniometer {
  rotationAxis: Vec3;
  fixedRotation: Mat3;
  settingRotation: Mat3;
  axes?: Vec3[];
  /** degrees */
  angles?: number[];
  names?: string[];
  scanAxis?: number;
  /** Further `.expt` fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

/** A rotation scan. Image i (imageRange[0] ≤ i ≤ imageRange[1]) covers φ ∈ [φ0 + (i−first)·Δφ, φ0 + (i−first+1)·Δφ). */
export interface Scan {
  imageRange: [number, number];
  /** [φ0 of the first image, width per image], degrees */
  oscillation: [number, number];
  exposureTimes: number[];
  epochs: number[];
  batchOffset: number;
  validImageRanges?: Record<string, [number, number][]>;
  /** Further `.expt` fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

/**
 * A crystal. The direct-space axes a, b, c (Å, lab frame at φ = 0) are the rows of A⁻¹,
 * A = U·B. `spaceGroupHall` is DIALS' `space_group_hall_symbol` (e.g. " P 2 2").
 * Scan-varying models store one A per scan point (n images + 1).
 */
export interface Crystal {
  realSpaceA: Vec3;
  realSpaceB: Vec3;
  realSpaceC: Vec3;
  spaceGroupHall: string;
  /** degrees, 0 when unknown */
  mosaicity?: number;
  AAtScanPoints?: Mat3[];
  BCovariance?: number[];
  /** Any further DIALS fields, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

/** How an experiment's images are found: DIALS' imageset entry. */
export interface ImageSetRef {
  /** 'ImageSequence' | 'ImageSweep' | 'ImageSet' | 'ImageGrid' */
  kind: string;
  /** Template with '#' for the image number, for sequences. */
  template?: string;
  /** Explicit file list (ImageSet, or single-file containers such as NeXus). */
  images?: string[];
  /** For multi-image containers: 0-based indices into the file. */
  singleFileIndices?: number[];
  mask?: string | null;
  gain?: string | null;
  pedestal?: string | null;
  dx?: string | null;
  dy?: string | null;
  params?: Record<string, unknown>;
  /** Other fields kept verbatim. */
  extra?: Record<string, unknown>;
  /**
   * Paths exactly as the `.expt` file wrote them (template, images, mask …) and the directory of
   * that file. Readers resolve relative paths against `dir`; writers put these strings back while
   * the resolved path is unchanged, so a relative template stays relative on round trip.
   */
  pathsAsRead?: { dir: string; fields: Record<string, string | string[]> };
}

export interface Experiment {
  identifier: string;
  beam?: Beam;
  detector?: Detector;
  goniometer?: Goniometer;
  scan?: Scan;
  crystal?: Crystal;
  imageset?: ImageSetRef;
  /** DIALS profile model JSON (e.g. gaussian_rs sigma_b/sigma_m), kept as data. */
  profile?: Record<string, unknown>;
  /** DIALS scaling model JSON, kept as data. */
  scalingModel?: Record<string, unknown>;
  /** Further experiment fields we do not interpret, kept verbatim for round trip. */
  extra?: Record<string, unknown>;
}

export type ExperimentList = Experiment[];
