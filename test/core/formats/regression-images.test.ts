/** Acceptance on the shipped copies (regression-data/images): exact pixels and DIALS geometry, no shared data needed. */
import { test } from 'node:test';
import path from 'node:path';
import { REGRESSION_IMAGES, readJson, type GeometryRef, type Hdf5Ref, type PixelRef } from './paths.js';
import { checkGeometry, checkHdf5, checkPixels } from './acceptance.js';

const expected = readJson<{ pixels: PixelRef[]; geometry: Record<string, GeometryRef>; hdf5: Hdf5Ref[] }>(path.join(REGRESSION_IMAGES, 'expected.json'));

test('decoded CBF/SMV pixels equal DIALS per panel (sum, min, max, count ≥ 0, sha256)', async () => {
  for (const ref of expected.pixels) await checkPixels(REGRESSION_IMAGES, ref);
});

test('geometry agrees with DIALS within 1e-3 relative', async () => {
  for (const [rel, g] of Object.entries(expected.geometry)) await checkGeometry(REGRESSION_IMAGES, rel, g);
});

test('HDF5 datasets (bslz4, lz4, uint8/16/32, chunked/contiguous/external) decode exactly', async () => {
  for (const ref of expected.hdf5) await checkHdf5(REGRESSION_IMAGES, ref);
});
