/**
 * Real, orthonormal spherical harmonics Y_lm (l = 1…lmax, m = −l…l), the basis of the absorption
 * surface. l = 0 is left out on purpose: a constant surface is the overall scale, which the scale
 * term already carries, and keeping it would make the model degenerate.
 */

/** Number of terms for l = 1…lmax. */
export function harmonicCount(lmax: number): number {
  return (lmax + 1) * (lmax + 1) - 1;
}

/**
 * Evaluate all Y_lm for the unit vector (x, y, z) into out[offset …]; order l = 1…lmax, m = −l…l.
 * `work` must hold at least (lmax+1)² numbers (associated Legendre table). No allocation.
 */
export function evalHarmonics(x: number, y: number, z: number, lmax: number, out: Float64Array, offset: number, work: Float64Array): void {
  const n = Math.hypot(x, y, z) || 1;
  const ct = Math.max(-1, Math.min(1, z / n));
  const st = Math.sqrt(Math.max(0, 1 - ct * ct));
  const phi = Math.atan2(y, x);
  // P[l][m] (Condon–Shortley phase omitted; it only flips signs of basis functions).
  const P = work;
  const idx = (l: number, m: number) => l * (lmax + 1) + m;
  P[idx(0, 0)] = 1;
  for (let m = 1; m <= lmax; m++) P[idx(m, m)] = P[idx(m - 1, m - 1)] * (2 * m - 1) * st;
  for (let m = 0; m < lmax; m++) P[idx(m + 1, m)] = ct * (2 * m + 1) * P[idx(m, m)];
  for (let m = 0; m <= lmax; m++) {
    for (let l = m + 2; l <= lmax; l++) {
      P[idx(l, m)] = ((2 * l - 1) * ct * P[idx(l - 1, m)] - (l + m - 1) * P[idx(l - 2, m)]) / (l - m);
    }
  }
  let o = offset;
  for (let l = 1; l <= lmax; l++) {
    for (let m = -l; m <= l; m++) {
      const am = Math.abs(m);
      // N = sqrt((2l+1)/(4π) · (l−|m|)!/(l+|m|)!)
      let ratio = 1;
      for (let i = l - am + 1; i <= l + am; i++) ratio /= i;
      const norm = Math.sqrt(((2 * l + 1) / (4 * Math.PI)) * ratio);
      const p = P[idx(l, am)];
      if (m === 0) out[o++] = norm * p;
      else if (m > 0) out[o++] = Math.SQRT2 * norm * p * Math.cos(m * phi);
      else out[o++] = Math.SQRT2 * norm * p * Math.sin(am * phi);
    }
  }
}
