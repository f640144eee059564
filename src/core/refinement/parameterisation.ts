/**
 * Model parameterisations for geometry refinement. Each one owns a parameter vector (absolute
 * values relative to the model it was built from, so a parameter of 0 reproduces the input model),
 * recomputes its model state from those values (`compose`) and exposes the analytical derivative of
 * that state with respect to each parameter. The per-reflection chain rule lives in target.ts.
 *
 * Angles are in milliradians and lengths in mm so that a unit step is a comparable, small change
 * for every parameter (conditioning of the normal matrix); cell parameters are elements of the
 * reciprocal metric G* in units of 1e-5 Å⁻² for the same reason.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { Mat3 } from '../math/mat3.js';
import { Vec3 } from '../math/vec3.js';
import type { Beam, Crystal, Detector, Goniometer } from '../models/types.js';
import { invert3 } from '../geometry/prediction.js';

const MRAD = 1e-3;
const METRIC_UNIT = 1e-5;

export function skew(e: Vec3): Mat3 {
  return [0, -e[2], e[1], e[2], 0, -e[0], -e[1], e[0], 0];
}

/** A unit vector perpendicular to v (deterministic). */
function perpendicular(v: Vec3): Vec3 {
  const a: Vec3 = Math.abs(v[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  return Vec3.normalize(Vec3.cross(v, a));
}

export interface Parameterisation {
  readonly kind: 'beam' | 'detector' | 'crystal_orientation' | 'crystal_cell' | 'goniometer' | 'crystal_scan_varying';
  readonly names: string[];
  readonly values: Float64Array;
  readonly fixed: boolean[];
  /** Recompute the model state and derivatives from `values`. */
  compose(): void;
}

// ---------------------------------------------------------------------------------------------
/** Beam direction by two rotations (mrad) about axes perpendicular to the initial s0. */
export class BeamParameterisation implements Parameterisation {
  readonly kind = 'beam' as const;
  readonly names = ['Mu1', 'Mu2'];
  readonly values = new Float64Array(2);
  readonly fixed = [false, false];
  readonly e1: Vec3;
  readonly e2: Vec3;
  private readonly s0Initial: Vec3;
  s0: Vec3;
  readonly ds0: Vec3[] = [[0, 0, 0], [0, 0, 0]];

  /** `spindle` (lab frame) fixes the rotation axes: e1 ⟂ s0 and spindle, so Mu1 tilts s0 along the spindle's plane. */
  constructor(readonly beam: Beam, spindle?: Vec3) {
    this.s0Initial = Vec3.scale(beam.direction, -1 / beam.wavelength);
    const u = Vec3.normalize(this.s0Initial);
    let e1: Vec3;
    try { e1 = spindle ? Vec3.normalize(Vec3.cross(spindle, u)) : perpendicular(u); } catch { e1 = perpendicular(u); }
    this.e1 = e1;
    this.e2 = Vec3.normalize(Vec3.cross(u, e1));
    this.s0 = this.s0Initial;
    this.compose();
  }

  compose(): void {
    const r1 = Mat3.rotation(this.e1, this.values[0] * MRAD);
    const r2 = Mat3.rotation(this.e2, this.values[1] * MRAD);
    const t = Mat3.mulVec(r1, this.s0Initial);
    this.s0 = Mat3.mulVec(r2, t);
    // d/dμ1: R2 [e1]× R1 s0i ; d/dμ2: [e2]× s0
    this.ds0[0] = Vec3.scale(Mat3.mulVec(r2, Vec3.cross(this.e1, t)), MRAD);
    this.ds0[1] = Vec3.scale(Vec3.cross(this.e2, this.s0), MRAD);
  }

  /** Write the current state into the Beam model (direction; wavelength unchanged). */
  apply(): void {
    this.beam.direction = Vec3.normalize(Vec3.neg(this.s0));
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * The detector as one rigid body: distance along the normal of panel 0, two shifts in its plane,
 * and three tilts (about the normal, the fast axis and the in-plane perpendicular) through the
 * centre of the panels. Multi-panel detectors move as a whole.
 */
export class DetectorParameterisation implements Parameterisation {
  readonly kind = 'detector' as const;
  readonly names = ['Dist', 'Shift1', 'Shift2', 'Tau1', 'Tau2', 'Tau3'];
  readonly values = new Float64Array(6);
  readonly fixed = [false, false, false, false, false, false];
  readonly normal: Vec3;
  readonly d1: Vec3;
  readonly d2: Vec3;
  readonly centre: Vec3;
  private readonly initial: { f: Vec3; s: Vec3; o: Vec3 }[];
  /** Per panel: D = [f|s|o] row-major, its inverse, and dD/dp for each parameter. */
  readonly D: Float64Array[];
  Dinv: Float64Array[];
  readonly dD: Float64Array[][];

  constructor(readonly detector: Detector) {
    const p0 = detector.panels[0];
    this.normal = Vec3.normalize(Vec3.cross(p0.fastAxis, p0.slowAxis));
    this.d1 = Vec3.normalize(p0.fastAxis);
    this.d2 = Vec3.normalize(Vec3.cross(this.normal, this.d1));
    let c: Vec3 = [0, 0, 0];
    for (const p of detector.panels) {
      const w = p.pixelSize[0] * p.imageSize[0] / 2, h = p.pixelSize[1] * p.imageSize[1] / 2;
      c = Vec3.add(c, Vec3.add(p.origin, Vec3.add(Vec3.scale(p.fastAxis, w), Vec3.scale(p.slowAxis, h))));
    }
    this.centre = Vec3.scale(c, 1 / detector.panels.length);
    this.initial = detector.panels.map((p) => ({ f: Vec3.clone(p.fastAxis), s: Vec3.clone(p.slowAxis), o: Vec3.clone(p.origin) }));
    const n = detector.panels.length;
    this.D = Array.from({ length: n }, () => new Float64Array(9));
    this.Dinv = Array.from({ length: n }, () => new Float64Array(9));
    this.dD = Array.from({ length: n }, () => Array.from({ length: 6 }, () => new Float64Array(9)));
    this.compose();
  }

  compose(): void {
    const [dist, sh1, sh2, t1, t2, t3] = this.values;
    const R1 = Mat3.rotation(this.normal, t1 * MRAD), R2 = Mat3.rotation(this.d1, t2 * MRAD), R3 = Mat3.rotation(this.d2, t3 * MRAD);
    const Rt = Mat3.mul(R1, Mat3.mul(R2, R3));
    const dRt = [
      Mat3.mul(skew(this.normal), Rt),
      Mat3.mul(R1, Mat3.mul(skew(this.d1), Mat3.mul(R2, R3))),
      Mat3.mul(Mat3.mul(R1, R2), Mat3.mul(skew(this.d2), R3)),
    ].map((m) => Mat3.scale(m, MRAD));
    const shift = Vec3.add(Vec3.scale(this.normal, dist), Vec3.add(Vec3.scale(this.d1, sh1), Vec3.scale(this.d2, sh2)));
    const set = (m: Float64Array, f: Vec3, s: Vec3, o: Vec3) => {
      m[0] = f[0]; m[1] = s[0]; m[2] = o[0];
      m[3] = f[1]; m[4] = s[1]; m[5] = o[1];
      m[6] = f[2]; m[7] = s[2]; m[8] = o[2];
    };
    const zero: Vec3 = [0, 0, 0];
    this.initial.forEach((p, i) => {
      const rel = Vec3.sub(p.o, this.centre);
      const o = Vec3.add(Vec3.add(this.centre, shift), Mat3.mulVec(Rt, rel));
      set(this.D[i], Mat3.mulVec(Rt, p.f), Mat3.mulVec(Rt, p.s), o);
      this.Dinv[i] = invert3(this.D[i]);
      set(this.dD[i][0], zero, zero, this.normal);
      set(this.dD[i][1], zero, zero, this.d1);
      set(this.dD[i][2], zero, zero, this.d2);
      for (let k = 0; k < 3; k++) set(this.dD[i][3 + k], Mat3.mulVec(dRt[k], p.f), Mat3.mulVec(dRt[k], p.s), Mat3.mulVec(dRt[k], rel));
    });
  }

  apply(): void {
    this.detector.panels.forEach((p, i) => {
      const D = this.D[i];
      p.fastAxis = [D[0], D[3], D[6]];
      p.slowAxis = [D[1], D[4], D[7]];
      p.origin = [D[2], D[5], D[8]];
    });
  }
}

// ---------------------------------------------------------------------------------------------
/** Rotation axis direction by two rotations (mrad) about axes perpendicular to it. */
export class GoniometerParameterisation implements Parameterisation {
  readonly kind = 'goniometer' as const;
  readonly names = ['GAxis1', 'GAxis2'];
  readonly values = new Float64Array(2);
  readonly fixed = [false, false];
  private readonly axisInitial: Vec3;
  readonly e1: Vec3;
  readonly e2: Vec3;
  axis: Vec3;
  /** The rotation generator for each parameter at the current state: dR/dθ = [g]×R − R[g]× (g scaled to per-mrad). */
  readonly generators: Vec3[] = [[0, 0, 0], [0, 0, 0]];

  /** `beamDirection` (in the axis' frame) orients e1 ⟂ axis and beam; any perpendicular when absent. */
  constructor(readonly goniometer: Goniometer, beamDirection?: Vec3) {
    this.axisInitial = Vec3.normalize(goniometer.rotationAxis);
    let e1: Vec3;
    try { e1 = beamDirection ? Vec3.normalize(Vec3.cross(this.axisInitial, beamDirection)) : perpendicular(this.axisInitial); } catch { e1 = perpendicular(this.axisInitial); }
    this.e1 = e1;
    this.e2 = Vec3.normalize(Vec3.cross(this.axisInitial, e1));
    this.axis = this.axisInitial;
    this.compose();
  }

  compose(): void {
    const Q1 = Mat3.rotation(this.e1, this.values[0] * MRAD);
    const Q2 = Mat3.rotation(this.e2, this.values[1] * MRAD);
    this.axis = Vec3.normalize(Mat3.mulVec(Q2, Mat3.mulVec(Q1, this.axisInitial)));
    // Q = Q2·Q1; dQ/dθ1 = [Q2 e1]× Q, dQ/dθ2 = [e2]× Q, and R(Q a0, φ) = Q R(a0, φ) Qᵀ.
    this.generators[0] = Vec3.scale(Mat3.mulVec(Q2, this.e1), MRAD);
    this.generators[1] = Vec3.scale(this.e2, MRAD);
  }

  apply(): void {
    this.goniometer.rotationAxis = Vec3.clone(this.axis);
  }
}

// ---------------------------------------------------------------------------------------------
/** Crystal orientation U = Φ3·Φ2·Φ1·U0 with Φi rotations (mrad) about the lab x, y, z axes. */
export class CrystalOrientationParameterisation implements Parameterisation {
  readonly kind = 'crystal_orientation' as const;
  readonly names = ['Phi1', 'Phi2', 'Phi3'];
  readonly values = new Float64Array(3);
  readonly fixed = [false, false, false];
  readonly U0: Mat3;
  U: Mat3;
  readonly dU: Mat3[] = [Mat3.zero(), Mat3.zero(), Mat3.zero()];

  constructor(U0: Mat3) {
    this.U0 = Mat3.clone(U0);
    this.U = Mat3.clone(U0);
    this.compose();
  }

  compose(): void {
    const e: Vec3[] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const R = e.map((ax, i) => Mat3.rotation(ax, this.values[i] * MRAD));
    this.U = Mat3.mul(R[2], Mat3.mul(R[1], Mat3.mul(R[0], this.U0)));
    this.dU[0] = Mat3.scale(Mat3.mul(R[2], Mat3.mul(R[1], Mat3.mul(skew(e[0]), Mat3.mul(R[0], this.U0)))), MRAD);
    this.dU[1] = Mat3.scale(Mat3.mul(R[2], Mat3.mul(skew(e[1]), Mat3.mul(R[1], Mat3.mul(R[0], this.U0)))), MRAD);
    this.dU[2] = Mat3.scale(Mat3.mul(skew(e[2]), this.U), MRAD);
  }
}

// ---------------------------------------------------------------------------------------------
/** Reciprocal metric G* = BᵀB as the 6-vector (G11, G22, G33, G12, G13, G23). */
export function metricToVector(G: Mat3): number[] {
  return [G[0], G[4], G[8], G[1], G[2], G[5]];
}
export function vectorToMetric(g: ArrayLike<number>): Mat3 {
  return [g[0], g[3], g[4], g[3], g[1], g[5], g[4], g[5], g[2]];
}

/** B (lower triangular, positive diagonal) with BᵀB = G*. */
export function bFromMetric(G: Mat3): Mat3 {
  const b33 = Math.sqrt(G[8]);
  const b32 = G[5] / b33, b31 = G[2] / b33;
  const b22 = Math.sqrt(G[4] - b32 * b32);
  const b21 = (G[1] - b31 * b32) / b22;
  const b11 = Math.sqrt(G[0] - b21 * b21 - b31 * b31);
  const B: Mat3 = [b11, 0, 0, b21, b22, 0, b31, b32, b33];
  if (!B.every(Number.isFinite)) throw new RangeError('reciprocal metric is not positive definite');
  return B;
}

/** dB for a change dG of the metric, keeping B lower triangular: M = dB·B⁻¹ is lower with M + Mᵀ = B⁻ᵀ dG B⁻¹. */
export function bDerivative(B: Mat3, dG: Mat3): Mat3 {
  const Bi = Mat3.inverse(B);
  const K = Mat3.mul(Mat3.transpose(Bi), Mat3.mul(dG, Bi));
  const M: Mat3 = [K[0] / 2, 0, 0, K[3], K[4] / 2, 0, K[6], K[7], K[8] / 2];
  return Mat3.mul(M, B);
}

/** Split A into U (rotation) and B (lower triangular) via the metric AᵀA. */
export function decomposeA(A: Mat3): { U: Mat3; B: Mat3 } {
  const B = bFromMetric(Mat3.mul(Mat3.transpose(A), A));
  return { U: Mat3.mul(A, Mat3.inverse(B)), B };
}

/**
 * The linear subspace of reciprocal metrics invariant under the lattice point group, given as
 * integer matrices W acting on Miller indices (h' = W h): WᵀG*W = G*. Returns an orthonormal basis
 * (6-vectors). With no operators: all six components free (triclinic).
 */
export function metricBasis(ops: readonly Mat3[]): number[][] {
  const identity = [0, 1, 2, 3, 4, 5].map((k) => { const v = new Array(6).fill(0); v[k] = 1; return v; });
  if (ops.length === 0) return identity;
  // C[6·o + r, k] = component r of (WₒᵀEₖWₒ − Eₖ) for the metric basis element Eₖ: G is invariant ⇔ C g = 0.
  const C = new Matrix(6 * ops.length, 6);
  ops.forEach((W, o) => {
    for (let k = 0; k < 6; k++) {
      const E = vectorToMetric(identity[k]);
      const img = metricToVector(Mat3.sub(Mat3.mul(Mat3.transpose(W), Mat3.mul(E, W)), E));
      for (let r = 0; r < 6; r++) C.set(6 * o + r, k, img[r]);
    }
  });
  const svd = new SingularValueDecomposition(C, { computeLeftSingularVectors: false, computeRightSingularVectors: true, autoTranspose: true });
  const V = svd.rightSingularVectors;
  const s = svd.diagonal;
  const tol = 1e-8 * Math.max(1, ...s);
  const basis: number[][] = [];
  for (let k = 0; k < 6; k++) if (!(s[k] > tol)) basis.push(V.getColumn(k));
  return basis;
}

/**
 * Unit cell via the free components of the reciprocal metric: G* = Σ p_k N_k, N_k the invariant
 * basis of the lattice's point group (so a tetragonal setting has two parameters, a triclinic six).
 */
export class CrystalUnitCellParameterisation implements Parameterisation {
  readonly kind = 'crystal_cell' as const;
  readonly names: string[];
  readonly values: Float64Array;
  readonly fixed: boolean[];
  readonly basis: Mat3[];
  B: Mat3;
  dB: Mat3[];

  constructor(B0: Mat3, ops: readonly Mat3[] = []) {
    const vecs = metricBasis(ops);
    this.basis = vecs.map((v) => vectorToMetric(v.map((x) => x * METRIC_UNIT)));
    const g0 = metricToVector(Mat3.mul(Mat3.transpose(B0), B0));
    // least-squares projection of G0 onto the basis (orthonormal in 6-space): symmetrises G0
    this.values = Float64Array.from(vecs.map((v) => v.reduce((s, x, i) => s + x * g0[i], 0) / METRIC_UNIT));
    this.names = vecs.map((_, i) => `g_param_${i}`);
    this.fixed = vecs.map(() => false);
    this.B = B0;
    this.dB = [];
    this.compose();
  }

  compose(): void {
    let G = Mat3.zero();
    this.basis.forEach((N, k) => { G = Mat3.add(G, Mat3.scale(N, this.values[k])); });
    this.B = bFromMetric(G);
    this.dB = this.basis.map((N) => bDerivative(this.B, N));
  }
}

/** Direct-space vectors (rows of A⁻¹) for writing a Crystal model. */
export function crystalFromA(A: Mat3, base: Crystal): Crystal {
  const Ai = Mat3.inverse(A);
  return { ...base, realSpaceA: Mat3.row(Ai, 0), realSpaceB: Mat3.row(Ai, 1), realSpaceC: Mat3.row(Ai, 2) };
}

/** A = (matrix with rows a, b, c)⁻¹ for a Crystal model. */
export function aMatrixOf(c: Crystal): Mat3 {
  return Mat3.inverse(Mat3.fromRows(c.realSpaceA, c.realSpaceB, c.realSpaceC));
}
