/**
 * Reference profiles in the Kabsch frame (the `fit_method=reciprocal_space` idea of Kabsch 2010 and
 * DIALS): each strong, fully recorded reflection contributes its background-subtracted pixels,
 * scaled to unit intensity and divided by the pixel's ε-volume (so profiles from different
 * positions and ζ are densities on one scale), to a (2g+1)³ grid spanning the reflection's own
 * foreground, ±δb, ±δb, ±δm: coordinates are given in units of δ (u = ε/δ ∈ [−1, 1]), so
 * reflections whose profile width depends on resolution still share one grid. Profiles
 * are kept on a coarse grid of positions over each panel (3 × 3) and the scan (every
 * `scanStepFrames`), since the shape changes slowly across the detector and with φ.
 *
 * A grid is accumulated as Σ w·v and Σ w with trilinear splatting weights w, so the result is a
 * local weighted mean of the contributed densities whatever the sampling.
 */

export interface ProfileGridSpec {
  /** half-size g: the grid has 2g+1 points per axis */
  halfSize: number;
  nPanels: number;
  panelSizes: [number, number][];
  nFrames: number;
  scanStepFrames: number;
}

export interface ProfileAccumulator {
  spec: ProfileGridSpec;
  /** per profile: Σ w·v over grid points */
  sumWV: Float64Array;
  sumW: Float64Array;
  /** reflections contributing per profile */
  count: Int32Array;
}

export function gridPoints(s: ProfileGridSpec): number {
  const n = 2 * s.halfSize + 1;
  return n * n * n;
}

export function numProfiles(s: ProfileGridSpec): number {
  return s.nPanels * 9 * numScanBins(s);
}

export function numScanBins(s: ProfileGridSpec): number {
  return Math.max(1, Math.ceil(s.nFrames / s.scanStepFrames));
}

export function emptyAccumulator(spec: ProfileGridSpec): ProfileAccumulator {
  const n = numProfiles(spec) * gridPoints(spec);
  return { spec, sumWV: new Float64Array(n), sumW: new Float64Array(n), count: new Int32Array(numProfiles(spec)) };
}

/** Add b into a (same spec); used in block order so the sum does not depend on the worker count. */
export function addAccumulator(a: ProfileAccumulator, b: ProfileAccumulator): void {
  for (let i = 0; i < a.sumWV.length; i++) { a.sumWV[i] += b.sumWV[i]; a.sumW[i] += b.sumW[i]; }
  for (let i = 0; i < a.count.length; i++) a.count[i] += b.count[i];
}

/** Index of the reference profile for a reflection at pixel (x, y) on `panel`, frame z. */
export function profileIndex(s: ProfileGridSpec, panel: number, x: number, y: number, z: number): number {
  const [w, h] = s.panelSizes[panel];
  const ix = Math.min(2, Math.max(0, Math.floor((3 * x) / w)));
  const iy = Math.min(2, Math.max(0, Math.floor((3 * y) / h)));
  const iz = Math.min(numScanBins(s) - 1, Math.max(0, Math.floor(z / s.scanStepFrames)));
  return ((panel * numScanBins(s) + iz) * 3 + iy) * 3 + ix;
}

/** Centre (x px, y px, z frame) of profile p, for the log. */
export function profileCentre(s: ProfileGridSpec, p: number): { panel: number; x: number; y: number; z: number } {
  const ix = p % 3, iy = Math.floor(p / 3) % 3, rest = Math.floor(p / 9), nz = numScanBins(s);
  const iz = rest % nz, panel = Math.floor(rest / nz);
  const [w, h] = s.panelSizes[panel];
  return { panel, x: ((ix + 0.5) * w) / 3, y: ((iy + 0.5) * h) / 3, z: Math.min((iz + 0.5) * s.scanStepFrames, s.nFrames) };
}

const stencilIndex = new Int32Array(8), stencilWeight = new Float64Array(8);

/**
 * The trilinear stencil of reduced Kabsch coordinates (ε1/δb, ε2/δb, ε3/δm) on a grid of half-size
 * g: up to 8 grid offsets (within one profile) and their weights, in stencilIndex/stencilWeight;
 * returns how many (nodes outside the grid are left out). splat is its adjoint, profileValue the
 * interpolation itself, so the two stay consistent.
 */
function trilinearStencil(g: number, e1: number, e2: number, e3: number): number {
  const n = 2 * g + 1;
  const u = e1 * g + g, w = e2 * g + g, t = e3 * g + g;
  const i0 = Math.floor(u), j0 = Math.floor(w), k0 = Math.floor(t);
  const fu = u - i0, fw = w - j0, ft = t - k0;
  let m = 0;
  for (let dk = 0; dk < 2; dk++) {
    const k = k0 + dk;
    if (k < 0 || k >= n) continue;
    const wk = dk ? ft : 1 - ft;
    for (let dj = 0; dj < 2; dj++) {
      const j = j0 + dj;
      if (j < 0 || j >= n) continue;
      const wj = dj ? fw : 1 - fw;
      for (let di = 0; di < 2; di++) {
        const i = i0 + di;
        if (i < 0 || i >= n) continue;
        stencilIndex[m] = (k * n + j) * n + i;
        stencilWeight[m++] = wk * wj * (di ? fu : 1 - fu);
      }
    }
  }
  return m;
}

/** Splat value v at reduced Kabsch coordinates (ε1/δb, ε2/δb, ε3/δm) into profile p. */
export function splat(acc: ProfileAccumulator, p: number, e1: number, e2: number, e3: number, v: number): void {
  const g = acc.spec.halfSize, n = 2 * g + 1;
  const base = p * n * n * n;
  const m = trilinearStencil(g, e1, e2, e3);
  for (let q = 0; q < m; q++) {
    const idx = base + stencilIndex[q], wt = stencilWeight[q];
    acc.sumWV[idx] += wt * v;
    acc.sumW[idx] += wt;
  }
}

export interface ReferenceProfiles {
  spec: ProfileGridSpec;
  /** per profile, grid densities (normalised to unit sum); profiles with too few contributors borrow the nearest good one */
  grid: Float64Array;
  count: Int32Array;
  /** profile actually used for each profile slot (itself, or the nearest with enough contributors) */
  source: Int32Array;
}

/**
 * Final profiles: weighted means per grid point, negative densities (noise) clipped to zero,
 * normalised to unit sum. A slot with fewer than `minCount` reflections uses the nearest slot (in
 * detector position and scan) that has enough; null when none has.
 */
export function finaliseProfiles(acc: ProfileAccumulator, minCount: number): ReferenceProfiles | null {
  const s = acc.spec, np = numProfiles(s), gp = gridPoints(s);
  const grid = new Float64Array(np * gp);
  for (let p = 0; p < np; p++) {
    let total = 0;
    for (let i = 0; i < gp; i++) {
      const w = acc.sumW[p * gp + i];
      const v = w > 0 ? Math.max(acc.sumWV[p * gp + i] / w, 0) : 0;
      grid[p * gp + i] = v;
      total += v;
    }
    if (total > 0) for (let i = 0; i < gp; i++) grid[p * gp + i] /= total;
  }
  const source = new Int32Array(np).fill(-1);
  const good: number[] = [];
  for (let p = 0; p < np; p++) if (acc.count[p] >= minCount) good.push(p);
  if (good.length === 0) return null;
  for (let p = 0; p < np; p++) {
    if (acc.count[p] >= minCount) { source[p] = p; continue; }
    const c = profileCentre(s, p);
    let best = good[0], bd = Infinity;
    for (const q of good) {
      const d = profileCentre(s, q);
      const dist = (d.panel === c.panel ? 0 : 1e12) + (d.x - c.x) ** 2 + (d.y - c.y) ** 2 + (10 * (d.z - c.z)) ** 2;
      if (dist < bd) { bd = dist; best = q; }
    }
    source[p] = best;
  }
  return { spec: s, grid, count: acc.count, source };
}

/** Trilinear interpolation of profile p's density at reduced coordinates (ε/δ); zero outside the grid. */
export function profileValue(ref: ReferenceProfiles, p: number, e1: number, e2: number, e3: number): number {
  const g = ref.spec.halfSize, n = 2 * g + 1;
  const base = ref.source[p] * n * n * n;
  const m = trilinearStencil(g, e1, e2, e3);
  let v = 0;
  for (let q = 0; q < m; q++) v += stencilWeight[q] * ref.grid[base + stencilIndex[q]];
  return v;
}
