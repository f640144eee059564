/**
 * What happens to one reflection's shoebox once its pixels are in: mask (valid / foreground /
 * background from the Kabsch-frame ellipsoid), background model, summation, and either adding the
 * reflection to the reference profiles (learning pass) or fitting the reference profile to it
 * (fitting pass). Pure numerics on typed arrays with scratch buffers reused across reflections.
 *
 * Foreground: (ε1² + ε2²)/δb² + ε3²/δm² ≤ 1 at the pixel centre and the frame's mid-angle, with
 * δ = n_sigma·σ. Everything else in the shoebox is background unless invalid (negative counts:
 * gaps, dead pixels, off-panel) or overloaded (≥ the panel's trusted maximum).
 */
import { Flags } from '../reflections/flags.js';
import { backgroundAt, glmConstant, simpleConstant, simplePlanes, type BackgroundAlgorithm, type BackgroundFit, type SimpleModel } from './background.js';
import { epsilon12, KabschFrame, setFrame, type PanelGeometry } from './kabsch.js';
import { profileValue, splat, type ProfileAccumulator, type ReferenceProfiles } from './reference_profiles.js';

export interface IntegrationGeometry {
  s0: ArrayLike<number>;
  m2: ArrayLike<number>;
  panels: PanelGeometry[];
  /** per panel: trusted maximum (counts ≥ this are overloaded) */
  trustedMax: number[];
  /** per panel: unit normal and pixel area (mm²), for the pixel's solid angle */
  normals: ArrayLike<number>[];
  pixelArea: number[];
  phi0Rad: number;
  dPhiRad: number;
}

export interface BackgroundParams {
  algorithm: BackgroundAlgorithm;
  simpleModel: SimpleModel;
  nSigma: number;
  /** fewest background pixels for a usable model */
  minPixels: number;
}

/** Per-reflection inputs, as columns (indices are rows of the whole batch). */
export interface ReflectionBatch {
  bbox: Int32Array;
  panel: Int32Array;
  s1: Float64Array;
  phi: Float64Array;
  profile: Int32Array;
  /** 1: may contribute to the reference profiles */
  reference: Uint8Array;
  /** foreground half-widths n_sigma·σ_b and n_sigma·σ_m (radians) of each reflection */
  deltaB: Float64Array;
  deltaM: Float64Array;
  /**
   * Overlaps: for row r, neighbours[neighbourOffset[r] … neighbourOffset[r+1]) index the
   * neighbour table (reflections whose foreground box reaches into r's shoebox, from any block).
   */
  neighbourOffset?: Int32Array;
  neighbours?: Int32Array;
  neighbourTable?: NeighbourTable;
}

/** Other reflections' foregrounds, as the overlap test needs them. */
export interface NeighbourTable {
  s1: Float64Array;
  phi: Float64Array;
  deltaB: Float64Array;
  deltaM: Float64Array;
  /** foreground bbox x0, x1, y0, y1, z0, z1 */
  box: Int32Array;
  panel: Int32Array;
}

/** Per-reflection results (same rows as the batch). */
export interface IntegrationResults {
  iSum: Float64Array;
  vSum: Float64Array;
  iPrf: Float64Array;
  vPrf: Float64Array;
  cc: Float64Array;
  bgMean: Float64Array;
  bgDispersion: Float64Array;
  nForeground: Int32Array;
  nBackground: Int32Array;
  nValid: Int32Array;
  xyzObs: Float64Array;
  /** DIALS flag bits set by integration */
  flags: Float64Array;
}

export function emptyResults(n: number): IntegrationResults {
  return {
    iSum: new Float64Array(n), vSum: new Float64Array(n), iPrf: new Float64Array(n), vPrf: new Float64Array(n), cc: new Float64Array(n),
    bgMean: new Float64Array(n), bgDispersion: new Float64Array(n), nForeground: new Int32Array(n), nBackground: new Int32Array(n),
    nValid: new Int32Array(n), xyzObs: new Float64Array(3 * n), flags: new Float64Array(n),
  };
}

const MASK_INVALID = 0, MASK_BACKGROUND = 1, MASK_FOREGROUND = 2;

export class ShoeboxIntegrator {
  private frame = new KabschFrame();
  private eps = new Float64Array(2);
  private e1 = new Float64Array(1024);
  private e2 = new Float64Array(1024);
  private mask = new Uint8Array(8192);
  private bgC = new Float64Array(8192);
  private bgX = new Float64Array(8192);
  private bgY = new Float64Array(8192);
  private bgF = new Int32Array(8192);
  private keep = new Uint8Array(8192);
  private prof = new Float64Array(8192);
  /** 1: the pixel lies in another reflection's foreground */
  private excl = new Uint8Array(8192);
  private other = new KabschFrame();
  private bg: BackgroundFit = { ok: false, mean: 0, planes: null, meanVariance: 0, nUsed: 0, dispersion: 0 };
  /** least fraction of the fitted profile that must fall on valid pixels */
  minProfileFraction = 0.9;

  constructor(private readonly geom: IntegrationGeometry, private readonly bgParams: BackgroundParams) {}

  private grow(n: number): void {
    if (this.mask.length >= n) return;
    const m = 1 << Math.ceil(Math.log2(n));
    this.mask = new Uint8Array(m); this.bgC = new Float64Array(m); this.bgX = new Float64Array(m); this.bgY = new Float64Array(m);
    this.bgF = new Int32Array(m); this.keep = new Uint8Array(m); this.prof = new Float64Array(m); this.excl = new Uint8Array(m);
  }

  /**
   * Mark the shoebox pixels (bbox x0…, frames z0…) that lie inside a neighbour's foreground
   * ellipsoid; only the part of the shoebox inside the neighbour's foreground box is tested.
   */
  private markOverlaps(r: number, batch: ReflectionBatch, x0: number, x1: number, y0: number, y1: number, z0: number, z1: number): boolean {
    const off = batch.neighbourOffset, list = batch.neighbours, t = batch.neighbourTable;
    const nx = x1 - x0, nxy = nx * (y1 - y0);
    this.excl.fill(0, 0, nxy * (z1 - z0));
    if (!off || !list || !t || off[r + 1] === off[r]) return false;
    const g = this.geom, q = this.other, pg = g.panels[batch.panel[r]];
    let any = false;
    for (let a = off[r]; a < off[r + 1]; a++) {
      const nb = list[a], o = 6 * nb;
      if (t.panel[nb] !== batch.panel[r]) continue;
      const xa = Math.max(x0, t.box[o]), xb = Math.min(x1, t.box[o + 1]), ya = Math.max(y0, t.box[o + 2]), yb = Math.min(y1, t.box[o + 3]);
      const za = Math.max(z0, t.box[o + 4]), zb = Math.min(z1, t.box[o + 5]);
      if (xa >= xb || ya >= yb || za >= zb) continue;
      setFrame(q, g.s0, g.m2, t.s1[3 * nb], t.s1[3 * nb + 1], t.s1[3 * nb + 2], t.phi[nb]);
      const ib2 = 1 / (t.deltaB[nb] * t.deltaB[nb]), im2 = 1 / (t.deltaM[nb] * t.deltaM[nb]);
      for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) {
        epsilon12(q, pg, x + 0.5, y + 0.5, this.eps);
        const t12 = (this.eps[0] * this.eps[0] + this.eps[1] * this.eps[1]) * ib2;
        if (t12 > 1) continue;
        for (let z = za; z < zb; z++) {
          const e3 = q.zeta * (g.phi0Rad + (z + 0.5) * g.dPhiRad - q.phi);
          if (t12 + e3 * e3 * im2 <= 1) { this.excl[(z - z0) * nxy + (y - y0) * nx + (x - x0)] = 1; any = true; }
        }
      }
    }
    return any;
  }

  /**
   * Integrate row r of the batch from its shoebox `data`; with `learn`, add it to the reference
   * profiles when eligible; with `profiles`, also fit them.
   */
  process(r: number, data: Int32Array, batch: ReflectionBatch, out: IntegrationResults, learn: ProfileAccumulator | null, profiles: ReferenceProfiles | null): void {
    const g = this.geom, f = this.frame;
    const o = 6 * r;
    const x0 = batch.bbox[o], x1 = batch.bbox[o + 1], y0 = batch.bbox[o + 2], y1 = batch.bbox[o + 3], z0 = batch.bbox[o + 4], z1 = batch.bbox[o + 5];
    const nx = x1 - x0, ny = y1 - y0, nz = z1 - z0, nxy = nx * ny, n = nxy * nz;
    const p = batch.panel[r], pg = g.panels[p], tmax = g.trustedMax[p];
    setFrame(f, g.s0, g.m2, batch.s1[3 * r], batch.s1[3 * r + 1], batch.s1[3 * r + 2], batch.phi[r]);
    if (this.e1.length < nxy) { const m = 1 << Math.ceil(Math.log2(nxy)); this.e1 = new Float64Array(m); this.e2 = new Float64Array(m); }
    this.grow(n);
    const e1 = this.e1, e2 = this.e2, mask = this.mask;
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
      epsilon12(f, pg, x0 + x + 0.5, y0 + y + 0.5, this.eps);
      e1[y * nx + x] = this.eps[0]; e2[y * nx + x] = this.eps[1];
    }
    const dB = batch.deltaB[r], dM = batch.deltaM[r];
    const ib2 = 1 / (dB * dB), im2 = 1 / (dM * dM);
    let flags = Flags.predicted;
    const excl = this.excl;
    const overlaps = this.markOverlaps(r, batch, x0, x1, y0, y1, z0, z1);
    let nFg = 0, nFgBad = 0, nBg = 0, nValid = 0, overloaded = false;
    for (let z = 0; z < nz; z++) {
      const e3 = f.zeta * (g.phi0Rad + (z0 + z + 0.5) * g.dPhiRad - f.phi);
      const t3 = e3 * e3 * im2;
      for (let j = 0; j < nxy; j++) {
        const k = z * nxy + j;
        const c = data[k];
        const fg = (e1[j] * e1[j] + e2[j] * e2[j]) * ib2 + t3 <= 1;
        const valid = c >= 0 && c < tmax;
        if (c >= tmax) overloaded = true;
        if (fg) {
          nFg++;
          if (c < 0) nFgBad++;
          if (overlaps && excl[k]) flags |= Flags.overlapped_fg;
          mask[k] = MASK_FOREGROUND;
        } else if (overlaps && excl[k]) {
          // another reflection's signal: neither this one's background nor its foreground. Not
          // flagged overlapped_bg: masking handles it, it happens to most reflections of a dense
          // lattice, and the flag is part of bad_shoebox, which would then mark most of the data
          // bad (DIALS 3.12 flags no reflection of the simulated sweep this way either)
          mask[k] = MASK_INVALID;
        } else if (valid) {
          const b = nBg++;
          this.bgC[b] = c; this.bgX[b] = j % nx; this.bgY[b] = (j / nx) | 0; this.bgF[b] = z;
          mask[k] = MASK_BACKGROUND;
        } else {
          mask[k] = MASK_INVALID;
          if (c < 0) flags |= Flags.background_includes_bad_pixels;
        }
        if (valid) nValid++;
      }
    }
    if (overloaded) flags |= Flags.overloaded;
    if (nFgBad > 0) flags |= Flags.foreground_includes_bad_pixels;
    out.nForeground[r] = nFg; out.nBackground[r] = nBg; out.nValid[r] = nValid;
    // background
    const bp = this.bgParams, bg = this.bg;
    if (bp.algorithm === 'glm') glmConstant(this.bgC, nBg, bg);
    else if (bp.simpleModel === 'linear2d') simplePlanes(this.bgC, this.bgX, this.bgY, this.bgF, nBg, nz, bp.nSigma, this.keep, bg);
    else simpleConstant(this.bgC, nBg, bp.nSigma, this.keep, bg);
    if (!bg.ok || bg.nUsed < bp.minPixels || nFg === 0) {
      out.flags[r] = flags | Flags.failed_during_background_modelling;
      return;
    }
    out.bgMean[r] = bg.mean; out.bgDispersion[r] = bg.dispersion;
    // summation
    let I = 0, sumC = 0, sw = 0, sx = 0, sy = 0, sz = 0;
    for (let k = 0; k < n; k++) {
      if (mask[k] !== MASK_FOREGROUND) continue;
      const c = data[k];
      if (c < 0) continue;
      const z = (k / nxy) | 0, j = k - z * nxy, x = j % nx, y = (j / nx) | 0;
      const b = backgroundAt(bg, x, y, z);
      I += c - b; sumC += c;
      const w = c - b;
      if (w > 0) { sw += w; sx += w * (x0 + x + 0.5); sy += w * (y0 + y + 0.5); sz += w * (z0 + z + 0.5); }
    }
    const vSum = sumC + nFg * nFg * bg.meanVariance;
    out.iSum[r] = I; out.vSum[r] = vSum;
    if (sw > 0) { out.xyzObs[3 * r] = sx / sw; out.xyzObs[3 * r + 1] = sy / sw; out.xyzObs[3 * r + 2] = sz / sw; }
    if (nFgBad > 0) flags |= Flags.failed_during_summation;
    else flags |= Flags.integrated_sum;
    // profile learning: strong, fully recorded, clean reflections only
    if (learn && batch.reference[r] && nFgBad === 0 && !overloaded && I > 0 && I * I > 9 * vSum) {
      // pixel ε-volume: solid angle of a pixel (area·cos α / r²) times the rotation ζ·Δφ per frame
      const nrm = g.normals[p];
      const L = f.s1Length, s = f.s1;
      const cosA = Math.abs(nrm[0] * s[0] + nrm[1] * s[1] + nrm[2] * s[2]) / L;
      const ox = pg.origin[0] + (x0 + nx / 2) * pg.dFast[0] + (y0 + ny / 2) * pg.dSlow[0];
      const oy = pg.origin[1] + (x0 + nx / 2) * pg.dFast[1] + (y0 + ny / 2) * pg.dSlow[1];
      const oz = pg.origin[2] + (x0 + nx / 2) * pg.dFast[2] + (y0 + ny / 2) * pg.dSlow[2];
      const vol = (g.pixelArea[p] * cosA) / (ox * ox + oy * oy + oz * oz) * Math.abs(f.zeta * g.dPhiRad);
      const scale = (dB * dB * dM) / (I * vol);
      const prof = batch.profile[r];
      for (let k = 0; k < n; k++) {
        if (mask[k] !== MASK_FOREGROUND) continue;
        const z = (k / nxy) | 0, j = k - z * nxy;
        const e3 = f.zeta * (g.phi0Rad + (z0 + z + 0.5) * g.dPhiRad - f.phi);
        splat(learn, prof, e1[j] / dB, e2[j] / dB, e3 / dM, (data[k] - backgroundAt(bg, j % nx, (j / nx) | 0, z)) * scale);
      }
      learn.count[prof]++;
    }
    if (!profiles) { out.flags[r] = flags; return; }
    // profile fitting: p_j from the reference profile at each foreground pixel, normalised over the
    // whole foreground (bad pixels included, so their share is estimated, not lost)
    const prof = this.prof, pi = batch.profile[r];
    let norm = 0, normValid = 0;
    for (let k = 0; k < n; k++) {
      if (mask[k] !== MASK_FOREGROUND) continue;
      const z = (k / nxy) | 0, j = k - z * nxy;
      const e3 = f.zeta * (g.phi0Rad + (z0 + z + 0.5) * g.dPhiRad - f.phi);
      const v = profileValue(profiles, pi, e1[j] / dB, e2[j] / dB, e3 / dM);
      prof[k] = v; norm += v;
      if (data[k] >= 0) normValid += v;
    }
    // a profile mostly on gaps or dead pixels would be extrapolated from its tails: refuse
    if (!(norm > 0) || normValid < this.minProfileFraction * norm) { out.flags[r] = flags | Flags.failed_during_profile_fitting; return; }
    // weighted least squares with the model variance b + I·p (Leslie 1999), the weights'
    // intensity clamped at zero so that a weak reflection's negative estimate stays possible
    let Ip = Math.max(I, 0), varP = 0, used = 0;
    for (let it = 0; it < 10; it++) {
      const Iw = Math.max(Ip, 0);
      let num = 0, den = 0;
      used = 0;
      for (let k = 0; k < n; k++) {
        if (mask[k] !== MASK_FOREGROUND || data[k] < 0) continue;
        const z = (k / nxy) | 0, j = k - z * nxy;
        const b = backgroundAt(bg, j % nx, (j / nx) | 0, z);
        const pk = prof[k] / norm;
        const v = Math.max(b + Iw * pk, 1e-6);
        num += (pk * (data[k] - b)) / v; den += (pk * pk) / v;
        used++;
      }
      if (!(den > 0)) break;
      const next = num / den;
      varP = 1 / den;
      const done = Math.abs(next - Ip) < 1e-4 * Math.max(1, Math.abs(Ip));
      Ip = next;
      if (done) break;
    }
    if (used < 3 || !(varP > 0)) { out.flags[r] = flags | Flags.failed_during_profile_fitting; return; }
    // correlation between the fitted profile and the observed signal
    let sp = 0, so = 0, spp = 0, soo = 0, spo = 0;
    for (let k = 0; k < n; k++) {
      if (mask[k] !== MASK_FOREGROUND || data[k] < 0) continue;
      const z = (k / nxy) | 0, j = k - z * nxy;
      const pv = prof[k], ov = data[k] - backgroundAt(bg, j % nx, (j / nx) | 0, z);
      sp += pv; so += ov; spp += pv * pv; soo += ov * ov; spo += pv * ov;
    }
    const m = used;
    const vp = spp - (sp * sp) / m, vo = soo - (so * so) / m;
    const cc = vp > 0 && vo > 0 ? (spo - (sp * so) / m) / Math.sqrt(vp * vo) : 0;
    out.iPrf[r] = Ip; out.vPrf[r] = varP; out.cc[r] = cc;
    out.flags[r] = flags | Flags.integrated_prf;
  }
}
