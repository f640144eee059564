/** Hall symbols are written as DIALS writes them, and read back as the same group. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentsToJson, experimentsFromJson } from '../../../src/core/io/expt.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { SpaceGroup } from '../../../src/core/symmetry/index.js';

test("a Hall symbol without DIALS' leading space is written with it, and means P 4 2 2, not P 42", () => {
  const crystal = Crystal.fromCell([79.1, 79.1, 38.2, 90, 90, 90], 'P 4 2');
  const json = experimentsToJson([{ identifier: 'x', crystal }]) as { crystal: { space_group_hall_symbol: string }[] };
  assert.equal(json.crystal[0].space_group_hall_symbol, ' P 4 2');
  const [e] = experimentsFromJson(json, { source: 'test' });
  assert.equal(SpaceGroup.find(e.crystal!.spaceGroupHall).number, 89);
  assert.equal(SpaceGroup.fromHall('P 4 2').number, 89);
  // Centrosymmetric Hall symbols keep their leading '-'.
  const c2 = experimentsToJson([{ identifier: 'y', crystal: Crystal.fromCell([10, 11, 12, 90, 90, 90], '-P 2 2') }]) as { crystal: { space_group_hall_symbol: string }[] };
  assert.equal(c2.crystal[0].space_group_hall_symbol, '-P 2 2');
});
