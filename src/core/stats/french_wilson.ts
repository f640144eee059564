/**
 * French & Wilson (1978): amplitudes from intensities that may be weak or negative. The true
 * intensity J ≥ 0 has a Wilson prior (acentric p(J) = e^(−J/Σ)/Σ; centric
 * p(J) = e^(−J/2Σ)/√(2πΣJ)) with Σ = ε⟨I/ε⟩ of the resolution shell; the measurement is
 * I ~ N(J, σ²). F = E[√J | I] and σF = √(E[J | I] − F²). The posterior is integrated
 * numerically over F = √J (which removes the centric 1/√J singularity), on a grid covering the
 * likelihood, so no tabulated functions are needed.
 */

export interface FrenchWilsonResult {
  F: Float64Array;
  sigF: Float64Array;
  /** Posterior mean intensity E[J | I]. */
  J: Float64Array;
  /** Rejected (I/σ far below what the prior allows): F = NaN. */
  rejected: Uint8Array;
}

const NGRID = 241;

/**
 * `sigmaShell` is Σ for each reflection (ε·⟨I/ε⟩ of its shell, > 0). Reflections with
 * (I − 0)/σ < minIOverSigma (default −4, as French and Wilson's tables stop there) are rejected.
 */
export function frenchWilson(I: Float64Array, sigma: Float64Array, centric: Uint8Array, sigmaShell: Float64Array, minIOverSigma = -4): FrenchWilsonResult {
  const n = I.length;
  const F = new Float64Array(n), sigF = new Float64Array(n), J = new Float64Array(n), rejected = new Uint8Array(n);
  const logw = new Float64Array(NGRID);
  for (let i = 0; i < n; i++) {
    const s = sigma[i], Sig = Math.max(sigmaShell[i], 1e-12);
    if (!(s > 0) || I[i] / s < minIOverSigma) { F[i] = NaN; sigF[i] = NaN; J[i] = NaN; rejected[i] = 1; continue; }
    // Posterior in J: exp(−(I−J)²/2σ² − J/Σ) (acentric, ×2F from dJ), exp(−(I−J)²/2σ² − J/2Σ) (centric).
    // The Gaussian-times-exponential peaks near J0 = I − σ²/Σ (σ²/2Σ centric); J0 ± 10σ (cut at 0) holds it all.
    const c = centric[i] === 1;
    const shift = (s * s) / (c ? 2 * Sig : Sig);
    const j0 = I[i] - shift;
    const jLo = Math.max(0, j0 - 10 * s), jHi = Math.max(j0, 0) + 10 * s;
    const fLo = Math.sqrt(jLo), fHi = Math.sqrt(Math.max(jHi, 1e-12));
    const h = (fHi - fLo) / (NGRID - 1);
    let maxLog = -Infinity;
    for (let g = 0; g < NGRID; g++) {
      const f = fLo + g * h, j = f * f;
      let lw = -((I[i] - j) ** 2) / (2 * s * s) - (c ? j / (2 * Sig) : j / Sig);
      if (!c) lw += f > 0 ? Math.log(f) : -Infinity; // dJ = 2F dF for the acentric prior
      logw[g] = lw;
      if (lw > maxLog) maxLog = lw;
    }
    let w0 = 0, w1 = 0, w2 = 0;
    for (let g = 0; g < NGRID; g++) {
      const simpson = g === 0 || g === NGRID - 1 ? 1 : g % 2 === 1 ? 4 : 2;
      const w = simpson * Math.exp(logw[g] - maxLog);
      const f = fLo + g * h;
      w0 += w; w1 += w * f; w2 += w * f * f;
    }
    const meanF = w1 / w0, meanJ = w2 / w0;
    F[i] = meanF; J[i] = meanJ;
    sigF[i] = Math.sqrt(Math.max(meanJ - meanF * meanF, 0));
  }
  return { F, sigF, J, rejected };
}
