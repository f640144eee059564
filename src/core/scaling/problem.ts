/**
 * The scaling problem on flat typed arrays: every usable observation of every sweep, its symmetry
 * group, the precomputed pieces of its inverse scale factor (smoother weights, spherical-harmonic
 * values), and the model parameters. Evaluation of g and its derivatives is allocation-free.
 */
import { Mat3 } from '../math/mat3.js';
import type { Vec3 } from '../math/vec3.js';
import { chooseIntensity, phiDeg, imageNumber, type IntensityChoice, type PrepOptions, type SweepData } from './data.js';
import { evalHarmonics, harmonicCount } from './harmonics.js';
import { SMOOTHER_MAX_NEIGHBOURS as K, smootherWeights } from './smoother.js';
import { modelParameterCount, type SweepModel } from './model.js';
import { millerKey, type ReflectionSymmetry } from './symops.js';
import { HAS_SUM } from '../stats/prepare.js';

const SUM: IntensityChoice = { kind: 'sum' };

export interface ParamBlock { scale: number; decay: number; absorption: number; nAbs: number; end: number }

/** Why a row is not scaled (counts per sweep are reported like DIALS does). */
export const enum Exclusion { None = 0, Partiality = 1, NotIntegrated = 2, LowIsigi = 3, Resolution = 4, Images = 5 }

export class ScalingProblem {
  readonly nObs: number;
  /** Which sweep / row each observation comes from. */
  readonly sweepOf: Int32Array;
  readonly rowOf: Int32Array;
  /** Corrected intensity and variance (before the error model) for the current intensity choice. */
  readonly I: Float64Array;
  readonly V: Float64Array;
  /** Variance after the error model; the weights are its inverse. */
  readonly Vem: Float64Array;
  readonly invD2: Float64Array;
  readonly phi: Float64Array;
  readonly image: Int32Array;
  /** Symmetry group (unique reflection) of each observation, 0…nGroups−1. */
  readonly group: Int32Array;
  readonly nGroups: number;
  /** Canonical Miller index of each group (3·nGroups) and its resolution. */
  readonly groupMiller: Int32Array;
  readonly groupD: Float64Array;
  readonly groupAbsent: Uint8Array;
  /** Observations of each group: groupObs[groupStart[g] … groupStart[g+1]). */
  readonly groupStart: Int32Array;
  readonly groupObs: Int32Array;
  /** Partiality of each observation (1 when the table has none). */
  readonly partiality: Float64Array;
  /** Eligible to refine the model (fully recorded). */
  readonly forModel: Uint8Array;
  /**
   * 1 when the observation belongs to the Friedel-mate (I−) half of its symmetry group, whether or
   * not the groups keep I+ and I− apart: the error model always does (a real anomalous difference
   * is no error).
   */
  readonly friedelMinus: Uint8Array;
  /**
   * A partial cut by the start or end of its scan: its intensity is the summed one over the
   * partiality, never the profile-fitted one. Profile fitting estimates the whole reflection from
   * the recorded part of its profile, and where the rest lies outside the scan that extrapolation
   * has nothing to check it against: on the simulated P 41 wedges our profile-fitted intensities
   * of such partials came out at 36 % (p 0.4–0.5), 64 % (p 0.5–0.6) and 93 % (p 0.6–0.8) of
   * the truth, the summed ones over p at 78 %, 113 % and 128 %, and merging them with the
   * profile-fitted estimates gave CC(I) with the truth 0.9960 against 0.9967 with the summed ones
   * (15-image sweeps: 11 % of the observations are such partials). DIALS' integrated data of the
   * same set lose nothing by it (0.99599 → 0.99607), and DIALS' own integration gives the end-image
   * partials below p ≈ 0.5 no profile-fitted intensity at all. (Medians over observations of
   * reflections with true I above 3000, i.e. well above the noise.) Inside the scan, and for full
   * reflections, the intensity choice applies as usual.
   */
  readonly edgeSum: Uint8Array;
  /** Rejected as an outlier in the latest round. */
  readonly outlier: Uint8Array;
  readonly sIdx: Int32Array;
  readonly sW: Float64Array;
  readonly dIdx: Int32Array;
  readonly dW: Float64Array;
  readonly shOff: Int32Array;
  readonly sh: Float64Array;
  readonly nSh: Int32Array;
  readonly blocks: ParamBlock[];
  readonly nParams: number;
  params: Float64Array;
  /** Per sweep: which rows were used, and why others were not. */
  readonly exclusion: Uint8Array[];
  readonly obsOfRow: Int32Array[];

  constructor(readonly sweeps: SweepData[], readonly models: SweepModel[], readonly sym: ReflectionSymmetry,
    readonly anomalous: boolean, public choice: IntensityChoice, readonly prep: PrepOptions) {
    const tmp = new Float64Array(2);
    // 1. choose rows
    const rows: number[] = [], sw: number[] = [];
    this.exclusion = [];
    this.obsOfRow = [];
    sweeps.forEach((s, si) => {
      const n = s.d.length;
      const ex = new Uint8Array(n);
      const o2r = new Int32Array(n).fill(-1);
      const excl = prep.excludeImages.filter((e) => e[0] === si);
      for (let i = 0; i < n; i++) {
        const p = s.intensities.partiality[i];
        if (p < prep.partialityCutoff) { ex[i] = Exclusion.Partiality; continue; }
        if (!this.usable(s, i, tmp)) { ex[i] = Exclusion.NotIntegrated; continue; }
        if (tmp[0] / Math.sqrt(tmp[1]) < prep.minIsigi) { ex[i] = Exclusion.LowIsigi; continue; }
        const d = s.d[i];
        if (!(d > 0) || (prep.dMin !== null && d < prep.dMin) || (prep.dMax !== null && d > prep.dMax)) { ex[i] = Exclusion.Resolution; continue; }
        const img = imageNumber(s, i);
        if (excl.some((e) => img >= e[1] && img <= e[2])) { ex[i] = Exclusion.Images; continue; }
        o2r[i] = rows.length;
        rows.push(i); sw.push(si);
      }
      this.exclusion.push(ex);
      this.obsOfRow.push(o2r);
    });
    const nObs = rows.length;
    this.nObs = nObs;
    this.sweepOf = Int32Array.from(sw);
    this.rowOf = Int32Array.from(rows);
    this.I = new Float64Array(nObs);
    this.V = new Float64Array(nObs);
    this.Vem = new Float64Array(nObs);
    this.invD2 = new Float64Array(nObs);
    this.phi = new Float64Array(nObs);
    this.image = new Int32Array(nObs);
    this.forModel = new Uint8Array(nObs);
    this.partiality = new Float64Array(nObs);
    this.outlier = new Uint8Array(nObs);
    this.edgeSum = new Uint8Array(nObs);
    for (let o = 0; o < nObs; o++) {
      const s = sweeps[sw[o]], i = rows[o];
      this.invD2[o] = 1 / (s.d[i] * s.d[i]);
      this.phi[o] = phiDeg(s, i);
      this.image[o] = imageNumber(s, i);
      const p = s.intensities.partiality[i];
      this.partiality[o] = p;
      this.forModel[o] = p >= prep.minPartialityForModel ? 1 : 0;
      const onEndImage = !s.stills && (this.image[o] <= s.imageRange[0] || this.image[o] >= s.imageRange[1]);
      this.edgeSum[o] = prep.edgePartialsBySum && p < prep.minPartialityForModel && onEndImage && (s.intensities.has[i] & HAS_SUM) ? 1 : 0;
    }
    this.setIntensityChoice(choice);

    // 2. symmetry groups
    const keys = new Float64Array(nObs);
    const canon = new Int32Array(3);
    this.friedelMinus = new Uint8Array(nObs);
    for (let o = 0; o < nObs; o++) {
      const s = sweeps[sw[o]], i = rows[o];
      const minus = sym.canonical(s.miller[3 * i], s.miller[3 * i + 1], s.miller[3 * i + 2], anomalous, canon);
      this.friedelMinus[o] = minus ? 1 : 0;
      keys[o] = millerKey(canon[0], canon[1], canon[2]) * 2 + (anomalous && minus ? 1 : 0);
    }
    const order = Int32Array.from({ length: nObs }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
    this.group = new Int32Array(nObs);
    const starts: number[] = [];
    let ng = -1, last = NaN;
    for (let r = 0; r < nObs; r++) {
      const o = order[r];
      if (keys[o] !== last) { ng++; starts.push(r); last = keys[o]; }
      this.group[o] = ng;
    }
    this.nGroups = ng + 1;
    starts.push(nObs);
    this.groupStart = Int32Array.from(starts);
    this.groupObs = order;
    this.groupMiller = new Int32Array(3 * this.nGroups);
    this.groupD = new Float64Array(this.nGroups);
    this.groupAbsent = new Uint8Array(this.nGroups);
    for (let g = 0; g < this.nGroups; g++) {
      const o = order[this.groupStart[g]];
      const s = sweeps[sw[o]], i = rows[o];
      sym.canonical(s.miller[3 * i], s.miller[3 * i + 1], s.miller[3 * i + 2], anomalous, canon);
      this.groupMiller.set(canon, 3 * g);
      this.groupD[g] = s.d[i];
      this.groupAbsent[g] = sym.isSystematicallyAbsent(canon[0], canon[1], canon[2]) ? 1 : 0;
    }

    // 3. parameter blocks and per-observation model pieces
    this.blocks = [];
    let off = 0;
    for (const m of models) {
      const nAbs = harmonicCount(m.lmax);
      const b: ParamBlock = { scale: off, decay: off + m.scale.nParams, absorption: off + m.scale.nParams + (m.decay?.nParams ?? 0), nAbs, end: off + modelParameterCount(m) };
      this.blocks.push(b);
      off = b.end;
    }
    this.nParams = off;
    this.params = new Float64Array(off);
    models.forEach((m, si) => { const b = this.blocks[si]; for (let j = 0; j < m.scale.nParams; j++) this.params[b.scale + j] = 1; });
    this.sIdx = new Int32Array(nObs);
    this.sW = new Float64Array(nObs * K);
    this.dIdx = new Int32Array(nObs);
    this.dW = new Float64Array(nObs * K);
    this.shOff = new Int32Array(nObs + 1);
    this.nSh = new Int32Array(nObs);
    for (let o = 0; o < nObs; o++) {
      const m = models[sw[o]];
      smootherWeights(m.scale, this.phi[o], this.sIdx, this.sW, o);
      if (m.decay) smootherWeights(m.decay, this.phi[o], this.dIdx, this.dW, o);
      this.nSh[o] = this.blocks[sw[o]].nAbs;
      this.shOff[o + 1] = this.shOff[o] + this.nSh[o];
    }
    this.sh = new Float64Array(this.shOff[nObs]);
    this.fillHarmonics();
  }

  private usable(s: SweepData, i: number, out: Float64Array): boolean {
    // Usable when integrated by summation or profile fitting; a row without the chosen kind falls
    // back to the other, so switching choices never changes the set of observations.
    const c = s.intensities;
    if (!chooseIntensity(c, i, this.choice, out) && !chooseIntensity(c, i, { kind: 'sum' }, out) && !chooseIntensity(c, i, { kind: 'prf' }, out)) return false;
    return Number.isFinite(out[0]) && out[1] > 0;
  }

  /** Recompute I and V for another intensity choice (rows without it keep their old values). */
  setIntensityChoice(choice: IntensityChoice): void {
    this.choice = choice;
    const tmp = new Float64Array(2);
    for (let o = 0; o < this.nObs; o++) {
      const s = this.sweeps[this.sweepOf[o]];
      const r = this.rowOf[o];
      const c = s.intensities;
      if ((chooseIntensity(c, r, this.edgeSum[o] ? SUM : choice, tmp) && tmp[1] > 0) || chooseIntensity(c, r, { kind: 'sum' }, tmp) || chooseIntensity(c, r, { kind: 'prf' }, tmp)) {
        this.I[o] = tmp[0]; this.V[o] = tmp[1];
      }
    }
    this.Vem.set(this.V);
  }

  /**
   * Absorption basis per observation: the mean of Y_lm at the reversed incident beam and at the
   * diffracted beam, both rotated into the crystal frame, so the surface describes path length
   * through the crystal in and out.
   */
  private fillHarmonics(): void {
    const work = new Float64Array(100);
    const tmpA = new Float64Array(80), tmpB = new Float64Array(80);
    for (let o = 0; o < this.nObs; o++) {
      const n = this.nSh[o];
      if (n === 0) continue;
      const s = this.sweeps[this.sweepOf[o]], i = this.rowOf[o];
      const lmax = this.models[this.sweepOf[o]].lmax;
      const R = goniometerRotation(s.rotationAxis, s.fixedRotation, s.settingRotation, this.phi[o]);
      // crystal frame: v_c = Rᵀ v_lab
      const s0 = s.s0;
      const ax = -(R[0] * s0[0] + R[3] * s0[1] + R[6] * s0[2]);
      const ay = -(R[1] * s0[0] + R[4] * s0[1] + R[7] * s0[2]);
      const az = -(R[2] * s0[0] + R[5] * s0[1] + R[8] * s0[2]);
      const x = s.s1[3 * i], y = s.s1[3 * i + 1], z = s.s1[3 * i + 2];
      const bx = R[0] * x + R[3] * y + R[6] * z;
      const by = R[1] * x + R[4] * y + R[7] * z;
      const bz = R[2] * x + R[5] * y + R[8] * z;
      evalHarmonics(ax, ay, az, lmax, tmpA, 0, work);
      evalHarmonics(bx, by, bz, lmax, tmpB, 0, work);
      const base = this.shOff[o];
      for (let k = 0; k < n; k++) this.sh[base + k] = 0.5 * (tmpA[k] + tmpB[k]);
    }
  }

  /**
   * Inverse scale factor of observation o; when idx/val are given, also its non-zero derivatives
   * (returns their count in nnz[0]).
   */
  evaluate(o: number, p: Float64Array, idx: Int32Array | null, val: Float64Array | null, nnz: Int32Array | null): number {
    const si = this.sweepOf[o];
    const b = this.blocks[si];
    const m = this.models[si];
    let C = 0;
    const s0 = this.sIdx[o], base = o * K;
    const ns = m.scale.nParams;
    for (let k = 0; k < K; k++) { const w = this.sW[base + k]; if (w !== 0 && s0 + k < ns) C += w * p[b.scale + s0 + k]; }
    let B = 0;
    if (m.decay) {
      const d0 = this.dIdx[o], nd = m.decay.nParams;
      for (let k = 0; k < K; k++) { const w = this.dW[base + k]; if (w !== 0 && d0 + k < nd) B += w * p[b.decay + d0 + k]; }
    }
    const x = 0.5 * this.invD2[o];
    const E = Math.exp(B * x);
    let A = 1;
    const so = this.shOff[o], nsh = this.nSh[o];
    for (let k = 0; k < nsh; k++) A += p[b.absorption + k] * this.sh[so + k];
    const g = C * E * A;
    if (idx && val && nnz) {
      let n = 0;
      for (let k = 0; k < K; k++) {
        const w = this.sW[base + k];
        if (w !== 0 && s0 + k < ns) { idx[n] = b.scale + s0 + k; val[n] = w * E * A; n++; }
      }
      if (m.decay) {
        const d0 = this.dIdx[o], nd = m.decay.nParams;
        for (let k = 0; k < K; k++) {
          const w = this.dW[base + k];
          if (w !== 0 && d0 + k < nd) { idx[n] = b.decay + d0 + k; val[n] = g * w * x; n++; }
        }
      }
      const ce = C * E;
      for (let k = 0; k < nsh; k++) { idx[n] = b.absorption + k; val[n] = ce * this.sh[so + k]; n++; }
      nnz[0] = n;
    }
    return g;
  }

  /** Inverse scale factors of all observations. */
  scales(p: Float64Array = this.params, out: Float64Array = new Float64Array(this.nObs)): Float64Array {
    for (let o = 0; o < this.nObs; o++) out[o] = this.evaluate(o, p, null, null, null);
    return out;
  }

  /**
   * Inverse scale factor of any row of a sweep (also rows not used in scaling), from the current
   * parameters; used to write scale factors for every reflection.
   */
  evaluateRow(si: number, i: number): number {
    const s = this.sweeps[si], m = this.models[si], b = this.blocks[si], p = this.params;
    const phi = phiDeg(s, i);
    const first = new Int32Array(1), w = new Float64Array(K);
    smootherWeights(m.scale, phi, first, w, 0);
    let C = 0;
    for (let k = 0; k < K; k++) if (w[k] !== 0 && first[0] + k < m.scale.nParams) C += w[k] * p[b.scale + first[0] + k];
    let B = 0;
    if (m.decay) {
      smootherWeights(m.decay, phi, first, w, 0);
      for (let k = 0; k < K; k++) if (w[k] !== 0 && first[0] + k < m.decay.nParams) B += w[k] * p[b.decay + first[0] + k];
    }
    const d = s.d[i] > 0 ? s.d[i] : Infinity;
    let A = 1;
    if (b.nAbs > 0) {
      const R = goniometerRotation(s.rotationAxis, s.fixedRotation, s.settingRotation, phi);
      const s0 = s.s0, work = new Float64Array(100), ya = new Float64Array(80), yb = new Float64Array(80);
      evalHarmonics(-(R[0] * s0[0] + R[3] * s0[1] + R[6] * s0[2]), -(R[1] * s0[0] + R[4] * s0[1] + R[7] * s0[2]), -(R[2] * s0[0] + R[5] * s0[1] + R[8] * s0[2]), m.lmax, ya, 0, work);
      const x = s.s1[3 * i], y = s.s1[3 * i + 1], z = s.s1[3 * i + 2];
      evalHarmonics(R[0] * x + R[3] * y + R[6] * z, R[1] * x + R[4] * y + R[7] * z, R[2] * x + R[5] * y + R[8] * z, m.lmax, yb, 0, work);
      for (let k = 0; k < b.nAbs; k++) A += p[b.absorption + k] * 0.5 * (ya[k] + yb[k]);
    }
    return C * Math.exp(B / (2 * d * d)) * A;
  }

  /** Largest number of non-zero derivatives of one observation. */
  maxNonZero(): number {
    let m = 0;
    for (const b of this.blocks) m = Math.max(m, 2 * K + b.nAbs);
    return m;
  }
}

/** Lab rotation S·R(axis, φ)·F of the goniometer at φ (degrees). */
export function goniometerRotation(axis: Vec3, F: Mat3, S: Mat3, phiDegrees: number): Mat3 {
  const t = (phiDegrees * Math.PI) / 180;
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  const x = axis[0] / n, y = axis[1] / n, z = axis[2] / n;
  const c = Math.cos(t), s = Math.sin(t), C = 1 - c;
  const R: Mat3 = [
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ];
  return Mat3.mul(S, Mat3.mul(R, F));
}
