/**
 * Symmetry operator (Seitz matrix) {R|t}: an integer rotation part and a translation held as
 * integers in units of 1/TDEN, so that composition, comparison and wrapping are exact. TDEN = 24
 * covers every translation that occurs in the 230 groups (1/2, 1/3, 1/4, 1/6) and the 1/8, 1/12
 * steps that appear after common changes of basis.
 */
import { ParameterError } from '../errors.js';

export const TDEN = 24;

/** Row-major 3×3 integer matrix. */
export type IntMat3 = [number, number, number, number, number, number, number, number, number];
export type IntVec3 = [number, number, number];

export interface Op {
  /** Rotation part, row-major: x' = rot · x + tran/TDEN. */
  readonly rot: IntMat3;
  /** Translation in units of 1/TDEN (not necessarily wrapped into [0, 1)). */
  readonly tran: IntVec3;
}

export namespace Op {
  export function identity(): Op { return { rot: [1, 0, 0, 0, 1, 0, 0, 0, 1], tran: [0, 0, 0] }; }
  export function create(rot: ArrayLike<number>, tran: ArrayLike<number> = [0, 0, 0]): Op {
    return { rot: Array.from(rot) as IntMat3, tran: Array.from(tran) as IntVec3 };
  }

  /** a·b: apply b first, then a. */
  export function mul(a: Op, b: Op): Op {
    const r = a.rot, s = b.rot;
    const rot = [0, 0, 0, 0, 0, 0, 0, 0, 0] as IntMat3;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) rot[3 * i + j] = r[3 * i] * s[j] + r[3 * i + 1] * s[3 + j] + r[3 * i + 2] * s[6 + j];
    const t = b.tran;
    const tran: IntVec3 = [
      r[0] * t[0] + r[1] * t[1] + r[2] * t[2] + a.tran[0],
      r[3] * t[0] + r[4] * t[1] + r[5] * t[2] + a.tran[1],
      r[6] * t[0] + r[7] * t[1] + r[8] * t[2] + a.tran[2],
    ];
    return { rot, tran };
  }

  export function det(r: IntMat3): number {
    return r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
  }

  /** Inverse of a unimodular integer matrix (adjugate/det stays integral). */
  export function invRot(m: IntMat3): IntMat3 {
    const d = det(m);
    if (d !== 1 && d !== -1) throw new RangeError(`rotation matrix has determinant ${d}, not ±1`);
    return [
      (m[4] * m[8] - m[5] * m[7]) * d, (m[2] * m[7] - m[1] * m[8]) * d, (m[1] * m[5] - m[2] * m[4]) * d,
      (m[5] * m[6] - m[3] * m[8]) * d, (m[0] * m[8] - m[2] * m[6]) * d, (m[2] * m[3] - m[0] * m[5]) * d,
      (m[3] * m[7] - m[4] * m[6]) * d, (m[1] * m[6] - m[0] * m[7]) * d, (m[0] * m[4] - m[1] * m[3]) * d,
    ] as IntMat3;
  }

  export function inverse(a: Op): Op {
    const ri = invRot(a.rot);
    const t = a.tran;
    return {
      rot: ri,
      tran: [
        -(ri[0] * t[0] + ri[1] * t[1] + ri[2] * t[2]),
        -(ri[3] * t[0] + ri[4] * t[1] + ri[5] * t[2]),
        -(ri[6] * t[0] + ri[7] * t[1] + ri[8] * t[2]),
      ],
    };
  }

  export function wrapT(t: number): number { const m = t % TDEN; return m < 0 ? m + TDEN : m; }
  /** Same operator with the translation reduced into [0, 1). */
  export function wrapped(a: Op): Op { return { rot: a.rot, tran: [wrapT(a.tran[0]), wrapT(a.tran[1]), wrapT(a.tran[2])] }; }
  export function translation(t: ArrayLike<number>): Op { return { rot: [1, 0, 0, 0, 1, 0, 0, 0, 1], tran: [t[0], t[1], t[2]] }; }

  export function rotEquals(a: IntMat3, b: IntMat3): boolean {
    for (let i = 0; i < 9; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  export function equals(a: Op, b: Op): boolean {
    return rotEquals(a.rot, b.rot) && a.tran[0] === b.tran[0] && a.tran[1] === b.tran[1] && a.tran[2] === b.tran[2];
  }
  export function isIdentityRot(r: IntMat3): boolean {
    return r[0] === 1 && r[4] === 1 && r[8] === 1 && r[1] === 0 && r[2] === 0 && r[3] === 0 && r[5] === 0 && r[6] === 0 && r[7] === 0;
  }
  export function negated(a: Op): Op { return { rot: a.rot.map((x) => -x) as IntMat3, tran: a.tran.slice() as IntVec3 }; }
  /** Key that identifies an operator modulo lattice translations. */
  export function key(a: Op): string { const w = wrapped(a); return w.rot.join(',') + ';' + w.tran.join(','); }

  /**
   * Rotation type as in ITA: ±1, ±2, ±3, ±4, ±6 (negative for improper), from trace and det.
   */
  export function rotationType(r: IntMat3): number {
    const d = det(r), tr = r[0] + r[4] + r[8];
    const t = d > 0 ? tr : -tr;
    const n = t === 3 ? 1 : t === -1 ? 2 : t === 0 ? 3 : t === 1 ? 4 : t === 2 ? 6 : 0;
    if (n === 0) throw new RangeError(`not a crystallographic rotation (trace ${tr})`);
    return d > 0 ? n : -n;
  }

  /** Miller index under the operator: h' = h·R (indices transform like covariant basis vectors). */
  export function applyToHkl(a: Op, h: ArrayLike<number>): IntVec3 {
    const r = a.rot;
    return [h[0] * r[0] + h[1] * r[3] + h[2] * r[6], h[0] * r[1] + h[1] * r[4] + h[2] * r[7], h[0] * r[2] + h[1] * r[5] + h[2] * r[8]];
  }
  /** Fractional coordinates under the operator. */
  export function applyToXyz(a: Op, x: ArrayLike<number>): [number, number, number] {
    const r = a.rot, t = a.tran;
    return [
      r[0] * x[0] + r[1] * x[1] + r[2] * x[2] + t[0] / TDEN,
      r[3] * x[0] + r[4] * x[1] + r[5] * x[2] + t[1] / TDEN,
      r[6] * x[0] + r[7] * x[1] + r[8] * x[2] + t[2] / TDEN,
    ];
  }

  function gcd(a: number, b: number): number { a = Math.abs(a); b = Math.abs(b); while (b) [a, b] = [b, a % b]; return a; }
  /** "1/2", "-1/4", "2/3" for a value in 1/den units. */
  export function fraction(num: number, den = TDEN): string {
    if (num === 0) return '0';
    const g = gcd(num, den);
    const n = num / g, d = den / g;
    return d === 1 ? `${n}` : `${n}/${d}`;
  }

  /**
   * `x,y,z` form, e.g. `-y,x-y,z+1/3`: variables first, then the translation, as International
   * Tables (and cctbx/gemmi) print them. `letters` may be 'hkl' or 'abc' for other uses.
   */
  export function toXyz(a: Op, letters = 'xyz', wrap = false): string {
    const op = wrap ? wrapped(a) : a;
    const rows: string[] = [];
    for (let i = 0; i < 3; i++) {
      let s = '';
      for (let j = 0; j < 3; j++) {
        const c = op.rot[3 * i + j];
        if (c === 0) continue;
        const sign = c < 0 ? '-' : s ? '+' : '';
        const mag = Math.abs(c) === 1 ? '' : `${Math.abs(c)}*`;
        s += sign + mag + letters[j];
      }
      const t = op.tran[i];
      if (t !== 0) s += (t < 0 ? '-' : s ? '+' : '') + fraction(Math.abs(t));
      rows.push(s || '0');
    }
    return rows.join(',');
  }

  /**
   * Parse one expression such as `-x+y+1/3`, `1/2+x`, `2*a-b`, `x-0.25`, `-h` into coefficients of
   * the three letters (scaled by `scale`) and a constant (scaled by `scale`). Rational results are
   * returned as numbers; callers check integrality.
   */
  export function parseLinear(expr: string, letters: string, what: string): { coef: [number, number, number]; constant: number } {
    const s = expr.replace(/\s+/g, '').toLowerCase();
    if (!s) throw new ParameterError(`${what}: empty component`);
    const coef: [number, number, number] = [0, 0, 0];
    let constant = 0;
    const re = /([+-]?)(\d+(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?)?\*?([a-z])?/y;
    let pos = 0;
    while (pos < s.length) {
      re.lastIndex = pos;
      const m = re.exec(s);
      if (!m || m[0] === '' || (m[1] === '' && pos > 0)) throw new ParameterError(`${what}: cannot parse '${expr}'`);
      pos = re.lastIndex;
      const sign = m[1] === '-' ? -1 : 1;
      let val = 1;
      if (m[2] !== undefined) {
        const [n, d] = m[2].split('/');
        val = Number(n) / (d === undefined ? 1 : Number(d));
        if (!Number.isFinite(val)) throw new ParameterError(`${what}: bad number in '${expr}'`);
      }
      if (m[3] !== undefined) {
        const k = letters.indexOf(m[3]);
        if (k < 0) throw new ParameterError(`${what}: unexpected '${m[3]}' in '${expr}' (expected ${letters.split('').join(', ')})`);
        coef[k] += sign * val;
      } else {
        if (m[2] === undefined) throw new ParameterError(`${what}: cannot parse '${expr}'`);
        constant += sign * val;
      }
    }
    return { coef, constant };
  }

  function toInt(v: number, what: string, src: string): number {
    const r = Math.round(v);
    if (Math.abs(v - r) > 1e-9) throw new ParameterError(`${what}: '${src}' is not representable in 1/${TDEN} steps`);
    return r;
  }

  /** Parse `x,y,z`-style triplets: `-y,x-y,z+1/3`, `x+1/2,y,-z`, `1/2+x, 1/2-y, -z`. */
  export function parse(triplet: string, letters = 'xyz'): Op {
    const parts = triplet.split(',');
    if (parts.length !== 3) throw new ParameterError(`symmetry operator '${triplet}': expected three comma-separated components`);
    const rot = [0, 0, 0, 0, 0, 0, 0, 0, 0] as IntMat3;
    const tran: IntVec3 = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      const { coef, constant } = parseLinear(parts[i], letters, `symmetry operator '${triplet}'`);
      for (let j = 0; j < 3; j++) rot[3 * i + j] = toInt(coef[j], 'symmetry operator', triplet);
      tran[i] = toInt(constant * TDEN, 'symmetry operator', triplet);
    }
    return { rot, tran };
  }
}
