/**
 * The least-squares target for rotation data: residuals (Xc − Xo, Yc − Yo in mm, φc − φo in
 * radians) of every active reflection and their analytical derivatives with respect to all free
 * parameters, accumulated straight into the normal equations JᵀWJ δ = −JᵀWr (the Jacobian is never
 * stored: memory stays O(parameters²) however many reflections there are).
 *
 * Chain rule for a parameter p (r = S·R(e, φ)·F·A·h, s1 = s0 + r, e_lab = S·e):
 *   the Ewald condition |s1|² = |s0|² fixes φ, so dφ/dp = −(s1·∂r/∂p + r·∂s0/∂p) / (s1·(e_lab × r));
 *   ds1/dp = ∂s0/∂p + ∂r/∂p + (e_lab × r)·dφ/dp;
 *   v = D⁻¹s1 (D = [fast|slow|origin]), x = v₀/v₂, y = v₁/v₂, dv = D⁻¹(ds1 − dD·v).
 */
import { Mat3 } from '../math/mat3.js';
import type { Vec3 } from '../math/vec3.js';
import {
  BeamParameterisation, CrystalOrientationParameterisation, CrystalUnitCellParameterisation,
  DetectorParameterisation, GoniometerParameterisation, type Parameterisation,
} from './parameterisation.js';
import { nearestPeriod, rotateAboutAxis, rotationAnglesOfVector, type RotationGeometry } from '../geometry/prediction.js';
import type { ScanVaryingCrystalParameterisation } from './scan_varying.js';

/** Observations for refinement, one entry per reflection (typed arrays of equal length). */
export interface RefinementData {
  experiment: Int32Array;
  panel: Int32Array;
  /** h, k, l interleaved */
  miller: Int32Array;
  xObs: Float64Array;
  yObs: Float64Array;
  /** radians */
  phiObs: Float64Array;
  /** variances, mm² and rad² */
  xVar: Float64Array;
  yVar: Float64Array;
  phiVar: Float64Array;
}

/** One experiment's models as parameterisations (shared models → the same objects). */
export interface ExperimentParameterisations {
  beam: BeamParameterisation;
  detector: DetectorParameterisation;
  goniometer: GoniometerParameterisation;
  orientation: CrystalOrientationParameterisation;
  cell: CrystalUnitCellParameterisation;
  settingRotation: Mat3;
  fixedRotation: Mat3;
  /** When present, the crystal varies along the scan and replaces orientation and cell (kept fixed). */
  scanVarying?: ScanVaryingCrystalParameterisation;
}

/** Per-reflection outcome of one evaluation. */
export interface Predictions {
  valid: Uint8Array;
  xCal: Float64Array;
  yCal: Float64Array;
  phiCal: Float64Array;
  /** s1 interleaved */
  s1: Float64Array;
  /** |e·(s1 × s0)| (Å⁻², DIALS' parallelepiped volume): small near the spindle, where φ is ill-determined. */
  zeta: Float64Array;
}

export interface Evaluation {
  /** Σ w r² over active valid reflections */
  objective: number;
  nActive: number;
  normal?: Float64Array;
  gradient?: Float64Array;
}

const enum Kind { Beam, A, Gonio, Det }

interface Entry { kind: Kind; index: number; vec?: Vec3; mat?: Mat3; det?: DetectorParameterisation; local?: number }

/**
 * Restraint of a crystal's unit cell to target values (DIALS' `tie_to_target`): residuals
 * (p − target)/σ for a, b, c (Å) and α, β, γ (degrees); σ ≤ 0 leaves that parameter free.
 */
export interface CellRestraint {
  cell: CrystalUnitCellParameterisation;
  values: number[];
  sigmas: number[];
}

/** Cell parameters from B and their derivatives for a metric change dG* (each 6 values). */
function cellAndDerivative(B: Mat3, dGstar: Mat3 | null): { p: number[]; dp: number[] } {
  const Gs = Mat3.mul(Mat3.transpose(B), B);
  const G = Mat3.inverse(Gs);
  const a = Math.sqrt(G[0]), b = Math.sqrt(G[4]), c = Math.sqrt(G[8]);
  const ca = G[5] / (b * c), cb = G[2] / (a * c), cg = G[1] / (a * b);
  const DEG = 180 / Math.PI;
  const p = [a, b, c, Math.acos(ca) * DEG, Math.acos(cb) * DEG, Math.acos(cg) * DEG];
  if (!dGstar) return { p, dp: [] };
  // dG = −G·dG*·G
  const dG = Mat3.scale(Mat3.mul(G, Mat3.mul(dGstar, G)), -1);
  const da = dG[0] / (2 * a), db = dG[4] / (2 * b), dc = dG[8] / (2 * c);
  const dAngle = (gij: number, dgij: number, x: number, y: number, dx: number, dy: number, cosv: number) =>
    (-(dgij / (x * y) - (gij * (dx * y + x * dy)) / (x * y) ** 2) / Math.sqrt(Math.max(1e-300, 1 - cosv * cosv))) * DEG;
  return {
    p,
    dp: [da, db, dc, dAngle(G[5], dG[5], b, c, db, dc, ca), dAngle(G[2], dG[2], a, c, da, dc, cb), dAngle(G[1], dG[1], a, b, da, db, cg)],
  };
}

export class RefinementTarget {
  readonly params: Parameterisation[];
  restraints: CellRestraint[] = [];
  /** global free parameter list: [parameterisation, local index] */
  readonly free: [Parameterisation, number][] = [];

  constructor(readonly experiments: ExperimentParameterisations[]) {
    const seen = new Set<Parameterisation>();
    const params: Parameterisation[] = [];
    for (const e of experiments) {
      const list: Parameterisation[] = [e.beam, e.detector, e.goniometer, e.orientation, e.cell];
      if (e.scanVarying) list.push(e.scanVarying);
      for (const p of list) if (!seen.has(p)) { seen.add(p); params.push(p); }
    }
    this.params = params;
    this.refreshFree();
  }

  refreshFree(): void {
    this.free.length = 0;
    for (const p of this.params) p.fixed.forEach((f, i) => { if (!f) this.free.push([p, i]); });
  }

  get nFree(): number { return this.free.length; }

  freeNames(): string[] {
    return this.free.map(([p, i]) => `${p.kind}:${p.names[i]}`);
  }

  getValues(): Float64Array { return Float64Array.from(this.free.map(([p, i]) => p.values[i])); }

  setValues(v: ArrayLike<number>): void {
    this.free.forEach(([p, i], k) => { p.values[i] = v[k]; });
    for (const p of this.params) p.compose();
  }

  /** The static A of experiment e (for a scan-varying crystal: A at the middle of the scan). */
  aMatrix(e: number): Mat3 {
    const x = this.experiments[e];
    if (x.scanVarying) return x.scanVarying.aAtCentre();
    return Mat3.mul(x.orientation.U, x.cell.B);
  }

  /** Derivative entries (global free index → what changes) for experiment e. */
  private entries(e: number): Entry[] {
    const x = this.experiments[e];
    const out: Entry[] = [];
    this.free.forEach(([p, i], g) => {
      if (p === x.beam) out.push({ kind: Kind.Beam, index: g, vec: x.beam.ds0[i] });
      else if (p === x.orientation) out.push({ kind: Kind.A, index: g, mat: Mat3.mul(x.orientation.dU[i], x.cell.B) });
      else if (p === x.cell) out.push({ kind: Kind.A, index: g, mat: Mat3.mul(x.orientation.U, x.cell.dB[i]) });
      else if (p === x.goniometer) out.push({ kind: Kind.Gonio, index: g, vec: x.goniometer.generators[i] });
      else if (p === x.detector) out.push({ kind: Kind.Det, index: g, det: x.detector, local: i });
    });
    return out;
  }

  geometry(e: number): RotationGeometry {
    const x = this.experiments[e];
    return { s0: x.beam.s0, axis: x.goniometer.axis, fixedRotation: x.fixedRotation, settingRotation: x.settingRotation };
  }

  /**
   * Predict every reflection (or, with predictInactive = false, only the active ones; the others'
   * entries in `pred` are left as they were) and, for those with active[i] = 1, accumulate the
   * objective and (optionally) the normal equations.
   */
  evaluate(data: RefinementData, active: Uint8Array, pred: Predictions, withNormal: boolean, predictInactive = true): Evaluation {
    const n = data.experiment.length;
    const m = this.nFree;
    const normal = withNormal ? new Float64Array(m * m) : undefined;
    const gradient = withNormal ? new Float64Array(m) : undefined;
    const nExp = this.experiments.length;
    const As = Array.from({ length: nExp }, (_, e) => this.aMatrix(e));
    const geoms = Array.from({ length: nExp }, (_, e) => this.geometry(e));
    const entryLists = withNormal ? Array.from({ length: nExp }, (_, e) => this.entries(e)) : [];
    const elabs = geoms.map((g) => Mat3.mulVec(g.settingRotation, g.axis));
    // scan-varying crystals: per-image entry lists (static entries + the image's crystal derivatives)
    const svs = this.experiments.map((x) => x.scanVarying ?? null);
    const svGlobal = svs.map((sv) => {
      if (!sv) return null;
      const g = new Int32Array(sv.values.length).fill(-1);
      this.free.forEach(([p, i], k) => { if (p === sv) g[i] = k; });
      return g;
    });
    const svCache = svs.map(() => new Map<number, Entry[]>());
    const entriesAt = (e: number, img: number): Entry[] => {
      let l = svCache[e].get(img);
      if (!l) {
        l = entryLists[e].slice();
        for (const [local, dA] of svs[e]!.dA[img]) {
          const g = svGlobal[e]![local];
          if (g >= 0) l.push({ kind: Kind.A, index: g, mat: dA });
        }
        svCache[e].set(img, l);
      }
      return l;
    };
    // scratch
    const two = new Float64Array(2), rot = new Float64Array(3), tmp = new Float64Array(3);
    const jx = new Float64Array(m), jy = new Float64Array(m), jp = new Float64Array(m);
    const touched = new Int32Array(m);
    let objective = 0, nActive = 0;
    for (let i = 0; i < n; i++) {
      // inside the least-squares loop only the reflections in use need predicting
      if (!predictInactive && !active[i]) continue;
      pred.valid[i] = 0;
      const e = data.experiment[i];
      const x = this.experiments[e];
      const sv = svs[e];
      const img = sv ? sv.imageOf(data.phiObs[i]) : 0;
      const A = sv ? sv.A[img] : As[e], g = geoms[e], F = g.fixedRotation, S = g.settingRotation, s0 = g.s0, ax = g.axis;
      const h = data.miller[3 * i], k = data.miller[3 * i + 1], l = data.miller[3 * i + 2];
      const ahx = A[0] * h + A[1] * k + A[2] * l, ahy = A[3] * h + A[4] * k + A[5] * l, ahz = A[6] * h + A[7] * k + A[8] * l;
      const r0x = F[0] * ahx + F[1] * ahy + F[2] * ahz, r0y = F[3] * ahx + F[4] * ahy + F[5] * ahz, r0z = F[6] * ahx + F[7] * ahy + F[8] * ahz;
      if (!rotationAnglesOfVector(g, r0x, r0y, r0z, two)) continue;
      const po = data.phiObs[i];
      const p0 = nearestPeriod(two[0], po), p1 = nearestPeriod(two[1], po);
      const phi = Math.abs(p0 - po) <= Math.abs(p1 - po) ? p0 : p1;
      rotateAboutAxis(ax, phi, r0x, r0y, r0z, rot);
      const Rx = rot[0], Ry = rot[1], Rz = rot[2];
      const rx = S[0] * Rx + S[1] * Ry + S[2] * Rz, ry = S[3] * Rx + S[4] * Ry + S[5] * Rz, rz = S[6] * Rx + S[7] * Ry + S[8] * Rz;
      const s1x = s0[0] + rx, s1y = s0[1] + ry, s1z = s0[2] + rz;
      const panel = data.panel[i];
      const Di = x.detector.Dinv[panel];
      const v0 = Di[0] * s1x + Di[1] * s1y + Di[2] * s1z;
      const v1 = Di[3] * s1x + Di[4] * s1y + Di[5] * s1z;
      const v2 = Di[6] * s1x + Di[7] * s1y + Di[8] * s1z;
      if (!(v2 > 0)) continue;
      const xc = v0 / v2, yc = v1 / v2;
      const el = elabs[e];
      // e_lab × r
      const cx = el[1] * rz - el[2] * ry, cy = el[2] * rx - el[0] * rz, cz = el[0] * ry - el[1] * rx;
      const denom = s1x * cx + s1y * cy + s1z * cz;
      // DIALS' close-to-spindle measure: volume of the parallelepiped (e, s1, s0), in Å⁻²
      const zx = s1y * s0[2] - s1z * s0[1], zy = s1z * s0[0] - s1x * s0[2], zz = s1x * s0[1] - s1y * s0[0];
      pred.zeta[i] = Math.abs(el[0] * zx + el[1] * zy + el[2] * zz);
      pred.valid[i] = 1;
      pred.xCal[i] = xc; pred.yCal[i] = yc; pred.phiCal[i] = phi;
      pred.s1[3 * i] = s1x; pred.s1[3 * i + 1] = s1y; pred.s1[3 * i + 2] = s1z;
      if (!active[i]) continue;
      const dx = xc - data.xObs[i], dy = yc - data.yObs[i], dp = phi - po;
      const wx = 1 / data.xVar[i], wy = 1 / data.yVar[i], wp = 1 / data.phiVar[i];
      objective += wx * dx * dx + wy * dy * dy + wp * dp * dp;
      nActive++;
      if (!withNormal) continue;
      const list = sv ? entriesAt(e, img) : entryLists[e];
      const D = x.detector.D[panel];
      for (let q = 0; q < list.length; q++) {
        const en = list[q];
        let ds1x = 0, ds1y = 0, ds1z = 0, dphi = 0, dvx: number, dvy: number, dvz: number;
        if (en.kind === Kind.Det) {
          const dD = en.det!.dD[panel][en.local!];
          const ux = dD[0] * v0 + dD[1] * v1 + dD[2] * v2, uy = dD[3] * v0 + dD[4] * v1 + dD[5] * v2, uz = dD[6] * v0 + dD[7] * v1 + dD[8] * v2;
          dvx = -(Di[0] * ux + Di[1] * uy + Di[2] * uz);
          dvy = -(Di[3] * ux + Di[4] * uy + Di[5] * uz);
          dvz = -(Di[6] * ux + Di[7] * uy + Di[8] * uz);
          void D;
        } else {
          let drx = 0, dry = 0, drz = 0, ds0x = 0, ds0y = 0, ds0z = 0;
          if (en.kind === Kind.Beam) {
            const d = en.vec!;
            ds0x = d[0]; ds0y = d[1]; ds0z = d[2];
          } else if (en.kind === Kind.A) {
            const dA = en.mat!;
            const ux = dA[0] * h + dA[1] * k + dA[2] * l, uy = dA[3] * h + dA[4] * k + dA[5] * l, uz = dA[6] * h + dA[7] * k + dA[8] * l;
            const fx = F[0] * ux + F[1] * uy + F[2] * uz, fy = F[3] * ux + F[4] * uy + F[5] * uz, fz = F[6] * ux + F[7] * uy + F[8] * uz;
            rotateAboutAxis(ax, phi, fx, fy, fz, tmp);
            drx = S[0] * tmp[0] + S[1] * tmp[1] + S[2] * tmp[2];
            dry = S[3] * tmp[0] + S[4] * tmp[1] + S[5] * tmp[2];
            drz = S[6] * tmp[0] + S[7] * tmp[1] + S[8] * tmp[2];
          } else {
            // dR r0 = g × (R r0) − R (g × r0)
            const gv = en.vec!;
            const gx0 = gv[1] * r0z - gv[2] * r0y, gy0 = gv[2] * r0x - gv[0] * r0z, gz0 = gv[0] * r0y - gv[1] * r0x;
            rotateAboutAxis(ax, phi, gx0, gy0, gz0, tmp);
            const ux = gv[1] * Rz - gv[2] * Ry - tmp[0], uy = gv[2] * Rx - gv[0] * Rz - tmp[1], uz = gv[0] * Ry - gv[1] * Rx - tmp[2];
            drx = S[0] * ux + S[1] * uy + S[2] * uz;
            dry = S[3] * ux + S[4] * uy + S[5] * uz;
            drz = S[6] * ux + S[7] * uy + S[8] * uz;
          }
          dphi = -(s1x * drx + s1y * dry + s1z * drz + rx * ds0x + ry * ds0y + rz * ds0z) / denom;
          ds1x = ds0x + drx + cx * dphi; ds1y = ds0y + dry + cy * dphi; ds1z = ds0z + drz + cz * dphi;
          dvx = Di[0] * ds1x + Di[1] * ds1y + Di[2] * ds1z;
          dvy = Di[3] * ds1x + Di[4] * ds1y + Di[5] * ds1z;
          dvz = Di[6] * ds1x + Di[7] * ds1y + Di[8] * ds1z;
        }
        jx[q] = (dvx - xc * dvz) / v2;
        jy[q] = (dvy - yc * dvz) / v2;
        jp[q] = dphi;
        touched[q] = en.index;
      }
      const nn = list.length;
      for (let a = 0; a < nn; a++) {
        const ga = touched[a];
        gradient![ga] += wx * jx[a] * dx + wy * jy[a] * dy + wp * jp[a] * dp;
        const ax_ = wx * jx[a], ay_ = wy * jy[a], ap_ = wp * jp[a];
        for (let b = 0; b < nn; b++) normal![ga * m + touched[b]] += ax_ * jx[b] + ay_ * jy[b] + ap_ * jp[b];
      }
    }
    for (const rs of this.restraints) {
      const { p } = cellAndDerivative(rs.cell.B, null);
      const idx: number[] = [], derivs: number[][] = [];
      this.free.forEach(([par, i], g) => {
        if (par !== rs.cell) return;
        idx.push(g);
        derivs.push(cellAndDerivative(rs.cell.B, rs.cell.basis[i]).dp);
      });
      for (let q = 0; q < 6; q++) {
        const sg = rs.sigmas[q];
        if (!(sg > 0)) continue;
        const w = 1 / (sg * sg);
        const r = p[q] - rs.values[q];
        objective += w * r * r;
        if (!withNormal) continue;
        for (let a = 0; a < idx.length; a++) {
          gradient![idx[a]] += w * derivs[a][q] * r;
          for (let b = 0; b < idx.length; b++) normal![idx[a] * m + idx[b]] += w * derivs[a][q] * derivs[b][q];
        }
      }
    }
    return { objective, nActive, normal, gradient };
  }
}

export function allocatePredictions(n: number): Predictions {
  return {
    valid: new Uint8Array(n), xCal: new Float64Array(n), yCal: new Float64Array(n), phiCal: new Float64Array(n),
    s1: new Float64Array(3 * n), zeta: new Float64Array(n),
  };
}
