/** Locations of test data, valid both under tsx (test/…) and compiled (dist/test/…). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from '../../helpers/data.js';
export { ROOT };
export const REGRESSION_IMAGES = path.join(ROOT, 'regression-data', 'images');
export const SHARED_DATA = process.env.XTALFLOW_SHARED_DATA ?? path.resolve(ROOT, '..', 'shared', 'data');
export const HAVE_SHARED = existsSync(path.join(SHARED_DATA, 'reference', 'pixels.json'));

export interface PanelStats { shape: [number, number]; sum: number; min: number; max: number; count_ge0: number; sha256: string }
export interface PixelRef { file: string; format: string; panels: PanelStats[] }
export interface GeometryRef {
  dxtbx_format_class: string; n_panels: number; pixel_size_mm: [number, number]; distance_mm_panel0: number;
  beam_centre_mm_panel0: [number, number] | null; wavelength_A: number; oscillation_deg: [number, number];
  exposure_time_s: number; goniometer: string; trusted_range: [number, number];
}
export interface Hdf5Ref {
  file: string; dataset: string; shape: number[]; dtype: string;
  all: { sum: number; min: number; max: number; sha256: string };
  frames: { sum: number; min: number; max: number; count_ge0: number; sha256: string }[];
}

export function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}
