/**
 * Beam centre and distance of the real single images against dxtbx's own figures
 * (shared/data/reference/images.json: `beam_centre_mm_panel0` = panel 0's get_beam_centre(s0),
 * `distance_mm_panel0`), with the models read from the image headers by our format readers.
 * Skipped without the shared data (the images are not copied into the repository).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importSweeps } from '../../../src/core/formats/sweep.js';
import { Beam } from '../../../src/core/models/beam.js';
import { Panel } from '../../../src/core/models/detector.js';
import { beamCentreOnPanel } from '../../../src/core/geometry/beam_centre.js';
import { HAVE_SHARED, SHARED_DATA } from '../models/fixtures.js';

type ImageFacts = { beam_centre_mm_panel0: [number, number] | null; distance_mm_panel0: number; n_panels: number };
const P12M = 'cbf/DLS_I23_P12M_thau_00001.cbf.gz';

function reference(): Record<string, ImageFacts> {
  return JSON.parse(readFileSync(path.join(SHARED_DATA, 'reference/images.json'), 'utf8')).images;
}

test('beam centre (mm) and distance of every single image equal dxtbx\'s', { skip: !HAVE_SHARED && 'shared data absent' }, async () => {
  let checked = 0;
  for (const [name, r] of Object.entries(reference())) {
    if (name === P12M) continue; // below
    const [sweep] = await importSweeps([path.join(SHARED_DATA, 'images', name)]);
    const p0 = sweep.detector.panels[0];
    assert.equal(sweep.detector.panels.length, r.n_panels, name);
    // images.json rounds to 3 decimals (2 for distances of whole-mm headers)
    assert.ok(Math.abs(Panel.distance(p0) - r.distance_mm_panel0) < 6e-3, `${name}: distance ${Panel.distance(p0)} vs ${r.distance_mm_panel0}`);
    if (r.beam_centre_mm_panel0) {
      const xy = Panel.rayIntersection(p0, Beam.s0(sweep.beam))!;
      assert.ok(Math.abs(xy[0] - r.beam_centre_mm_panel0[0]) < 6e-3 && Math.abs(xy[1] - r.beam_centre_mm_panel0[1]) < 6e-3,
        `${name}: beam centre ${xy} vs ${r.beam_centre_mm_panel0}`);
      assert.deepEqual(beamCentreOnPanel(p0, sweep.beam)!.xyMm, xy);
      checked++;
    }
  }
  assert.ok(checked >= 5, `checked ${checked}`);
});

// The Pilatus 12M barrel: dxtbx puts panel 0's plane 248.736 mm from the sample, our reader's
// model 250.000 mm (every module tangent to a 250 mm cylinder). A format-model question, kept
// visible here until the reader's panel geometry is checked against dxtbx's per-module model.
test('Pilatus 12M panel 0 distance equals dxtbx\'s', { skip: !HAVE_SHARED && 'shared data absent', todo: 'P12M module geometry differs from dxtbx (format reader)' }, async () => {
  const [sweep] = await importSweeps([path.join(SHARED_DATA, 'images', P12M)]);
  assert.ok(Math.abs(Panel.distance(sweep.detector.panels[0]) - reference()[P12M].distance_mm_panel0) < 6e-3);
});
