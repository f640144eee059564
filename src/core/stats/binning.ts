/**
 * Resolution binning. Shells of equal volume in reciprocal space (equal steps in 1/d³) hold about
 * the same number of possible reflections each, so per-shell statistics have comparable noise —
 * the binning DIALS' merging statistics use.
 */

export interface ResolutionBins {
  /** Number of bins. */
  n: number;
  /** Bin limits in d (Å): bin i spans dMax[i] ≥ d > dMin[i]; dMax[0] is the overall low-resolution limit. */
  dMax: Float64Array;
  dMin: Float64Array;
  /** Bin index for a d-spacing (clamped to the first/last bin). */
  indexOf(d: number): number;
}

export function equalVolumeBins(dMinOverall: number, dMaxOverall: number, nBins: number): ResolutionBins {
  if (!(dMinOverall > 0) || !(dMaxOverall > dMinOverall) || !(nBins >= 1)) {
    throw new RangeError(`bad resolution range ${dMaxOverall}–${dMinOverall} Å for ${nBins} bins`);
  }
  const s3Lo = 1 / dMaxOverall ** 3;
  const s3Hi = 1 / dMinOverall ** 3;
  const step = (s3Hi - s3Lo) / nBins;
  const dMax = new Float64Array(nBins), dMin = new Float64Array(nBins);
  for (let i = 0; i < nBins; i++) {
    dMax[i] = i === 0 ? dMaxOverall : 1 / Math.cbrt(s3Lo + i * step);
    dMin[i] = i === nBins - 1 ? dMinOverall : 1 / Math.cbrt(s3Lo + (i + 1) * step);
  }
  return {
    n: nBins, dMax, dMin,
    indexOf(d: number): number {
      const i = Math.floor((1 / (d * d * d) - s3Lo) / step);
      return i < 0 ? 0 : i >= nBins ? nBins - 1 : i;
    },
  };
}

/** Shells with equal numbers of items, from d-spacings (used for E² normalisation, where the data define the shells). */
export function equalCountBinIndex(d: ArrayLike<number>, nBins: number): { bin: Int32Array; n: number } {
  const order = Array.from({ length: d.length }, (_, i) => i).sort((a, b) => d[b] - d[a]);
  const n = Math.max(1, Math.min(nBins, d.length));
  const bin = new Int32Array(d.length);
  for (let r = 0; r < order.length; r++) bin[order[r]] = Math.min(n - 1, Math.floor((r * n) / order.length));
  return { bin, n };
}
