/**
 * From an observed spot to reciprocal space. With r(φ) = S·R(axis, φ)·F·A·h (docs/architecture.md)
 * and r = s1 − s0 at the spot's φ, the vector in the crystal's φ = 0 frame, the one A·h should
 * match, is F⁻¹·R(axis, −φ)·S⁻¹·(s1 − s0). Indexing and refinement compare exactly these.
 */
import { Vec3 } from '../math/vec3.js';
import { Mat3 } from '../math/mat3.js';
import { Beam } from '../models/beam.js';
import { Goniometer } from '../models/goniometer.js';
import type { Detector } from '../models/detector.js';

/** The reciprocal lattice vector (1/Å, φ = 0 crystal frame) of a reflection seen with s1 at φ (degrees). */
export function reciprocalVectorOfSpot(s1: Vec3, s0: Vec3, gonio: Goniometer, phiDeg: number): Vec3 {
  const back = Mat3.transpose(Goniometer.rotationAt(gonio, phiDeg)); // rotations: inverse = transpose
  return Mat3.mulVec(back, Vec3.sub(s1, s0));
}

/**
 * Reciprocal vectors of many spots at once. `xyzMm` holds (x_mm, y_mm, φ_rad) per spot as in the
 * `.refl` column `xyzobs.mm.value`; `panel` the panel index (default all 0). Returns 3 numbers per
 * spot. A goniometer-less experiment (still) uses φ = 0 and no rotation.
 */
export function reciprocalVectorsOfSpots(
  detector: Detector, beam: Beam, gonio: Goniometer | undefined, xyzMm: Float64Array, panel?: ArrayLike<number>,
): Float64Array {
  const n = Math.floor(xyzMm.length / 3);
  const out = new Float64Array(3 * n);
  const s0 = Beam.s0(beam);
  const invLambda = 1 / beam.wavelength;
  const g = gonio ?? Goniometer.create();
  const S = g.settingRotation, F = g.fixedRotation;
  const [ux, uy, uz] = Vec3.normalize(g.rotationAxis);
  for (let i = 0; i < n; i++) {
    const p = detector.panels[panel ? panel[i] : 0];
    const x = xyzMm[3 * i], y = xyzMm[3 * i + 1], phi = gonio ? xyzMm[3 * i + 2] : 0;
    const f = p.fastAxis, s = p.slowAxis, o = p.origin;
    const lx = o[0] + x * f[0] + y * s[0], ly = o[1] + x * f[1] + y * s[1], lz = o[2] + x * f[2] + y * s[2];
    const k = invLambda / Math.hypot(lx, ly, lz);
    // r = s1 − s0, then Sᵀ·r
    const rx = lx * k - s0[0], ry = ly * k - s0[1], rz = lz * k - s0[2];
    const ax = S[0] * rx + S[3] * ry + S[6] * rz;
    const ay = S[1] * rx + S[4] * ry + S[7] * rz;
    const az = S[2] * rx + S[5] * ry + S[8] * rz;
    // R(axis, −φ) by Rodrigues
    const c = Math.cos(phi), sn = -Math.sin(phi);
    const dot = (ux * ax + uy * ay + uz * az) * (1 - c);
    const bx = ax * c + (uy * az - uz * ay) * sn + ux * dot;
    const by = ay * c + (uz * ax - ux * az) * sn + uy * dot;
    const bz = az * c + (ux * ay - uy * ax) * sn + uz * dot;
    // Fᵀ·b
    out[3 * i] = F[0] * bx + F[3] * by + F[6] * bz;
    out[3 * i + 1] = F[1] * bx + F[4] * by + F[7] * bz;
    out[3 * i + 2] = F[2] * bx + F[5] * by + F[8] * bz;
  }
  return out;
}

