import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mat3 } from '../../../src/core/math/mat3.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { UserError } from '../../../src/core/errors.js';
import { run } from '../../../src/stages/reindex/index.js';
import { makeExperiment } from '../../core/refinement/synthetic.js';

function table(hkl: number[]): ReflectionTable {
  const t = ReflectionTable.empty(hkl.length / 3);
  t.setMiller('miller_index', hkl);
  t.setInt('id', new Int32Array(hkl.length / 3));
  return t;
}

test('reindex keeps every reciprocal-lattice vector: A′·h′ = A·h', () => {
  const e = makeExperiment({ cell: [50, 61, 73] });
  const hkl = [1, 2, 3, -4, 0, 5, 2, -7, 1];
  const r = run([e], table(hkl), 'b,c,a', null);
  const A = Crystal.A(e.crystal!), A2 = Crystal.A(r.outputs.experiments![0].crystal!);
  const h2 = r.outputs.reflections!.miller('miller_index');
  for (let i = 0; i < 3; i++) {
    const v1 = Mat3.mulVec(A, [hkl[3 * i], hkl[3 * i + 1], hkl[3 * i + 2]]);
    const v2 = Mat3.mulVec(A2, [h2[3 * i], h2[3 * i + 1], h2[3 * i + 2]]);
    v1.forEach((x, j) => assert.ok(Math.abs(x - v2[j]) < 1e-14));
  }
  const cell = Crystal.unitCell(r.outputs.experiments![0].crystal!);
  assert.ok(Math.abs(cell[0] - 61) < 1e-9 && Math.abs(cell[1] - 73) < 1e-9 && Math.abs(cell[2] - 50) < 1e-9);
});

test('reindex to a cell that is not a superlattice of the input is an explicit error', () => {
  // C-centred → primitive halves the cell: (1,0,0) has no integral index there
  assert.throws(() => run(null, table([1, 0, 0]), '1/2*a+1/2*b,-1/2*a+1/2*b,c', null), (e: unknown) => e instanceof UserError && e.code === 'bad_cb_op');
});
