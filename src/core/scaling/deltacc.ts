/**
 * ΔCC½ analysis (Assmann, Brehm & Diederichs 2016): for each group of observations (a whole
 * dataset, or a block of consecutive images of one sweep) compute CC½ of all data minus CC½ of the
 * data without that group. A group that is inconsistent with the rest *raises* CC½ when left out,
 * so its ΔCC½ is strongly negative; groups below mean − stdcutoff·σ of the distribution are removed.
 * CC½ is the σ-τ estimate over all unique reflections, so leaving a group out only needs the
 * per-reflection sums of that group: O(observations) for all groups together.
 */
import type { ScalingProblem } from './problem.js';

export interface ObservationGroup {
  sweep: number;
  /** Image range (inclusive) of the group. */
  firstImage: number;
  lastImage: number;
}

export interface DeltaCcResult {
  ccHalfAll: number;
  /** ΔCC½ per group (CC½(all) − CC½(without group)); NaN when the group has no observations. */
  delta: Float64Array;
  mean: number;
  sigma: number;
  /** Groups whose ΔCC½ < mean − stdcutoff·σ, most negative first. */
  flagged: number[];
}

/** Image-group or whole-dataset groups covering every sweep of the problem. */
export function makeGroups(pr: ScalingProblem, mode: 'dataset' | 'image_group', groupSize: number): ObservationGroup[] {
  const out: ObservationGroup[] = [];
  pr.sweeps.forEach((s, si) => {
    const [a, b] = s.imageRange;
    if (mode === 'dataset') { out.push({ sweep: si, firstImage: a, lastImage: b }); return; }
    for (let i = a; i <= b; i += groupSize) out.push({ sweep: si, firstImage: i, lastImage: Math.min(b, i + groupSize - 1) });
  });
  return out;
}

export function deltaCcHalf(pr: ScalingProblem, g: Float64Array, groups: ObservationGroup[], stdcutoff: number): DeltaCcResult {
  // group index of each observation
  const gi = new Int32Array(pr.nObs).fill(-1);
  const bySweep = new Map<number, ObservationGroup[]>();
  groups.forEach((gr) => { const l = bySweep.get(gr.sweep) ?? []; l.push(gr); bySweep.set(gr.sweep, l); });
  // Every observation counts, outliers included: a group whose observations the outlier test keeps
  // rejecting one by one is exactly the kind of group ΔCC½ is meant to find.
  for (let o = 0; o < pr.nObs; o++) {
    const img = pr.image[o];
    const list = bySweep.get(pr.sweepOf[o]);
    if (!list) continue;
    for (const gr of list) if (img >= gr.firstImage && img <= gr.lastImage) { gi[o] = groups.indexOf(gr); break; }
  }
  // per-unique sums of scaled intensities
  const n = new Float64Array(pr.nGroups), sx = new Float64Array(pr.nGroups), sxx = new Float64Array(pr.nGroups);
  for (let o = 0; o < pr.nObs; o++) {
    if (gi[o] < 0) continue;
    const x = pr.I[o] / g[o], u = pr.group[o];
    n[u]++; sx[u] += x; sxx[u] += x * x;
  }
  const contrib = (nn: number, s: number, ss: number, out: number[]) => {
    if (nn < 2) { out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0; return; }
    const mean = s / nn;
    out[0] = 1; out[1] = mean; out[2] = mean * mean; out[3] = Math.max(0, (ss - nn * mean * mean) / (nn - 1)) / nn;
  };
  const tot = [0, 0, 0, 0], c = [0, 0, 0, 0], c2 = [0, 0, 0, 0];
  for (let u = 0; u < pr.nGroups; u++) { contrib(n[u], sx[u], sxx[u], c); for (let k = 0; k < 4; k++) tot[k] += c[k]; }
  const cc = (t: number[]) => {
    const k = t[0];
    if (k < 3) return NaN;
    const mu = t[1] / k;
    const varY = (t[2] - k * mu * mu) / (k - 1);
    const varE = t[3] / k;
    return (varY - varE) / (varY + varE);
  };
  const ccAll = cc(tot);
  // observations sorted by (group, unique) so each group's per-unique sums are runs
  const idx = Array.from({ length: pr.nObs }, (_, o) => o).filter((o) => gi[o] >= 0).sort((a, b) => gi[a] - gi[b] || pr.group[a] - pr.group[b]);
  const delta = new Float64Array(groups.length).fill(NaN);
  let r = 0;
  while (r < idx.length) {
    const G = gi[idx[r]];
    const t = tot.slice();
    while (r < idx.length && gi[idx[r]] === G) {
      const u = pr.group[idx[r]];
      let gn = 0, gs = 0, gss = 0;
      while (r < idx.length && gi[idx[r]] === G && pr.group[idx[r]] === u) {
        const x = pr.I[idx[r]] / g[idx[r]];
        gn++; gs += x; gss += x * x; r++;
      }
      contrib(n[u], sx[u], sxx[u], c);
      contrib(n[u] - gn, sx[u] - gs, sxx[u] - gss, c2);
      for (let k = 0; k < 4; k++) t[k] += c2[k] - c[k];
    }
    delta[G] = ccAll - cc(t);
  }
  const vals = Array.from(delta).filter(Number.isFinite);
  const mean = vals.reduce((a, b) => a + b, 0) / Math.max(1, vals.length);
  const sigma = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, vals.length - 1));
  const flagged = Array.from(delta.keys()).filter((k) => Number.isFinite(delta[k]) && delta[k] < mean - stdcutoff * sigma).sort((a, b) => delta[a] - delta[b]);
  return { ccHalfAll: ccAll, delta, mean, sigma, flagged };
}
