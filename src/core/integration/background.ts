/**
 * Per-reflection background models over a shoebox's background pixels.
 *
 * glm: a constant background fitted as a robust Poisson generalised linear model (Cantoni &
 * Ronchetti 2001): Huber's ψ (k = 1.345) on the Pearson residuals r = (c − μ)/√μ, with the
 * Fisher-consistency correction E_μ[ψ] so the estimate is unbiased for pure Poisson data even at
 * the sub-count backgrounds of photon-counting detectors, while counts from neighbouring spots or
 * hot pixels are bounded in influence instead of pulling the mean up.
 *
 * simple: a constant (over the whole shoebox) or a plane per frame, after rejecting outliers
 * beyond n_sigma (default 3) standard deviations from the current model, repeated until stable.
 *
 * Both return the background level per pixel through `valueAt` and its variance per pixel for
 * the intensity error model.
 */

export type BackgroundAlgorithm = 'glm' | 'simple';
export type SimpleModel = 'constant3d' | 'linear2d';

export interface BackgroundFit {
  ok: boolean;
  /** constant level, or per-frame plane a + b·x + c·y (x, y relative to the shoebox) */
  mean: number;
  /** per frame: a, b, c (linear2d only) */
  planes: Float64Array | null;
  /** variance of the mean background per pixel (counts²) */
  meanVariance: number;
  nUsed: number;
  /** sample variance / mean of the used pixels (index of dispersion) */
  dispersion: number;
}

const K_HUBER = 1.345;

/** Huber's ψ. */
function psi(r: number): number {
  return r > K_HUBER ? K_HUBER : r < -K_HUBER ? -K_HUBER : r;
}

/**
 * E[ψ((Y − μ)/√μ)] for Y ~ Poisson(μ): the Fisher-consistency term of Cantoni & Ronchetti's
 * robust GLM. Without it the Huber weights, which cut the long upper tail of a low-mean Poisson
 * more than its short lower one, bias the background low (−16 % at μ = 0.5).
 */
function expectedPsi(mu: number): number {
  const s = Math.sqrt(mu);
  const jmax = Math.ceil(mu + 12 * s + 12);
  let p = Math.exp(-mu), e = 0;
  for (let j = 0; j <= jmax; j++) {
    e += p * psi((j - mu) / s);
    p *= mu / (j + 1);
  }
  return e;
}

/**
 * Robust Poisson GLM constant background from n counts in `c` (only the first n are used): the
 * root in μ of (1/n)·Σ ψ((cᵢ − μ)/√μ) − E_μ[ψ] (decreasing in μ), found by the Illinois
 * variant of regula falsi inside a bracket.
 */
export function glmConstant(c: Float64Array, n: number, out: BackgroundFit): void {
  out.planes = null;
  if (n < 2) { out.ok = false; out.mean = 0; out.meanVariance = 0; out.nUsed = n; out.dispersion = 0; return; }
  let max = 0, sum = 0;
  for (let i = 0; i < n; i++) { sum += c[i]; if (c[i] > max) max = c[i]; }
  const h = (mu: number) => {
    const s = Math.sqrt(mu);
    let t = 0;
    for (let i = 0; i < n; i++) t += psi((c[i] - mu) / s);
    return t / n - expectedPsi(mu);
  };
  let mu: number;
  if (max === 0) mu = 1e-6;
  else {
    let lo = 1e-6, hi = max + 1, hlo = h(lo), hhi = h(hi);
    mu = Math.min(Math.max(sum / n, lo), hi);
    if (hlo <= 0) mu = lo;
    else if (hhi >= 0) mu = hi;
    else {
      let side = 0;
      for (let it = 0; it < 60; it++) {
        mu = (lo * hhi - hi * hlo) / (hhi - hlo);
        const hm = h(mu);
        if (Math.abs(hm) < 1e-10 || hi - lo < 1e-9 * Math.max(1, mu)) break;
        if (hm > 0) { lo = mu; hlo = hm; if (side === 1) hhi /= 2; side = 1; }
        else { hi = mu; hhi = hm; if (side === -1) hlo /= 2; side = -1; }
      }
    }
  }
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (c[i] - mu) * (c[i] - mu);
  out.ok = true; out.mean = mu; out.meanVariance = mu / n; out.nUsed = n;
  out.dispersion = mu > 0 ? ss / (n - 1) / mu : 0;
}

/**
 * simple/constant3d with n_sigma outlier rejection: mean and sample SD of the kept pixels,
 * dropping those more than nSigma·SD above or below (at most 10 rounds).
 */
export function simpleConstant(c: Float64Array, n: number, nSigma: number, keep: Uint8Array, out: BackgroundFit): void {
  out.planes = null;
  keep.fill(1, 0, n);
  let mean = 0, used = n;
  for (let it = 0; it < 10; it++) {
    let s = 0, s2 = 0; used = 0;
    for (let i = 0; i < n; i++) if (keep[i]) { s += c[i]; s2 += c[i] * c[i]; used++; }
    if (used < 2) break;
    mean = s / used;
    const sd = Math.sqrt(Math.max(s2 / used - mean * mean, 0));
    const lim = nSigma * Math.max(sd, Math.sqrt(Math.max(mean, 1)) * 0.5);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const k = Math.abs(c[i] - mean) <= lim ? 1 : 0;
      if (k !== keep[i]) { keep[i] = k; changed++; }
    }
    if (changed === 0) break;
  }
  let ss = 0;
  for (let i = 0; i < n; i++) if (keep[i]) ss += (c[i] - mean) * (c[i] - mean);
  out.ok = used >= 2; out.mean = Math.max(mean, 0); out.meanVariance = Math.max(mean, 0) / Math.max(used, 1); out.nUsed = used;
  out.dispersion = mean > 0 && used > 1 ? ss / (used - 1) / mean : 0;
}

/**
 * simple/linear2d: a least-squares plane per frame through that frame's kept background pixels
 * (x, y given per pixel, frame index f per pixel), after the constant model's outlier rejection.
 * Frames with fewer than 3 kept pixels fall back to the constant.
 */
export function simplePlanes(c: Float64Array, x: Float64Array, y: Float64Array, frame: Int32Array, n: number, nFrames: number, nSigma: number, keep: Uint8Array, out: BackgroundFit): void {
  simpleConstant(c, n, nSigma, keep, out);
  const planes = new Float64Array(3 * nFrames);
  for (let f = 0; f < nFrames; f++) {
    // normal equations of a + b x + c y
    let s1 = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, sc = 0, sxc = 0, syc = 0;
    for (let i = 0; i < n; i++) {
      if (!keep[i] || frame[i] !== f) continue;
      const xi = x[i], yi = y[i], ci = c[i];
      s1++; sx += xi; sy += yi; sxx += xi * xi; sxy += xi * yi; syy += yi * yi; sc += ci; sxc += xi * ci; syc += yi * ci;
    }
    const det = s1 * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy);
    if (s1 < 3 || Math.abs(det) < 1e-9) { planes[3 * f] = out.mean; continue; }
    planes[3 * f] = (sc * (sxx * syy - sxy * sxy) - sx * (sxc * syy - sxy * syc) + sy * (sxc * sxy - sxx * syc)) / det;
    planes[3 * f + 1] = (s1 * (sxc * syy - syc * sxy) - sc * (sx * syy - sxy * sy) + sy * (sx * syc - sxc * sy)) / det;
    planes[3 * f + 2] = (s1 * (sxx * syc - sxy * sxc) - sx * (sx * syc - sxc * sy) + sc * (sx * sxy - sxx * sy)) / det;
  }
  out.planes = planes;
}

/** Background level at a pixel (x, y relative to the shoebox; frame index f). */
export function backgroundAt(b: BackgroundFit, x: number, y: number, f: number): number {
  if (!b.planes) return b.mean;
  const p = b.planes;
  return p[3 * f] + p[3 * f + 1] * x + p[3 * f + 2] * y;
}
