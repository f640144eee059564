/**
 * Scattering geometry of detector positions: the diffracted beam s1 through a pixel, its
 * scattering angle 2θ and resolution d = λ / (2 sin θ), and the resolution limits a detector
 * reaches (at its corners, and over a complete ring around the beam).
 */
import { Vec3 } from '../math/vec3.js';
import { Beam } from '../models/beam.js';
import { Detector, Panel } from '../models/detector.js';

/** s1 (1/Å, |s1| = 1/λ) for the ray through panel point (x_mm, y_mm). */
export function s1ForMm(p: Panel, beam: Beam, xMm: number, yMm: number): Vec3 {
  const lab = Panel.labCoord(p, xMm, yMm);
  return Vec3.scale(lab, 1 / (Vec3.length(lab) * beam.wavelength));
}

/** s1 (1/Å) for the photon recorded at pixel (x, y), parallax-corrected if the panel says so. */
export function s1ForPixel(p: Panel, beam: Beam, xPx: number, yPx: number): Vec3 {
  const [x, y] = Panel.pixelToMm(p, [xPx, yPx]);
  return s1ForMm(p, beam, x, y);
}

/** Scattering angle 2θ (degrees) between the incident beam and s1. */
export function twoThetaDeg(beam: Beam, s1: Vec3): number {
  return (Vec3.angle(Beam.unitS0(beam), s1) * 180) / Math.PI;
}

/** d (Å) of a scattering angle 2θ (degrees); Infinity at 2θ = 0. */
export function dFromTwoTheta(wavelength: number, twoThetaDeg: number): number {
  const s = Math.sin((twoThetaDeg * Math.PI) / 360);
  return s === 0 ? Infinity : wavelength / (2 * s);
}

/** d (Å) of the diffracted beam s1: d = 1/|s1 − s0|. */
export function dForS1(beam: Beam, s1: Vec3): number {
  const s0 = Beam.s0(beam);
  const len = Math.hypot(s1[0] - s0[0], s1[1] - s0[1], s1[2] - s0[2]);
  return len === 0 ? Infinity : 1 / len;
}

export function dAtMm(p: Panel, beam: Beam, xMm: number, yMm: number): number {
  return dForS1(beam, s1ForMm(p, beam, xMm, yMm));
}

/** Resolution (Å) at pixel (x, y). */
export function dAtPixel(p: Panel, beam: Beam, xPx: number, yPx: number): number {
  return dForS1(beam, s1ForPixel(p, beam, xPx, yPx));
}

/** The best resolution (smallest d, Å) anywhere on the detector: at a panel corner. */
export function maxResolutionAtCorners(d: Detector, beam: Beam): number {
  let best = Infinity;
  for (const p of d.panels) {
    const [w, h] = Panel.sizeMm(p);
    for (const [x, y] of [[0, 0], [w, 0], [0, h], [w, h]]) best = Math.min(best, dAtMm(p, beam, x, y));
  }
  return best;
}

/**
 * The resolution (Å) of the largest complete ring around the beam: for every azimuth, the
 * largest 2θ the detector reaches along it; the ring is complete up to the smallest of those.
 * Gaps between panels do not break a ring (they lose pixels, not azimuths), so on multi-panel
 * detectors this treats the panels' union as the area. Infinity when the beam centre lies off
 * the detector (no complete ring). `nAzimuths` sets the sampling (default 0.1°).
 */
export function maxResolutionInscribed(d: Detector, beam: Beam, nAzimuths = 3600): number {
  const b = Beam.unitS0(beam);
  // An orthonormal pair perpendicular to the beam spans the azimuths.
  const seed: Vec3 = Math.abs(b[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const e1 = Vec3.normalize(Vec3.cross(b, seed));
  const e2 = Vec3.cross(b, e1);
  let minTwoTheta = Infinity;
  for (let k = 0; k < nAzimuths; k++) {
    const psi = (2 * Math.PI * k) / nAzimuths;
    const w: Vec3 = [
      Math.cos(psi) * e1[0] + Math.sin(psi) * e2[0],
      Math.cos(psi) * e1[1] + Math.sin(psi) * e2[1],
      Math.cos(psi) * e1[2] + Math.sin(psi) * e2[2],
    ];
    const nPlane = Vec3.cross(b, w); // normal of the azimuthal half-plane {b, w}
    let maxTwoTheta = 0;
    for (const p of d.panels) maxTwoTheta = Math.max(maxTwoTheta, farthestTwoThetaOnPanel(p, b, w, nPlane));
    minTwoTheta = Math.min(minTwoTheta, maxTwoTheta);
    if (minTwoTheta === 0) break;
  }
  return minTwoTheta === 0 ? Infinity : dFromTwoTheta(beam.wavelength, (minTwoTheta * 180) / Math.PI);
}

/**
 * Largest 2θ (radians) on panel p within the azimuthal half-plane spanned by the beam b and
 * the direction w (normal nPlane), 0 when the half-plane misses the panel. The half-plane cuts
 * the panel plane in a line; 2θ grows monotonically away from the beam, so the maximum is at an
 * end of the line's segment inside the rectangle.
 */
function farthestTwoThetaOnPanel(p: Panel, b: Vec3, w: Vec3, nPlane: Vec3): number {
  const [W, H] = Panel.sizeMm(p);
  // Points origin + x·f + y·s with nPlane·point = 0: a·x + c·y + e = 0.
  const a = Vec3.dot(nPlane, p.fastAxis), c = Vec3.dot(nPlane, p.slowAxis), e = Vec3.dot(nPlane, p.origin);
  const pts: [number, number][] = [];
  if (Math.abs(c) > 1e-15) for (const x of [0, W]) { const y = -(a * x + e) / c; if (y >= 0 && y <= H) pts.push([x, y]); }
  if (Math.abs(a) > 1e-15) for (const y of [0, H]) { const x = -(c * y + e) / a; if (x >= 0 && x <= W) pts.push([x, y]); }
  let best = 0;
  const tryPoint = (x: number, y: number) => {
    const lab = Panel.labCoord(p, x, y);
    if (Vec3.dot(lab, w) < 0) return; // the other half-plane
    best = Math.max(best, Vec3.angle(b, lab));
  };
  for (const [x, y] of pts) tryPoint(x, y);
  // Where the line crosses into the opposite half-plane inside the panel (it passes the beam
  // centre), the farthest point on our side is still a rectangle crossing, handled above.
  return best;
}
