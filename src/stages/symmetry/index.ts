/**
 * `xtalflow symmetry integrated.expt integrated.refl [...]` → symmetrized.expt/.refl.
 *
 * 1. Intensities: profile-fitted (rows integrated by both methods), LP/QE applied, partials
 *    combined, partiality ≥ 0.4, I/σ ≥ −5; normalised to E² per dataset in resolution shells;
 *    optionally cut where ⟨I⟩/⟨σ⟩ falls below min_i_mean_over_sigma_mean.
 * 2. Lattice symmetry of the reduced cell (Le Page, δ ≤ lattice_symmetry_max_delta), every
 *    symmetry element scored, every Laue subgroup scored (see scoring.ts); best = most likely.
 * 3. Systematic absences along the screw axes of the best Laue group on the unscaled intensities
 *    merged in it (see absences.ts) → recommended space group.
 * 4. Everything reindexed to the conventional setting of that group and written out.
 */
import { ParameterError, UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeRefl } from '../../core/io/refl.js';
import type { Log } from '../../core/log.js';
import { Mat3 } from '../../core/math/mat3.js';
import { Crystal } from '../../core/models/crystal.js';
import type { ExperimentList } from '../../core/models/types.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { Flags } from '../../core/reflections/flags.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { loadDataset, type Dataset } from '../../core/stats/dataset.js';
import { anyProfileFitted, normaliseE2, prepareIntensities } from '../../core/stats/prepare.js';
import { equalCountBinIndex } from '../../core/stats/binning.js';
import { fmt, formatTable } from '../../core/table.js';
import { CbOp } from '../../core/symmetry/cbop.js';
import { minimumCellTransform } from '../../core/symmetry/niggli.js';
import { SpaceGroup, centringType, enantiomorph, pattersonGroup } from '../../core/symmetry/spacegroup.js';
import { UnitCell } from '../../core/symmetry/unitcell.js';
import { analyseAbsences, axialReflections, laueCandidates, screwTable, type AbsenceAnalysis } from '../../core/stats/absences.js';
import { conventionalSetting, latticeGroup, rotKey, subgroups, symmetryElements, type Setting } from '../../core/laue/lattice.js';
import { scoreElements, scoreSubgroups, type ElementScore, type ScoringContext, type SubgroupScore } from '../../core/laue/scoring.js';
import { autoDMin, elementTable, subgroupTable } from '../../core/laue/tables.js';
import { reindexExperiments } from '../../core/models/reindex.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'symmetrized.expt', help: 'Reindexed experiments' },
  { name: 'output.reflections', type: 'path', default: 'symmetrized.refl', help: 'Reindexed reflections' },
  { name: 'lattice_symmetry_max_delta', type: 'float', default: 2, min: 0, help: 'Largest Le Page δ (degrees) for a lattice two-fold' },
  { name: 'd_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit for the analysis (Å); Auto from min_i_mean_over_sigma_mean' },
  { name: 'min_i_mean_over_sigma_mean', type: 'float', default: 4, help: 'Auto d_min: outermost shell with ⟨I⟩/⟨σ⟩ at least this' },
  { name: 'partiality_threshold', type: 'float', default: 0.4, min: 0, max: 1, help: 'Drop reflections with a smaller partiality' },
  { name: 'space_group', type: 'str', default: null, allowNone: true, help: 'Skip the analysis and use this space group (must fit the lattice)' },
  { name: 'systematic_absences.check', type: 'bool', default: true, help: 'Choose the space group from systematic absences (else the Sohncke group without screws)' },
];

export interface SymmetryOptions {
  maxDeltaDeg: number;
  dMin: number | null;
  minIOverSigma: number;
  partialityThreshold: number;
  spaceGroup: string | null;
  checkAbsences: boolean;
}

export function resolveOptions(p: Params): SymmetryOptions {
  return {
    maxDeltaDeg: p['lattice_symmetry_max_delta'] ?? 2,
    dMin: p['d_min'] ?? null,
    minIOverSigma: p['min_i_mean_over_sigma_mean'] ?? 4,
    partialityThreshold: p['partiality_threshold'] ?? 0.4,
    spaceGroup: p['space_group'] ?? null,
    checkAbsences: p['systematic_absences.check'] ?? true,
  };
}

export interface SymmetryOutputs {
  experiments: ExperimentList;
  reflections: ReflectionTable;
  spaceGroup: SpaceGroup;
  /** Input basis → conventional setting of the answer. */
  cbOp: CbOp;
  elements: ElementScore[];
  subgroupScores: (SubgroupScore & { setting: Setting; reindexFromMinimum: string })[];
  absences: AbsenceAnalysis | null;
  context: ScoringContext;
}


/** E² per dataset (P1, ε = 1): each sweep has its own scale and fall-off before scaling. */
function eSquaredPerDataset(hkl: Int32Array, d: Float64Array, I: Float64Array, sigma: Float64Array, group: Int32Array, nGroups: number): Float64Array {
  const E2 = new Float64Array(I.length);
  const P1 = SpaceGroup.fromNumber(1);
  for (let g = 0; g < nGroups; g++) {
    const idx: number[] = [];
    for (let i = 0; i < I.length; i++) if (group[i] === g) idx.push(i);
    if (!idx.length) continue;
    const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
    const h = new Int32Array(3 * idx.length);
    idx.forEach((i, j) => { h[3 * j] = hkl[3 * i]; h[3 * j + 1] = hkl[3 * i + 1]; h[3 * j + 2] = hkl[3 * i + 2]; });
    const { E2: e } = normaliseE2(h, pick(d), pick(I), pick(sigma), P1);
    idx.forEach((i, j) => { E2[i] = e[j]; });
  }
  return E2;
}


export function run(ds: Dataset, opts: SymmetryOptions, log: Log): StageResult<SymmetryOutputs> {
  const t = ds.reflections;
  const userGroup = opts.spaceGroup ? SpaceGroup.find(opts.spaceGroup) : null; // a bad name fails before any work
  const nExp = ds.experiments.length;
  // Profile-fitted intensities of rows integrated both ways (as DIALS); summation only when no
  // row was profile-fitted (no prf columns, or profile fitting skipped, e.g. too few spots).
  const hasPrf = anyProfileFitted(t);
  const prep = prepareIntensities(t, ds.d, {
    intensity: hasPrf ? 'prf' : 'sum', requireFlags: hasPrf ? Flags.integrated_sum | Flags.integrated_prf : Flags.integrated_sum,
    partialityThreshold: opts.partialityThreshold, minIOverSigma: -5, dMin: null, dMax: null,
  }, ds.source ?? 'reflections');
  log.info(`Selected ${prep.rows.length} of ${t.nrows} reflections integrated by ${hasPrf ? 'profile fitting and summation' : 'summation'} (${prep.counts.partials_combined ?? 0} partials combined)`);
  const mi = t.miller('miller_index');
  const id = t.has('id') ? t.int('id') : new Int32Array(t.nrows);
  let n = prep.rows.length;
  let rows = prep.rows, I = prep.I, sigma = prep.sigma;
  let d = Float64Array.from(rows, (r) => ds.d[r]);
  // Resolution limit of the analysis.
  const dMin = opts.dMin ?? autoDMin(d, I, sigma, opts.minIOverSigma);
  if (dMin !== null) {
    const keep = Array.from({ length: n }, (_, j) => j).filter((j) => d[j] >= dMin);
    rows = Int32Array.from(keep, (j) => rows[j]); I = Float64Array.from(keep, (j) => I[j]); sigma = Float64Array.from(keep, (j) => sigma[j]); d = Float64Array.from(keep, (j) => d[j]);
    n = rows.length;
    if (n === 0) throw new UserError(`no reflections left with d ≥ ${dMin} Å`, 'no_reflections');
  }
  log.info(`High resolution limit for the Laue group analysis: ${dMin === null ? 'none' : dMin.toFixed(2) + ' Å'}`);
  const hkl = new Int32Array(3 * n);
  for (let j = 0; j < n; j++) for (let c = 0; c < 3; c++) hkl[3 * j + c] = mi[3 * rows[j] + c];
  const E2 = eSquaredPerDataset(hkl, d, I, sigma, Int32Array.from(rows, (r) => id[r]), nExp);

  // Reduced cell and the input → reduced change of basis (the input may be centred).
  const inputCentring = centringType(ds.spaceGroup);
  const red = minimumCellTransform(ds.cell, inputCentring === '?' ? 'P' : inputCentring);
  const hRed = CbOp.applyToHklArray(red.cbOp, hkl);
  const cellStr = (c: UnitCell) => [c.a, c.b, c.c, c.alpha, c.beta, c.gamma].map((x) => x.toFixed(4)).join(', ');
  log.info(`Input cell (${cellStr(ds.cell)}), space group ${ds.spaceGroup.hm || ds.spaceGroup.hall}`);
  log.info(`Change of basis to the minimum cell: ${CbOp.toAbc(red.cbOp)}; minimum cell (${cellStr(red.cell)})`);

  const lattice = latticeGroup(red.cell, opts.maxDeltaDeg);
  const holohedry = conventionalSetting(lattice.rotations, red.cell);
  log.info(`Lattice point group: ${holohedry.patterson.hm} (${lattice.twoFolds.length} two-folds with δ ≤ ${opts.maxDeltaDeg}°)`);
  const elements = symmetryElements(lattice.rotations);
  const { scores, context } = scoreElements({ miller: hRed, E2 }, elements);
  log.info(`Overall CC for ${context.nUnrelated} unrelated pairs: ${context.unrelatedCc.toFixed(3)}`);
  log.info(`CC of repeated measurements (identity): ${context.identityCc.toFixed(3)}; E(CC) of true symmetry taken as ${context.expectedCc.toFixed(3)}`);

  const deltaOf = new Map<string, number>();
  for (const tf of lattice.twoFolds) deltaOf.set(rotKey(tf.rot), tf.deltaDeg);
  // A subgroup's δ: the largest over its two-folds (four- and six-folds are products of them).
  const subs = subgroups(lattice.rotations);
  const subScores = scoreSubgroups(subs, scores, deltaOf).map((s) => {
    const setting = conventionalSetting(s.rotations, red.cell);
    return { ...s, setting, reindexFromMinimum: CbOp.toAbc(setting.cbOp) };
  });
  let best = subScores[0];
  if (userGroup) {
    // The user's group decides the Laue group: its Patterson group must be one of the lattice's.
    const want = pattersonGroup(userGroup);
    const match = subScores.find((s) => s.setting.patterson.number === want.number && s.setting.patterson.hm === want.hm);
    if (!match) throw new UserError(`space_group=${opts.spaceGroup}: its Laue group ${want.hm} is not a subgroup of the lattice symmetry ${holohedry.patterson.hm} found within ${opts.maxDeltaDeg}°`, 'bad_space_group');
    best = match;
  }
  const second = subScores[1]?.likelihood ?? 0;
  const confidence = Math.sqrt(Math.max(best.likelihood * (best.likelihood - second), 0));

  // Space group.
  const cbTotal = CbOp.mul(best.setting.cbOp, red.cbOp);
  let absences: AbsenceAnalysis | null = null;
  let sg: SpaceGroup;
  if (userGroup) {
    sg = userGroup;
  } else if (opts.checkAbsences) {
    absences = analyseAbsences(best.setting.patterson.hm, axialReflections(CbOp.applyToHklArray(best.setting.cbOp, hRed), I, sigma, best.setting.patterson));
    sg = SpaceGroup.find(absences ? absences.recommended : sohnckeDefault(best.setting.patterson.hm));
  } else {
    sg = SpaceGroup.find(sohnckeDefault(best.setting.patterson.hm));
  }

  // Reindex everything (all rows, not only the analysed ones) to the conventional setting.
  const out = t.clone();
  out.setMiller('miller_index', CbOp.applyToHklArray(cbTotal, t.miller('miller_index')));
  const experiments = reindexExperiments(ds.experiments, cbTotal, sg.hall);
  const convCell = UnitCell.changeBasis(ds.cell, cbTotal);

  const tables = [
    { title: 'Scoring individual symmetry elements', text: elementTable(scores) },
    { title: 'Scoring all possible sub-groups', text: subgroupTable(subScores) },
    {
      title: 'Best solution',
      text: [
        `Best solution: ${best.setting.patterson.hm}`,
        `Unit cell: ${cellStr(convCell)}`,
        `Reindex operator (from the input cell): ${CbOp.toAbc(cbTotal)}`,
        `Laue group probability: ${best.likelihood.toFixed(3)}`,
        `Laue group confidence: ${confidence.toFixed(3)}`,
      ].join('\n'),
    },
  ];
  if (absences) {
    tables.push({ title: 'Systematic absences (screw axes)', text: screwTable(absences) });
    tables.push({ title: 'Space groups', text: formatTable(['Space group', 'score'], absences.groups.map((g) => [g.symbol, fmt(g.score, 3)])) });
  }
  const enantio = enantiomorph(sg);
  const recText = [`Recommended space group: ${sg.hm}`];
  if (enantio && enantio.number !== sg.number) recText.push(`Enantiomorph: ${enantio.hm} (indistinguishable without anomalous signal)`);
  if (absences?.equivalent.length) recText.push(`Not distinguished by the absences measured here: ${absences.equivalent.join(', ')}`);
  tables.push({ title: 'Space group', text: recText.join('\n') });

  return {
    outputs: { experiments, reflections: out, spaceGroup: sg, cbOp: cbTotal, elements: scores, subgroupScores: subScores, absences, context },
    figures: {
      laue_group: best.setting.patterson.hm,
      laue_group_likelihood: best.likelihood,
      laue_group_confidence: confidence,
      space_group: sg.hm,
      space_group_number: sg.number,
      enantiomorph: enantio && enantio.number !== sg.number ? enantio.hm : null,
      reindex_operator: CbOp.toAbc(cbTotal),
      n_reflections_used: n,
      d_min_analysis: dMin,
      lattice_point_group: holohedry.patterson.hm,
    },
    tables,
  };
}

/** The Sohncke group without screw axes for a Patterson group (used when absences are not checked). */
function sohnckeDefault(patterson: string): string {
  const c = laueCandidates(patterson);
  if (!c) throw new UserError(`no space groups known for Patterson group ${patterson}`);
  return c.groups[0].symbol;
}




export const program: Program = {
  name: 'symmetry',
  summary: 'Determine the Laue group and space group from intensities (symmetrized.expt/.refl)',
  usage: 'xtalflow symmetry integrated.expt integrated.refl [more .expt/.refl] [d_min=…] [space_group=…]',
  params: PARAMS,
  async main(ctx) {
    if (ctx.params['lattice_symmetry_max_delta'] !== undefined && !(ctx.params['lattice_symmetry_max_delta'] >= 0)) throw new ParameterError('lattice_symmetry_max_delta must be ≥ 0');
    const ds = await loadDataset(ctx.files);
    const res = run(ds, resolveOptions(ctx.params), ctx.log);
    for (const t of res.tables) ctx.log.info(`\n${t.title}\n\n${t.text}\n`);
    const ex = ctx.params['output.experiments'] ?? 'symmetrized.expt';
    const rf = ctx.params['output.reflections'] ?? 'symmetrized.refl';
    await writeExperiments(ex, res.outputs.experiments);
    await writeRefl(rf, res.outputs.reflections);
    ctx.log.info(`Saving reindexed experiments to ${ex} in space group ${res.outputs.spaceGroup.hm}`);
    ctx.log.info(`Saving ${res.outputs.reflections.nrows} reindexed reflections to ${rf}`);
    return res as StageResult;
  },
};


