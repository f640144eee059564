/**
 * Unit cell: parameters (Å, degrees), metric tensors, volume, d-spacings and the B matrix in the
 * DIALS/cctbx convention. Orthogonalisation puts a along x and b in the xy plane, so the
 * orthogonalisation matrix O (columns = direct axes) is upper triangular; the fractionalisation
 * matrix F = O⁻¹ is upper triangular too and B = Fᵀ is lower triangular with the reciprocal axes
 * a*, b*, c* as its columns. A = U·B then reproduces the crystal models in `.expt` files.
 */
import { ParameterError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { Vec3 } from '../math/vec3.js';
import { CbOp } from './cbop.js';

export type CellParams = [a: number, b: number, c: number, alphaDeg: number, betaDeg: number, gammaDeg: number];

export interface UnitCell {
  readonly a: number; readonly b: number; readonly c: number;
  readonly alpha: number; readonly beta: number; readonly gamma: number;
  /** Direct metric tensor G (Å²), row-major. */
  readonly metric: Mat3;
  /** Reciprocal metric tensor G* = G⁻¹ (Å⁻²): 1/d² = hᵀ·G*·h. */
  readonly reciprocalMetric: Mat3;
  readonly volume: number;
}

const D2R = Math.PI / 180;

export namespace UnitCell {
  export function create(a: number, b: number, c: number, alpha = 90, beta = 90, gamma = 90): UnitCell {
    const p = [a, b, c, alpha, beta, gamma];
    if (p.some((x) => !Number.isFinite(x)) || a <= 0 || b <= 0 || c <= 0)
      throw new ParameterError(`unit cell ${p.join(' ')}: lengths must be positive numbers`);
    if ([alpha, beta, gamma].some((x) => x <= 0 || x >= 180)) throw new ParameterError(`unit cell ${p.join(' ')}: angles must lie between 0 and 180 degrees`);
    const ca = Math.cos(alpha * D2R), cb = Math.cos(beta * D2R), cg = Math.cos(gamma * D2R);
    const metric: Mat3 = [a * a, a * b * cg, a * c * cb, a * b * cg, b * b, b * c * ca, a * c * cb, b * c * ca, c * c];
    const v2 = Mat3.determinant(metric);
    if (!(v2 > 0)) throw new ParameterError(`unit cell ${p.join(' ')}: angles do not form a cell (zero or negative volume)`);
    return { a, b, c, alpha, beta, gamma, metric, reciprocalMetric: Mat3.inverse(metric), volume: Math.sqrt(v2) };
  }
  export function fromParams(p: ArrayLike<number>): UnitCell {
    if (p.length !== 6) throw new ParameterError(`unit cell needs 6 parameters (got ${p.length})`);
    return create(p[0], p[1], p[2], p[3], p[4], p[5]);
  }

  /** From a metric tensor G (symmetrised before use). */
  export function fromMetric(g: ArrayLike<number>): UnitCell {
    const a = Math.sqrt(g[0]), b = Math.sqrt(g[4]), c = Math.sqrt(g[8]);
    const ang = (x: number) => Math.acos(Math.max(-1, Math.min(1, x))) / D2R;
    return create(a, b, c, ang((g[5] + g[7]) / 2 / (b * c)), ang((g[2] + g[6]) / 2 / (a * c)), ang((g[1] + g[3]) / 2 / (a * b)));
  }

  /** From the direct axes as vectors (e.g. `.expt` real_space_a/b/c). */
  export function fromBasisVectors(va: Vec3, vb: Vec3, vc: Vec3): UnitCell {
    const v = [va, vb, vc];
    const g = Mat3.zero();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) g[3 * i + j] = Vec3.dot(v[i], v[j]);
    return fromMetric(g);
  }

  /** From a DIALS A = U·B matrix (row-major): G* = Aᵀ·A. */
  export function fromA(aMat: Mat3): UnitCell {
    return reciprocal(fromMetric(Mat3.mul(Mat3.transpose(aMat), aMat)));
  }

  export function parameters(cell: UnitCell): CellParams {
    return [cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma];
  }

  /** The reciprocal cell (lengths Å⁻¹) as a UnitCell. */
  export function reciprocal(cell: UnitCell): UnitCell { return fromMetric(cell.reciprocalMetric); }

  /** Orthogonalisation matrix O (columns: direct axes; a ∥ x, b in the xy plane). */
  export function orthogonalization(cell: UnitCell): Mat3 {
    const ca = Math.cos(cell.alpha * D2R), cb = Math.cos(cell.beta * D2R), cg = Math.cos(cell.gamma * D2R), sg = Math.sin(cell.gamma * D2R);
    return [
      cell.a, cell.b * cg, cell.c * cb,
      0, cell.b * sg, (cell.c * (ca - cb * cg)) / sg,
      0, 0, cell.volume / (cell.a * cell.b * sg),
    ];
  }
  export function fractionalization(cell: UnitCell): Mat3 { return Mat3.inverse(orthogonalization(cell)); }

  /** DIALS B matrix: Fᵀ, lower triangular, columns a*, b*, c* (Å⁻¹). */
  export function bMatrix(cell: UnitCell): Mat3 { return Mat3.transpose(fractionalization(cell)); }

  /** 1/d² for one index. */
  export function dStarSq(cell: UnitCell, h: number, k: number, l: number): number {
    const g = cell.reciprocalMetric;
    return g[0] * h * h + g[4] * k * k + g[8] * l * l + 2 * (g[1] * h * k + g[2] * h * l + g[5] * k * l);
  }
  export function dSpacing(cell: UnitCell, h: number, k: number, l: number): number {
    return 1 / Math.sqrt(dStarSq(cell, h, k, l));
  }
  /** d-spacings for flat (h,k,l) triples; (0,0,0) gives Infinity. */
  export function dSpacings(cell: UnitCell, hkl: ArrayLike<number>, out = new Float64Array(hkl.length / 3)): Float64Array {
    const g = cell.reciprocalMetric;
    const g0 = g[0], g4 = g[4], g8 = g[8], g1 = 2 * g[1], g2 = 2 * g[2], g5 = 2 * g[5];
    for (let i = 0, j = 0; j < out.length; i += 3, j++) {
      const h = hkl[i], k = hkl[i + 1], l = hkl[i + 2];
      out[j] = 1 / Math.sqrt(g0 * h * h + g4 * k * k + g8 * l * l + g1 * h * k + g2 * h * l + g5 * k * l);
    }
    return out;
  }

  /** The same lattice described in a new basis: G' = Pᵀ·G·P. */
  export function changeBasis(cell: UnitCell, cb: CbOp): UnitCell {
    const p = CbOp.basis(cb);
    return fromMetric(Mat3.mul(Mat3.mul(Mat3.transpose(p), cell.metric), p));
  }

  /** Similar cells (default as cctbx's is_similar_to: 1 % relative length, 1° angle). */
  export function isSimilar(x: UnitCell, y: UnitCell, relLength = 0.01, angleDeg = 1): boolean {
    const p = parameters(x), q = parameters(y);
    for (let i = 0; i < 3; i++) if (Math.abs(p[i] - q[i]) > relLength * Math.min(p[i], q[i])) return false;
    for (let i = 3; i < 6; i++) if (Math.abs(p[i] - q[i]) > angleDeg) return false;
    return true;
  }

  export function toString(cell: UnitCell, digits = 3): string {
    return parameters(cell).map((x) => x.toFixed(digits)).join(' ');
  }
}
