/**
 * Prediction of every reflection of a rotation scan, for integration: Miller indices inside
 * d_min whose diffraction angle φ falls in the scan (widened by `marginDeg` so that reflections
 * centred just outside still contribute their tails), with the crystal's A taken at the frame of
 * the reflection itself when the model is scan-varying.
 *
 * Scan-varying: A changes (slowly) with φ, so the φ solved with A at one frame need not be the
 * frame A came from. We solve with the static A, then re-solve with A interpolated at the frame
 * of that solution until the frame moves by less than 1e-6 (two or three passes in practice):
 * the fixed point is the crossing the scan-varying model predicts.
 */
import type { Mat3 } from '../math/mat3.js';
import { Crystal } from '../models/crystal.js';
import type { Experiment } from '../models/types.js';
import { Beam } from '../models/beam.js';
import { Panel } from '../models/detector.js';
import { diffractedBeam, invert3, panelHit, panelPlane, rotationAngles, type RotationGeometry } from '../geometry/prediction.js';
import { UserError } from '../errors.js';

const DEG = Math.PI / 180;

export interface Predictions {
  n: number;
  miller: Int32Array;
  /** 1 when the point enters the Ewald sphere at this crossing. */
  entering: Uint8Array;
  panel: Int32Array;
  s1: Float64Array;
  /** x, y mm; φ radians (DIALS' xyzcal.mm). */
  xyzMm: Float64Array;
  /** x, y px; z frame coordinate (DIALS' xyzcal.px). */
  xyzPx: Float64Array;
  d: Float64Array;
  /** ζ = m2·e1: the rotation's component across the Ewald sphere (Kabsch 2010). */
  zeta: Float64Array;
}

export function rotationGeometry(e: Experiment): RotationGeometry {
  const g = e.goniometer!;
  const ax = g.rotationAxis, l = Math.hypot(ax[0], ax[1], ax[2]);
  return { s0: Beam.s0(e.beam!), axis: [ax[0] / l, ax[1] / l, ax[2] / l], fixedRotation: g.fixedRotation, settingRotation: g.settingRotation };
}

/** Lab-frame unit rotation axis m2 = S·axis. */
export function labAxis(geom: RotationGeometry): [number, number, number] {
  const S = geom.settingRotation, a = geom.axis;
  return [S[0] * a[0] + S[1] * a[1] + S[2] * a[2], S[3] * a[0] + S[4] * a[1] + S[5] * a[2], S[6] * a[0] + S[7] * a[1] + S[8] * a[2]];
}

/** Growable typed column, so the prediction loop allocates nothing per reflection. */
class Column<T extends Float64Array | Int32Array | Uint8Array> {
  length = 0;
  constructor(public data: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.length === this.data.length) { const d = this.make(this.data.length * 2); d.set(this.data as any); this.data = d; }
    this.data[this.length++] = v;
  }
  done(): T { return this.data.slice(0, this.length) as T; }
}

export function predictScan(e: Experiment, dMin: number, marginDeg: number): Predictions {
  if (!e.crystal) throw new UserError('experiment has no crystal model: integrate needs indexed (refined) experiments', 'no_crystal');
  if (!e.scan || !e.goniometer || !e.beam || !e.detector) throw new UserError('integrate needs a rotation scan with beam, detector and goniometer models', 'no_scan');
  const scan = e.scan, geom = rotationGeometry(e);
  const nImages = scan.imageRange[1] - scan.imageRange[0] + 1;
  const phi0 = scan.oscillation[0] * DEG, dPhi = scan.oscillation[1] * DEG;
  if (dPhi === 0) throw new UserError('integrate: the scan has zero oscillation (stills are not supported)', 'still');
  const lo = Math.min(phi0, phi0 + nImages * dPhi) - marginDeg * DEG, hi = Math.max(phi0, phi0 + nImages * dPhi) + marginDeg * DEG;
  const planes = e.detector.panels.map(panelPlane);
  const Astatic = Crystal.A(e.crystal);
  const pts = e.crystal.AAtScanPoints;
  const flatPts = pts && pts.length > 1 ? Float64Array.from(pts.flat()) : null;
  const nPts = pts?.length ?? 0;
  const A = new Float64Array(9);
  const setA = (z: number) => {
    if (!flatPts) return;
    const zc = Math.min(Math.max(z, 0), nPts - 1);
    const i0 = Math.min(Math.floor(zc), nPts - 2), t = zc - i0;
    for (let k = 0; k < 9; k++) A[k] = flatPts[9 * i0 + k] * (1 - t) + flatPts[9 * (i0 + 1) + k] * t;
  };
  const Ainv = invert3(Astatic);
  // a little slack on the index limits: the scan-varying cell may be larger than the static one
  const lim = (r: number) => Math.ceil(1.02 * Math.hypot(Ainv[3 * r], Ainv[3 * r + 1], Ainv[3 * r + 2]) / dMin);
  const [hm, km, lm] = [lim(0), lim(1), lim(2)];
  const maxRecip2 = 1 / (dMin * dMin);
  const m2 = labAxis(geom), s0 = geom.s0;
  const miller = new Column(new Int32Array(3 << 16), (n) => new Int32Array(n));
  const entering = new Column(new Uint8Array(1 << 16), (n) => new Uint8Array(n));
  const panel = new Column(new Int32Array(1 << 16), (n) => new Int32Array(n));
  const s1c = new Column(new Float64Array(3 << 16), (n) => new Float64Array(n));
  const mm = new Column(new Float64Array(3 << 16), (n) => new Float64Array(n));
  const px = new Column(new Float64Array(3 << 16), (n) => new Float64Array(n));
  const dc = new Column(new Float64Array(1 << 16), (n) => new Float64Array(n));
  const zc = new Column(new Float64Array(1 << 16), (n) => new Float64Array(n));
  const two = new Float64Array(2), s1 = new Float64Array(3), xy = new Float64Array(2), pxy = new Float64Array(2);
  const twoPi = 2 * Math.PI;
  for (let h = -hm; h <= hm; h++) for (let k = -km; k <= km; k++) for (let l = -lm; l <= lm; l++) {
    if (h === 0 && k === 0 && l === 0) continue;
    const rx = Astatic[0] * h + Astatic[1] * k + Astatic[2] * l, ry = Astatic[3] * h + Astatic[4] * k + Astatic[5] * l, rz = Astatic[6] * h + Astatic[7] * k + Astatic[8] * l;
    if (rx * rx + ry * ry + rz * rz > 1.05 * maxRecip2) continue;
    if (!rotationAngles(geom, Astatic, h, k, l, two)) continue;
    for (let j = 0; j < 2; j++) {
      let phi = lo + ((((two[j] - lo) % twoPi) + twoPi) % twoPi);
      if (phi > hi) continue;
      let Ause: Mat3 | Float64Array = Astatic;
      if (flatPts) {
        let ok = true;
        for (let it = 0; it < 6; it++) {
          setA((phi - phi0) / dPhi);
          if (!rotationAngles(geom, A, h, k, l, two)) { ok = false; break; }
          const next = phi + ((((two[j] - phi + Math.PI) % twoPi) + twoPi) % twoPi) - Math.PI;
          const moved = Math.abs(next - phi) / Math.abs(dPhi);
          phi = next;
          if (moved < 1e-6) break;
        }
        if (!ok || phi < lo || phi > hi) continue;
        setA((phi - phi0) / dPhi);
        Ause = A;
      }
      const r2 = (() => {
        const x = Ause[0] * h + Ause[1] * k + Ause[2] * l, y = Ause[3] * h + Ause[4] * k + Ause[5] * l, z = Ause[6] * h + Ause[7] * k + Ause[8] * l;
        return x * x + y * y + z * z;
      })();
      if (r2 > maxRecip2) continue;
      diffractedBeam(geom, Ause, h, k, l, phi, s1);
      const p = panelHit(planes, s1[0], s1[1], s1[2], xy);
      if (p < 0) continue;
      Panel.mmToPixelInto(e.detector.panels[p], xy[0], xy[1], pxy);
      // e1 = s1 × s0 / |s1 × s0|; ζ = m2·e1
      const cx = s1[1] * s0[2] - s1[2] * s0[1], cy = s1[2] * s0[0] - s1[0] * s0[2], cz = s1[0] * s0[1] - s1[1] * s0[0];
      const zeta = (m2[0] * cx + m2[1] * cy + m2[2] * cz) / Math.hypot(cx, cy, cz);
      miller.push(h); miller.push(k); miller.push(l);
      entering.push(j === 0 ? 1 : 0);
      panel.push(p);
      s1c.push(s1[0]); s1c.push(s1[1]); s1c.push(s1[2]);
      mm.push(xy[0]); mm.push(xy[1]); mm.push(phi);
      px.push(pxy[0]); px.push(pxy[1]); px.push((phi - phi0) / dPhi);
      dc.push(1 / Math.sqrt(r2));
      zc.push(zeta);
    }
  }
  return {
    n: panel.length, miller: miller.done(), entering: entering.done(), panel: panel.done(), s1: s1c.done(),
    xyzMm: mm.done(), xyzPx: px.done(), d: dc.done(), zeta: zc.done(),
  };
}
