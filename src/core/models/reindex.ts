/**
 * Change of basis applied to experiments (crystal A matrices, scan-point A, space group) and to
 * Miller indices: what `reindex`, `symmetry` and `cosym` all do to put data in a new setting.
 */
import { ParameterError, UserError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { CbOp, SpaceGroup } from '../symmetry/index.js';
import { Crystal as CrystalFns } from './crystal.js';
import { ExperimentList } from './experiment.js';
import type { Crystal, Experiment } from './types.js';

/** Reindexed Miller indices; throws naming the first reflection that does not map to integers. */
export function reindexMiller(cb: CbOp, hkl: Int32Array, source = 'reflections'): Int32Array {
  const p = CbOp.basis(cb);
  const out = new Int32Array(hkl.length);
  for (let i = 0; i < hkl.length; i += 3) {
    const h = hkl[i], k = hkl[i + 1], l = hkl[i + 2];
    for (let j = 0; j < 3; j++) {
      const x = p[j] * h + p[3 + j] * k + p[6 + j] * l;
      const n = Math.round(x);
      if (Math.abs(x - n) > 1e-6) throw new UserError(`${source}: reflection ${i / 3} (${h},${k},${l}) has no integral index under ${CbOp.toAbc(cb)}`, 'bad_cb_op');
      out[i + j] = n;
    }
  }
  return out;
}

/** Copies of the experiments with every crystal (once per shared model) in the new basis; the space group given, or the old one transformed. */
export function reindexExperiments(exps: readonly Experiment[], cb: CbOp, spaceGroupHall: string | null): Experiment[] {
  // An operator with det ≤ 0 would turn a right-handed basis into a left-handed one (an improper U).
  if (Mat3.determinant(Mat3.from(CbOp.basis(cb))) <= 0) {
    throw new ParameterError(`change_of_basis_op=${CbOp.toAbc(cb)} changes the handedness of the basis (determinant ≤ 0)`);
  }
  const out = ExperimentList.clone(exps);
  const done = new Set<Crystal>();
  for (const e of out) {
    const c = e.crystal;
    if (!c || done.has(c)) continue;
    done.add(c);
    const A = CbOp.applyToA(cb, CrystalFns.A(c));
    const Ai = Mat3.inverse(A);
    c.realSpaceA = Mat3.row(Ai, 0); c.realSpaceB = Mat3.row(Ai, 1); c.realSpaceC = Mat3.row(Ai, 2);
    if (c.AAtScanPoints) c.AAtScanPoints = c.AAtScanPoints.map((m) => CbOp.applyToA(cb, m));
    delete c.BCovariance;
    if (spaceGroupHall !== null) c.spaceGroupHall = spaceGroupHall;
    else if (!CbOp.isIdentity(cb)) {
      try {
        c.spaceGroupHall = SpaceGroup.changeBasis(SpaceGroup.fromHall(c.spaceGroupHall), cb).hall;
      } catch (e) {
        throw new UserError(`cannot express space group '${c.spaceGroupHall.trim()}' in the basis ${CbOp.toAbc(cb)}: ${(e as Error).message}`, 'bad_cb_op');
      }
    }
  }
  return out;
}
