/**
 * Every entry of the independent cctbx/gemmi fact table: 230 standard settings + extra settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SpaceGroup, Op, allOps, centringType, pointGroup, laueGroup, pattersonGroup, isSohncke, isCentrosymmetric,
  enantiomorph, ReciprocalAsu, isSystematicallyAbsent, isCentric, epsilon,
} from '../../../src/core/symmetry/index.js';
import { loadReference, type RefGroup } from './reference.js';

const ref = loadReference();

function opSet(ops: string[]): string[] { return ops.map((s) => Op.key(Op.parse(s))).sort(); }

function checkGroup(g: RefGroup) {
  const label = `${g.number} ${g.hm}`;
  const sg = SpaceGroup.fromHM(g.hm);
  assert.equal(sg.number, g.number, label);
  assert.equal(sg.hm, g.hm, label);
  // operators as sets, from the HM symbol and independently from the reference Hall symbol
  assert.deepEqual(allOps(sg).map(Op.key).sort(), opSet(g.operators), `${label}: operators from HM`);
  const fromHall = SpaceGroup.fromHall(g.hall);
  assert.deepEqual(allOps(fromHall).map(Op.key).sort(), opSet(g.operators), `${label}: operators from Hall ${g.hall}`);
  assert.equal(fromHall.hm, g.hm, `${label}: Hall identified`);
  assert.equal(allOps(sg).length, g.n_ops, label);
  // the universal symbol names the same group
  assert.deepEqual(allOps(SpaceGroup.find(g.universal_hm)).map(Op.key).sort(), opSet(g.operators), `${label}: ${g.universal_hm}`);
  assert.equal(centringType(sg), g.centring, label);
  assert.equal(pointGroup(sg).hm, g.point_group, `${label}: point group`);
  assert.equal(laueGroup(sg).hm, g.laue_group, `${label}: Laue group`);
  assert.equal(pattersonGroup(sg).hm, g.patterson_group, `${label}: Patterson group`);
  assert.equal(isSohncke(sg), g.is_chiral, `${label}: chiral`);
  assert.equal(isCentrosymmetric(sg), g.is_centric, `${label}: centric`);
  assert.equal(enantiomorph(sg)?.hm ?? null, g.enantiomorph, `${label}: enantiomorph`);
  const asu = new ReciprocalAsu(sg);
  for (const r of g.reflections) {
    const h = r.hkl;
    assert.equal(isSystematicallyAbsent(sg, h), r.absent, `${label} ${h}: absent`);
    assert.equal(isCentric(sg, h), r.centric, `${label} ${h}: centric`);
    assert.equal(epsilon(sg, h), r.epsilon, `${label} ${h}: epsilon`);
    const a = asu.toAsu(h);
    assert.deepEqual(a.hkl, r.ccp4_asu, `${label} ${h}: ASU`);
    assert.equal(a.isym, r.isym, `${label} ${h}: ISYM`);
    assert.ok(asu.isIn(a.hkl[0], a.hkl[1], a.hkl[2]), `${label} ${h}: image inside ASU`);
  }
}

test('reference table covers 230 groups and 42 indices', () => {
  assert.equal(ref.space_groups.length, 230);
  assert.deepEqual(ref.space_groups.map((g) => g.number), Array.from({ length: 230 }, (_, i) => i + 1));
  assert.ok(ref.extra_settings.length >= 16);
});

test('all 230 standard settings: symbols, operators, groups, ASU, ISYM, absences, centric, epsilon', () => {
  let n = 0;
  for (const g of ref.space_groups) { checkGroup(g); n++; }
  assert.equal(n, 230);
});

test('extra settings from the reference', () => {
  for (const g of ref.extra_settings) {
    checkGroup(g);
    assert.equal(SpaceGroup.fromHM(g.hm).ccp4, g.ccp4_number, `${g.hm}: CCP4 number`);
  }
});

test('fromNumber gives the reference setting; gemmi short names resolve to the same number', () => {
  for (const g of ref.space_groups) {
    assert.equal(SpaceGroup.fromNumber(g.number).hm, g.hm);
    assert.equal(SpaceGroup.find(String(g.number)).hm, g.hm);
    assert.equal(SpaceGroup.find(g.gemmi_hm).number, g.number, g.gemmi_hm);
    assert.equal(SpaceGroup.fromHM(g.hm).ccp4, g.ccp4_number, g.hm);
  }
});
