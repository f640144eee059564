/**
 * Per-reflection intensity corrections stored beside the (uncorrected) intensities, as DIALS
 * stores them: `lp` multiplies an intensity to undo the Lorentz and polarization factors, `qe` is
 * the detector's quantum efficiency for the diffracted ray (a corrected intensity is I·lp/qe).
 *
 * Lorentz (rotation method): a reciprocal-lattice point crosses the Ewald sphere with speed
 * proportional to |m2·(ŝ1 × ŝ0)| (m2 the rotation axis), so the recorded energy is inversely
 * proportional to it and the correction multiplies by that factor.
 * Polarization (Kahn et al. 1982): with a fraction f of the beam polarized perpendicular to the
 * polarization-plane normal n, P = f·(1 − (ŝ1·p)²) + (1 − f)·(1 − (ŝ1·n)²), p = n × ŝ0.
 * Quantum efficiency: the sensor absorbs 1 − exp(−μ·t/cos α) of a ray meeting it at angle α to
 * its normal (μ 1/mm, t mm).
 */

/** Everything the corrections need about one experiment, as plain numbers. */
export interface CorrectionGeometry {
  /** Unit beam direction ŝ0. */
  s0Unit: [number, number, number];
  /** Unit rotation axis in the lab frame (m2). */
  axis: [number, number, number];
  /** Unit polarization-plane normal and the in-plane polarization direction p = n × ŝ0. */
  polNormal: [number, number, number];
  polDirection: [number, number, number];
  polFraction: number;
}

export function correctionGeometry(s0: ArrayLike<number>, axis: ArrayLike<number>, polNormal: ArrayLike<number>, polFraction: number): CorrectionGeometry {
  const unit = (v: ArrayLike<number>): [number, number, number] => {
    const l = Math.hypot(v[0], v[1], v[2]);
    return [v[0] / l, v[1] / l, v[2] / l];
  };
  const s = unit(s0), m = unit(axis), n = unit(polNormal);
  const p = unit([n[1] * s[2] - n[2] * s[1], n[2] * s[0] - n[0] * s[2], n[0] * s[1] - n[1] * s[0]]);
  return { s0Unit: s, axis: m, polNormal: n, polDirection: p, polFraction };
}

/** The `lp` factor (Lorentz × polarization correction) for a diffracted beam s1 (any length). */
export function lpCorrection(g: CorrectionGeometry, s1x: number, s1y: number, s1z: number): number {
  const l = Math.hypot(s1x, s1y, s1z);
  const x = s1x / l, y = s1y / l, z = s1z / l;
  const [ax, ay, az] = g.axis, [sx, sy, sz] = g.s0Unit;
  // m2 · (ŝ1 × ŝ0)
  const lorentz = Math.abs(ax * (y * sz - z * sy) + ay * (z * sx - x * sz) + az * (x * sy - y * sx));
  const [px, py, pz] = g.polDirection, [nx, ny, nz] = g.polNormal;
  const sp = x * px + y * py + z * pz, sn = x * nx + y * ny + z * nz;
  const f = g.polFraction;
  const pol = f * (1 - sp * sp) + (1 - f) * (1 - sn * sn);
  return lorentz / pol;
}

/**
 * Fraction of a ray's photons absorbed by a sensor of thickness t (mm) and attenuation μ (1/mm)
 * whose unit normal is n; 1 when the panel has no sensor description (nothing to correct).
 */
export function quantumEfficiency(mu: number, thicknessMm: number, nx: number, ny: number, nz: number, s1x: number, s1y: number, s1z: number): number {
  if (!(mu > 0) || !(thicknessMm > 0)) return 1;
  const cosAlpha = Math.abs(nx * s1x + ny * s1y + nz * s1z) / Math.hypot(s1x, s1y, s1z);
  return 1 - Math.exp((-mu * thicknessMm) / cosAlpha);
}
