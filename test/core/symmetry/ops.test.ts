import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Op, SpaceGroup, allOps, closeGroup, allSettings, ReciprocalAsu, uniqueIndices, isSystematicallyAbsent, isCentric,
  phaseRestrictionDeg, UnitCell, CbOp, parseHall, laueClassOf,
} from '../../../src/core/symmetry/index.js';
import { ParameterError, UserError } from '../../../src/core/errors.js';

test('operator strings both ways, composition and inverse', () => {
  for (const s of ['x,y,z', '-y,x-y,z+1/3', 'x-y,x,z+1/6', '-x+1/2,y+1/2,-z+3/4', 'z,x,y', '-x+y,-x,z+2/3']) assert.equal(Op.toXyz(Op.parse(s)), s);
  assert.equal(Op.toXyz(Op.parse('1/2+x, 1/2-y, -z')), 'x+1/2,-y+1/2,-z');
  assert.equal(Op.toXyz(Op.parse('X-Y,X,Z-0.25')), 'x-y,x,z-1/4');
  const a = Op.parse('-y,x-y,z+1/3');
  // a three-fold screw cubed is a pure lattice translation along c
  const a3 = Op.mul(a, Op.mul(a, a));
  assert.equal(Op.toXyz(a3), 'x,y,z+1');
  assert.equal(Op.toXyz(Op.wrapped(a3)), 'x,y,z');
  const ai = Op.inverse(a);
  assert.equal(Op.toXyz(Op.wrapped(Op.mul(a, ai))), 'x,y,z');
  assert.equal(Op.toXyz(ai), '-x+y,-x,z-1/3');
  assert.equal(Op.rotationType(a.rot), 3);
  assert.equal(Op.rotationType(Op.parse('-x,-y,-z').rot), -1);
  assert.equal(Op.rotationType(Op.parse('y,-x,-z').rot), -4);
  assert.deepEqual(Op.applyToHkl(Op.parse('-y,x,z'), [1, 2, 3]), [2, -1, 3]);
  assert.throws(() => Op.parse('x,y'), ParameterError);
  assert.throws(() => Op.parse('x,y,q'), /unexpected/);
  assert.throws(() => Op.parse('x,y,z+1/5'), /1\/24/);
});

test('group closure from generators', () => {
  // 4-fold + 2-fold along a give the 8 operations of 422
  const g = closeGroup([Op.parse('-y,x,z'), Op.parse('x,-y,-z')]);
  assert.equal(g.length, 8);
  assert.equal(Op.toXyz(g[0]), 'x,y,z');
  // P 61: the screw closes modulo the lattice
  assert.equal(closeGroup([Op.parse('x-y,x,z+1/6')]).length, 6);
});

test('Hall symbols as DIALS stores them, with origin shifts and changes of basis', () => {
  assert.equal(SpaceGroup.fromHall(' P 4nw 2abw').hm, 'P 43 21 2');
  assert.equal(SpaceGroup.fromHall(' P 4 2').hm, 'P 4 2 2');
  assert.equal(SpaceGroup.fromHall(' P 2 2').number, 16);
  assert.equal(SpaceGroup.fromHall('P 31 2c (0 0 1)').hm, 'P 31 1 2');
  assert.equal(SpaceGroup.fromHall('-P 2ybc').hm, 'P 1 21/c 1');
  assert.equal(SpaceGroup.fromHall('-P 2yn').hm, 'P 1 21/n 1');
  assert.equal(SpaceGroup.fromHall('-R 3 2"c').hm, 'R -3 c :H');
  assert.equal(SpaceGroup.fromHall('R 3 (-y+z,x+z,-x+y+z)').hm, 'R 3 :R');
  // I 2 3 in a primitive setting (multi_narrow_wedges .expt): known group, unnamed setting
  const i23p = SpaceGroup.fromHall(' I 2 2 3 (y+z,x+z,x+y)');
  assert.equal(i23p.number, 197);
  assert.equal(i23p.centring.length, 1);
  assert.equal(allOps(i23p).length, 12);
  const asu = new ReciprocalAsu(i23p);
  assert.equal(asu.laue, 'm-3');
  assert.equal(parseHall('-F 4vw 2vw 3').centrosymmetric, true);
  for (const bad of ['Q 2', 'P 5', 'P 2q', 'P 2 (x,y)', '']) assert.throws(() => SpaceGroup.fromHall(bad), UserError, bad);
});

test('Hermann–Mauguin forms: full, short, no spaces, settings, numbers', () => {
  const cases: [string, string][] = [
    ['P212121', 'P 21 21 21'], ['p 21 21 21', 'P 21 21 21'], ['P21', 'P 1 21 1'], ['C2', 'C 1 2 1'], ['P 1 21 1', 'P 1 21 1'],
    ['P21/c', 'P 1 21/c 1'], ['P21/n', 'P 1 21/n 1'], ['I2', 'I 1 2 1'], ['C 1 2 1', 'C 1 2 1'], ['I 1 2 1', 'I 1 2 1'],
    ['R3', 'R 3 :H'], ['R 3 :R', 'R 3 :R'], ['R32:R', 'R 3 2 :R'], ['H3', 'R 3 :H'], ['P43212', 'P 43 21 2'], ['P4(1)2(1)2'.replace(/[()]/g, ''), 'P 41 21 2'],
    ['Pnnn', 'P n n n :1'], ['P n n n :2', 'P n n n :2'], ['Fd-3m', 'F d -3 m :1'], ['Fm3m', 'F m -3 m'], ['Ia-3d', 'I a -3 d'],
    ['Cmce', 'C m c a'], ['P 1 1 21', 'P 1 1 21'], ['P 2 21 21', 'P 2 21 21'], ['19', 'P 21 21 21'], ['C 1 2 1 (a+c,b,c)', 'I 1 2 1'],
  ];
  for (const [inp, hm] of cases) assert.equal(SpaceGroup.find(inp).hm, hm, inp);
  assert.throws(() => SpaceGroup.find('P 7'), UserError);
  // a leading space marks a DIALS Hall symbol: ' P 4 2' is P 4 2 2, not P 42
  assert.equal(SpaceGroup.find(' P 4 2').hm, 'P 4 2 2');
  assert.equal(SpaceGroup.find('P 42').hm, 'P 42');
  assert.equal(SpaceGroup.find('-P 2ybc').hm, 'P 1 21/c 1');
  assert.throws(() => SpaceGroup.fromNumber(231), /1–230/);
  assert.throws(() => SpaceGroup.fromHM('X 1'), /Hermann/);
});

test('every named setting: symbol round trip, operators related to the reference by its basis op', () => {
  const entries = allSettings();
  assert.ok(entries.length > 400, `${entries.length} settings`);
  for (const e of entries) {
    const sg = SpaceGroup.fromHM(e.hm);
    assert.equal(sg.hm, e.hm);
    const ref = SpaceGroup.fromNumber(e.number);
    const moved = SpaceGroup.changeBasis(ref, sg.basisOp!);
    assert.deepEqual(allOps(moved).map(Op.key).sort(), allOps(sg).map(Op.key).sort(), e.hm);
  }
});

function orbitKey(sg: SpaceGroup, h: number[], friedel: boolean): string {
  const keys: string[] = [];
  for (const o of sg.symOps) {
    const m = Op.applyToHkl(o, h);
    keys.push(m.join(','));
    if (friedel) keys.push(m.map((x) => -x || 0).join(','));
  }
  return keys.sort()[0];
}

test('unique indices to d_min: one per orbit, none absent, all orbits covered (with and without Friedel)', () => {
  const cases: [string, number[]][] = [
    ['P 1', [20, 25, 30, 80, 85, 95]], ['P 1 21 1', [20, 25, 30, 90, 100, 90]], ['P 21 21 21', [20, 25, 30, 90, 90, 90]],
    ['P 43 21 2', [25, 25, 35, 90, 90, 90]], ['I 41', [25, 25, 35, 90, 90, 90]], ['R 3 :H', [30, 30, 40, 90, 90, 120]],
    ['R 3 2 :R', [25, 25, 25, 80, 80, 80]], ['P 3 1 2', [30, 30, 40, 90, 90, 120]], ['P 3 2 1', [30, 30, 40, 90, 90, 120]],
    ['P 61 2 2', [30, 30, 40, 90, 90, 120]], ['P 6/m', [30, 30, 40, 90, 90, 120]], ['I 2 3', [40, 40, 40, 90, 90, 90]],
    ['P 21 3', [30, 30, 30, 90, 90, 90]], ['F d -3 m :2', [50, 50, 50, 90, 90, 90]], ['P 1 21/n 1', [20, 25, 30, 90, 100, 90]],
    ['I 1 2 1', [20, 25, 30, 90, 100, 90]], ['P 1 1 21', [20, 25, 30, 90, 90, 100]], ['P 4/n :1', [25, 25, 35, 90, 90, 90]],
  ];
  for (const [name, p] of cases) {
    const sg = SpaceGroup.fromHM(name);
    const cell = UnitCell.fromParams(p);
    const dMin = 3.5;
    for (const anomalous of [false, true]) {
      const u = uniqueIndices(sg, cell, dMin, anomalous);
      const mine = new Set<string>();
      for (let i = 0; i < u.length; i += 3) {
        const h = [u[i], u[i + 1], u[i + 2]];
        assert.ok(!isSystematicallyAbsent(sg, h));
        assert.ok(UnitCell.dSpacing(cell, h[0], h[1], h[2]) >= dMin - 1e-9);
        const k = orbitKey(sg, h, !anomalous);
        assert.ok(!mine.has(k), `${name}: two indices in the orbit of ${h}`);
        mine.add(k);
      }
      // brute force: every orbit within the sphere
      const all = new Set<string>();
      const n = Math.ceil(Math.max(p[0], p[1], p[2]) / dMin);
      for (let h = -n; h <= n; h++) for (let k = -n; k <= n; k++) for (let l = -n; l <= n; l++) {
        if (!(h || k || l) || UnitCell.dSpacing(cell, h, k, l) < dMin || isSystematicallyAbsent(sg, [h, k, l])) continue;
        all.add(orbitKey(sg, [h, k, l], !anomalous));
      }
      assert.equal(mine.size, all.size, `${name} anomalous=${anomalous}`);
    }
  }
});

test('ASU mapping is constant on orbits for every named setting; anomalous ASU keeps Friedel mates apart', () => {
  const hkls: number[][] = [];
  for (let h = -3; h <= 3; h++) for (let k = -3; k <= 3; k++) for (let l = -3; l <= 3; l++) if (h || k || l) hkls.push([h, k, l]);
  for (const e of allSettings()) {
    const sg = SpaceGroup.fromHM(e.hm);
    const asu = new ReciprocalAsu(sg);
    for (const h of hkls.filter((_, i) => i % 7 === 0)) {
      const a = asu.toAsu(h);
      for (const o of sg.symOps) {
        const m = Op.applyToHkl(o, h);
        assert.deepEqual(asu.toAsu(m).hkl, a.hkl, `${e.hm} ${h}`);
        assert.deepEqual(asu.toAsu(m.map((x) => -x)).hkl, a.hkl);
      }
      // ISYM reproduces the image: h·R_k (or its negative) for k = (ISYM−1)/2
      const op = sg.symOps[(a.isym - 1) >> 1];
      const img = Op.applyToHkl(op, h).map((x) => (a.isym % 2 ? x : -x) || 0);
      assert.deepEqual(img, a.hkl);
      const an = asu.toAsuAnomalous(h);
      if (!isCentric(sg, h)) assert.notDeepEqual(asu.toAsuAnomalous(h.map((x) => -x)).hkl, an.hkl);
    }
  }
  // vectorised form equals the scalar one
  const sg = SpaceGroup.fromHM('P 43 21 2');
  const asu = new ReciprocalAsu(sg);
  const flat = Int32Array.from(hkls.flat());
  const v = asu.toAsuArray(flat);
  hkls.forEach((h, i) => {
    const a = asu.toAsu(h);
    assert.deepEqual([v.hkl[3 * i], v.hkl[3 * i + 1], v.hkl[3 * i + 2]], a.hkl);
    assert.equal(v.isym[i], a.isym);
  });
  assert.equal(laueClassOf(SpaceGroup.fromHM('P 3 1 2')), '-31m');
  assert.equal(laueClassOf(SpaceGroup.fromHM('P 3 2 1')), '-3m1');
});

test('phase restrictions of centric reflections', () => {
  // P 21 21 21: h0l centric with phase 0/180 for h even... restriction π·h·t: for (h,0,l) via 2y (−x, y+1/2, −z+1/2)
  const sg = SpaceGroup.fromHM('P 21 21 21');
  assert.equal(phaseRestrictionDeg(sg, [2, 0, 3]), 90);
  assert.equal(phaseRestrictionDeg(sg, [2, 0, 2]), 0);
  assert.equal(phaseRestrictionDeg(sg, [1, 2, 3]), null);
  // centrosymmetric with inversion at the origin: every reflection restricted to 0/180
  const p1bar = SpaceGroup.fromHM('P -1');
  assert.equal(phaseRestrictionDeg(p1bar, [1, 2, 3]), 0);
  assert.ok(isCentric(p1bar, [1, 2, 3]));
});

test('change of basis of a group keeps ASU consistent with the reference setting', () => {
  const p41 = SpaceGroup.fromHM('P 41');
  const cb = CbOp.parse('a-b,a+b,c');
  const c41 = SpaceGroup.changeBasis(p41, cb);
  const asuP = new ReciprocalAsu(p41), asuC = new ReciprocalAsu(c41);
  for (const h of [[1, 2, 3], [3, -1, 2], [0, 0, 4], [2, 5, -1]]) {
    const hc = CbOp.applyToHkl(cb, h);
    const a = asuP.toAsu(h).hkl, b = asuC.toAsu(hc).hkl;
    assert.deepEqual(b, CbOp.applyToHkl(cb, a));
    assert.equal(isSystematicallyAbsent(p41, h), isSystematicallyAbsent(c41, hc));
  }
});

test('a named group with its origin moved is still recognised (ASU available)', () => {
  const sg = SpaceGroup.fromHM('P 21 21 21');
  const shift = CbOp.parse('x+1/4,y+1/8,z-1/3');
  const moved = SpaceGroup.changeBasis(sg, shift);
  assert.equal(moved.number, 19);
  const asu = new ReciprocalAsu(moved);
  for (const h of [[1, 2, 3], [-2, 1, 0], [0, 0, 3]]) {
    assert.deepEqual(asu.toAsu(h).hkl, new ReciprocalAsu(sg).toAsu(h).hkl);
    assert.equal(isSystematicallyAbsent(moved, h), isSystematicallyAbsent(sg, h));
  }
  // the same through fromOperators (as a stage building operators itself would)
  const again = SpaceGroup.fromOperators(moved.symOps, moved.centring);
  assert.equal(again.number, 19);
  assert.ok(again.basisOp);
});
