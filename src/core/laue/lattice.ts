/**
 * Lattice symmetry from the cell alone, and the conventional setting of any of its Laue subgroups.
 *
 * Le Page (1982, J. Appl. Cryst. 15, 255): a lattice two-fold axis lies along a direct lattice
 * vector u and perpendicular to a lattice plane h with |u·h| = 1 or 2; the angle δ between u and
 * the plane normal h* measures how far the metric is from that symmetry. Two-folds with
 * δ ≤ max_delta generate the lattice point group (all point groups with a two-fold are generated
 * by their two-folds; the holohedries always are). Everything here works in the reduced
 * (Niggli) cell, where short indices suffice.
 *
 * Rotations act on fractional coordinates, x' = R·x; Miller indices transform as h' = h·R.
 *
 * This is the one Le Page search of the code base: refine_bravais_settings (via
 * src/core/symmetry/lattice-symmetry.ts) enumerates its Bravais candidates with `twoFoldGroups`,
 * symmetry and cosym take the whole lattice group with `latticeGroup` and its `subgroups`.
 */
import { Mat3 } from '../math/mat3.js';
import { CbOp } from '../symmetry/cbop.js';
import { Op, TDEN, type IntMat3, type IntVec3 } from '../symmetry/op.js';
import { SpaceGroup } from '../symmetry/spacegroup.js';
import { UnitCell } from '../symmetry/unitcell.js';

export interface TwoFold {
  rot: IntMat3;
  /** Direct lattice vector along the axis (primitive, first non-zero component positive). */
  axis: IntVec3;
  /** Reciprocal lattice vector along the axis, i.e. normal of the lattice plane the two-fold
   * reverses (primitive, first non-zero component positive): hᵀR = hᵀ. */
  normal: IntVec3;
  /** Le Page δ, degrees. */
  deltaDeg: number;
}

const I3: IntMat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function mulRot(a: readonly number[], b: readonly number[]): IntMat3 {
  const r = [0, 0, 0, 0, 0, 0, 0, 0, 0] as IntMat3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  return r;
}

export const rotKey = (r: readonly number[]): string => r.join(',');

function gcd(a: number, b: number): number { a = Math.abs(a); b = Math.abs(b); while (b) [a, b] = [b, a % b]; return a; }

function primitive(v: number[]): IntVec3 {
  const g = gcd(gcd(v[0], v[1]), v[2]) || 1;
  let u = v.map((x) => x / g);
  const first = u.find((x) => x !== 0) ?? 1;
  if (first < 0) u = u.map((x) => -x);
  return u.map((x) => x || 0) as IntVec3;
}

/**
 * Le Page obliquity (degrees) between the direct lattice direction u and the reciprocal one h.
 * Taken as atan2(|t × s|, |t · s|) of their Cartesian images rather than acos of a cosine: an exact
 * symmetry then gives δ ≈ 1e-14° instead of the ≈ 1e-6° that acos near 1 leaves.
 */
export function obliquityDeg(cell: UnitCell, u: ArrayLike<number>, h: ArrayLike<number>): number {
  const t = Mat3.mulVec(UnitCell.orthogonalization(cell), [u[0], u[1], u[2]]);
  const s = Mat3.mulVec(UnitCell.bMatrix(cell), [h[0], h[1], h[2]]);
  return crossAngleDeg(t, s);
}

function crossAngleDeg(t: ArrayLike<number>, s: ArrayLike<number>): number {
  const cross = Math.hypot(t[1] * s[2] - t[2] * s[1], t[2] * s[0] - t[0] * s[2], t[0] * s[1] - t[1] * s[0]);
  const dot = Math.abs(t[0] * s[0] + t[1] * s[1] + t[2] * s[2]);
  return (Math.atan2(cross, dot) * 180) / Math.PI;
}

/**
 * All lattice two-folds with δ ≤ maxDeltaDeg (Le Page), in the basis of `cell` (normally the
 * reduced cell, where |indices| ≤ 2 suffice). The order is that of the search (direct vector u
 * over −range…range, then h), which fixes the order of the closed group downstream.
 */
export function latticeTwoFolds(cell: UnitCell, maxDeltaDeg: number, range = 2): TwoFold[] {
  const O = UnitCell.orthogonalization(cell), B = UnitCell.bMatrix(cell);
  const found = new Map<string, TwoFold>();
  const vs: IntVec3[] = [];
  for (let a = -range; a <= range; a++) for (let b = -range; b <= range; b++) for (let c = -range; c <= range; c++) {
    if (a === 0 && b === 0 && c === 0) continue;
    if (gcd(gcd(a, b), c) !== 1) continue;
    vs.push([a, b, c]);
  }
  const direct = vs.map((v) => Mat3.mulVec(O, v));
  const recip = vs.map((v) => Mat3.mulVec(B, v));
  for (let iu = 0; iu < vs.length; iu++) {
    const u = vs[iu];
    for (let ih = 0; ih < vs.length; ih++) {
      const h = vs[ih];
      const uh = u[0] * h[0] + u[1] * h[1] + u[2] * h[2];
      if (uh !== 1 && uh !== 2) continue;
      const delta = crossAngleDeg(direct[iu], recip[ih]);
      if (delta > maxDeltaDeg) continue;
      // R x = (2/(u·h)) u (h·x) − x keeps u and reverses every x with h·x = 0; integral as u·h divides 2
      const rot = [0, 0, 0, 0, 0, 0, 0, 0, 0] as IntMat3;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) rot[3 * i + j] = (2 * u[i] * h[j]) / uh - (i === j ? 1 : 0);
      const k = rotKey(rot);
      const prev = found.get(k);
      if (!prev || delta < prev.deltaDeg) found.set(k, { rot, axis: primitive(u), normal: primitive(h), deltaDeg: delta });
    }
  }
  return [...found.values()];
}

function quad(G: readonly number[], v: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += v[i] * G[3 * i + j] * v[j];
  return s;
}

/** The group generated by `gens` (rotation matrices), identity first. */
export function closeRotations(gens: readonly IntMat3[], limit = 48): IntMat3[] {
  const out: IntMat3[] = [I3];
  const seen = new Set([rotKey(I3)]);
  for (let p = 0; p < out.length; p++) {
    for (const g of gens) {
      const r = mulRot(out[p], g);
      const k = rotKey(r);
      if (!seen.has(k)) {
        seen.add(k); out.push(r);
        if (out.length > limit) throw new RangeError('rotation group larger than 48: the two-folds are inconsistent');
      }
    }
  }
  return out;
}

/** Lattice point group (proper rotations only) from the two-folds; their δ kept for subgroups. */
export function latticeGroup(cell: UnitCell, maxDeltaDeg: number): { rotations: IntMat3[]; twoFolds: TwoFold[] } {
  let twoFolds = latticeTwoFolds(cell, maxDeltaDeg);
  // Two-folds that are individually within δ but do not form a group with the others (metric
  // close to two incompatible symmetries) are dropped, largest δ first.
  for (;;) {
    try {
      const rotations = closeRotations(twoFolds.map((t) => t.rot));
      return { rotations, twoFolds };
    } catch {
      twoFolds = [...twoFolds].sort((a, b) => a.deltaDeg - b.deltaDeg).slice(0, -1);
    }
  }
}

/**
 * Every group generated by a subset of the two-folds, each as its rotations (identity first),
 * found breadth-first from the trivial group in the order of `twoFolds`: the candidate lattice
 * groups of refine_bravais_settings. Unlike `latticeGroup` no two-fold is dropped when all of them
 * together do not close; a subset closing to more than `maxOrder` rotations (or not at all) is
 * simply not a candidate. `close` may be swapped for another closure when a caller's choices
 * depend on the order in which a group's rotations are listed (the set is the same).
 */
export function twoFoldGroups(
  twoFolds: readonly TwoFold[],
  { maxOrder = 24, close = closeRotations }: { maxOrder?: number; close?: (gens: readonly IntMat3[]) => IntMat3[] } = {},
): IntMat3[][] {
  const groups = new Map<string, IntMat3[]>();
  const keyOf = (rots: readonly IntMat3[]) => rots.map(rotKey).sort().join('|');
  groups.set(keyOf([I3]), [I3]);
  let frontier: IntMat3[][] = [[I3]];
  while (frontier.length) {
    const next: IntMat3[][] = [];
    for (const grp of frontier) {
      for (const tf of twoFolds) {
        const k0 = rotKey(tf.rot);
        if (grp.some((r) => rotKey(r) === k0)) continue;
        let rots: IntMat3[];
        try { rots = close([...grp, tf.rot]); } catch { continue; }
        if (rots.length > maxOrder) continue;
        const k = keyOf(rots);
        if (groups.has(k)) continue;
        groups.set(k, rots);
        next.push(rots);
      }
    }
    frontier = next;
  }
  return [...groups.values()];
}

export function det(r: readonly number[]): number {
  return r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
}

export function trace(r: readonly number[]): number { return r[0] + r[4] + r[8]; }

/** Order of a proper rotation from its trace (3 → 1, −1 → 2, 0 → 3, 1 → 4, 2 → 6). */
export function rotationOrder(r: readonly number[]): number {
  switch (trace(r)) { case 3: return 1; case -1: return 2; case 0: return 3; case 1: return 4; case 2: return 6; }
  throw new RangeError(`not a crystallographic rotation: ${r.join(',')}`);
}

/** Direct lattice vector along the axis of a proper rotation (≠ identity). */
export function rotationAxis(r: readonly number[]): IntVec3 {
  const m = [r[0] - 1, r[1], r[2], r[3], r[4] - 1, r[5], r[6], r[7], r[8] - 1];
  const rows = [m.slice(0, 3), m.slice(3, 6), m.slice(6, 9)];
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) {
    const a = rows[i], b = rows[j];
    const c = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    if (c.some((x) => x !== 0)) return primitive(c);
  }
  throw new RangeError('rotation axis undefined');
}

/** A symmetry element: the rotations of one order about one axis (for scoring, as POINTLESS lists them). */
export interface SymmetryElement {
  order: number;
  axis: IntVec3;
  /** The rotations R^k of exactly this order (identity element: [I]). */
  rotations: IntMat3[];
}

export function symmetryElements(rotations: readonly IntMat3[]): SymmetryElement[] {
  const out: SymmetryElement[] = [{ order: 1, axis: [0, 0, 0], rotations: [I3] }];
  const seen = new Map<string, SymmetryElement>();
  for (const r of rotations) {
    const n = rotationOrder(r);
    if (n === 1) continue;
    const axis = rotationAxis(r);
    const k = `${n}|${axis.join(',')}`;
    let e = seen.get(k);
    if (!e) { e = { order: n, axis, rotations: [] }; seen.set(k, e); out.push(e); }
    e.rotations.push(r);
  }
  return out.sort((a, b) => a.order === 1 ? -1 : b.order === 1 ? 1 : b.order - a.order || 0);
}

/** All subgroups of a rotation group (each as its rotation set), largest first. */
export function subgroups(rotations: readonly IntMat3[]): IntMat3[][] {
  const found = new Map<string, IntMat3[]>();
  const keyOf = (g: IntMat3[]) => g.map(rotKey).sort().join('|');
  const grow = (gens: IntMat3[]) => {
    const g = closeRotations(gens);
    const k = keyOf(g);
    if (found.has(k)) return;
    found.set(k, g);
    for (const r of rotations) if (!g.some((x) => rotKey(x) === rotKey(r))) grow([...gens, r]);
  };
  grow([]);
  return [...found.values()].sort((a, b) => b.length - a.length);
}

export type CrystalSystem = 'triclinic' | 'monoclinic' | 'orthorhombic' | 'tetragonal' | 'trigonal' | 'hexagonal' | 'cubic';

export function crystalSystem(rotations: readonly IntMat3[]): CrystalSystem {
  const orders = rotations.map(rotationOrder);
  const n = (k: number) => orders.filter((o) => o === k).length;
  if (n(6) > 0) return 'hexagonal';
  if (n(3) >= 8) return 'cubic';
  if (n(3) > 0) return 'trigonal';
  if (n(4) > 0) return 'tetragonal';
  if (n(2) >= 3) return 'orthorhombic';
  if (n(2) === 1) return 'monoclinic';
  return 'triclinic';
}

/** Integer vectors v (|v_i| ≤ range) with M·v = 0, shortest first. */
function kernelVectors(M: readonly number[], G: readonly number[], range = 3): IntVec3[] {
  const out: IntVec3[] = [];
  for (let a = -range; a <= range; a++) for (let b = -range; b <= range; b++) for (let c = -range; c <= range; c++) {
    if (a === 0 && b === 0 && c === 0) continue;
    if (M[0] * a + M[1] * b + M[2] * c !== 0 || M[3] * a + M[4] * b + M[5] * c !== 0 || M[6] * a + M[7] * b + M[8] * c !== 0) continue;
    out.push([a, b, c]);
  }
  return out.sort((x, y) => quad(G, x) - quad(G, y));
}

const addI = (r: readonly number[], s = 1): number[] => r.map((x, i) => x + (i % 4 === 0 ? s : 0));

function basisFromColumns(a: readonly number[], b: readonly number[], c: readonly number[]): Mat3 {
  return [a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]];
}

/** Centring translations of the old lattice seen in a new basis P (columns = new axes), in 1/TDEN. */
export function centringOf(P: Mat3): IntVec3[] {
  const m = Mat3.inverse(P);
  const seen = new Map<string, IntVec3>();
  const add = (t: number[]) => {
    const w = t.map((x) => { const y = Math.round(x * TDEN) % TDEN; return y < 0 ? y + TDEN : y; }) as IntVec3;
    seen.set(w.join(','), w);
  };
  add([0, 0, 0]);
  // lattice points inside the new cell: m·(integer vector) mod 1, for small integer vectors
  for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) for (let c = -2; c <= 2; c++) add([0, 1, 2].map((i) => m[3 * i] * a + m[3 * i + 1] * b + m[3 * i + 2] * c));
  return [...seen.values()];
}

function centringLetter(t: readonly IntVec3[]): string {
  const h = TDEN / 2;
  const has = (v: number[]) => t.some((x) => x[0] === v[0] && x[1] === v[1] && x[2] === v[2]);
  if (t.length === 1) return 'P';
  if (t.length === 4 && has([0, h, h]) && has([h, 0, h]) && has([h, h, 0])) return 'F';
  if (t.length === 3) return 'R';
  if (has([h, h, 0])) return 'C';
  if (has([0, h, h])) return 'A';
  if (has([h, 0, h])) return 'B';
  if (has([h, h, h])) return 'I';
  return '?';
}

export interface Setting {
  /** Change of basis from the reduced cell to the conventional setting. */
  cbOp: CbOp;
  /** Patterson group (Laue group with the lattice centring) in the conventional setting. */
  patterson: SpaceGroup;
  system: CrystalSystem;
}

/**
 * The conventional setting (ITA axes: unique axis b for monoclinic, c along the 4-, 3- or 6-fold,
 * a < b < c where the system leaves the order free, C-centring preferred for monoclinic and
 * orthorhombic face centring) of a point group given by its proper rotations in the reduced cell.
 */
export function conventionalSetting(rotations: readonly IntMat3[], cell: UnitCell): Setting {
  const G = cell.metric;
  const system = crystalSystem(rotations);
  const len = (v: readonly number[]) => Math.sqrt(quad(G, v));
  const ofOrder = (n: number) => rotations.filter((r) => rotationOrder(r) === n);
  const axesOf = (n: number) => {
    const m = new Map<string, IntVec3>();
    for (const r of ofOrder(n)) { const a = rotationAxis(r); m.set(a.join(','), a); }
    return [...m.values()];
  };
  let candidates: Mat3[] = [];
  if (system === 'triclinic') {
    candidates = [Mat3.identity()];
  } else if (system === 'monoclinic') {
    const two = ofOrder(2)[0];
    const b = rotationAxis(two);
    const perp = kernelVectors(addI(two, 1), G).slice(0, 12);
    for (const a of perp) for (const c of perp) {
      const P = basisFromColumns(a, b, c);
      if (Math.abs(Mat3.determinant(P)) < 0.5) continue;
      candidates.push(P);
    }
  } else if (system === 'orthorhombic') {
    const ax = axesOf(2);
    for (const [i, j, k] of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) candidates.push(basisFromColumns(ax[i], ax[j], ax[k]));
  } else if (system === 'tetragonal') {
    const four = ofOrder(4)[0];
    const c = rotationAxis(four);
    const two = mulRot(four, four);
    const perp = kernelVectors(addI(two, 1), G).slice(0, 8);
    for (const a of perp) {
      const b = [0, 1, 2].map((i) => four[3 * i] * a[0] + four[3 * i + 1] * a[1] + four[3 * i + 2] * a[2]);
      candidates.push(basisFromColumns(a, b, c));
    }
  } else if (system === 'trigonal' || system === 'hexagonal') {
    const three = ofOrder(3)[0];
    const c = rotationAxis(three);
    const r2 = mulRot(three, three);
    const s = r2.map((x, i) => x + three[i] + (i % 4 === 0 ? 1 : 0)); // I + R + R²: zero on the plane ⟂ the axis
    const perp = kernelVectors(s, G).slice(0, 12);
    for (const a of perp) for (const R of [three, mulRot(three, three)]) {
      const b = [0, 1, 2].map((i) => R[3 * i] * a[0] + R[3 * i + 1] * a[1] + R[3 * i + 2] * a[2]);
      candidates.push(basisFromColumns(a, b, c));
    }
  } else {
    const ax = axesOf(4).length === 3 ? axesOf(4) : axesOf(2);
    for (const [i, j, k] of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) candidates.push(basisFromColumns(ax[i], ax[j], ax[k]));
  }
  // Score the candidates: right-handed, smallest cell, preferred centring, conventional order.
  let best: { P: Mat3; score: number[] } | null = null;
  const prefCentring: Record<string, number> = { P: 0, C: 1, I: 2, F: 3, R: 4, A: 5, B: 5, '?': 9 };
  for (let P of candidates) {
    if (Mat3.determinant(P) < 0) P = P.map((x) => -x) as Mat3;
    const d = Math.round(Mat3.determinant(P));
    if (d <= 0) continue;
    const cen = centringOf(P);
    const letter = centringLetter(cen);
    if (letter === 'R') {
      // obverse (2/3, 1/3, 1/3) wanted; reverse becomes obverse by a 180° turn about c
      const obverse = cen.some((t) => t[0] === 16 && t[1] === 8 && t[2] === 8);
      if (!obverse) continue;
    }
    const col = (k: number) => [P[k], P[3 + k], P[6 + k]];
    const [la, lb, lc] = [len(col(0)), len(col(1)), len(col(2))];
    const cosB = quad2(G, col(0), col(2)) / (la * lc);
    const cosG = quad2(G, col(0), col(1)) / (la * lb);
    let order = 0;
    if (system === 'orthorhombic' || system === 'cubic') order = (la <= lb + 1e-6 ? 0 : 1) + (lb <= lc + 1e-6 ? 0 : 1);
    if (system === 'monoclinic') order = (la <= lc + 1e-6 ? 0 : 1) + (cosB <= 1e-9 ? 0 : 2);
    if (system === 'trigonal' || system === 'hexagonal') order = Math.abs(cosG + 0.5) < 1e-3 ? 0 : 3;
    // last: fewest negative coefficients, so that equivalent choices print as DIALS' do (b,c,a)
    const negatives = P.filter((x) => x < 0).length;
    const score = [d, prefCentring[letter] ?? 9, order, Math.round((la + lb + lc) * 1e4) / 1e4, negatives];
    if (!best || lexLess(score, best.score)) best = { P, score };
  }
  if (!best) throw new RangeError(`no conventional setting found for a ${system} group`);
  const cbOp = CbOp.fromBasis(best.P);
  const patterson = pattersonIn(rotations, best.P);
  return { cbOp, patterson, system };
}

function quad2(G: readonly number[], u: readonly number[], v: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += u[i] * G[3 * i + j] * v[j];
  return s;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) { if (Math.abs(a[i] - b[i]) > 1e-6) return a[i] < b[i]; }
  return false;
}

/** The Patterson group (rotations ± inversion, with the centring the new basis implies) in basis P. */
export function pattersonIn(rotations: readonly IntMat3[], P: Mat3): SpaceGroup {
  const m = Mat3.inverse(P);
  const ops: Op[] = [];
  const seen = new Set<string>();
  for (const r of rotations) for (const s of [1, -1]) {
    const w = Mat3.mul(Mat3.mul(m, r.map((x) => s * x) as Mat3), P).map((x) => Math.round(x)) as IntMat3;
    const k = rotKey(w);
    if (seen.has(k)) continue;
    seen.add(k);
    ops.push({ rot: w, tran: [0, 0, 0] });
  }
  ops.sort((a, b) => (Op.isIdentityRot(a.rot) ? -1 : Op.isIdentityRot(b.rot) ? 1 : 0));
  return SpaceGroup.fromOperators(ops, centringOf(P));
}
