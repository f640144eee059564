/**
 * Simulated multi-crystal data with an indexing ambiguity, for tests and benchmarks: one set of
 * "true" intensities with the symmetry of a Patterson group (Wilson statistics: exponential for
 * acentric, χ²₁ for centric reflections, B-factor fall-off), measured as many partial datasets —
 * each a band of reciprocal space around a random great circle (what a short rotation wedge
 * records), with its own scale and B, Poisson-like noise over a background — and each indexed in
 * a random one of the lattice's equivalent settings.
 */
import { mulberry32 } from '../math/random.js';
import { normaliseE2 } from '../stats/prepare.js';
import type { IntMat3 } from '../symmetry/op.js';
import { SpaceGroup } from '../symmetry/spacegroup.js';
import { UnitCell } from '../symmetry/unitcell.js';
import { friedelKey, mulRot } from './correlation.js';
import type { CosymDataset } from './correlation.js';

export interface SimulatedSet {
  datasets: CosymDataset[];
  /** Per dataset, the setting it was indexed in: h_observed = h_true·R. */
  settingOps: IntMat3[];
  cell: UnitCell;
}

export interface SimulationOptions {
  cell: UnitCell;
  /** Rotations of the true Patterson group (acting h → h·R), the basis of `cell`. */
  symmetry: readonly IntMat3[];
  /** Settings to draw from (the lattice group's rotations). */
  settings: readonly IntMat3[];
  nDatasets: number;
  dMin: number;
  seed: number;
  /** Half-width of the measured band, as |cos| of the angle to the wedge axis. */
  bandHalfWidth?: number;
  /** Mean intensity at low resolution, photons. */
  meanIntensity?: number;
  background?: number;
}

function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-300), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function simulateDatasets(o: SimulationOptions): SimulatedSet {
  const rand = mulberry32(o.seed);
  const cell = o.cell;
  const B = 20, mean0 = o.meanIntensity ?? 300, bg = o.background ?? 300, band = o.bandHalfWidth ?? 0.3;
  const hmax = Math.floor(cell.a / o.dMin) + 1, kmax = Math.floor(cell.b / o.dMin) + 1, lmax = Math.floor(cell.c / o.dMin) + 1;
  const truth = new Map<number, number>();
  const all: number[] = [];
  for (let h = -hmax; h <= hmax; h++) for (let k = -kmax; k <= kmax; k++) for (let l = -lmax; l <= lmax; l++) {
    if (!h && !k && !l) continue;
    const s2 = UnitCell.dStarSq(cell, h, k, l);
    if (s2 > 1 / (o.dMin * o.dMin)) continue;
    all.push(h, k, l);
  }
  // true intensity per symmetry orbit (±, under the group)
  const orbitKey = (h: number, k: number, l: number) => {
    let best = Infinity;
    for (const R of o.symmetry) {
      const a = h * R[0] + k * R[3] + l * R[6], b = h * R[1] + k * R[4] + l * R[7], c = h * R[2] + k * R[5] + l * R[8];
      best = Math.min(best, friedelKey(a, b, c));
    }
    return best;
  };
  const trueI = (h: number, k: number, l: number) => {
    const key = orbitKey(h, k, l);
    let I = truth.get(key);
    if (I === undefined) {
      // centric when some element maps h to −h
      const centric = o.symmetry.some((R) => h * R[0] + k * R[3] + l * R[6] === -h && h * R[1] + k * R[4] + l * R[7] === -k && h * R[2] + k * R[5] + l * R[8] === -l);
      const s2 = UnitCell.dStarSq(cell, h, k, l);
      const mean = mean0 * Math.exp(-B * s2 / 2);
      I = centric ? mean * gauss(rand) ** 2 : -mean * Math.log(Math.max(rand(), 1e-300));
      truth.set(key, I);
    }
    return I;
  };
  const datasets: CosymDataset[] = [];
  const settingOps: IntMat3[] = [];
  const P1 = SpaceGroup.find('P 1');
  for (let i = 0; i < o.nDatasets; i++) {
    // wedge axis as a reciprocal-space direction (orthonormal frame via the metric)
    const n = [gauss(rand), gauss(rand), gauss(rand)];
    const nn = Math.hypot(n[0], n[1], n[2]);
    const scale = 0.5 + 1.5 * rand(), dB = -5 + 10 * rand();
    const R = o.settings[Math.floor(rand() * o.settings.length)];
    const hkl: number[] = [], I: number[] = [], sig: number[] = [], d: number[] = [];
    const Bm = UnitCell.bMatrix(cell);
    for (let q = 0; q < all.length; q += 3) {
      const h = all[q], k = all[q + 1], l = all[q + 2];
      const x = Bm[0] * h + Bm[1] * k + Bm[2] * l, y = Bm[3] * h + Bm[4] * k + Bm[5] * l, z = Bm[6] * h + Bm[7] * k + Bm[8] * l;
      const r = Math.hypot(x, y, z);
      if (Math.abs((x * n[0] + y * n[1] + z * n[2]) / (r * nn)) > band || rand() > 0.8) continue;
      const s2 = r * r;
      const Iexp = scale * Math.exp(-2 * dB * s2 / 4) * trueI(h, k, l);
      const sigma = Math.sqrt(Iexp + 2 * bg);
      const Iobs = Iexp + sigma * gauss(rand);
      const ho = mulRot([h, k, l, 0, 0, 0, 0, 0, 0], R);
      hkl.push(ho[0], ho[1], ho[2]); I.push(Iobs); sig.push(sigma); d.push(1 / r);
    }
    const miller = Int32Array.from(hkl);
    const { E2 } = normaliseE2(miller, Float64Array.from(d), Float64Array.from(I), Float64Array.from(sig), P1);
    datasets.push({ hkl: miller, E2 });
    settingOps.push(R);
  }
  return { datasets, settingOps, cell };
}
