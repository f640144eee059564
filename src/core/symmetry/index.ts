/**
 * Crystallographic symmetry and unit cells.
 *
 * Operators
 *   Op                      {R|t}: integer rotation, translation in 1/TDEN (24ths).
 *   Op.parse('-y,x-y,z+1/3'), Op.toXyz(op), Op.mul(a, b) (b first), Op.inverse(op),
 *   Op.applyToHkl(op, h) (h·R), Op.rotationType(rot) (±1,±2,±3,±4,±6).
 *
 * Space groups
 *   SpaceGroup.find(s)      number, HM (full/short, spaces optional, `R 3 :R`, `P n n n :1`),
 *                           a leading space or '-' is read as Hall first (DIALS writes ` P 4 2`),
 *                           universal `C 1 2 1 (a+c,b,c)` or Hall (` P 4nw 2abw`).
 *   SpaceGroup.fromHall / fromHM / fromNumber / fromOperators / changeBasis / referenceSetting
 *   sg.symOps (coset representatives in Dimino/gemmi order — the MTZ ISYM order), sg.centring,
 *   sg.number, sg.hm, sg.hall, sg.basisOp (reference → this setting).
 *   allOps(sg), order(sg), centringType(sg), pointGroup(sg), laueGroup(sg), pattersonGroup(sg),
 *   isCentrosymmetric(sg), isSohncke(sg) (chiral), enantiomorph(sg),
 *   sohnckeGroupsFor(lattice) (the chiral groups per Bravais lattice, as dials.symmetry lists them).
 *
 * Reciprocal space
 *   new ReciprocalAsu(sg): isIn(h,k,l), toAsu(hkl) → {hkl, isym}, toAsuAnomalous, toAsuArray;
 *   CCP4 ASU conventions, ISYM odd for I(+), even for I(−).
 *   isSystematicallyAbsent(sg, h), isCentric(sg, h), epsilon(sg, h), phaseRestrictionDeg(sg, h),
 *   uniqueIndices(sg, cell, dMin, anomalous).
 *
 * Change of basis
 *   CbOp.parse('a+b,-a+b,c' | 'x-y,x+y,z' | 'h,k,l'), CbOp.mul, CbOp.inverse, toAbc/toXyz/toHkl,
 *   applyToHkl(/Array), applyToA (DIALS A = UB), applyToOp; UnitCell.changeBasis; SpaceGroup.changeBasis.
 *
 * Unit cell
 *   UnitCell.create(a,b,c,α,β,γ) / fromParams / fromMetric / fromA / fromBasisVectors;
 *   cell.metric, cell.reciprocalMetric, cell.volume; UnitCell.reciprocal, bMatrix (DIALS B,
 *   lower triangular), orthogonalization, fractionalization, dSpacing, dSpacings (typed arrays),
 *   isSimilar.
 *
 * Reduction and lattice symmetry
 *   niggliReduce(cell) → {cell, cbOp} (Křivý–Gruber), buergerReduce, minimumCellTransform,
 *   isNiggli(cell); latticeSymmetry(cell, {maxDeltaDeg}) → Bravais settings (Le Page δ) with
 *   cb_op from the input cell to the conventional setting, symmetrised cell and lattice group.
 */
export { Op, TDEN, type IntMat3, type IntVec3 } from './op.js';
export { CbOp } from './cbop.js';
export { parseHall, type HallParse } from './hall.js';
export {
  SpaceGroup, allOps, order, closeGroup, centringType, pointGroup, laueGroup, pattersonGroup, isCentrosymmetric,
  isSohncke, enantiomorph, normalizeSymbol,
} from './spacegroup.js';
export { allSettings, type SettingEntry } from './settings.js';
export {
  ReciprocalAsu, laueClassOf, isSystematicallyAbsent, isCentric, epsilon, phaseRestrictionDeg, uniqueIndices,
  type LaueClass, type AsuResult,
} from './asu.js';
export { UnitCell, type CellParams } from './unitcell.js';
export { niggliReduce, buergerReduce, isNiggli, minimumCellTransform, CENTRED_TO_PRIMITIVE, type Reduction } from './niggli.js';
export { latticeSymmetry, sameSetting, type BravaisSetting, type LatticeSymmetryOptions } from './lattice-symmetry.js';
export { sohnckeGroupsFor, chiralGroupsTable, bravaisLatticeOf, crystalFamilyLetter, shortSymbol } from './sohncke.js';
