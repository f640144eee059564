/**
 * Cell reduction. Niggli reduction by the Křivý & Gruber (1976, Acta Cryst. A32, 297) algorithm
 * with the relative-epsilon comparisons of Grosse-Kunstleve, Sauter & Adams (2004, Acta Cryst. A60,
 * 1), so nearly-equal edges and nearly-90° angles do not make it cycle. Each step is applied as an
 * integral change of basis to the accumulated transform, and the Gruber parameters are recomputed
 * from the transformed metric, so the returned cb_op is exact by construction.
 */
import { ParameterError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { CbOp } from './cbop.js';
import { UnitCell } from './unitcell.js';

export interface Reduction {
  /** The reduced cell. */
  cell: UnitCell;
  /** Change of basis from the input cell to the reduced one. */
  cbOp: CbOp;
}

interface Params { A: number; B: number; C: number; xi: number; eta: number; zeta: number }

function gruber(g: Mat3): Params {
  return { A: g[0], B: g[4], C: g[8], xi: 2 * g[5], eta: 2 * g[2], zeta: 2 * g[1] };
}

/** Signs (+1, −1) for a, b, c that make ξ, η, ζ all positive (want > 0) or all non-positive. */
function signFlip(p: Params, eps: number, positive: boolean): Mat3 | null {
  for (const [i, j, k] of [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) {
    const xi = j * k * p.xi, eta = i * k * p.eta, zeta = i * j * p.zeta;
    const ok = positive ? xi > eps && eta > eps && zeta > eps : xi <= eps && eta <= eps && zeta <= eps;
    if (ok) return [i, 0, 0, 0, j, 0, 0, 0, k];
  }
  return null;
}

function reduce(cell: UnitCell, niggliConditions: boolean, relEps: number): Reduction {
  const g0 = cell.metric;
  let p3: Mat3 = Mat3.identity();
  let g = g0;
  const eps = relEps * Math.cbrt(cell.volume) ** 2;
  const apply = (m: Mat3) => {
    p3 = Mat3.mul(p3, m);
    g = Mat3.mul(Mat3.mul(Mat3.transpose(p3), g0), p3);
  };
  const sgn = (x: number) => (x > 0 ? 1 : -1);
  for (let iter = 0; iter < 1000; iter++) {
    let p = gruber(g);
    // N1: A ≤ B (ties broken on |ξ| ≤ |η|)
    if (p.A > p.B + eps || (niggliConditions && Math.abs(p.A - p.B) <= eps && Math.abs(p.xi) > Math.abs(p.eta) + eps)) {
      apply([0, -1, 0, -1, 0, 0, 0, 0, -1]);
      p = gruber(g);
    }
    // N2: B ≤ C
    if (p.B > p.C + eps || (niggliConditions && Math.abs(p.B - p.C) <= eps && Math.abs(p.eta) > Math.abs(p.zeta) + eps)) {
      apply([-1, 0, 0, 0, 0, -1, 0, -1, 0]);
      continue;
    }
    // N3/N4: angles all acute or all non-acute
    const l = p.xi > eps ? 1 : p.xi < -eps ? -1 : 0;
    const m = p.eta > eps ? 1 : p.eta < -eps ? -1 : 0;
    const n = p.zeta > eps ? 1 : p.zeta < -eps ? -1 : 0;
    const flip = signFlip(p, eps, l * m * n === 1);
    if (flip && !Mat3.equals(flip, Mat3.identity())) { apply(flip); p = gruber(g); }
    // N5–N8: shorten by adding/subtracting edges
    if (Math.abs(p.xi) > p.B + eps || (niggliConditions && ((Math.abs(p.xi - p.B) <= eps && 2 * p.eta < p.zeta - eps) || (Math.abs(p.xi + p.B) <= eps && p.zeta < -eps)))) {
      apply([1, 0, 0, 0, 1, -sgn(p.xi), 0, 0, 1]);
      continue;
    }
    if (Math.abs(p.eta) > p.A + eps || (niggliConditions && ((Math.abs(p.eta - p.A) <= eps && 2 * p.xi < p.zeta - eps) || (Math.abs(p.eta + p.A) <= eps && p.zeta < -eps)))) {
      apply([1, 0, -sgn(p.eta), 0, 1, 0, 0, 0, 1]);
      continue;
    }
    if (Math.abs(p.zeta) > p.A + eps || (niggliConditions && ((Math.abs(p.zeta - p.A) <= eps && 2 * p.xi < p.eta - eps) || (Math.abs(p.zeta + p.A) <= eps && p.eta < -eps)))) {
      apply([1, -sgn(p.zeta), 0, 0, 1, 0, 0, 0, 1]);
      continue;
    }
    const s = p.xi + p.eta + p.zeta + p.A + p.B;
    if (s < -eps || (niggliConditions && Math.abs(s) <= eps && 2 * (p.A + p.eta) + p.zeta > eps)) {
      apply([1, 0, 1, 0, 1, 1, 0, 0, 1]);
      continue;
    }
    const cb = CbOp.fromBasis(p3.map((x) => Math.round(x)) as Mat3);
    return { cell: UnitCell.fromMetric(g), cbOp: cb };
  }
  throw new ParameterError(`unit cell ${UnitCell.toString(cell)}: reduction did not converge`);
}

/** Niggli-reduced cell and the change of basis to it (a ≤ b ≤ c, angles all < 90 or all ≥ 90). */
export function niggliReduce(cell: UnitCell, relEps = 1e-5): Reduction { return reduce(cell, true, relEps); }

/** A Buerger-reduced cell (shortest three non-coplanar translations; not unique in ties). */
export function buergerReduce(cell: UnitCell, relEps = 1e-5): Reduction { return reduce(cell, false, relEps); }

/** Does the cell already satisfy the Niggli conditions (within relEps)? */
export function isNiggli(cell: UnitCell, relEps = 1e-5): boolean {
  return CbOp.isIdentity(niggliReduce(cell, relEps).cbOp);
}

/** Change of basis from a centred conventional cell to a primitive one (ITA choices). */
export const CENTRED_TO_PRIMITIVE: Record<string, string> = {
  P: 'a,b,c',
  A: 'a,1/2*b+1/2*c,-1/2*b+1/2*c',
  B: '1/2*a+1/2*c,b,-1/2*a+1/2*c',
  C: '1/2*a+1/2*b,-1/2*a+1/2*b,c',
  I: '-1/2*a+1/2*b+1/2*c,1/2*a-1/2*b+1/2*c,1/2*a+1/2*b-1/2*c',
  F: '1/2*b+1/2*c,1/2*a+1/2*c,1/2*a+1/2*b',
  R: '2/3*a+1/3*b+1/3*c,-1/3*a+1/3*b+1/3*c,-1/3*a-2/3*b+1/3*c',
};

/**
 * Minimum (primitive, Niggli-reduced) cell of a lattice given by a conventional cell and its
 * centring letter, with the change of basis from the conventional cell to it.
 */
export function minimumCellTransform(cell: UnitCell, centring = 'P'): Reduction {
  const z2p = CENTRED_TO_PRIMITIVE[centring.toUpperCase()];
  if (!z2p) throw new ParameterError(`centring '${centring}' has no primitive transform (use P A B C I F R)`);
  const toP = CbOp.parse(z2p);
  const prim = UnitCell.changeBasis(cell, toP);
  const red = niggliReduce(prim);
  return { cell: red.cell, cbOp: CbOp.mul(red.cbOp, toP) };
}
