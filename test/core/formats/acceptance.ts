/**
 * Checks shared by the regression-data and shared-data acceptance tests: decoded pixels against
 * DIALS' per-panel figures, and models against DIALS' geometry (1e-3 relative).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { openImageFile } from '../../../src/core/formats/detect.js';
import { beamCentreOnPanel } from '../../../src/core/geometry/beam_centre.js';
import { Panel as PanelFns } from '../../../src/core/models/detector.js';
import { openHdf5Frames } from '../../../src/core/formats/nexus.js';
import type { GeometryRef, Hdf5Ref, PixelRef } from './paths.js';
import { nativeStats, panelStats } from './stats.js';

/**
 * Where we knowingly differ from DIALS beyond the 1e-3 target; empty while every figure meets it.
 * (The I23 barrel meets it with 8e-4: see pilatus.ts.)
 */
export const KNOWN_GEOMETRY_DEVIATIONS: Record<string, { field: string; bound: number }> = {};

export function close(actual: number, expected: number, what: string, rel = 1e-3): void {
  const tol = rel * Math.max(Math.abs(expected), 1);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs DIALS ${expected}`);
}

export async function checkPixels(root: string, ref: PixelRef): Promise<void> {
  const file = await openImageFile(path.join(root, ref.file));
  assert.equal(`Format${file.format}`, ref.format.replace(/^Format/, 'Format'), `${ref.file}: format`);
  const img = await file.read(0);
  assert.equal(img.panels.length, ref.panels.length, `${ref.file}: panel count`);
  ref.panels.forEach((p, k) => {
    const s = panelStats(img.panels[k]);
    const [nSlow, nFast] = p.shape;
    assert.deepEqual(file.detector.panels[k].imageSize, [nFast, nSlow], `${ref.file} panel ${k}: size`);
    assert.deepEqual({ sum: s.sum, min: s.min, max: s.max, count_ge0: s.count_ge0 }, { sum: p.sum, min: p.min, max: p.max, count_ge0: p.count_ge0 }, `${ref.file} panel ${k}`);
    assert.equal(s.sha256, p.sha256, `${ref.file} panel ${k}: sha256`);
  });
  await file.close();
}

export async function checkGeometry(root: string, rel: string, g: GeometryRef): Promise<void> {
  const file = await openImageFile(path.join(root, rel));
  const known = KNOWN_GEOMETRY_DEVIATIONS[rel];
  const p0 = file.detector.panels[0];
  assert.equal(`Format${file.format}`, g.dxtbx_format_class, `${rel}: format class`);
  assert.equal(file.detector.panels.length, g.n_panels, `${rel}: panels`);
  close(p0.pixelSize[0], g.pixel_size_mm[0], `${rel} pixel size fast`);
  close(p0.pixelSize[1], g.pixel_size_mm[1], `${rel} pixel size slow`);
  if (known?.field === 'distance_mm_panel0') close(PanelFns.distance(p0), g.distance_mm_panel0, `${rel} distance (known deviation)`, known.bound);
  else close(PanelFns.distance(p0), g.distance_mm_panel0, `${rel} distance`);
  if (g.beam_centre_mm_panel0) {
    const bc = beamCentreOnPanel(p0, file.beam)?.xyMm;
    assert.ok(bc, `${rel}: beam misses panel 0`);
    close(bc[0], g.beam_centre_mm_panel0[0], `${rel} beam centre fast`);
    close(bc[1], g.beam_centre_mm_panel0[1], `${rel} beam centre slow`);
  }
  close(file.beam.wavelength, g.wavelength_A, `${rel} wavelength`);
  const scan = file.scan ?? file.scanPoints![0];
  close(scan.oscillation[0], g.oscillation_deg[0], `${rel} φ start`);
  close(scan.oscillation[1], g.oscillation_deg[1], `${rel} φ width`);
  close(scan.exposureTime, g.exposure_time_s, `${rel} exposure`);
  assert.equal(file.goniometer?.axes ? 'MultiAxisGoniometer' : 'Goniometer', g.goniometer, `${rel}: goniometer kind`);
  assert.deepEqual(p0.trustedRange, g.trusted_range, `${rel}: trusted range`);
  await file.close();
}

export async function checkHdf5(root: string, ref: Hdf5Ref): Promise<void> {
  const r = await openHdf5Frames(path.join(root, ref.file), ref.dataset);
  try {
    assert.deepEqual(r.shape, ref.shape, `${ref.file}${ref.dataset}: shape`);
    if (ref.shape.length === 3) {
      const nCheck = Math.min(ref.frames.length, r.nFrames);
      for (let i = 0; i < nCheck; i++) {
        const s = nativeStats(r.readNative(i));
        const e = ref.frames[i];
        assert.deepEqual(s, { sum: e.sum, min: e.min, max: e.max, count_ge0: e.count_ge0, sha256: e.sha256 }, `${ref.file}${ref.dataset} frame ${i}`);
        // DIALS' int32 view of the same frame keeps every value (all counts here fit in int32).
        const asInt = r.read(i);
        assert.equal(asInt.length, ref.shape[1] * ref.shape[2]);
      }
    } else {
      const s = nativeStats(r.readNative(0));
      assert.deepEqual({ sum: s.sum, min: s.min, max: s.max, sha256: s.sha256 }, ref.all, `${ref.file}${ref.dataset}`);
    }
  } finally {
    r.close();
  }
}
