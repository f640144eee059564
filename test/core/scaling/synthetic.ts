/**
 * Synthetic rotation sweeps with known truth for the scaling tests: Wilson-distributed intensities
 * of unique reflections in P 2 2 2, each observed several times as a random symmetry mate at a
 * random rotation angle and direction, multiplied by a known inverse scale g(φ, d, s0, s1) and
 * given Poisson-like noise (optionally inflated by a known error model).
 */
import type { SweepData } from '../../../src/core/scaling/data.js';
import { HAS_PRF, HAS_SUM } from '../../../src/core/stats/prepare.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { evalHarmonics } from '../../../src/core/scaling/harmonics.js';
import { goniometerRotation } from '../../../src/core/scaling/problem.js';

import { mulberry32 as rng } from '../../../src/core/math/random.js';
export { rng };

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
}

export interface SyntheticOptions {
  seed: number;
  nUnique: number;
  multiplicity: number;
  nImages: number;
  oscDeg: number;
  /** Relative scale along the rotation, φ in degrees from the scan start. */
  scale: (phiDeg: number) => number;
  /** Relative B (Å²) along the rotation. */
  decayB: (phiDeg: number) => number;
  /** Absorption surface coefficients (l = 1…lmax order), or null. */
  absorption: { lmax: number; coeffs: number[] } | null;
  /** True error model inflating the noise while σ reports only counting noise. */
  trueErrorModel: { a: number; b: number };
  /** Multiply all observations on these images by the given factor. */
  corrupt?: Map<number, number>;
  meanIntensity: number;
  /** Seed of the unique reflections and their intensities (the crystal); sweeps sharing it see the same crystal. */
  crystalSeed?: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  seed: 1, nUnique: 1500, multiplicity: 6, nImages: 1800, oscDeg: 0.1,
  scale: () => 1, decayB: () => 0, absorption: null, trueErrorModel: { a: 1, b: 0 }, meanIntensity: 2000,
};

const CELL = [40, 50, 60];
const OPS_222 = [[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]];

/** The sweep plus the truth: every row's true inverse scale and its unique reflection's intensity. */
export function syntheticSweep(o: Partial<SyntheticOptions> = {}): { sweep: SweepData; gTrue: Float64Array; iTrue: Float64Array } {
  const opt = { ...DEFAULT_SYNTHETIC, ...o };
  const r = rng(opt.seed);
  const rc = rng(opt.crystalSeed ?? opt.seed + 7919);
  const uniques: [number, number, number, number][] = [];
  const seen = new Set<string>();
  while (uniques.length < opt.nUnique) {
    const h = Math.floor(rc() * 16), k = Math.floor(rc() * 20), l = Math.floor(rc() * 24);
    if (h + k + l === 0) continue;
    const key = `${h},${k},${l}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s2 = (h / CELL[0]) ** 2 + (k / CELL[1]) ** 2 + (l / CELL[2]) ** 2;
    uniques.push([h, k, l, -opt.meanIntensity * Math.log(rc() + 1e-12) * Math.exp(-10 * s2)]);
  }
  const n = opt.nUnique * opt.multiplicity;
  const miller = new Int32Array(3 * n), I = new Float64Array(n), V = new Float64Array(n);
  const d = new Float64Array(n), z = new Float64Array(n), s1 = new Float64Array(3 * n);
  const gTrue = new Float64Array(n), iTrue = new Float64Array(n);
  const wl = 1;
  const s0: [number, number, number] = [0, 0, -1 / wl];
  const ident: [number, number, number, number, number, number, number, number, number] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const work = new Float64Array(100), ya = new Float64Array(100), yb = new Float64Array(100);
  let row = 0;
  for (const [h, k, l, Iu] of uniques) {
    for (let m = 0; m < opt.multiplicity; m++, row++) {
      const op = OPS_222[Math.floor(r() * 4)], f = r() < 0.5 ? -1 : 1;
      miller[3 * row] = f * op[0] * h; miller[3 * row + 1] = f * op[1] * k; miller[3 * row + 2] = f * op[2] * l;
      d[row] = 1 / Math.sqrt((h / CELL[0]) ** 2 + (k / CELL[1]) ** 2 + (l / CELL[2]) ** 2);
      z[row] = r() * opt.nImages;
      const phi = z[row] * opt.oscDeg;
      // a random diffracted direction on the Ewald sphere's forward half
      const ct = -r() * 0.9, st = Math.sqrt(1 - ct * ct), ph = 2 * Math.PI * r();
      s1[3 * row] = (st * Math.cos(ph)) / wl; s1[3 * row + 1] = (st * Math.sin(ph)) / wl; s1[3 * row + 2] = ct / wl;
      let A = 1;
      if (opt.absorption) {
        const R = goniometerRotation([1, 0, 0], ident, ident, phi);
        evalHarmonics(-(R[0] * s0[0] + R[3] * s0[1] + R[6] * s0[2]), -(R[1] * s0[0] + R[4] * s0[1] + R[7] * s0[2]), -(R[2] * s0[0] + R[5] * s0[1] + R[8] * s0[2]), opt.absorption.lmax, ya, 0, work);
        const x = s1[3 * row], y = s1[3 * row + 1], zz = s1[3 * row + 2];
        evalHarmonics(R[0] * x + R[3] * y + R[6] * zz, R[1] * x + R[4] * y + R[7] * zz, R[2] * x + R[5] * y + R[8] * zz, opt.absorption.lmax, yb, 0, work);
        opt.absorption.coeffs.forEach((c, j) => { A += c * 0.5 * (ya[j] + yb[j]); });
      }
      const g = opt.scale(phi) * Math.exp(opt.decayB(phi) / (2 * d[row] ** 2)) * A;
      const corrupt = opt.corrupt?.get(1 + Math.floor(z[row])) ?? 1;
      const mean = g * Iu;
      const varCount = Math.max(mean, 0) + 50; // counts plus background
      const { a, b } = opt.trueErrorModel;
      const sdTrue = a * Math.sqrt(varCount + (b * mean) ** 2);
      I[row] = (mean + sdTrue * gauss(r)) * corrupt;
      V[row] = varCount;
      gTrue[row] = g; iTrue[row] = Iu;
    }
  }
  const flags = new Float64Array(n).fill(Flags.integrated_sum | Flags.integrated_prf | Flags.predicted);
  return {
    sweep: {
      identifier: `synthetic-${opt.seed}`, miller, flags, d, zFrame: z, s1,
      intensities: {
        prfI: I, prfV: V, sumI: Float64Array.from(I), sumV: Float64Array.from(V), has: new Uint8Array(n).fill(HAS_SUM | HAS_PRF),
        partiality: new Float64Array(n).fill(1), conv: null, partOf: new Int32Array(n).fill(-1),
      },
      s0, rotationAxis: [1, 0, 0], fixedRotation: ident, settingRotation: ident,
      imageRange: [1, opt.nImages], oscillation: [0, opt.oscDeg],
    },
    gTrue, iTrue,
  };
}
