/**
 * Rotation-method prediction: for a Miller index and A = UB, the scan angles φ at which the
 * reciprocal-lattice point crosses the Ewald sphere, the diffracted beam s1 there, and where s1
 * meets a detector panel (x, y in mm, before any parallax correction).
 *
 * Geometry (docs/architecture.md): r(φ) = S · R(axis, φ) · F · A · h and the reflection
 * diffracts when |s0 + r| = |s0|. Writing r0 = F·A·h and s0' = Sᵀ·s0 (s0 in the frame the axis is
 * expressed in), R(axis, φ)·r0 = r∥ + cos φ·r⊥ + sin φ·(axis × r0), so the condition
 * |r0|² + 2 s0'·R r0 = 0 becomes P cos φ + Q sin φ = −C with
 * P = s0'·r⊥, Q = s0'·(axis × r0), C = |r0|²/2 + s0'·r∥: two solutions, or none for reflections in
 * the blind region or beyond the resolution sphere.
 *
 * Numbers here are plain doubles and typed arrays so the refinement's per-reflection loops can call
 * these without allocating.
 */
import type { Mat3 } from '../math/mat3.js';
import type { Vec3 } from '../math/vec3.js';
import type { Panel } from '../models/types.js';

/** Everything the φ solver needs for one experiment, precomputed once per model state. */
export interface RotationGeometry {
  s0: Vec3;
  /** Unit rotation axis in the frame between F and S. */
  axis: Vec3;
  fixedRotation: Mat3;
  settingRotation: Mat3;
}

const r0 = new Float64Array(3);

/** r0 = F·A·h: the reciprocal-lattice vector of h at φ = 0 in the frame the rotation axis turns (F the fixed rotation). */
function fixedFrameVector(geom: RotationGeometry, A: Mat3 | Float64Array, h: number, k: number, l: number, out: Float64Array): void {
  const ax = A[0] * h + A[1] * k + A[2] * l;
  const ay = A[3] * h + A[4] * k + A[5] * l;
  const az = A[6] * h + A[7] * k + A[8] * l;
  const F = geom.fixedRotation;
  out[0] = F[0] * ax + F[1] * ay + F[2] * az;
  out[1] = F[3] * ax + F[4] * ay + F[5] * az;
  out[2] = F[6] * ax + F[7] * ay + F[8] * az;
}

/**
 * The two φ (radians) at which h (Miller index) diffracts, written into out[0], out[1]; returns
 * false when h never reaches the Ewald sphere in a full turn. out[0] is the solution where the point
 * enters the sphere, out[1] where it leaves.
 * A is row-major UB.
 */
export function rotationAngles(geom: RotationGeometry, A: Mat3 | Float64Array, h: number, k: number, l: number, out: Float64Array): boolean {
  fixedFrameVector(geom, A, h, k, l, r0);
  return rotationAnglesOfVector(geom, r0[0], r0[1], r0[2], out);
}

/** As rotationAngles, for a reciprocal vector already in the goniometer frame (r0 = F·A·h). */
export function rotationAnglesOfVector(geom: RotationGeometry, r0x: number, r0y: number, r0z: number, out: Float64Array): boolean {
  const S = geom.settingRotation;
  const s = geom.s0;
  // s0' = Sᵀ s0
  const sx = S[0] * s[0] + S[3] * s[1] + S[6] * s[2];
  const sy = S[1] * s[0] + S[4] * s[1] + S[7] * s[2];
  const sz = S[2] * s[0] + S[5] * s[1] + S[8] * s[2];
  const [ex, ey, ez] = geom.axis;
  const along = r0x * ex + r0y * ey + r0z * ez;
  const px = r0x - along * ex, py = r0y - along * ey, pz = r0z - along * ez;
  const cx = ey * r0z - ez * r0y, cy = ez * r0x - ex * r0z, cz = ex * r0y - ey * r0x;
  const P = sx * px + sy * py + sz * pz;
  const Q = sx * cx + sy * cy + sz * cz;
  const C = 0.5 * (r0x * r0x + r0y * r0y + r0z * r0z) + along * (sx * ex + sy * ey + sz * ez);
  const amp = Math.hypot(P, Q);
  if (amp === 0) return false;
  const c = -C / amp;
  if (c < -1 || c > 1) return false;
  const base = Math.atan2(Q, P);
  const delta = Math.acos(c);
  // With f(φ) = P cos φ + Q sin φ + C = amp·cos(φ − base) + C (half of |s0 + r|² − |s0|²),
  // f' = −amp·sin(φ − base): at base + δ f falls through zero, the point passes from outside the
  // Ewald sphere to inside (entering); at base − δ it leaves. Reported as [entering, exiting].
  out[0] = base + delta;
  out[1] = base - delta;
  return true;
}

/** Wrap φ (radians) onto the period nearest a reference angle. */
export function nearestPeriod(phi: number, reference: number): number {
  const twoPi = 2 * Math.PI;
  return phi + twoPi * Math.round((reference - phi) / twoPi);
}

/**
 * s1 = s0 + S·R(axis, φ)·F·A·h, written to out[0..2].
 */
export function diffractedBeam(geom: RotationGeometry, A: Mat3 | Float64Array, h: number, k: number, l: number, phi: number, out: Float64Array): void {
  fixedFrameVector(geom, A, h, k, l, r0);
  rotateAboutAxis(geom.axis, phi, r0[0], r0[1], r0[2], out);
  const S = geom.settingRotation;
  const x = out[0], y = out[1], z = out[2];
  out[0] = S[0] * x + S[1] * y + S[2] * z + geom.s0[0];
  out[1] = S[3] * x + S[4] * y + S[5] * z + geom.s0[1];
  out[2] = S[6] * x + S[7] * y + S[8] * z + geom.s0[2];
}

/** R(axis, φ)·v into out (Rodrigues), axis unit. */
export function rotateAboutAxis(axis: Vec3, phi: number, vx: number, vy: number, vz: number, out: Float64Array): void {
  const [ex, ey, ez] = axis;
  const c = Math.cos(phi), s = Math.sin(phi);
  const k = (ex * vx + ey * vy + ez * vz) * (1 - c);
  out[0] = vx * c + (ey * vz - ez * vy) * s + ex * k;
  out[1] = vy * c + (ez * vx - ex * vz) * s + ey * k;
  out[2] = vz * c + (ex * vy - ey * vx) * s + ez * k;
}

/**
 * A panel's plane as the matrix D = [fast | slow | origin] (columns) and its inverse: a lab vector
 * v along a ray from the sample meets the plane at D⁻¹v = (u, w, t) → (x, y) = (u/t, w/t) mm,
 * valid when t > 0 (the ray points towards the panel's front).
 */
export interface PanelPlane {
  D: Float64Array;
  Dinv: Float64Array;
  /** [width, height] in mm, for bounds checks. */
  sizeMm: [number, number];
}

export function panelPlane(panel: Pick<Panel, 'fastAxis' | 'slowAxis' | 'origin' | 'pixelSize' | 'imageSize'>): PanelPlane {
  const f = panel.fastAxis, s = panel.slowAxis, o = panel.origin;
  const D = new Float64Array([f[0], s[0], o[0], f[1], s[1], o[1], f[2], s[2], o[2]]);
  return { D, Dinv: invert3(D), sizeMm: [panel.pixelSize[0] * panel.imageSize[0], panel.pixelSize[1] * panel.imageSize[1]] };
}

/** Intersection of the ray along v with the panel: out = [x mm, y mm]; false when it misses the plane's front. */
export function rayIntersection(plane: PanelPlane, vx: number, vy: number, vz: number, out: Float64Array): boolean {
  const m = plane.Dinv;
  const u = m[0] * vx + m[1] * vy + m[2] * vz;
  const w = m[3] * vx + m[4] * vy + m[5] * vz;
  const t = m[6] * vx + m[7] * vy + m[8] * vz;
  if (!(t > 0)) return false;
  out[0] = u / t;
  out[1] = w / t;
  return true;
}

/** Whether (x, y) mm lies on the panel's sensitive rectangle. */
export function onPanel(plane: PanelPlane, x: number, y: number): boolean {
  return x >= 0 && y >= 0 && x <= plane.sizeMm[0] && y <= plane.sizeMm[1];
}

/** Index of the first panel the ray hits, with (x, y) in out; −1 when it hits none. */
export function panelHit(planes: readonly PanelPlane[], vx: number, vy: number, vz: number, out: Float64Array): number {
  for (let p = 0; p < planes.length; p++) {
    if (rayIntersection(planes[p], vx, vy, vz, out) && onPanel(planes[p], out[0], out[1])) return p;
  }
  return -1;
}

/** Inverse of a row-major 3×3 held in a typed array. */
export function invert3(m: ArrayLike<number>): Float64Array {
  const d = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  if (d === 0 || !Number.isFinite(d)) throw new RangeError('singular matrix');
  const i = 1 / d;
  return new Float64Array([
    (m[4] * m[8] - m[5] * m[7]) * i, (m[2] * m[7] - m[1] * m[8]) * i, (m[1] * m[5] - m[2] * m[4]) * i,
    (m[5] * m[6] - m[3] * m[8]) * i, (m[0] * m[8] - m[2] * m[6]) * i, (m[2] * m[3] - m[0] * m[5]) * i,
    (m[3] * m[7] - m[4] * m[6]) * i, (m[1] * m[6] - m[0] * m[7]) * i, (m[0] * m[4] - m[1] * m[3]) * i,
  ]);
}

/**
 * Every reflection of A inside d_min that diffracts within [phiStart, phiEnd] (radians) and meets
 * a panel: the scan-static predictor used for checks and by integration-side code.
 */
export interface StaticPrediction {
  miller: Int32Array;
  phi: Float64Array;
  x: Float64Array;
  y: Float64Array;
  panel: Int32Array;
  entering: Uint8Array;
}

export function predictReflections(geom: RotationGeometry, A: Mat3, planes: readonly PanelPlane[], dMin: number, phiStart: number, phiEnd: number): StaticPrediction {
  // Bounds on |h|, |k|, |l| from the direct cell: |h| = |a·r| ≤ |a|/d_min.
  const Ainv = invert3(A);
  const lim = (r: number) => Math.ceil(Math.hypot(Ainv[3 * r], Ainv[3 * r + 1], Ainv[3 * r + 2]) / dMin);
  const [hm, km, lm] = [lim(0), lim(1), lim(2)];
  const maxRecip2 = 1 / (dMin * dMin);
  const miller: number[] = [], phis: number[] = [], xs: number[] = [], ys: number[] = [], panels: number[] = [], ent: number[] = [];
  const two = new Float64Array(2), s1 = new Float64Array(3), xy = new Float64Array(2);
  for (let h = -hm; h <= hm; h++) for (let k = -km; k <= km; k++) for (let l = -lm; l <= lm; l++) {
    if (h === 0 && k === 0 && l === 0) continue;
    const rx = A[0] * h + A[1] * k + A[2] * l, ry = A[3] * h + A[4] * k + A[5] * l, rz = A[6] * h + A[7] * k + A[8] * l;
    if (rx * rx + ry * ry + rz * rz > maxRecip2) continue;
    if (!rotationAngles(geom, A, h, k, l, two)) continue;
    for (let j = 0; j < 2; j++) {
      let phi = two[j];
      // bring into [phiStart, phiStart + 2π)
      phi = phiStart + (((phi - phiStart) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      if (phi > phiEnd) continue;
      diffractedBeam(geom, A, h, k, l, phi, s1);
      const p = panelHit(planes, s1[0], s1[1], s1[2], xy);
      if (p < 0) continue;
      miller.push(h, k, l); phis.push(phi); xs.push(xy[0]); ys.push(xy[1]); panels.push(p); ent.push(j === 0 ? 1 : 0);
    }
  }
  return {
    miller: Int32Array.from(miller), phi: Float64Array.from(phis), x: Float64Array.from(xs), y: Float64Array.from(ys),
    panel: Int32Array.from(panels), entering: Uint8Array.from(ent),
  };
}
