/**
 * Reciprocal-lattice points of observed spots: s1 from the spot's lab position, r = s1 − s0 at
 * the spot's φ, rotated back to φ = 0 in the crystal frame: x = F⁻¹·R(axis, −φ)·S⁻¹·r, so that a
 * correct A satisfies A·h = x. Works for any panel and any S/F, so multi-panel detectors and
 * multi-axis goniometers need nothing special here.
 */
import type { Experiment } from '../models/types.js';
import { Mat3 } from '../math/mat3.js';
import type { RefinementData } from '../refinement/target.js';
import { rotateAboutAxis } from '../geometry/prediction.js';

/** rlps interleaved (x, y, z) in Å⁻¹, one per observation. */
export function reciprocalLatticePoints(data: RefinementData, experiments: readonly Experiment[]): Float64Array {
  const n = data.experiment.length;
  const out = new Float64Array(3 * n);
  const tmp = new Float64Array(3);
  const geo = experiments.map((e) => {
    const g = e.goniometer!;
    const s0 = e.beam!.direction.map((v) => -v / e.beam!.wavelength);
    return { s0, invS: Mat3.transpose(g.settingRotation), invF: Mat3.transpose(g.fixedRotation), axis: g.rotationAxis, k: 1 / e.beam!.wavelength };
  });
  for (let i = 0; i < n; i++) {
    const e = experiments[data.experiment[i]];
    const G = geo[data.experiment[i]];
    const p = e.detector!.panels[data.panel[i]];
    const x = data.xObs[i], y = data.yObs[i];
    const lx = p.origin[0] + x * p.fastAxis[0] + y * p.slowAxis[0];
    const ly = p.origin[1] + x * p.fastAxis[1] + y * p.slowAxis[1];
    const lz = p.origin[2] + x * p.fastAxis[2] + y * p.slowAxis[2];
    const f = G.k / Math.hypot(lx, ly, lz);
    const rx = lx * f - G.s0[0], ry = ly * f - G.s0[1], rz = lz * f - G.s0[2];
    const S = G.invS;
    const ux = S[0] * rx + S[1] * ry + S[2] * rz, uy = S[3] * rx + S[4] * ry + S[5] * rz, uz = S[6] * rx + S[7] * ry + S[8] * rz;
    rotateAboutAxis(G.axis, -data.phiObs[i], ux, uy, uz, tmp);
    const F = G.invF;
    out[3 * i] = F[0] * tmp[0] + F[1] * tmp[1] + F[2] * tmp[2];
    out[3 * i + 1] = F[3] * tmp[0] + F[4] * tmp[1] + F[5] * tmp[2];
    out[3 * i + 2] = F[6] * tmp[0] + F[7] * tmp[1] + F[8] * tmp[2];
  }
  return out;
}

/** 1/|x| for each rlp: the resolution d (Å) of the spot. */
export function rlpResolution(rlp: Float64Array): Float64Array {
  const n = rlp.length / 3;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = 1 / Math.hypot(rlp[3 * i], rlp[3 * i + 1], rlp[3 * i + 2]);
  return d;
}
