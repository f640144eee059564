/** A change of basis must keep the basis right-handed: det ≤ 0 would make U improper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reindexExperiments } from '../../../src/core/models/reindex.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { CbOp } from '../../../src/core/symmetry/index.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { ParameterError } from '../../../src/core/errors.js';

const crystal = Crystal.fromCell([57.8, 57.8, 150.0, 90, 90, 90], ' P 4');

test('left-handed change-of-basis operators are refused by name', () => {
  for (const op of ['-a,b,c', 'a+b,c,b']) {
    assert.throws(() => reindexExperiments([{ identifier: 'x', crystal }], CbOp.parse(op), null), (e: Error) => e instanceof ParameterError && /handedness/.test(e.message), op);
  }
});

test('a proper operator keeps det(A) > 0 and transforms the space group', () => {
  const [e] = reindexExperiments([{ identifier: 'x', crystal }], CbOp.parse('b,c,a'), null);
  assert.ok(Mat3.determinant(Crystal.A(e.crystal!)) > 0);
  assert.notEqual(e.crystal!.spaceGroupHall.trim(), 'P 4');
});
