/**
 * Small 3-vector type for model-level geometry (beam direction, panel axes, s0, s1 …).
 * Plain tuples so models serialise to DIALS JSON unchanged; hot loops over many reflections
 * work on typed-array columns instead and inline the arithmetic.
 */
export type Vec3 = [number, number, number];

export namespace Vec3 {
  export function create(x = 0, y = 0, z = 0): Vec3 { return [x, y, z]; }
  export function from(a: ArrayLike<number>, offset = 0): Vec3 { return [a[offset], a[offset + 1], a[offset + 2]]; }
  export function clone(a: Vec3): Vec3 { return [a[0], a[1], a[2]]; }
  export function add(a: Vec3, b: Vec3): Vec3 { return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]; }
  export function sub(a: Vec3, b: Vec3): Vec3 { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  export function scale(a: Vec3, s: number): Vec3 { return [a[0] * s, a[1] * s, a[2] * s]; }
  export function neg(a: Vec3): Vec3 { return [-a[0], -a[1], -a[2]]; }
  export function dot(a: Vec3, b: Vec3): number { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  export function cross(a: Vec3, b: Vec3): Vec3 {
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  }
  export function length(a: Vec3): number { return Math.hypot(a[0], a[1], a[2]); }
  export function normalize(a: Vec3): Vec3 {
    const l = length(a);
    if (l === 0) throw new RangeError('cannot normalise a zero-length vector');
    return [a[0] / l, a[1] / l, a[2] / l];
  }
  /** Angle between two vectors in radians. */
  export function angle(a: Vec3, b: Vec3): number {
    const c = dot(a, b) / (length(a) * length(b));
    return Math.acos(Math.max(-1, Math.min(1, c)));
  }
  export function distance(a: Vec3, b: Vec3): number { return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]); }
  export function equals(a: Vec3, b: Vec3, tol = 0): boolean {
    return Math.abs(a[0] - b[0]) <= tol && Math.abs(a[1] - b[1]) <= tol && Math.abs(a[2] - b[2]) <= tol;
  }
  /** Rotate v about unit axis by angle (radians), right-handed (Rodrigues). */
  export function rotateAround(v: Vec3, axis: Vec3, angleRad: number): Vec3 {
    const c = Math.cos(angleRad), s = Math.sin(angleRad);
    const k = dot(axis, v) * (1 - c);
    const x = cross(axis, v);
    return [v[0] * c + x[0] * s + axis[0] * k, v[1] * c + x[1] * s + axis[1] * k, v[2] * c + x[2] * s + axis[2] * k];
  }
}
