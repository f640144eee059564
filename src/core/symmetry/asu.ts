/**
 * Reciprocal-space asymmetric unit in the CCP4 convention (the one MTZ files and gemmi use), and
 * the per-reflection symmetry facts: systematic absence, centric flag, epsilon, phase restriction.
 *
 * The CCP4 ASU is defined per Laue class in the reference setting; for other settings the index is
 * first taken to the reference setting with the group's basis op and tested there. ISYM follows
 * the MTZ rule: for the first operator i (in `symOps` order) with h·R_i in the ASU, ISYM = 2i+1;
 * if instead −h·R_i is in the ASU, ISYM = 2i+2 (odd: I(+), even: I(−)).
 */
import { ParameterError } from '../errors.js';
import { CbOp } from './cbop.js';
import { Op, TDEN, type IntMat3, type IntVec3 } from './op.js';
import { laueGroup, SpaceGroup, type SpaceGroup as SG } from './spacegroup.js';
import type { UnitCell } from './unitcell.js';

/** Laue classes, named as CCP4 names their ASUs. */
export type LaueClass = '-1' | '2/m' | 'mmm' | '4/m' | '4/mmm' | '-3' | '-3m1' | '-31m' | '6/m' | '6/mmm' | 'm-3' | 'm-3m';

/** CCP4 reciprocal ASU conditions on (h,k,l) in the reference setting. */
function ccp4Condition(laue: LaueClass): (h: number, k: number, l: number) => boolean {
  switch (laue) {
    case '-1': return (h, k, l) => l > 0 || (l === 0 && (h > 0 || (h === 0 && k >= 0)));
    case '2/m': return (h, k, l) => k >= 0 && (l > 0 || (l === 0 && h >= 0));
    case 'mmm': return (h, k, l) => h >= 0 && k >= 0 && l >= 0;
    case '4/m': return (h, k, l) => l >= 0 && ((h >= 0 && k > 0) || (h === 0 && k === 0));
    case '4/mmm': return (h, k, l) => h >= k && k >= 0 && l >= 0;
    case '-3': return (h, k, l) => (h >= 0 && k > 0) || (h === 0 && k === 0 && l >= 0);
    case '-3m1': return (h, k, l) => h >= k && k >= 0 && (h > k || l >= 0);
    case '-31m': return (h, k, l) => h >= k && k >= 0 && (k > 0 || l >= 0);
    case '6/m': return (h, k, l) => l >= 0 && ((h >= 0 && k > 0) || (h === 0 && k === 0));
    case '6/mmm': return (h, k, l) => h >= k && k >= 0 && l >= 0;
    case 'm-3': return (h, k, l) => h >= 0 && ((l >= h && k > h) || (l === h && k === h));
    case 'm-3m': return (h, k, l) => k >= l && l >= h && h >= 0;
  }
}

function hasRot(rots: readonly IntMat3[], r: readonly number[]): boolean {
  return rots.some((x) => x.every((v, i) => v === r[i]));
}

/** Laue class of a group from its rotations in the reference setting. */
export function laueClassOf(sg: SG): LaueClass {
  const ref = sg.number ? SpaceGroup.fromNumber(sg.number) : sg;
  const rots = laueGroup(ref).symOps.map((o) => o.rot);
  const types = rots.map(Op.rotationType);
  const n = rots.length;
  const has = (t: number) => types.includes(t);
  switch (n) {
    case 2: return '-1';
    case 4: return '2/m';
    case 8: return has(4) ? '4/m' : 'mmm';
    case 16: return '4/mmm';
    case 6: return '-3';
    case 12:
      if (has(6)) return '6/m';
      // 2-fold along a+b (y,x,-z) belongs to -3m1; along a−b (−y,−x,−z) to −31m
      return hasRot(rots, [0, 1, 0, 1, 0, 0, 0, 0, -1]) ? '-3m1' : '-31m';
    case 24: return has(6) ? '6/mmm' : 'm-3';
    case 48: return 'm-3m';
  }
  throw new ParameterError(`cannot classify Laue group of order ${n}`);
}

export interface AsuResult { hkl: IntVec3; isym: number }

export class ReciprocalAsu {
  readonly laue: LaueClass;
  private readonly cond: (h: number, k: number, l: number) => boolean;
  /** Pᵀ of the basis op (this setting's indices → reference setting's), null when identity. */
  private readonly toRef: Float64Array | null;
  /** Rotations of the coset representatives, flattened (9 per operator). */
  private readonly rots: Int32Array;

  constructor(readonly sg: SG) {
    if (!sg.basisOp) throw new ParameterError(`space group ${sg.hall || sg.hm}: no reference setting known, cannot define its ASU`);
    this.laue = laueClassOf(sg);
    this.cond = ccp4Condition(this.laue);
    // h_ref = h·Q with Q the inverse basis (reference → this setting maps h_ref to h = h_ref·P)
    if (CbOp.isIdentity({ m: sg.basisOp.m, v: [0, 0, 0] })) this.toRef = null;
    else this.toRef = Float64Array.from(sg.basisOp.m);
    this.rots = new Int32Array(sg.symOps.length * 9);
    sg.symOps.forEach((o, i) => this.rots.set(o.rot, 9 * i));
  }

  /** Is h (in this setting) inside the CCP4 ASU (Friedel pairs merged)? */
  isIn(h: number, k: number, l: number): boolean {
    const m = this.toRef;
    if (!m) return this.cond(h, k, l);
    // indices transform with the inverse of Pᵀ, i.e. h_ref = mᵀ·h where m = P⁻¹
    return this.cond(
      Math.round(m[0] * h + m[3] * k + m[6] * l),
      Math.round(m[1] * h + m[4] * k + m[7] * l),
      Math.round(m[2] * h + m[5] * k + m[8] * l),
    );
  }

  /** Map to the ASU (Friedel pairs merged) with the MTZ ISYM number. */
  toAsu(hkl: ArrayLike<number>): AsuResult {
    const out = new Int32Array(3);
    const isym = this.mapInto(hkl[0], hkl[1], hkl[2], out, 0);
    return { hkl: [out[0], out[1], out[2]], isym };
  }

  /** Writes the ASU image of (h,k,l) to out[o..o+2] and returns ISYM; allocation free. */
  mapInto(h: number, k: number, l: number, out: Int32Array, o: number): number {
    const r = this.rots;
    for (let i = 0, n = r.length / 9; i < n; i++) {
      const q = 9 * i;
      const a = h * r[q] + k * r[q + 3] + l * r[q + 6];
      const b = h * r[q + 1] + k * r[q + 4] + l * r[q + 7];
      const c = h * r[q + 2] + k * r[q + 5] + l * r[q + 8];
      if (this.isIn(a, b, c)) { out[o] = a; out[o + 1] = b; out[o + 2] = c; return 2 * i + 1; }
      if (this.isIn(-a, -b, -c)) { out[o] = -a; out[o + 1] = -b; out[o + 2] = -c; return 2 * i + 2; }
    }
    throw new Error(`no symmetry mate of ${h},${k},${l} in the ASU of ${this.sg.hm}`);
  }

  /**
   * Anomalous ASU: h is mapped by the point-group operators only (no Friedel), so I(+) lands in
   * the CCP4 ASU and I(−) on its Friedel mate. Returns that index and ISYM.
   */
  toAsuAnomalous(hkl: ArrayLike<number>): AsuResult {
    const res = this.toAsu(hkl);
    if (res.isym % 2 === 0) return { hkl: [-res.hkl[0] || 0, -res.hkl[1] || 0, -res.hkl[2] || 0], isym: res.isym };
    return res;
  }

  /** Vectorised toAsu over flat (h,k,l) triples; writes merged indices and ISYM. */
  toAsuArray(hkl: ArrayLike<number>, outHkl = new Int32Array(hkl.length), outIsym = new Int32Array(hkl.length / 3)): { hkl: Int32Array; isym: Int32Array } {
    for (let i = 0, j = 0; i < hkl.length; i += 3, j++) outIsym[j] = this.mapInto(hkl[i], hkl[i + 1], hkl[i + 2], outHkl, i);
    return { hkl: outHkl, isym: outIsym };
  }
}

/** h·t over all operators (incl. centring) that fix h: absent if any phase shift is not integral. */
export function isSystematicallyAbsent(sg: SG, hkl: ArrayLike<number>): boolean {
  const [h, k, l] = [hkl[0], hkl[1], hkl[2]];
  for (const c of sg.centring) if ((h * c[0] + k * c[1] + l * c[2]) % TDEN !== 0) return true;
  for (const o of sg.symOps) {
    const r = o.rot;
    if (h * r[0] + k * r[3] + l * r[6] === h && h * r[1] + k * r[4] + l * r[7] === k && h * r[2] + k * r[5] + l * r[8] === l) {
      if ((h * o.tran[0] + k * o.tran[1] + l * o.tran[2]) % TDEN !== 0) return true;
    }
  }
  return false;
}

/** Centric: some operator maps h onto −h (so its phase is restricted). */
export function isCentric(sg: SG, hkl: ArrayLike<number>): boolean {
  return centricOp(sg, hkl) !== null;
}

function centricOp(sg: SG, hkl: ArrayLike<number>): Op | null {
  const [h, k, l] = [hkl[0], hkl[1], hkl[2]];
  for (const o of sg.symOps) {
    const r = o.rot;
    if (h * r[0] + k * r[3] + l * r[6] === -h && h * r[1] + k * r[4] + l * r[7] === -k && h * r[2] + k * r[5] + l * r[8] === -l) return o;
  }
  return null;
}

/** Epsilon: number of point-group operators (centring excluded) that leave h unchanged. */
export function epsilon(sg: SG, hkl: ArrayLike<number>): number {
  const [h, k, l] = [hkl[0], hkl[1], hkl[2]];
  let n = 0;
  for (const o of sg.symOps) {
    const r = o.rot;
    if (h * r[0] + k * r[3] + l * r[6] === h && h * r[1] + k * r[4] + l * r[7] === k && h * r[2] + k * r[5] + l * r[8] === l) n++;
  }
  return n;
}

/**
 * Phase restriction of a centric reflection in degrees: the phase is φ or φ+180 with the returned
 * φ ∈ [0, 180). From F(h·R) = F(h)·exp(−2πi h·t) with h·R = −h: φ = π·h·t (mod π). Null if acentric.
 */
export function phaseRestrictionDeg(sg: SG, hkl: ArrayLike<number>): number | null {
  const o = centricOp(sg, hkl);
  if (!o) return null;
  const ht = hkl[0] * o.tran[0] + hkl[1] * o.tran[1] + hkl[2] * o.tran[2];
  const deg = (180 * ht) / TDEN;
  return ((deg % 180) + 180) % 180;
}

/**
 * Every symmetry-unique, not systematically absent index with d ≥ dMin, in the CCP4 ASU; with
 * `anomalous` the Friedel mate of each acentric index is listed as well (as −h in the ASU image).
 * Returns flat (h,k,l) triples.
 */
export function uniqueIndices(sg: SG, cell: UnitCell, dMin: number, anomalous = false): Int32Array {
  if (!(dMin > 0)) throw new ParameterError(`d_min must be positive (got ${dMin})`);
  const asu = new ReciprocalAsu(sg);
  const [hmax, kmax, lmax] = [Math.floor(cell.a / dMin), Math.floor(cell.b / dMin), Math.floor(cell.c / dMin)];
  const g = cell.reciprocalMetric;
  const limit = 1 / (dMin * dMin) * (1 + 1e-12);
  const out: number[] = [];
  for (let h = -hmax; h <= hmax; h++)
    for (let k = -kmax; k <= kmax; k++)
      for (let l = -lmax; l <= lmax; l++) {
        if (h === 0 && k === 0 && l === 0) continue;
        const s2 = g[0] * h * h + g[4] * k * k + g[8] * l * l + 2 * (g[1] * h * k + g[2] * h * l + g[5] * k * l);
        if (s2 > limit) continue;
        if (!asu.isIn(h, k, l)) continue;
        if (isSystematicallyAbsent(sg, [h, k, l])) continue;
        out.push(h, k, l);
        if (anomalous && !isCentric(sg, [h, k, l])) out.push(-h || 0, -k || 0, -l || 0);
      }
  return Int32Array.from(out);
}
