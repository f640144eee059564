/**
 * Gaussian smoothing of a few parameters along the rotation angle: the scale and decay terms of the
 * physical model are each a short list of values at evenly spaced angles, and a reflection's value
 * is the Gaussian-weighted average of its neighbours. This keeps the correction smooth (the beam
 * and the crystal change slowly with rotation) with few parameters (Beilsten-Edmands et al. 2020).
 */

/** Gaussian width in units of the parameter spacing: wide enough to blend neighbours, narrow enough to stay local. */
export const SMOOTHER_SIGMA = 0.65;
/** Parameters further than this (in spacings) have negligible weight and are skipped. */
const REACH = 2.5;
/** Maximum number of parameters one reflection can depend on. */
export const SMOOTHER_MAX_NEIGHBOURS = 6;

export interface SmootherLayout {
  /** Number of parameters; 1 means a constant (the KB model). */
  nParams: number;
  /** Angle of the scan start, degrees. */
  startDeg: number;
  /** Parameter spacing, degrees (Infinity for a constant). */
  intervalDeg: number;
}

/**
 * Choose the parameter count for a scan: ceil(range/interval) intervals plus one parameter beyond
 * each end so both scan edges are interpolated, not extrapolated.
 */
export function smootherForScan(startDeg: number, rangeDeg: number, intervalDeg: number): SmootherLayout {
  const nInt = Math.max(1, Math.ceil(rangeDeg / intervalDeg - 1e-9));
  return { nParams: nInt + 2, startDeg, intervalDeg: rangeDeg / nInt };
}

export function constantSmoother(): SmootherLayout {
  return { nParams: 1, startDeg: 0, intervalDeg: Infinity };
}

/** Parameter i sits at startDeg + (i − ½)·interval. */
export function smootherPositionDeg(s: SmootherLayout, i: number): number {
  return s.nParams === 1 ? s.startDeg : s.startDeg + (i - 0.5) * s.intervalDeg;
}

/**
 * Normalised weights of the parameters around `phiDeg`: writes the first index into first[at] and
 * SMOOTHER_MAX_NEIGHBOURS weights into w[at·K …] (unused slots zero).
 */
export function smootherWeights(s: SmootherLayout, phiDeg: number, first: Int32Array, w: Float64Array, at: number): void {
  const K = SMOOTHER_MAX_NEIGHBOURS;
  const base = at * K;
  for (let k = 0; k < K; k++) w[base + k] = 0;
  if (s.nParams === 1) { first[at] = 0; w[base] = 1; return; }
  const t = (phiDeg - s.startDeg) / s.intervalDeg + 0.5;
  let i0 = Math.max(0, Math.ceil(t - REACH));
  const i1 = Math.min(s.nParams - 1, Math.floor(t + REACH));
  if (i1 - i0 + 1 > K) i0 = i1 - K + 1;
  let sum = 0;
  for (let i = i0; i <= i1; i++) {
    const d = (t - i) / SMOOTHER_SIGMA;
    const v = Math.exp(-0.5 * d * d);
    w[base + i - i0] = v;
    sum += v;
  }
  if (sum === 0) { // far outside the scan: hold the nearest end value
    const i = t < 0 ? 0 : s.nParams - 1;
    first[at] = i; w[base] = 1; return;
  }
  for (let k = 0; k < K; k++) w[base + k] /= sum;
  first[at] = i0;
}
