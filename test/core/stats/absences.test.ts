import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseAbsences, screwTest, type AxialReflection } from '../../../src/core/stats/absences.js';
import { mulberry32 } from '../../../src/core/math/random.js';

/** Axial h00 reflections, n = 1..N: centric Wilson intensities (mean m), zero where `absent(n)`, with Gaussian noise σ. */
function axial(N: number, absent: (n: number) => boolean, seed = 3, m = 1000, sigma = 10): AxialReflection[] {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: N }, (_, i) => {
    const n = i + 1;
    const J = absent(n) ? 0 : m * gauss() ** 2; // centric Wilson: J = m·z², z ~ N(0, 1)
    return { h: n, k: 0, l: 0, I: J + sigma * gauss(), sigma };
  });
}

test('a 2₁ along a is found when odd h00 are absent and rejected when they are not', () => {
  const t = { name: '21a', axis: 0 as const, modulus: 2 };
  for (const seed of [1, 2, 3, 4, 5]) {
    assert.ok(screwTest(t, axial(20, (n) => n % 2 === 1, seed)).score > 0.95, `screw, seed ${seed}`);
    assert.ok(screwTest(t, axial(20, () => false, seed)).score < 0.05, `no screw, seed ${seed}`);
  }
});

test('one contaminated "absent" reflection does not overturn clear evidence', () => {
  const refl = axial(24, (n) => n % 2 === 1, 9);
  refl[10].I = 800; // h = 11, as strong as a typical present reflection
  assert.ok(screwTest({ name: '21a', axis: 0, modulus: 2 }, refl).score > 0.9);
});

test('P m m m: the space group follows the screws found; untested axes leave ties listed', () => {
  const a = axial(12, (n) => n % 2 === 1, 1).map((r) => r);
  const b = axial(12, (n) => n % 2 === 1, 2).map((r) => ({ ...r, h: 0, k: r.h }));
  const c = axial(12, () => false, 3).map((r) => ({ ...r, h: 0, l: r.h }));
  const res = analyseAbsences('P m m m', [...a, ...b, ...c])!;
  assert.equal(res.recommended, 'P 21 21 2');
  const tetragonal = analyseAbsences('P 4/m m m', a)!; // only h00 measured: 41/42 along c untestable
  assert.equal(tetragonal.recommended, 'P 4 21 2');
  assert.deepEqual([...tetragonal.equivalent].sort(), ['P 41 21 2', 'P 42 21 2', 'P 43 21 2']);
});
