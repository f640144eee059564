import { Vec3 } from './vec3.js';

/**
 * 3×3 matrix, row-major, as DIALS writes matrices in `.expt` (e.g. `fixed_rotation`, crystal
 * `A_at_scan_points`): m[3*r + c].
 */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export namespace Mat3 {
  export function identity(): Mat3 { return [1, 0, 0, 0, 1, 0, 0, 0, 1]; }
  export function zero(): Mat3 { return [0, 0, 0, 0, 0, 0, 0, 0, 0]; }
  export function from(a: ArrayLike<number>, offset = 0): Mat3 {
    const m = zero();
    for (let i = 0; i < 9; i++) m[i] = a[offset + i];
    return m;
  }
  export function clone(a: Mat3): Mat3 { return a.slice() as Mat3; }
  /** Matrix whose rows are a, b, c. */
  export function fromRows(a: Vec3, b: Vec3, c: Vec3): Mat3 { return [a[0], a[1], a[2], b[0], b[1], b[2], c[0], c[1], c[2]]; }
  /** Matrix whose columns are a, b, c. */
  export function fromColumns(a: Vec3, b: Vec3, c: Vec3): Mat3 { return [a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]]; }
  export function row(m: Mat3, r: number): Vec3 { return [m[3 * r], m[3 * r + 1], m[3 * r + 2]]; }
  export function column(m: Mat3, c: number): Vec3 { return [m[c], m[3 + c], m[6 + c]]; }
  export function mul(a: Mat3, b: Mat3): Mat3 {
    const r = zero();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    return r;
  }
  export function mulVec(m: Mat3, v: Vec3): Vec3 {
    return [
      m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
      m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
      m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
    ];
  }
  export function transpose(m: Mat3): Mat3 { return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]; }
  export function determinant(m: Mat3): number {
    return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  }
  export function inverse(m: Mat3): Mat3 {
    const d = determinant(m);
    if (d === 0 || !Number.isFinite(d)) throw new RangeError('singular matrix');
    const i = 1 / d;
    return [
      (m[4] * m[8] - m[5] * m[7]) * i, (m[2] * m[7] - m[1] * m[8]) * i, (m[1] * m[5] - m[2] * m[4]) * i,
      (m[5] * m[6] - m[3] * m[8]) * i, (m[0] * m[8] - m[2] * m[6]) * i, (m[2] * m[3] - m[0] * m[5]) * i,
      (m[3] * m[7] - m[4] * m[6]) * i, (m[1] * m[6] - m[0] * m[7]) * i, (m[0] * m[4] - m[1] * m[3]) * i,
    ];
  }
  export function scale(m: Mat3, s: number): Mat3 { return m.map((x) => x * s) as Mat3; }
  export function add(a: Mat3, b: Mat3): Mat3 { return a.map((x, i) => x + b[i]) as Mat3; }
  export function sub(a: Mat3, b: Mat3): Mat3 { return a.map((x, i) => x - b[i]) as Mat3; }
  export function equals(a: Mat3, b: Mat3, tol = 0): boolean {
    for (let i = 0; i < 9; i++) if (Math.abs(a[i] - b[i]) > tol) return false;
    return true;
  }
  /** Right-handed rotation about a unit axis by angleRad (Rodrigues). */
  export function rotation(axis: Vec3, angleRad: number): Mat3 {
    const [x, y, z] = Vec3.normalize(axis);
    const c = Math.cos(angleRad), s = Math.sin(angleRad), t = 1 - c;
    return [
      t * x * x + c, t * x * y - s * z, t * x * z + s * y,
      t * x * y + s * z, t * y * y + c, t * y * z - s * x,
      t * x * z - s * y, t * y * z + s * x, t * z * z + c,
    ];
  }
  /** Angle (radians) of the rotation R (assumed proper orthogonal). */
  export function rotationAngle(r: Mat3): number {
    return Math.acos(Math.max(-1, Math.min(1, (r[0] + r[4] + r[8] - 1) / 2)));
  }
}
