import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Mat3 } from '../../../src/core/math/mat3.js';
import type { Vec3 } from '../../../src/core/math/vec3.js';
import { UnitCell, CbOp, SpaceGroup, niggliReduce, buergerReduce, isNiggli, minimumCellTransform } from '../../../src/core/symmetry/index.js';
import { loadReference, repoRoot } from './reference.js';

const close = (a: number, b: number, tol: number, msg?: string) => assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} ${a} vs ${b}`);

test('metric, volume, reciprocal cell: analytic cases', () => {
  const cubic = UnitCell.create(10, 10, 10);
  close(cubic.volume, 1000, 1e-9);
  close(UnitCell.dSpacing(cubic, 1, 1, 1), 10 / Math.sqrt(3), 1e-12);
  const hex = UnitCell.create(5, 5, 8, 90, 90, 120);
  close(hex.volume, 25 * 8 * Math.sin((120 * Math.PI) / 180), 1e-9);
  // hexagonal: 1/d² = 4/3 (h²+hk+k²)/a² + l²/c²
  close(UnitCell.dStarSq(hex, 1, 2, 3), (4 / 3) * (1 + 2 + 4) / 25 + 9 / 64, 1e-12);
  const r = UnitCell.reciprocal(hex);
  close(r.gamma, 60, 1e-9);
  close(r.a, 2 / (5 * Math.sqrt(3)), 1e-12);
  // monoclinic: V = abc sinβ
  const mono = UnitCell.create(10, 12, 14, 90, 100, 90);
  close(mono.volume, 10 * 12 * 14 * Math.sin((100 * Math.PI) / 180), 1e-9);
  // vectorised d over typed arrays equals the scalar form
  const hkl = new Int32Array([1, 0, 0, 1, 2, 3, -2, 5, 1]);
  const d = UnitCell.dSpacings(mono, hkl);
  for (let i = 0; i < 3; i++) close(d[i], UnitCell.dSpacing(mono, hkl[3 * i], hkl[3 * i + 1], hkl[3 * i + 2]), 1e-12);
  assert.throws(() => UnitCell.create(10, 10, 10, 130, 130, 130), /volume/);
  assert.throws(() => UnitCell.create(-1, 10, 10), /positive/);
});

test('B matrix: lower triangular, columns are a*, b*, c*, Bᵀ·B = G*', () => {
  const cell = UnitCell.create(37.1, 61.7, 64.5, 72.8, 89.2, 73.5);
  const b = UnitCell.bMatrix(cell);
  assert.equal(b[1], 0); assert.equal(b[2], 0); assert.equal(b[5], 0);
  const btb = Mat3.mul(Mat3.transpose(b), b);
  for (let i = 0; i < 9; i++) close(btb[i], cell.reciprocalMetric[i], 1e-12);
  const r = UnitCell.reciprocal(cell);
  close(Math.hypot(b[0], b[3], b[6]), r.a, 1e-12);
});

test('.expt crystals: cell from real_space vectors, B from cell, U = A·B⁻¹ is a proper rotation', () => {
  const crystals = JSON.parse(readFileSync(path.join(repoRoot(), 'regression-data', 'symmetry', 'expt_crystals.json'), 'utf8')) as
    { file: string; real_space_a: Vec3; real_space_b: Vec3; real_space_c: Vec3; space_group_hall_symbol: string }[];
  assert.ok(crystals.length > 50);
  for (const c of crystals) {
    const direct = Mat3.fromRows(c.real_space_a, c.real_space_b, c.real_space_c);
    const a = Mat3.inverse(direct); // A = (rows of real space)⁻¹
    const cell = UnitCell.fromBasisVectors(c.real_space_a, c.real_space_b, c.real_space_c);
    const fromA = UnitCell.fromA(a);
    UnitCell.parameters(cell).forEach((x, i) => close(x, UnitCell.parameters(fromA)[i], 1e-8, c.file));
    const u = Mat3.mul(a, Mat3.inverse(UnitCell.bMatrix(cell)));
    const utu = Mat3.mul(Mat3.transpose(u), u);
    for (let i = 0; i < 9; i++) close(utu[i], i % 4 === 0 ? 1 : 0, 1e-9, `${c.file} UᵀU`);
    close(Mat3.determinant(u), 1, 1e-9, `${c.file} det U`);
    // the stored space group parses and the cell obeys its metric symmetry
    const sg = SpaceGroup.fromHall(c.space_group_hall_symbol);
    for (const op of sg.symOps) {
      const r = Mat3.from(op.rot);
      const g2 = Mat3.mul(Mat3.mul(Mat3.transpose(r), cell.metric), r);
      for (let i = 0; i < 9; i++) close(g2[i], cell.metric[i], 1e-3 * cell.metric[0], `${c.file} metric symmetry ${c.space_group_hall_symbol}`);
    }
  }
});

test('change of basis: parse forms, compose, invert, cells, indices and A', () => {
  const cb = CbOp.parse('a+b,-a+b,c');
  assert.equal(CbOp.toAbc(cb), 'a+b,-a+b,c');
  assert.equal(CbOp.toHkl(cb), 'h+k,-h+k,l');
  assert.equal(CbOp.toXyz(cb), '1/2*x+1/2*y,-1/2*x+1/2*y,z');
  assert.ok(CbOp.equals(CbOp.parse('h+k,-h+k,l'), cb));
  assert.ok(CbOp.equals(CbOp.parse('1/2*x+1/2*y,-1/2*x+1/2*y,z'), cb));
  // x-y,x+y,z is the coordinate form of the inverse-like basis a/2-b/2, a/2+b/2
  assert.equal(CbOp.toAbc(CbOp.parse('x-y,x+y,z')), '1/2*a-1/2*b,1/2*a+1/2*b,c');
  assert.ok(CbOp.isIdentity(CbOp.parse('h,k,l')));
  assert.ok(CbOp.isIdentity(CbOp.mul(cb, CbOp.inverse(cb))));
  const c2 = CbOp.parse('2*a+b+c,-a+b,c');
  assert.equal(CbOp.toAbc(c2), '2*a+b+c,-a+b,c');
  assert.equal(CbOp.toAbc(CbOp.mul(CbOp.parse('-b,-a,-c'), CbOp.parse('-b,-a,-c'))), 'a,b,c');
  // tetragonal P → C: a' = a+b, b' = −a+b doubles the cell
  const t = UnitCell.create(79.1, 79.1, 38.2);
  const c = UnitCell.changeBasis(t, cb);
  close(c.a, 79.1 * Math.SQRT2, 1e-9); close(c.b, 79.1 * Math.SQRT2, 1e-9); close(c.volume, 2 * t.volume, 1e-6);
  assert.deepEqual(CbOp.applyToHkl(cb, [1, 0, 0]), [1, -1, 0]);
  assert.deepEqual(Array.from(CbOp.applyToHklArray(cb, new Int32Array([1, 0, 0, 0, 1, 2]))), [1, -1, 0, 1, 1, 2]);
  // A' h' = A h: the reciprocal-space vector of a reflection is basis independent
  const a = Mat3.mul(Mat3.rotation([0.3, 0.5, 0.8], 0.7), UnitCell.bMatrix(t));
  const a2 = CbOp.applyToA(cb, a);
  const h: [number, number, number] = [3, -2, 5];
  const v1 = Mat3.mulVec(a, h), v2 = Mat3.mulVec(a2, CbOp.applyToHkl(cb, h) as [number, number, number]);
  for (let i = 0; i < 3; i++) close(v1[i], v2[i], 1e-12);
  // the cell from A' equals the transformed cell
  UnitCell.parameters(UnitCell.fromA(a2)).forEach((x, i) => close(x, UnitCell.parameters(c)[i], 1e-8));
  assert.throws(() => CbOp.parse('a,b'), /three/);
  assert.throws(() => CbOp.parse('a,a,c'), /singular/);
});

test('change of basis on space groups: C 1 2 1 → I 1 2 1 and back', () => {
  const c2 = SpaceGroup.fromHM('C 1 2 1');
  const i2 = SpaceGroup.changeBasis(c2, CbOp.parse('a+c,b,c'));
  assert.equal(i2.hm, 'I 1 2 1');
  const back = SpaceGroup.changeBasis(i2, CbOp.inverse(CbOp.parse('a+c,b,c')));
  assert.equal(back.hm, 'C 1 2 1');
  const p41 = SpaceGroup.changeBasis(SpaceGroup.fromHM('P 41'), CbOp.parse('a+b,-a+b,c'));
  assert.equal(p41.number, 76);
  assert.equal(p41.centring.length, 2);
});

test('Niggli reduction agrees with the reference reduced cells and is idempotent', () => {
  const ref = loadReference();
  assert.ok(ref.niggli.length >= 40);
  for (const n of ref.niggli) {
    const input = UnitCell.fromParams(n.input);
    const red = niggliReduce(input);
    const p = UnitCell.parameters(red.cell);
    p.forEach((x, i) => close(x, n.niggli[i], i < 3 ? 1e-6 * x : 1e-5, `niggli of ${n.input.map((v) => v.toFixed(2))}`));
    close(red.cell.volume, n.volume, 1e-6 * n.volume);
    // the cb_op really maps the input cell onto the reduced one, and is unimodular
    UnitCell.parameters(UnitCell.changeBasis(input, red.cbOp)).forEach((x, i) => close(x, p[i], 1e-6 * Math.max(1, x)));
    assert.ok(CbOp.isUnimodular(red.cbOp));
    close(CbOp.determinant(red.cbOp), 1, 1e-9);
    // idempotent
    const again = niggliReduce(red.cell);
    assert.ok(CbOp.isIdentity(again.cbOp), `not idempotent: ${CbOp.toAbc(again.cbOp)}`);
    assert.ok(isNiggli(red.cell));
    // a Buerger cell has the same edge lengths as the Niggli cell
    const bu = buergerReduce(input).cell;
    [bu.a, bu.b, bu.c].forEach((x, i) => close(x, p[i], 1e-6 * x));
  }
});

test('minimum cell of centred lattices', () => {
  // cubic F with a: primitive rhombohedral cell a/√2, 60°
  const f = minimumCellTransform(UnitCell.create(10, 10, 10), 'F');
  close(f.cell.a, 10 / Math.SQRT2, 1e-9); close(f.cell.alpha, 60, 1e-9); close(f.cell.volume, 250, 1e-6);
  // cubic I: a√3/2, 109.47°
  const i = minimumCellTransform(UnitCell.create(10, 10, 10), 'I');
  close(i.cell.a, (10 * Math.sqrt(3)) / 2, 1e-9); close(i.cell.alpha, 109.4712206, 1e-6);
  // R 3 :H to rhombohedral
  const r = minimumCellTransform(UnitCell.create(109.77, 109.77, 67.1, 90, 90, 120), 'R');
  close(r.cell.volume, (UnitCell.create(109.77, 109.77, 67.1, 90, 90, 120).volume) / 3, 1e-6);
});

test('Niggli cell is invariant under random unimodular changes of basis (deterministic sample)', () => {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const unimodular = (): number[] => {
    for (;;) {
      const m = Array.from({ length: 9 }, () => Math.floor(rnd() * 5) - 2);
      const d = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
      if (d === 1) return m;
    }
  };
  for (let t = 0; t < 200; t++) {
    const cell = UnitCell.create(5 + 95 * rnd(), 5 + 95 * rnd(), 5 + 95 * rnd(), 60 + 60 * rnd(), 60 + 60 * rnd(), 60 + 60 * rnd());
    const red = niggliReduce(cell).cell;
    const other = UnitCell.changeBasis(cell, CbOp.fromBasis(unimodular() as Mat3));
    const red2 = niggliReduce(other);
    UnitCell.parameters(red2.cell).forEach((x, i) => close(x, UnitCell.parameters(red)[i], i < 3 ? 1e-6 * x : 1e-4, `cell ${UnitCell.toString(cell)}`));
    // Niggli main conditions, checked directly
    const g = red2.cell.metric;
    const [A, B, C, xi, eta, zeta] = [g[0], g[4], g[8], 2 * g[5], 2 * g[2], 2 * g[1]];
    const e = 1e-6 * A;
    assert.ok(A <= B + e && B <= C + e);
    assert.ok(Math.abs(xi) <= B + e && Math.abs(eta) <= A + e && Math.abs(zeta) <= A + e);
    assert.ok((xi > 0 && eta > 0 && zeta > 0) || (xi <= e && eta <= e && zeta <= e));
    assert.ok(xi + eta + zeta + A + B >= -e);
  }
});
