import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readReflSync } from '../../../src/core/io/refl.js';
import { Flags, countFlags, flagNames, hasFlag, selectAnyFlags, selectFlags, setFlags, unsetFlags, type FlagName } from '../../../src/core/reflections/flags.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { UserError } from '../../../src/core/errors.js';
import { SHARED, referenceFigures, regressionPath } from './data.js';

test('flag counts of the centroid test tables match DIALS\' reference summary', () => {
  const ref = referenceFigures();
  for (const stem of ['strong', 'indexed', 'integrated']) {
    const t = readReflSync(regressionPath(`centroid_test_data_${stem}.refl.gz`));
    for (const [name, count] of Object.entries(ref[`${stem}.refl`].flag_counts)) {
      assert.equal(countFlags(t, Flags[name as FlagName]), count, `${stem}.refl ${name}`);
    }
  }
});

test('flag counts on the shared DIALS outputs match their logs and the data README', { skip: SHARED ? false : 'shared data absent' }, () => {
  const at = (p: string) => readReflSync(path.join(SHARED!, p));
  // dials.refine.log: "16126 reflections have been flagged as outliers" (final macro-cycle)
  const refined = at('simulated/lysozyme_sweep/dials_reference/refined.refl');
  assert.equal(countFlags(refined, Flags.centroid_outlier), 16126);
  // every row dials.refine did not use is a centroid outlier or excluded_for_refinement (bit 25)
  assert.equal(countFlags(refined, Flags.excluded_for_refinement), 124);
  assert.equal(selectAnyFlags(refined, Flags.excluded_for_refinement | Flags.centroid_outlier).reduce((a, b) => a + b, 0) + countFlags(refined, Flags.used_in_refinement), refined.nrows);
  // README: DIALS' spot lists carry only the strong flag; multi_narrow_wedges only used_in_refinement
  const strong = at('reference/l_cysteine/strong.refl');
  assert.equal(countFlags(strong, Flags.strong), strong.nrows);
  assert.equal(selectAnyFlags(strong, ~Flags.strong >>> 0).reduce((a, b) => a + b, 0), 0);
  const wedge = at('spots/multi_narrow_wedges/sweep_002.refl');
  assert.equal(selectAnyFlags(wedge, ~Flags.used_in_refinement >>> 0).reduce((a, b) => a + b, 0), 0);
  assert.ok(countFlags(wedge, Flags.used_in_refinement) > 0);
  // README: centroid integrated.refl has 1 679 integrated_sum and 1 657 integrated_prf rows
  const integ = at('spots/centroid_test_data/integrated.refl');
  assert.equal(countFlags(integ, Flags.integrated_sum), 1679);
  assert.equal(countFlags(integ, Flags.integrated_prf), 1657);
});

test('set, unset and test bits, keeping bits above 2^32', () => {
  const t = ReflectionTable.empty(3);
  setFlags(t, [true, false, true], Flags.indexed | Flags.strong);
  assert.deepEqual([...t.sizeT('flags')], [36, 0, 36]);
  t.sizeT('flags')[1] = 2 ** 40 + Flags.predicted;
  setFlags(t, [false, true, false], Flags.scaled);
  assert.equal(t.sizeT('flags')[1], 2 ** 40 + Flags.predicted + Flags.scaled);
  unsetFlags(t, [true, true, true], Flags.predicted | Flags.strong);
  assert.deepEqual([...t.sizeT('flags')], [4, 2 ** 40 + Flags.scaled, 4]);
  const f = t.sizeT('flags');
  assert.ok(hasFlag(f, 0, Flags.indexed) && !hasFlag(f, 0, Flags.indexed | Flags.strong));
  assert.deepEqual([...selectFlags(t, Flags.indexed)], [1, 0, 1]);
  assert.deepEqual([...selectAnyFlags(t, Flags.indexed | Flags.scaled)], [1, 1, 1]);
  // bit 31 survives JS's signed bitwise operators
  setFlags(t, [true, false, false], 2 ** 31);
  assert.equal(t.sizeT('flags')[0], 2 ** 31 + 4);
  assert.ok(hasFlag(t.sizeT('flags'), 0, 2 ** 31));
  assert.deepEqual(flagNames(Flags.indexed | Flags.integrated_sum), ['indexed', 'integrated_sum']);
  assert.throws(() => selectFlags(ReflectionTable.empty(2), Flags.indexed), UserError);
  assert.throws(() => setFlags(t, [true], Flags.indexed), RangeError);
});

test('composite flags are unions of their parts', () => {
  assert.equal(Flags.integrated, Flags.integrated_sum | Flags.integrated_prf);
  assert.equal(Flags.includes_bad_pixels, Flags.foreground_includes_bad_pixels | Flags.background_includes_bad_pixels);
  assert.equal(Flags.bad_for_scaling, Flags.user_excluded_in_scaling | Flags.outlier_in_scaling | Flags.excluded_for_scaling);
});
