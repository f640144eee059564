/**
 * Change of basis (cb_op). Held as the coordinate transformation x' = m·x + v (the `x,y,z` form
 * cctbx and Hall symbols print); the basis form `a+b,-a+b,c` lists the new axes in terms of the
 * old ones, P = m⁻¹ (columns of P are the new axes). From P everything else follows:
 *   Miller indices   h' = Pᵀ·h            (indices are covariant, like the axes)
 *   metric tensor    G' = Pᵀ·G·P
 *   DIALS A matrix   A' = A·P⁻ᵀ = A·mᵀ   (so that A'·h' = A·h: the reciprocal vector is unchanged)
 *   symmetry ops     W' = C·W·C⁻¹        (C = {m|v})
 * Entries are doubles; rational entries such as 1/2 or 1/3 are rounded back to exact integers
 * (or 1/TDEN steps) whenever a result must be integral.
 */
import { ParameterError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { Op, TDEN, type IntMat3, type IntVec3 } from './op.js';

export interface CbOp {
  /** Coordinate transform x' = m·x + v (row-major). */
  readonly m: Mat3;
  readonly v: [number, number, number];
}

const EPS = 1e-6;

function fracString(x: number): string {
  const neg = x < 0; const a = Math.abs(x);
  for (const d of [1, 2, 3, 4, 6, 8, 12, 24, 48, 72]) {
    const n = Math.round(a * d);
    if (Math.abs(n / d - a) < 1e-9) return (neg ? '-' : '') + (d === 1 ? `${n}` : `${n}/${d}`);
  }
  return `${x}`;
}

function linearString(coef: ArrayLike<number>, constant: number, letters: string): string {
  let s = '';
  for (let j = 0; j < 3; j++) {
    const c = coef[j];
    if (Math.abs(c) < EPS) continue;
    const sign = c < 0 ? '-' : s ? '+' : '';
    const a = Math.abs(c);
    s += sign + (Math.abs(a - 1) < EPS ? '' : fracString(a) + '*') + letters[j];
  }
  if (Math.abs(constant) > EPS) s += (constant < 0 ? '-' : s ? '+' : '') + fracString(Math.abs(constant));
  return s || '0';
}

export namespace CbOp {
  export function identity(): CbOp { return { m: Mat3.identity(), v: [0, 0, 0] }; }
  export function fromXyz(m: Mat3, v: [number, number, number] = [0, 0, 0]): CbOp { return { m: Mat3.clone(m), v: [v[0], v[1], v[2]] }; }
  /** From the basis matrix P (columns = new axes in old coordinates). */
  export function fromBasis(p: Mat3): CbOp { return { m: Mat3.inverse(p), v: [0, 0, 0] }; }

  /**
   * Parse any of the usual forms; the letters decide which: `a+b,-a+b,c` / `-b,-a,-c` /
   * `2*a+b+c,-a+b,c` (new axes), `x-y,x+y,z` (coordinates, optionally with shifts) or
   * `h,k,l` / `h+k,-h+k,l` (new indices).
   */
  export function parse(s: string): CbOp {
    const str = s.trim().toLowerCase();
    const parts = str.split(',');
    if (parts.length !== 3) throw new ParameterError(`change of basis '${s}': expected three comma-separated components`);
    const kind = /[abc]/.test(str) ? 'abc' : /[hkl]/.test(str) ? 'hkl' : 'xyz';
    if (kind === 'abc' && /[xyzhkl]/.test(str)) throw new ParameterError(`change of basis '${s}': mixes letters of different forms`);
    const letters = kind;
    const rows: number[] = [];
    const consts: number[] = [];
    for (const p of parts) {
      const { coef, constant } = Op.parseLinear(p, letters, `change of basis '${s}'`);
      rows.push(...coef);
      consts.push(constant);
    }
    const c = rows as Mat3;
    let cb: CbOp;
    if (kind === 'xyz') cb = { m: c, v: consts as [number, number, number] };
    else {
      if (consts.some((x) => Math.abs(x) > EPS)) throw new ParameterError(`change of basis '${s}': origin shifts are only accepted in the x,y,z form`);
      // abc: row i lists new axis i, i.e. column i of P; hkl: row i is row i of Pᵀ, i.e. again column i of P.
      const p = Mat3.transpose(c);
      const d = Mat3.determinant(p);
      if (Math.abs(d) < EPS) throw new ParameterError(`change of basis '${s}' is singular`);
      cb = { m: Mat3.inverse(p), v: [0, 0, 0] };
    }
    if (Math.abs(Mat3.determinant(cb.m)) < EPS) throw new ParameterError(`change of basis '${s}' is singular`);
    return cb;
  }

  /** P: columns are the new axes in terms of the old. */
  export function basis(cb: CbOp): Mat3 { return Mat3.inverse(cb.m); }

  export function inverse(cb: CbOp): CbOp {
    const mi = Mat3.inverse(cb.m);
    const t = Mat3.mulVec(mi, cb.v);
    return { m: mi, v: [-t[0], -t[1], -t[2]] };
  }

  /** a·b: apply b first, then a (as coordinate transforms). */
  export function mul(a: CbOp, b: CbOp): CbOp {
    const t = Mat3.mulVec(a.m, b.v);
    return { m: Mat3.mul(a.m, b.m), v: [t[0] + a.v[0], t[1] + a.v[1], t[2] + a.v[2]] };
  }

  export function isIdentity(cb: CbOp): boolean {
    return Mat3.equals(cb.m, Mat3.identity(), EPS) && cb.v.every((x) => Math.abs(x) < EPS);
  }
  export function equals(a: CbOp, b: CbOp): boolean {
    return Mat3.equals(a.m, b.m, EPS) && a.v.every((x, i) => Math.abs(x - b.v[i]) < EPS);
  }
  export function determinant(cb: CbOp): number { return Mat3.determinant(basis(cb)); }

  export function toXyz(cb: CbOp): string {
    return [0, 1, 2].map((i) => linearString([cb.m[3 * i], cb.m[3 * i + 1], cb.m[3 * i + 2]], cb.v[i], 'xyz')).join(',');
  }
  export function toAbc(cb: CbOp): string {
    const p = basis(cb);
    return [0, 1, 2].map((i) => linearString([p[i], p[3 + i], p[6 + i]], 0, 'abc')).join(',');
  }
  export function toHkl(cb: CbOp): string {
    const p = basis(cb);
    return [0, 1, 2].map((i) => linearString([p[i], p[3 + i], p[6 + i]], 0, 'hkl')).join(',');
  }

  /** h' = Pᵀ·h, rounded (non-integral results mean h is not a lattice point of the new cell). */
  export function applyToHkl(cb: CbOp, h: ArrayLike<number>): IntVec3 {
    const p = basis(cb);
    return [
      Math.round(p[0] * h[0] + p[3] * h[1] + p[6] * h[2]),
      Math.round(p[1] * h[0] + p[4] * h[1] + p[7] * h[2]),
      Math.round(p[2] * h[0] + p[5] * h[1] + p[8] * h[2]),
    ];
  }
  /** Same, in place over a flat Int32Array of (h,k,l) triples. */
  export function applyToHklArray(cb: CbOp, hkl: Int32Array): Int32Array {
    const p = basis(cb);
    const out = new Int32Array(hkl.length);
    for (let i = 0; i < hkl.length; i += 3) {
      const h = hkl[i], k = hkl[i + 1], l = hkl[i + 2];
      out[i] = Math.round(p[0] * h + p[3] * k + p[6] * l);
      out[i + 1] = Math.round(p[1] * h + p[4] * k + p[7] * l);
      out[i + 2] = Math.round(p[2] * h + p[5] * k + p[8] * l);
    }
    return out;
  }

  /** DIALS A = U·B (row-major) in the new basis: A' = A·mᵀ. */
  export function applyToA(cb: CbOp, a: Mat3): Mat3 { return Mat3.mul(a, Mat3.transpose(cb.m)); }

  /** Symmetry operator in the new basis, W' = C·W·C⁻¹; throws if the result is not a valid Seitz matrix. */
  export function applyToOp(cb: CbOp, op: Op): Op {
    const r = Mat3.from(op.rot);
    const mi = Mat3.inverse(cb.m);
    const rp = Mat3.mul(Mat3.mul(cb.m, r), mi);
    const rot = rp.map((x) => {
      const n = Math.round(x);
      if (Math.abs(x - n) > 1e-6) throw new ParameterError(`change of basis ${toXyz(cb)} does not map operator ${Op.toXyz(op)} onto an integral one`);
      return n;
    }) as IntMat3;
    const t = Mat3.mulVec(cb.m, [op.tran[0] / TDEN, op.tran[1] / TDEN, op.tran[2] / TDEN]);
    const rv = Mat3.mulVec(rp, cb.v);
    const tran = [0, 1, 2].map((i) => {
      const x = (t[i] + cb.v[i] - rv[i]) * TDEN;
      const n = Math.round(x);
      if (Math.abs(x - n) > 1e-6) throw new ParameterError(`change of basis ${toXyz(cb)} gives a translation outside 1/${TDEN} steps`);
      return n;
    }) as IntVec3;
    return { rot, tran };
  }

  /** Integral, unimodular coordinate transform without shift: maps a primitive lattice onto itself. */
  export function isUnimodular(cb: CbOp): boolean {
    return cb.m.every((x) => Math.abs(x - Math.round(x)) < EPS) && Math.abs(Math.abs(Mat3.determinant(cb.m)) - 1) < EPS;
  }
}
