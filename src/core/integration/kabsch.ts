/**
 * The rotation-invariant reflection frame of Kabsch (1988, 2010), in which every reflection's
 * profile has the same shape whatever its position and resolution:
 *   e1 = s1 × s0 / |s1 × s0|,  e2 = s1 × e1 / |s1 × e1|,  e3 = (s1 + s0) / |s1 + s0|,
 * and a detector pixel seen along s′ at rotation φ′ has coordinates (radians)
 *   ε1 = e1·(s′ − s1)/|s1|,  ε2 = e2·(s′ − s1)/|s1|,  ε3 = ζ·(φ′ − φ),  ζ = m2·e1.
 * ε1, ε2 measure the beam divergence (σ_b), ε3 the crystal's reflecting range (σ_m).
 */

/** One reflection's frame, in a reusable object (filled by setFrame, no allocation). */
export class KabschFrame {
  e1 = new Float64Array(3);
  e2 = new Float64Array(3);
  /** |s1| (= 1/λ) */
  s1Length = 0;
  zeta = 0;
  /** φ (radians) at the reflection's centre */
  phi = 0;
  s1 = new Float64Array(3);
}

export function setFrame(f: KabschFrame, s0: ArrayLike<number>, m2: ArrayLike<number>, s1x: number, s1y: number, s1z: number, phiRad: number): void {
  let x = s1y * s0[2] - s1z * s0[1], y = s1z * s0[0] - s1x * s0[2], z = s1x * s0[1] - s1y * s0[0];
  let l = Math.hypot(x, y, z);
  const e1 = f.e1, e2 = f.e2;
  e1[0] = x / l; e1[1] = y / l; e1[2] = z / l;
  x = s1y * e1[2] - s1z * e1[1]; y = s1z * e1[0] - s1x * e1[2]; z = s1x * e1[1] - s1y * e1[0];
  l = Math.hypot(x, y, z);
  e2[0] = x / l; e2[1] = y / l; e2[2] = z / l;
  f.s1Length = Math.hypot(s1x, s1y, s1z);
  f.zeta = m2[0] * e1[0] + m2[1] * e1[1] + m2[2] * e1[2];
  f.phi = phiRad;
  f.s1[0] = s1x; f.s1[1] = s1y; f.s1[2] = s1z;
}

/**
 * Flat-panel geometry as numbers: lab point of pixel coordinates (x, y) is
 * origin + x·pixelSize[0]·fast + y·pixelSize[1]·slow (parallax ignored: it moves a pixel by a
 * fraction of its width, negligible for masks and profiles measured in σ_b).
 */
export interface PanelGeometry {
  origin: ArrayLike<number>;
  /** fast axis × fast pixel size, slow axis × slow pixel size (mm per pixel) */
  dFast: ArrayLike<number>;
  dSlow: ArrayLike<number>;
}

/**
 * ε1, ε2 (radians) of the ray through pixel coordinates (x, y), written to out[0], out[1].
 * Since e1·s1 = e2·s1 = 0, ε = e·ŝ′ with ŝ′ the unit ray.
 */
export function epsilon12(f: KabschFrame, g: PanelGeometry, x: number, y: number, out: Float64Array): void {
  const o = g.origin, a = g.dFast, b = g.dSlow;
  const lx = o[0] + x * a[0] + y * b[0], ly = o[1] + x * a[1] + y * b[1], lz = o[2] + x * a[2] + y * b[2];
  const inv = 1 / Math.hypot(lx, ly, lz);
  const e1 = f.e1, e2 = f.e2;
  out[0] = (e1[0] * lx + e1[1] * ly + e1[2] * lz) * inv;
  out[1] = (e2[0] * lx + e2[1] * ly + e2[2] * lz) * inv;
}

/**
 * The inverse: pixel coordinates where the ray at (ε1, ε2) meets the panel, or false when it
 * misses the panel plane. s′ = ŝ1 + ε1·e1 + ε2·e2 (first order; normalisation does not move
 * the intersection point).
 */
export function pixelOfEpsilon(f: KabschFrame, Dinv: ArrayLike<number>, pixelSize: readonly [number, number], eps1: number, eps2: number, out: Float64Array): boolean {
  const L = f.s1Length, s = f.s1, e1 = f.e1, e2 = f.e2;
  const vx = s[0] / L + eps1 * e1[0] + eps2 * e2[0];
  const vy = s[1] / L + eps1 * e1[1] + eps2 * e2[1];
  const vz = s[2] / L + eps1 * e1[2] + eps2 * e2[2];
  const m = Dinv;
  const u = m[0] * vx + m[1] * vy + m[2] * vz, w = m[3] * vx + m[4] * vy + m[5] * vz, t = m[6] * vx + m[7] * vy + m[8] * vz;
  if (!(t > 0)) return false;
  out[0] = u / t / pixelSize[0];
  out[1] = w / t / pixelSize[1];
  return true;
}

export function panelGeometry(p: { origin: ArrayLike<number>; fastAxis: ArrayLike<number>; slowAxis: ArrayLike<number>; pixelSize: readonly [number, number] }): PanelGeometry {
  const f = p.fastAxis, s = p.slowAxis, [px, py] = p.pixelSize;
  return { origin: Float64Array.from(p.origin), dFast: Float64Array.of(f[0] * px, f[1] * px, f[2] * px), dSlow: Float64Array.of(s[0] * py, s[1] * py, s[2] * py) };
}
