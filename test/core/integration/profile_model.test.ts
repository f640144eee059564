/**
 * The σ_b / σ_m estimators of profile_model.ts on constructed spots with known answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyMoments, erf, logHalfErfDiff, sigmasFromMoments } from '../../../src/core/integration/profile_model.js';
import { mulberry32 } from './synthetic.js';

const DEG = Math.PI / 180;

test('logHalfErfDiff equals log(½(erf b − erf a)) where that is exact, and stays finite far in the tails', () => {
  for (const [a, b] of [[-1, 0.5], [0.2, 0.9], [-2.5, -0.3], [-0.01, 0.01]]) {
    assert.ok(Math.abs(logHalfErfDiff(a, b) - Math.log(0.5 * (erf(b) - erf(a)))) < 1e-5, `${a}, ${b}`);
  }
  // 30 σ out: ½(erfc(30) − erfc(30.5)) ≈ e⁻⁹⁰⁰/(2·30·√π), far below double precision's 1 − erf
  const far = logHalfErfDiff(30, 30.5);
  assert.ok(Number.isFinite(far) && Math.abs(far - (-900 - Math.log(60 * Math.sqrt(Math.PI)))) < 0.01, String(far));
  assert.ok(Math.abs(logHalfErfDiff(-30.5, -30) - far) < 1e-12);
});

test('σ_m of maximum likelihood recovers the rocking width of spots spread over whole frames', () => {
  // spots whose counts per 0.5° frame are exactly the Gaussian fractions (σ_m 0.3°, |ζ| 0.4–1),
  // centred anywhere within a frame, cut to the frames holding ≥ 1 % of the spot
  const m = emptyMoments(1), rand = mulberry32(7), d = 0.5 * DEG, sm = 0.3 * DEG;
  m.dPhiRad = d;
  for (let s = 0; s < 400; s++) {
    const zeta = 0.4 + 0.6 * rand(), centre = rand() * d, total = 1000 + 10000 * rand();
    const counts: number[] = [];
    let first: number | null = null;
    for (let f = -20; f <= 20; f++) {
      const a = f * d - centre, b = a + d, k = zeta / (Math.SQRT2 * sm);
      const c = total * 0.5 * (erf(b * k) - erf(a * k));
      if (c < 0.01 * total) continue;
      first ??= f;
      counts.push(c);
    }
    m.rocking.push(0, zeta, first! * d - centre, counts.length, ...counts);
    m.sumVarB[0] += 2 * (0.05 * DEG) ** 2; m.nSpots[0]++;
  }
  const est = sigmasFromMoments(m);
  assert.ok(Math.abs(est.sigmaMDeg / 0.3 - 1) < 1e-4, `σ_m ${est.sigmaMDeg}`);
  // σ_b is the RMS two-dimensional offset: √(Σ v / (N − 1)) with v = 2·(0.05°)² here
  assert.ok(Math.abs(est.sigmaBDeg - 0.05 * Math.SQRT2 * Math.sqrt(400 / 399)) < 1e-9, `σ_b ${est.sigmaBDeg}`);
});

test('spots on a single frame say nothing about σ_m', () => {
  const m = emptyMoments(1);
  m.dPhiRad = 0.5 * DEG;
  for (let s = 0; s < 10; s++) { m.rocking.push(0, 1, -0.1 * DEG, 1, 500); m.sumVarB[0] += 1e-6; m.nSpots[0]++; }
  assert.ok(Number.isNaN(sigmasFromMoments(m).sigmaMDeg));
});
