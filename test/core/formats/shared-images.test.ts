/** Acceptance on every image of the shared data set (skipped when ../shared/data is absent). */
import { test } from 'node:test';
import path from 'node:path';
import { HAVE_SHARED, SHARED_DATA, readJson, type GeometryRef, type Hdf5Ref, type PixelRef } from './paths.js';
import { checkGeometry, checkHdf5, checkPixels } from './acceptance.js';

const skip = HAVE_SHARED ? false : 'shared data not available';

test('every CBF/SMV image in reference/pixels.json decodes exactly as DIALS (incl. l_cysteine and simulated sweeps)', { skip }, async () => {
  const refs = readJson<{ images: PixelRef[] }>(path.join(SHARED_DATA, 'reference', 'pixels.json')).images;
  for (const ref of refs) await checkPixels(SHARED_DATA, ref);
});

test('every image under images/ has DIALS geometry within 1e-3', { skip }, async () => {
  const refs = readJson<{ images: Record<string, GeometryRef> }>(path.join(SHARED_DATA, 'reference', 'images.json')).images;
  for (const [rel, g] of Object.entries(refs)) await checkGeometry(path.join(SHARED_DATA, 'images'), rel, g);
});

test('all 53 HDF5 datasets decode exactly (reference/hdf5_pixels.json)', { skip }, async () => {
  const refs = readJson<{ datasets: Hdf5Ref[] }>(path.join(SHARED_DATA, 'reference', 'hdf5_pixels.json')).datasets;
  for (const ref of refs) await checkHdf5(path.join(SHARED_DATA, 'images', 'hdf5'), ref);
});
