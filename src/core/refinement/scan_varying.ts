/**
 * Scan-varying crystal model: orientation (3 small rotations) and unit cell (free metric
 * components) take values at K checkpoints along the scan and vary smoothly in between by a
 * normalised Gaussian smoother, p(φ) = Σ_j w_j(φ)·p_j / Σ_j w_j(φ), w_j = exp(−(φ − φ_j)²/2σ²).
 * The state is evaluated once per image (at its mid-angle): A_i = U(φ_i)·B(φ_i) and, per
 * checkpoint parameter, dA_i/dp_jk = (w_ij / Σw_i)·∂A/∂p_k, the static derivative scaled by the
 * smoother weight. Reflections use the state of the image they were observed on.
 *
 * Checkpoints: K = max(1, ⌊width / interval⌋) + 1 evenly over the scan (interval 36° by default),
 * σ = 0.65 × checkpoint spacing.
 */
import { Mat3 } from '../math/mat3.js';
import {
  CrystalOrientationParameterisation, CrystalUnitCellParameterisation, type Parameterisation,
} from './parameterisation.js';

export interface ScanGeometry {
  /** φ at the start of the first image, radians */
  phi0: number;
  /** oscillation per image, radians */
  osc: number;
  nImages: number;
}

export class ScanVaryingCrystalParameterisation implements Parameterisation {
  readonly kind = 'crystal_scan_varying' as const;
  readonly names: string[];
  readonly values: Float64Array;
  readonly fixed: boolean[];
  readonly checkpoints: Float64Array;
  readonly sigma: number;
  /** per image: A (row-major) */
  readonly A: Mat3[];
  /** per image: list of [local parameter index, dA] with non-negligible weight */
  readonly dA: [number, Mat3][][];
  /** per image: smoother weights (normalised) of each checkpoint */
  private readonly weights: Float64Array[];
  private readonly nOrient = 3;
  private readonly nCell: number;
  private readonly orient: CrystalOrientationParameterisation;
  private readonly cell: CrystalUnitCellParameterisation;

  constructor(U0: Mat3, B0: Mat3, ops: readonly Mat3[], readonly scan: ScanGeometry, intervalDeg = 36, fixOrientation = false, fixCell = false) {
    this.orient = new CrystalOrientationParameterisation(U0);
    this.cell = new CrystalUnitCellParameterisation(B0, ops);
    this.nCell = this.cell.values.length;
    const width = scan.osc * scan.nImages;
    const intervalRad = (intervalDeg * Math.PI) / 180;
    const K = Math.max(1, Math.floor(Math.abs(width) / intervalRad)) + 1;
    this.checkpoints = Float64Array.from({ length: K }, (_, j) => scan.phi0 + (width * j) / (K - 1));
    this.sigma = 0.65 * Math.abs(width / (K - 1));
    const per = this.nOrient + this.nCell;
    this.values = new Float64Array(K * per);
    this.names = [];
    this.fixed = [];
    for (let j = 0; j < K; j++) {
      for (let k = 0; k < 3; k++) { this.names.push(`Phi${k + 1}_sample${j}`); this.fixed.push(fixOrientation); }
      for (let k = 0; k < this.nCell; k++) {
        this.values[j * per + 3 + k] = this.cell.values[k];
        this.names.push(`g_param_${k}_sample${j}`);
        this.fixed.push(fixCell);
      }
    }
    this.weights = [];
    for (let i = 0; i < scan.nImages; i++) {
      const phi = scan.phi0 + (i + 0.5) * scan.osc;
      const w = Float64Array.from(this.checkpoints, (c) => Math.exp(-((phi - c) ** 2) / (2 * this.sigma * this.sigma)));
      const s = w.reduce((a, b) => a + b, 0);
      for (let j = 0; j < K; j++) w[j] /= s;
      this.weights.push(w);
    }
    this.A = Array.from({ length: scan.nImages }, () => Mat3.identity());
    this.dA = Array.from({ length: scan.nImages }, () => []);
    this.compose();
  }

  get nCheckpoints(): number { return this.checkpoints.length; }

  /** Image index (0-based, clamped) of an observed φ (radians). */
  imageOf(phi: number): number {
    const i = Math.floor((phi - this.scan.phi0) / this.scan.osc);
    return i < 0 ? 0 : i >= this.scan.nImages ? this.scan.nImages - 1 : i;
  }

  compose(): void {
    const K = this.nCheckpoints, per = this.nOrient + this.nCell;
    for (let i = 0; i < this.scan.nImages; i++) {
      const w = this.weights[i];
      for (let k = 0; k < per; k++) {
        let v = 0;
        for (let j = 0; j < K; j++) v += w[j] * this.values[j * per + k];
        if (k < 3) this.orient.values[k] = v; else this.cell.values[k - 3] = v;
      }
      this.orient.compose();
      this.cell.compose();
      const U = this.orient.U, B = this.cell.B;
      this.A[i] = Mat3.mul(U, B);
      const list: [number, Mat3][] = [];
      const local: Mat3[] = [
        ...this.orient.dU.map((d) => Mat3.mul(d, B)),
        ...this.cell.dB.map((d) => Mat3.mul(U, d)),
      ];
      for (let j = 0; j < K; j++) {
        if (w[j] < 1e-6) continue;
        for (let k = 0; k < per; k++) list.push([j * per + k, Mat3.scale(local[k], w[j])]);
      }
      this.dA[i] = list;
    }
  }

  /** A at the scan points (image boundaries, n + 1 of them), as DIALS stores A_at_scan_points. */
  aAtScanPoints(): Mat3[] {
    const out: Mat3[] = [];
    const n = this.scan.nImages;
    for (let p = 0; p <= n; p++) {
      // boundary p lies between images p − 1 and p: average their (close) states
      const a = this.A[Math.max(0, p - 1)], b = this.A[Math.min(n - 1, p)];
      out.push(a.map((x, k) => 0.5 * (x + b[k])) as Mat3);
    }
    return out;
  }

  /** The model at the middle of the scan (the static crystal written alongside the scan points). */
  aAtCentre(): Mat3 {
    return this.A[Math.floor(this.scan.nImages / 2)];
  }
}
