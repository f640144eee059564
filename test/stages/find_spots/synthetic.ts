/** Synthetic images for spot-finding tests: Poisson background plus Gaussian spots. */

/** Small deterministic PRNG so tests are reproducible. */
export { mulberry32 as rng } from '../../../src/core/math/random.js';

/** Poisson deviate (Knuth for small means, normal approximation above 50). */
export function poisson(mean: number, r: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    const u = Math.max(r(), 1e-12), v = r();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const L = Math.exp(-mean);
  let k = 0, p = 1;
  do { k++; p *= r(); } while (p > L);
  return k - 1;
}

export interface GaussSpot { x: number; y: number; sigma: number; total: number }

/**
 * Expected counts per pixel: flat background plus each spot's integral of a 2D Gaussian over the
 * pixel (error-function differences), so the true centroid of the expected image is exactly (x, y).
 */
export function expectedImage(w: number, h: number, background: number, spots: GaussSpot[]): Float64Array {
  const img = new Float64Array(w * h).fill(background);
  for (const s of spots) {
    const r = Math.ceil(6 * s.sigma);
    for (let y = Math.max(0, Math.floor(s.y) - r); y < Math.min(h, Math.floor(s.y) + r + 1); y++) {
      const fy = 0.5 * (erf((y + 1 - s.y) / (Math.SQRT2 * s.sigma)) - erf((y - s.y) / (Math.SQRT2 * s.sigma)));
      for (let x = Math.max(0, Math.floor(s.x) - r); x < Math.min(w, Math.floor(s.x) + r + 1); x++) {
        const fx = 0.5 * (erf((x + 1 - s.x) / (Math.SQRT2 * s.sigma)) - erf((x - s.x) / (Math.SQRT2 * s.sigma)));
        img[y * w + x] += s.total * fx * fy;
      }
    }
  }
  return img;
}

export function sample(expected: Float64Array, r: () => number): Int32Array {
  const out = new Int32Array(expected.length);
  for (let i = 0; i < expected.length; i++) out[i] = poisson(expected[i], r);
  return out;
}

/** erf to ~1e-7 (Abramowitz & Stegun 7.1.26 is too coarse for centroid tests; use a series/continued fraction). */
export function erf(x: number): number {
  const s = Math.sign(x), a = Math.abs(x);
  if (a < 2.5) {
    // Maclaurin series
    let term = a, sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (a + f);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  return s * (1 - erfc);
}
