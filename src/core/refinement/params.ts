/**
 * Refinement parameters shared by index, refine_bravais_settings and refine (DIALS' names), and
 * the tables they print.
 */
import type { ParamDef, Params } from '../params/index.js';
import type { RefinerOptions, ExperimentRmsd, RefinerResult, ResidualSummary } from './refiner.js';
import type { Crystal } from '../models/types.js';
import { Crystal as CrystalFns } from '../models/crystal.js';
import { Mat3 } from '../math/mat3.js';
import { formatTable } from '../table.js';
import { ParameterError } from '../errors.js';

export const REFINEMENT_PARAMS: ParamDef[] = [
  { name: 'refinement.parameterisation.beam.fix', type: 'strs', default: ['in_spindle_plane', 'wavelength'], allowNone: true,
    help: 'Beam parameters to fix: all, in_spindle_plane (keep the beam in the initial spindle-beam plane), out_spindle_plane, wavelength (None: refine both angles)' },
  { name: 'refinement.parameterisation.detector.fix', type: 'strs', default: null, allowNone: true,
    help: 'Detector parameters to fix: all, position, orientation, distance' },
  { name: 'refinement.parameterisation.goniometer.fix', type: 'strs', default: ['all'], allowNone: true,
    help: 'Goniometer parameters to fix: all, in_beam_plane, out_beam_plane (None: refine the rotation axis)' },
  { name: 'refinement.parameterisation.crystal.fix', type: 'strs', default: null, allowNone: true,
    help: 'Crystal parameters to fix: all, cell, orientation' },
  { name: 'refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values', type: 'floats', length: 6, default: null, allowNone: true,
    help: 'Restrain every crystal cell to a, b, c, α, β, γ (e.g. a known cell, to break the distance/cell correlation of electron diffraction)' },
  { name: 'refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.sigmas', type: 'floats', length: 6, default: null, allowNone: true,
    help: 'Sigmas of the tie_to_target restraint (Å, degrees; 0 = unrestrained)' },
  { name: 'refinement.reflections.outlier.algorithm', type: 'choice', default: 'auto', choices: ['auto', 'tukey', 'mcd', 'null'],
    help: 'Centroid outlier rejection: tukey (per-coordinate fences), mcd (robust Mahalanobis distance), null; auto = tukey in indexing, mcd in refine' },
  { name: 'refinement.reflections.reflections_per_degree', type: 'float', default: 100, allowNone: true,
    help: 'Random subset size per degree of scan (None: use all reflections)' },
  { name: 'refinement.reflections.use_all_reflections', type: 'bool', default: false, help: 'Ignore reflections_per_degree and use every reflection' },
  { name: 'refinement.reflections.close_to_spindle_cutoff', type: 'float', default: 0.02, min: 0,
    help: 'Exclude reflections whose |e·(s1×s0)| (volume spanned by the axis and the beam vectors, Å⁻²) is below this' },
  { name: 'refinement.refinery.max_iterations', type: 'int', default: 30, min: 0, help: 'Levenberg–Marquardt iteration limit' },
];

const FIX_WORDS: Record<string, string[]> = {
  beam: ['all', 'in_spindle_plane', 'out_spindle_plane', 'wavelength'],
  detector: ['all', 'position', 'orientation', 'distance'],
  goniometer: ['all', 'in_beam_plane', 'out_beam_plane'],
  crystal: ['all', 'cell', 'orientation'],
};

function fixList(p: Params, model: string): string[] {
  const name = `refinement.parameterisation.${model}.fix`;
  const v = p[name] as string[] | null | undefined;
  const words = (v ?? []).map((w) => w.replace(/^\*/, '').toLowerCase());
  for (const w of words) if (!FIX_WORDS[model].includes(w)) throw new ParameterError(`${name}=${w}: expected some of ${FIX_WORDS[model].join(', ')} or None`);
  return words;
}

export function refinerOptionsFrom(p: Params, autoOutlier: 'tukey' | 'mcd' = 'tukey'): RefinerOptions {
  const choice = p['refinement.reflections.outlier.algorithm'] ?? 'auto';
  const alg = choice === 'auto' ? autoOutlier : choice;
  const tieValues = p['refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values'] as number[] | null;
  const tieSigmas = p['refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.sigmas'] as number[] | null;
  if (!!tieValues !== !!tieSigmas) throw new ParameterError('tie_to_target needs both values and sigmas');
  return {
    cellRestraint: tieValues ? { values: tieValues, sigmas: tieSigmas! } : null,
    beamFix: fixList(p, 'beam'),
    detectorFix: fixList(p, 'detector'),
    goniometerFix: fixList(p, 'goniometer'),
    crystalFix: fixList(p, 'crystal'),
    outlierAlgorithm: alg,
    reflectionsPerDegree: p['refinement.reflections.use_all_reflections'] ? null : p['refinement.reflections.reflections_per_degree'] ?? null,
    closeToSpindleCutoff: p['refinement.reflections.close_to_spindle_cutoff'] ?? 0.02,
    maxIterations: p['refinement.refinery.max_iterations'] ?? 30,
  };
}

/** DIALS' "Summary statistics for N observations matched to predictions" table. */
export function residualTable(s: ResidualSummary): string {
  const g = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : '-');
  return `Summary statistics for ${s.n} observations matched to predictions:\n` + formatTable(['', 'Min', 'Q1', 'Med', 'Q3', 'Max'], [
    ['Xc - Xo (mm)', ...s.x.map(g)], ['Yc - Yo (mm)', ...s.y.map(g)], ['Phic - Phio (deg)', ...s.phi.map(g)],
  ]);
}

/** RMSDs after every accepted Levenberg–Marquardt step. */
export function stepsTable(steps: RefinerResult['steps']): string {
  return formatTable(['Step', 'Nref', 'RMSD_X (mm)', 'RMSD_Y (mm)', 'RMSD_Phi (deg)'],
    steps.map((s, k) => [k, s.nref, s.xMm.toFixed(6), s.yMm.toFixed(6), s.phiDeg.toFixed(5)]));
}

export function rmsdTable(rmsds: readonly ExperimentRmsd[]): string {
  return formatTable(['Exp id', 'Nref', 'RMSD_X (px)', 'RMSD_Y (px)', 'RMSD_Z (images)'],
    rmsds.map((r) => [r.experiment, r.nref, r.xPx.toFixed(5), r.yPx.toFixed(5), r.zImages.toFixed(5)]));
}

const f4 = (m: Mat3) => [0, 1, 2].map((r) => '{' + [0, 1, 2].map((c) => m[3 * r + c].toFixed(4).padStart(7)).join(', ') + '}').join(',\n                ');

/** DIALS-like text block for a crystal model. */
export function describeCrystal(c: Crystal, spaceGroupSymbol = 'P 1'): string {
  const cell = CrystalFns.unitCell(c);
  const A = CrystalFns.A(c);
  const B = CrystalFns.B(c);
  const U = Mat3.mul(A, Mat3.inverse(B));
  return [
    'Crystal:',
    `    Unit cell: ${cell.slice(0, 3).map((x) => x.toFixed(3)).join(', ')}, ${cell.slice(3).map((x) => x.toFixed(3)).join(', ')}`,
    `    Space group: ${spaceGroupSymbol}`,
    `    U matrix:  {${f4(U)}}`,
    `    B matrix:  {${f4(B)}}`,
    `    A = UB:    {${f4(A)}}`,
  ].join('\n');
}
