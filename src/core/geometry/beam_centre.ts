/**
 * The beam centre: where the direct beam (the ray along s0) meets the detector. It is a
 * property of beam + detector, not a stored quantity, so it changes whenever either is refined.
 * On a multi-panel detector it lies on at most one panel; for a single panel the point is
 * reported even when it falls outside the sensitive area (as for an offset detector), since
 * programs still want it for display and beam-centre searches.
 */
import type { Vec3 } from '../math/vec3.js';
import { Beam } from '../models/beam.js';
import { Detector, Panel } from '../models/detector.js';

export interface BeamCentre {
  panel: number;
  /** [fast, slow] mm on the panel (ray entry point). */
  xyMm: [number, number];
  /** [fast, slow] pixels (parallax-corrected like any other position). */
  xyPx: [number, number];
  /** Whether the point lies on the panel's sensitive area. */
  onPanel: boolean;
}

/** Where the ray along s0 meets panel `p`'s plane, in mm, or null if it never does. */
export function beamCentreOnPanelMm(p: Panel, s0: Vec3): [number, number] | null {
  return Panel.rayIntersection(p, s0);
}

/**
 * The beam centre on the detector: the panel the direct beam hits, or, when it hits none, the
 * first panel whose plane it crosses (onPanel = false). Null when the beam misses every plane.
 */
export function beamCentre(detector: Detector, beam: Beam): BeamCentre | null {
  const s0 = Beam.s0(beam);
  const hit = Detector.panelForRay(detector, s0);
  if (hit) {
    const p = detector.panels[hit.panel];
    return { panel: hit.panel, xyMm: hit.xyMm, xyPx: Panel.mmToPixel(p, hit.xyMm), onPanel: true };
  }
  for (let i = 0; i < detector.panels.length; i++) {
    const p = detector.panels[i];
    const xy = Panel.rayIntersection(p, s0);
    if (xy) return { panel: i, xyMm: xy, xyPx: Panel.mmToPixel(p, xy), onPanel: false };
  }
  return null;
}

/** The beam centre on one given panel (mm and px), whether or not it falls inside it. */
export function beamCentreOnPanel(p: Panel, beam: Beam): { xyMm: [number, number]; xyPx: [number, number] } | null {
  const xy = Panel.rayIntersection(p, Beam.s0(beam));
  return xy ? { xyMm: xy, xyPx: Panel.mmToPixel(p, xy) } : null;
}
