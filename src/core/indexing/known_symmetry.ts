/**
 * Taking a freshly indexed P1 basis into a user's known symmetry (`unit_cell=`, `space_group=`):
 * find the Bravais setting of the found lattice (Le Page, core/symmetry) whose lattice group holds
 * the space group's rotations and whose cell agrees with the given one (DIALS' tolerances: 10 % in
 * lengths, 5° in angles), and return the change of basis into it. No such setting → the explicit
 * 'unit_cell_mismatch' failure the pipeline tells apart from 'no_lattice'.
 */
import { Mat3 } from '../math/mat3.js';
import { UserError } from '../errors.js';
import { CbOp, SpaceGroup, UnitCell, niggliReduce, type Op } from '../symmetry/index.js';
import { latticeSymmetry } from '../symmetry/lattice-symmetry.js';

export interface KnownSymmetry {
  unitCell: UnitCell | null;
  spaceGroup: SpaceGroup | null;
  relativeLengthTolerance?: number;
  absoluteAngleToleranceDeg?: number;
}

export interface SymmetryMatch {
  /** change of basis from the found basis to the target setting */
  cb: CbOp;
  /** the found cell in the target setting (symmetrised to the lattice group) */
  cell: UnitCell;
  hall: string;
  /** proper rotations of the space group as operators on Miller indices (for the cell constraint) */
  millerOps: Mat3[];
}

function properRotations(ops: readonly Op[]): Op[] {
  return ops.filter((o) => Mat3.determinant(Mat3.from(o.rot)) > 0);
}

function rotKey(r: ArrayLike<number>): string { return Array.from(r).join(','); }

function similar(x: UnitCell, y: UnitCell, k: KnownSymmetry): boolean {
  return UnitCell.isSimilar(x, y, k.relativeLengthTolerance ?? 0.1, k.absoluteAngleToleranceDeg ?? 5);
}

function cellText(c: UnitCell): string { return UnitCell.toString(c, 2); }

/** Match the P1 basis with reciprocal matrix A to the known symmetry. */
export function matchKnownSymmetry(A: Mat3, known: KnownSymmetry): SymmetryMatch {
  const cell = UnitCell.fromA(A);
  const sg = known.spaceGroup ?? SpaceGroup.find('P 1');
  const rots = properRotations(sg.symOps);
  const millerOps = rots.map((o) => Mat3.transpose(Mat3.from(o.rot)));
  if (rots.length === 1 && sg.centring.length === 1) {
    // triclinic: compare Niggli cells; the target basis is the target's own Niggli basis
    const red = niggliReduce(cell);
    if (!known.unitCell) return { cb: red.cbOp, cell: red.cell, hall: sg.hall, millerOps };
    const target = niggliReduce(known.unitCell);
    if (!similar(red.cell, target.cell, known)) {
      throw new UserError(`unit_cell ${cellText(known.unitCell)} does not fit the lattice found (reduced cell ${cellText(red.cell)})`, 'unit_cell_mismatch');
    }
    const cb = CbOp.mul(CbOp.inverse(target.cbOp), red.cbOp);
    return { cb, cell: UnitCell.changeBasis(cell, cb), hall: sg.hall, millerOps };
  }
  const want = new Set(rots.map((o) => rotKey(o.rot)));
  const centring = new Set(sg.centring.map((c) => c.join(',')));
  const settings = latticeSymmetry(cell, { maxDeltaDeg: 5 });
  const candidates = settings.filter((s) => {
    const have = new Set(s.group.symOps.map((o) => rotKey(o.rot)));
    for (const k of want) if (!have.has(k)) return false;
    const c2 = new Set(s.group.centring.map((c) => c.join(',')));
    return c2.size === centring.size && [...centring].every((c) => c2.has(c));
  });
  if (candidates.length === 0) {
    const offered = settings.map((s) => s.lattice).join(', ');
    if (known.unitCell) throw new UserError(`unit_cell ${cellText(known.unitCell)} / space_group ${sg.hm} does not fit the lattice found (${cellText(cell)}; lattices within 5°: ${offered})`, 'unit_cell_mismatch');
    throw new UserError(`space_group ${sg.hm} does not fit the lattice found (${cellText(cell)}; lattices within 5°: ${offered})`, 'unit_cell_mismatch');
  }
  const fitting = known.unitCell ? candidates.filter((s) => similar(s.bestCell, known.unitCell!, known)) : candidates;
  if (fitting.length === 0) {
    throw new UserError(`unit_cell ${cellText(known.unitCell!)} does not fit the lattice found (${cellText(candidates[0].bestCell)} in the ${candidates[0].lattice} setting)`, 'unit_cell_mismatch');
  }
  // smallest obliquity first; then the closest cell
  const score = (c: UnitCell) => (known.unitCell ? UnitCell.parameters(c).reduce((s, x, i) => s + Math.abs(x - UnitCell.parameters(known.unitCell!)[i]) / (i < 3 ? x : 90), 0) : 0);
  fitting.sort((a, b) => a.maxAngularDifferenceDeg - b.maxAngularDifferenceDeg || score(a.bestCell) - score(b.bestCell));
  const best = fitting[0];
  return { cb: best.cbOp, cell: best.bestCell, hall: sg.hall, millerOps };
}
