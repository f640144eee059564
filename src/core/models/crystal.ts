/**
 * Crystal functions. The `.expt` stores the direct axes a, b, c in the lab frame at φ = 0;
 * everything else follows: A = U·B is the inverse of the matrix whose rows are a, b, c, so
 * A·h is the reciprocal lattice vector of Miller index h. B (the transpose of the
 * fractionalization matrix, lower-triangular) depends only on the cell, U only on orientation.
 */
import { Vec3 } from '../math/vec3.js';
import { Mat3 } from '../math/mat3.js';
import type { Crystal as CrystalModel } from './types.js';

export type Crystal = CrystalModel;

/** a, b, c in Å; α, β, γ in degrees. */
export type UnitCellParameters = [number, number, number, number, number, number];

const DEG = Math.PI / 180;

export namespace Crystal {
  /** The direct-axis matrix: rows are a, b, c (Å, lab frame at φ = 0). */
  export function realSpaceMatrix(c: Crystal): Mat3 {
    return Mat3.fromRows(c.realSpaceA, c.realSpaceB, c.realSpaceC);
  }

  /** A = U·B (1/Å): columns are a*, b*, c* in the lab frame at φ = 0. */
  export function A(c: Crystal): Mat3 {
    return Mat3.inverse(realSpaceMatrix(c));
  }

  /** B from the unit cell: the transpose of the fractionalization matrix. */
  export function B(c: Crystal): Mat3 {
    return bFromCell(unitCell(c));
  }

  /** U = A·B⁻¹, the orientation (a proper rotation for a right-handed basis). */
  export function U(c: Crystal): Mat3 {
    return Mat3.mul(A(c), Mat3.inverse(B(c)));
  }

  /** (a, b, c, α, β, γ) from the direct axes. */
  export function unitCell(c: Crystal): UnitCellParameters {
    const { realSpaceA: a, realSpaceB: b, realSpaceC: cc } = c;
    return [
      Vec3.length(a), Vec3.length(b), Vec3.length(cc),
      Vec3.angle(b, cc) / DEG, Vec3.angle(a, cc) / DEG, Vec3.angle(a, b) / DEG,
    ];
  }

  /** (a, b, c, α, β, γ) of the cell whose B matrix is `B` (via the reciprocal metric BᵀB). */
  export function unitCellFromB(B: Mat3): UnitCellParameters {
    const G = Mat3.inverse(Mat3.mul(Mat3.transpose(B), B)); // direct metric tensor
    const a = Math.sqrt(G[0]), b = Math.sqrt(G[4]), c = Math.sqrt(G[8]);
    const ang = (x: number) => (Math.acos(Math.max(-1, Math.min(1, x))) * 180) / Math.PI;
    return [a, b, c, ang(G[5] / (b * c)), ang(G[2] / (a * c)), ang(G[1] / (a * b))];
  }

  /**
   * Standard uncertainties of (a, b, c, α, β, γ) propagated from `BCovariance` (the 9 × 9
   * covariance of B's elements, row-major, as refinement writes it), or null without one.
   * First-order propagation, σ² = J·Σ·Jᵀ, with J by central differences.
   */
  export function unitCellEsd(c: Crystal): UnitCellParameters | null {
    const cov = c.BCovariance;
    if (!cov || cov.length !== 81) return null;
    const B = Crystal.B(c);
    const J: number[][] = [];
    for (let k = 0; k < 9; k++) {
      const h = 1e-6 * Math.max(Math.abs(B[k]), 1e-4);
      const up = Mat3.clone(B), down = Mat3.clone(B);
      up[k] += h; down[k] -= h;
      const fu = unitCellFromB(up), fd = unitCellFromB(down);
      J.push(fu.map((x, i) => (x - fd[i]) / (2 * h)));
    }
    const out = [0, 0, 0, 0, 0, 0] as UnitCellParameters;
    for (let i = 0; i < 6; i++) {
      let v = 0;
      for (let k = 0; k < 9; k++) for (let l = 0; l < 9; l++) v += J[k][i] * cov[9 * k + l] * J[l][i];
      out[i] = Math.sqrt(Math.max(0, v));
    }
    return out;
  }

  /** Cell volume (Å³). */
  export function volume(c: Crystal): number {
    return Math.abs(Mat3.determinant(realSpaceMatrix(c)));
  }

  /**
   * The orthogonalization matrix of a cell in the standard (PDB/cctbx) setting: a along x,
   * b in the xy plane; columns are a, b, c. B is the transpose of its inverse.
   */
  export function orthogonalizationMatrix(cell: UnitCellParameters): Mat3 {
    const [a, b, c, al, be, ga] = cell;
    if (!(a > 0 && b > 0 && c > 0)) throw new RangeError(`cell lengths must be positive: ${cell.join(' ')}`);
    const ca = Math.cos(al * DEG), cb = Math.cos(be * DEG), cg = Math.cos(ga * DEG), sg = Math.sin(ga * DEG);
    const cx = c * cb;
    const cy = (c * (ca - cb * cg)) / sg;
    const cz2 = c * c - cx * cx - cy * cy;
    if (!(cz2 > 0)) throw new RangeError(`impossible cell angles: ${cell.join(' ')}`);
    return [
      a, b * cg, cx,
      0, b * sg, cy,
      0, 0, Math.sqrt(cz2),
    ];
  }

  export function bFromCell(cell: UnitCellParameters): Mat3 {
    return Mat3.transpose(Mat3.inverse(orthogonalizationMatrix(cell)));
  }

  /** A crystal from orientation U, B and a Hall symbol: direct axes are the rows of (U·B)⁻¹. */
  export function fromUB(U: Mat3, B: Mat3, spaceGroupHall = ' P 1'): Crystal {
    return fromA(Mat3.mul(U, B), spaceGroupHall);
  }

  export function fromA(A: Mat3, spaceGroupHall = ' P 1'): Crystal {
    const d = Mat3.inverse(A);
    return { realSpaceA: Mat3.row(d, 0), realSpaceB: Mat3.row(d, 1), realSpaceC: Mat3.row(d, 2), spaceGroupHall };
  }

  /** A crystal of the given cell, orientation U (default identity: the standard setting in the lab). */
  export function fromCell(cell: UnitCellParameters, spaceGroupHall = ' P 1', U: Mat3 = Mat3.identity()): Crystal {
    return fromUB(U, bFromCell(cell), spaceGroupHall);
  }

  /** Number of scan points of a scan-varying model (0 for a static one). */
  export function numScanPoints(c: Crystal): number {
    return c.AAtScanPoints?.length ?? 0;
  }

  /**
   * A at scan point i (scan point i is the start of image first + i; n images have n + 1 points).
   * Falls back to the static A for a scan-static model.
   */
  export function AAtScanPoint(c: Crystal, i: number): Mat3 {
    const pts = c.AAtScanPoints;
    if (!pts || pts.length === 0) return A(c);
    if (!Number.isInteger(i) || i < 0 || i >= pts.length) throw new RangeError(`scan point ${i} outside 0…${pts.length - 1}`);
    return Mat3.clone(pts[i]);
  }

  /**
   * A at frame coordinate z (0 = start of the first image), linearly interpolated between scan
   * points as scan-varying refinement defines it; the static A for a static model.
   */
  export function AAtFrame(c: Crystal, z: number): Mat3 {
    const pts = c.AAtScanPoints;
    if (!pts || pts.length === 0) return A(c);
    const zc = Math.min(Math.max(z, 0), pts.length - 1);
    const i0 = Math.min(Math.floor(zc), pts.length - 2);
    if (i0 < 0) return Mat3.clone(pts[0]);
    const t = zc - i0;
    return pts[i0].map((v, k) => v * (1 - t) + pts[i0 + 1][k] * t) as Mat3;
  }

  /** The reciprocal lattice vector A·h (1/Å) of Miller index h at φ = 0, lab frame. */
  export function reciprocalVector(A: Mat3, h: Vec3): Vec3 {
    return Mat3.mulVec(A, h);
  }

  /** Resolution d (Å) of Miller index h. */
  export function dSpacing(c: Crystal, h: Vec3): number {
    return 1 / Vec3.length(Mat3.mulVec(A(c), h));
  }
}
