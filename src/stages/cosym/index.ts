/**
 * `xtalflow cosym *.expt *.refl` → symmetrized.expt/.refl: consistent indexing and the Patterson
 * group across many datasets (Gildea & Winter 2018).
 *
 * 1. Datasets = experiments. Unit-cell clustering (src/core/clustering) keeps the majority lattice.
 * 2. Each experiment's cell is reduced, aligned onto one reference reduced cell by the unimodular
 *    transformation that matches the metrics best, and the mean of the aligned cells is reduced
 *    again: every dataset's indices are then in one common reduced basis (up to exactly the
 *    lattice symmetry that cosym is about).
 * 3. Intensities as the symmetry program prepares them (profile-fitted where integrated both
 *    ways, LP/QE applied, partials combined, partiality ≥ 0.4), a resolution cut where ⟨I⟩/⟨σ⟩ of
 *    all data falls below 4, E² normalised per dataset in resolution shells.
 * 4. src/core/cosym: correlations, embedding, reindexing operators, Patterson group (scored from
 *    the embedding; decided on pooled reindexed intensities, cross-validated over two halves of
 *    the reflections).
 * 5. Every experiment and its reflections reindexed into the conventional setting of the chosen
 *    Patterson group, with the Sohncke group of that Laue class without screw axes as the space
 *    group (screw axes are decided later from absences, as DIALS does).
 */
import { ParameterError, UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeRefl } from '../../core/io/refl.js';
import type { Log } from '../../core/log.js';
import type { Mat3 } from '../../core/math/mat3.js';
import { Crystal } from '../../core/models/crystal.js';
import type { Experiment, ExperimentList } from '../../core/models/types.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import type { PlotData } from '../../core/report/plot.js';
import { Flags } from '../../core/reflections/flags.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { dSpacings, medianCell } from '../../core/stats/dataset.js';
import { normaliseE2, prepareIntensities, anyProfileFitted } from '../../core/stats/prepare.js';
import { fmt, formatTable } from '../../core/table.js';
import { CbOp } from '../../core/symmetry/cbop.js';
import { minimumCellTransform } from '../../core/symmetry/niggli.js';
import type { IntMat3 } from '../../core/symmetry/op.js';
import { SpaceGroup, centringType, pattersonGroup } from '../../core/symmetry/spacegroup.js';
import { UnitCell } from '../../core/symmetry/unitcell.js';
import { clusterUnitCells } from '../../core/clustering/unit_cell.js';
import { cosym, type CosymDataset, type CosymResult } from '../../core/cosym/index.js';
import { conventionalSetting, det, latticeGroup, rotKey, subgroups } from '../../core/laue/lattice.js';
import { autoDMin, elementTable } from '../../core/laue/tables.js';
import { reindexExperiments } from '../../core/models/reindex.js';
import { loadMultiDataset, type MultiDataset } from './load.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'symmetrized.expt', help: 'Reindexed experiments' },
  { name: 'output.reflections', type: 'path', default: 'symmetrized.refl', help: 'Reindexed reflections' },
  { name: 'lattice_symmetry_max_delta', type: 'float', default: 5, min: 0, help: 'Largest Le Page δ (degrees) for a lattice two-fold' },
  { name: 'd_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit for the analysis (Å); Auto from min_i_mean_over_sigma_mean' },
  { name: 'min_i_mean_over_sigma_mean', type: 'float', default: 4, help: 'Auto d_min: outermost shell with ⟨I⟩/⟨σ⟩ at least this' },
  { name: 'partiality_threshold', type: 'float', default: 0.4, min: 0, max: 1, help: 'Drop reflections with a smaller partiality' },
  { name: 'seed', type: 'int', default: 0, help: 'Random seed (embedding start, consensus restarts)' },
  { name: 'dimensions', type: 'int', default: null, allowNone: true, min: 1, help: 'Embedding dimensions; Auto: elbow of the functional' },
  { name: 'max_dimensions', type: 'int', default: 10, min: 1, help: 'Largest dimension tried by the automatic choice' },
  { name: 'min_pairs', type: 'int', default: 3, min: 2, help: 'Ignore correlations from fewer common reflections' },
  { name: 'cross_validate', type: 'bool', default: true, help: 'Judge Patterson groups on held-out halves of the reflections (reindexing chosen on one half, correlations measured on the other)' },
  { name: 'unit_cell_clustering.enable', type: 'bool', default: true, help: 'Drop datasets whose cells differ from the majority' },
  { name: 'unit_cell_clustering.threshold', type: 'float', default: 0.025, min: 0, help: 'Largest average-linkage distance (RMS relative difference of the shortest lattice vectors) within a cluster' },
  { name: 'space_group', type: 'str', default: null, allowNone: true, help: 'Use the Laue group of this space group instead of the best scored one' },
];

export interface CosymStageOptions {
  maxDeltaDeg: number;
  dMin: number | null;
  minIOverSigma: number;
  partialityThreshold: number;
  seed: number;
  dimensions: number | null;
  maxDimensions: number;
  minPairs: number;
  crossValidate: boolean;
  clusterCells: boolean;
  cellThreshold: number;
  spaceGroup: string | null;
}

export function resolveOptions(p: Params): CosymStageOptions {
  return {
    maxDeltaDeg: p['lattice_symmetry_max_delta'] ?? 5,
    dMin: p['d_min'] ?? null,
    minIOverSigma: p['min_i_mean_over_sigma_mean'] ?? 4,
    partialityThreshold: p['partiality_threshold'] ?? 0.4,
    seed: p['seed'] ?? 0,
    dimensions: p['dimensions'] ?? null,
    maxDimensions: p['max_dimensions'] ?? 10,
    minPairs: p['min_pairs'] ?? 3,
    crossValidate: p['cross_validate'] ?? true,
    clusterCells: p['unit_cell_clustering.enable'] ?? true,
    cellThreshold: p['unit_cell_clustering.threshold'] ?? 0.025,
    spaceGroup: p['space_group'] ?? null,
  };
}

export interface CosymOutputs {
  experiments: ExperimentList;
  reflections: ReflectionTable;
  spaceGroup: SpaceGroup;
  /** Input index (in the files given) of each output experiment. */
  kept: number[];
  /** Per output experiment: input basis → final conventional setting. */
  cbOps: CbOp[];
  /** Per output experiment: input basis → the common reduced basis (before cosym's reindexing). */
  toReduced: CbOp[];
  /** What cosym analysed: per kept experiment, reduced-basis indices and E². */
  datasets: CosymDataset[];
  reducedCell: UnitCell;
  result: CosymResult;
}

/** Integer basis matrices with entries in {−1, 0, 1} and determinant +1 (3⁹ candidates, filtered once). */
let UNIMODULAR: Mat3[] | null = null;
function unimodular(): Mat3[] {
  if (UNIMODULAR) return UNIMODULAR;
  const out: Mat3[] = [];
  for (let code = 0; code < 19683; code++) {
    const m: number[] = [];
    let c = code;
    for (let k = 0; k < 9; k++) { m.push((c % 3) - 1); c = Math.floor(c / 3); }
    if (det(m) === 1) out.push(m as Mat3);
  }
  // identity first so that it wins ties
  out.sort((a, b) => Number(rotKey(b) === '1,0,0,0,1,0,0,0,1') - Number(rotKey(a) === '1,0,0,0,1,0,0,0,1'));
  return (UNIMODULAR = out);
}

/** The basis change P (new axes in old coordinates) making `cell` closest in metric to `ref`. */
export function alignToReference(cell: UnitCell, ref: UnitCell): { P: Mat3; mismatch: number } {
  const G = cell.metric, R = ref.metric;
  const scale = R[0] + R[4] + R[8];
  let best: Mat3 = unimodular()[0], bestS = Infinity;
  for (const P of unimodular()) {
    let s = 0;
    for (let i = 0; i < 3 && s < bestS; i++) for (let j = i; j < 3; j++) {
      // (PᵀGP)_ij
      let v = 0;
      for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) v += P[3 * p + i] * G[3 * p + q] * P[3 * q + j];
      s += Math.abs(v - R[3 * i + j]);
    }
    if (s < bestS - 1e-9 * scale) { bestS = s; best = P; }
  }
  return { P: best, mismatch: bestS / scale };
}

const cellText = (c: readonly number[]) => c.map((x, i) => x.toFixed(i < 3 ? 3 : 2)).join(' ');

export function run(input: MultiDataset, opts: CosymStageOptions, log: Log): StageResult<CosymOutputs> {
  const { experiments: allExp, reflections: t } = input;
  const nIn = allExp.length;
  log.info(`Read ${nIn} experiments from ${new Set(input.sourceOf).size} files; ${input.counts.rowsKept} of ${input.counts.rowsRead} reflections kept (${input.counts.badId} with an id naming no experiment, ${input.counts.unindexed} unindexed)` +
    (input.counts.strongSpotTables ? `; ${input.counts.strongSpotTables} strong-spot table(s) taken as summation intensities` : ''));
  if (nIn < 2) throw new UserError('cosym needs at least two datasets (experiments)', 'too_few_datasets');

  // 1. unit-cell clustering
  const cells = allExp.map((e) => Crystal.unitCell(e.crystal!) as number[]);
  let kept = Array.from({ length: nIn }, (_, i) => i);
  let clusterText = 'Unit-cell clustering disabled';
  if (opts.clusterCells) {
    const cl = clusterUnitCells(cells, opts.cellThreshold);
    kept = cl.majority;
    clusterText = `${cl.sizes.length} unit-cell cluster(s) of sizes ${cl.sizes.join(', ')} (threshold ${opts.cellThreshold}); keeping the largest (${kept.length} datasets)`;
    const dropped = Array.from({ length: nIn }, (_, i) => i).filter((i) => cl.labels[i] !== 0);
    if (dropped.length) clusterText += `\nDropped: ${dropped.map((i) => `${i} (${input.sourceOf[i]}: ${cellText(cells[i])})`).join('; ')}`;
  }
  log.info(clusterText);
  if (kept.length < 2) throw new UserError('fewer than two datasets share a unit cell: nothing to compare', 'too_few_datasets');

  // 2. common reduced basis
  const reductions = kept.map((i) => {
    const sg = SpaceGroup.fromHall(allExp[i].crystal!.spaceGroupHall || 'P 1');
    const c = centringType(sg);
    return minimumCellTransform(UnitCell.fromParams(cells[i]), c === '?' ? 'P' : c);
  });
  const vol = reductions.map((r) => r.cell.volume);
  const refIdx = vol.map((v, k) => [v, k]).sort((a, b) => a[0] - b[0])[vol.length >> 1][1];
  const ref = reductions[refIdx].cell;
  const aligned = reductions.map((r) => {
    const { P, mismatch } = alignToReference(r.cell, ref);
    const cb = CbOp.mul(CbOp.fromBasis(P), r.cbOp);
    return { cb, mismatch, cell: UnitCell.changeBasis(r.cell, CbOp.fromBasis(P)) };
  });
  const meanCell = medianCell(aligned.map((a) => [a.cell.a, a.cell.b, a.cell.c, a.cell.alpha, a.cell.beta, a.cell.gamma]));
  const final = minimumCellTransform(meanCell, 'P');
  const reducedCell = final.cell;
  const toReduced = aligned.map((a) => CbOp.mul(final.cbOp, a.cb));
  log.info(`Common minimum cell: ${cellText(UnitCell.parameters(reducedCell))}`);

  // 3. intensities
  const keptSet = new Int32Array(nIn).fill(-1);
  kept.forEach((i, k) => { keptSet[i] = k; });
  const d = dSpacings(t, allExp);
  const prep = prepareIntensities(t, d, anyProfileFitted(t)
    ? { intensity: 'prf', requireFlags: Flags.integrated_sum | Flags.integrated_prf, partialityThreshold: opts.partialityThreshold, minIOverSigma: -5 }
    : { intensity: 'sum', partialityThreshold: opts.partialityThreshold, minIOverSigma: -5 }, 'reflections');
  const id = t.int('id');
  const mi = t.miller('miller_index');
  const use = Array.from(prep.rows.keys()).filter((j) => keptSet[id[prep.rows[j]]] >= 0);
  const dUse = Float64Array.from(use, (j) => d[prep.rows[j]]);
  const dMin = opts.dMin ?? autoDMin(dUse, Float64Array.from(use, (j) => prep.I[j]), Float64Array.from(use, (j) => prep.sigma[j]), opts.minIOverSigma);
  log.info(`Using ${prep.kind === 'prf' ? 'profile-fitted' : 'summation'} intensities; resolution limit for the analysis: ${dMin === null ? 'none' : dMin.toFixed(2) + ' Å'}`);
  const perDataset: number[][] = kept.map(() => []);
  for (const j of use) if (dMin === null || d[prep.rows[j]] >= dMin) perDataset[keptSet[id[prep.rows[j]]]].push(j);
  const P1 = SpaceGroup.find('P 1');
  const datasets: CosymDataset[] = perDataset.map((js, k) => {
    const n = js.length;
    const hkl = new Int32Array(3 * n);
    for (let q = 0; q < n; q++) { const r = prep.rows[js[q]]; hkl[3 * q] = mi[3 * r]; hkl[3 * q + 1] = mi[3 * r + 1]; hkl[3 * q + 2] = mi[3 * r + 2]; }
    const hRed = CbOp.applyToHklArray(toReduced[k], hkl);
    if (n === 0) return { hkl: hRed, E2: new Float64Array(0) };
    const { E2 } = normaliseE2(hRed, Float64Array.from(js, (j) => d[prep.rows[j]]), Float64Array.from(js, (j) => prep.I[j]), Float64Array.from(js, (j) => prep.sigma[j]), P1);
    return { hkl: hRed, E2 };
  });
  const nRefl = datasets.reduce((s, x) => s + x.E2.length, 0);
  log.info(`${nRefl} reflections in ${datasets.length} datasets (${Math.min(...datasets.map((x) => x.E2.length))}–${Math.max(...datasets.map((x) => x.E2.length))} per dataset)`);

  // 4. cosym
  let forceGroup: IntMat3[] | null = null;
  if (opts.spaceGroup) {
    let sg: SpaceGroup;
    try { sg = SpaceGroup.find(opts.spaceGroup); } catch { throw new ParameterError(`space_group=${opts.spaceGroup}: not a space group symbol or number`); }
    forceGroup = findPattersonSubgroup(reducedCell, opts.maxDeltaDeg, pattersonGroup(sg));
  }
  const res = cosym(datasets, reducedCell, {
    maxDeltaDeg: opts.maxDeltaDeg, seed: opts.seed, dimensions: opts.dimensions, maxDimensions: opts.maxDimensions, minPairs: opts.minPairs, forceGroup, crossValidate: opts.crossValidate,
  });

  // 5. outputs
  const patterson = res.setting.patterson;
  const sg = sohnckeOf(patterson);
  const conv = res.setting.cbOp;
  const cbOps = kept.map((_, k) => CbOp.mul(conv, CbOp.mul(CbOp.fromBasis(res.reindex[k] as unknown as Mat3), toReduced[k])));
  const experiments: Experiment[] = kept.map((i, k) => {
    const e = reindexExperiments([allExp[i]], cbOps[k], sg.hall)[0];
    return e;
  });
  const rowKeep = new Uint8Array(t.nrows);
  for (let r = 0; r < t.nrows; r++) rowKeep[r] = keptSet[id[r]] >= 0 ? 1 : 0;
  const out = t.select(rowKeep);
  const oid = out.int('id'), omi = out.miller('miller_index');
  const P = cbOps.map((cb) => CbOp.basis(cb));
  for (let r = 0; r < out.nrows; r++) {
    const k = keptSet[oid[r]];
    oid[r] = k;
    const p = P[k];
    const h = omi[3 * r], kk = omi[3 * r + 1], l = omi[3 * r + 2];
    for (let j = 0; j < 3; j++) {
      const x = p[j] * h + p[3 + j] * kk + p[6 + j] * l;
      const n = Math.round(x);
      if (Math.abs(x - n) > 1e-6) throw new UserError(`reflection ${r} (${h},${kk},${l}) of experiment ${kept[k]} has no integral index in the new setting ${CbOp.toAbc(cbOps[k])}`, 'bad_cb_op');
      omi[3 * r + j] = n;
    }
  }
  out.identifiers = new Map(experiments.map((e, k) => [k, e.identifier]));

  // tables and figures
  const nReindexed = res.consensus.opOfDataset.filter((a) => a !== 0).length;
  const convCell = medianCell(experiments.map((e) => Crystal.unitCell(e.crystal!) as number[]));
  const opText = (a: number) => CbOp.toHkl(CbOp.mul(conv, CbOp.mul(CbOp.fromBasis(res.ops[a] as unknown as Mat3), CbOp.inverse(conv))));
  const byOp = new Map<number, number[]>();
  res.consensus.opOfDataset.forEach((a, k) => { const l = byOp.get(a) ?? []; l.push(kept[k]); byOp.set(a, l); });
  const keyOf = (g: readonly IntMat3[]) => g.map(rotKey).sort().join('|');
  const embL = new Map(res.scoring.subgroups.map((s) => [keyOf(s.rotations), s.likelihood]));
  const subRows = res.pooled.subgroups.map((s) => {
    const st = conventionalSetting(s.rotations, reducedCell);
    return [st.patterson.hm, s === res.best ? '***' : '', fmt(s.likelihood, 3), fmt(s.netZcc, 2), fmt(s.zccPlus, 2), fmt(s.zccMinus, 2), fmt(embL.get(keyOf(s.rotations)) ?? 0, 3), fmt(s.deltaDeg, 1), CbOp.toAbc(st.cbOp)];
  });
  const tables = [
    { title: 'Unit-cell clustering', text: clusterText },
    { title: 'Embedding dimensions', text: formatTable(['Dimensions', 'Functional', ''], res.scan.functional.map((f, k) => [k + 1, f.toExponential(4), k + 1 === res.scan.chosen.dims ? '← chosen' : ''])) },
    { title: 'Scoring individual symmetry elements (angles in the embedding)', text: elementTable(res.scoring.elements) },
    { title: 'Scoring individual symmetry elements (pooled reindexed intensities, held-out halves)', text: elementTable(res.pooled.elements) },
    { title: 'Scoring all possible sub-groups', text: formatTable(['Patterson group', '', 'Likelihood', 'NetZcc', 'Zcc+', 'Zcc-', 'L(embedding)', 'delta', 'Reindex operator'], subRows, { align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'] }) },
    {
      title: 'Best solution',
      text: [
        `Best solution: ${patterson.hm}`,
        `Unit cell: ${cellText(UnitCell.parameters(convCell))}`,
        `Reindex operator (from the minimum cell): ${CbOp.toAbc(conv)}`,
        `Laue group probability: ${res.best.likelihood.toFixed(3)}`,
        `Laue group confidence: ${res.confidence.toFixed(3)}`,
        `Space group (screw axes not yet tested): ${sg.hm}`,
      ].join('\n'),
    },
    { title: 'Reindexing operators (applied after each dataset was aligned onto the common minimum cell)', text: formatTable(['Reindexing operator', 'Datasets'], [...byOp.entries()].sort((a, b) => a[0] - b[0]).map(([a, ks]) => [opText(a), ks.join(', ')])) },
  ];
  const plots: Record<string, PlotData> = {
    cosym_coordinates: coordinatePlot(res),
    cosym_functional: { title: 'Embedding functional vs dimensions', xLabel: 'dimensions', yLabel: 'functional', kind: 'line', x: res.scan.functional.map((_, k) => k + 1), series: [{ label: 'Φ', y: res.scan.functional }] },
  };
  const figures = {
    space_group: sg.hm,
    laue_group: patterson.hm,
    laue_group_likelihood: res.best.likelihood,
    laue_group_confidence: res.confidence,
    laue_group_embedding: conventionalSetting(res.scoring.subgroups[0].rotations, reducedCell).patterson.hm,
    laue_group_embedding_likelihood: res.scoring.subgroups[0].likelihood,
    unit_cell: UnitCell.parameters(convCell) as number[],
    n_datasets: nIn,
    n_datasets_used: kept.length,
    n_rejected_unit_cell: nIn - kept.length,
    n_reindexed: nReindexed,
    dimensions: res.scan.chosen.dims,
    d_min_analysis: dMin,
    n_reflections_used: nRefl,
    lattice_point_group: conventionalSetting(res.ops, reducedCell).patterson.hm,
    plots: plots as unknown as number[],
  };
  return { outputs: { experiments, reflections: out, spaceGroup: sg, kept, cbOps, toReduced, datasets, reducedCell, result: res }, figures, tables };
}

/** Scatter of the first two coordinates: one series per lattice operation (as dials.cosym plots them). */
function coordinatePlot(res: CosymResult): PlotData {
  const { x, dims } = res.scan.chosen;
  const m = res.ops.length, N = res.table.nDatasets;
  const series = res.ops.map((_, a) => {
    const xs: number[] = [], ys: number[] = [];
    for (let i = 0; i < N; i++) { const v = (i * m + a) * dims; xs.push(x[v]); ys.push(dims > 1 ? x[v + 1] : 0); }
    return { label: `op ${a + 1}`, x: xs, y: ys };
  });
  return { title: 'cosym coordinates (first two dimensions)', xLabel: 'x₁', yLabel: 'x₂', kind: 'scatter', x: series[0]?.x ?? [], series };
}

/** The Sohncke group of a Patterson group's Laue class: its proper rotations with its centring. */
export function sohnckeOf(patterson: SpaceGroup): SpaceGroup {
  return SpaceGroup.fromOperators(patterson.symOps.filter((o) => det(o.rot) > 0).map((o) => ({ rot: o.rot, tran: [0, 0, 0] })), patterson.centring);
}

/** Rotations (reduced basis) of the lattice subgroup whose conventional Patterson group is `target`. */
function findPattersonSubgroup(reducedCell: UnitCell, maxDeltaDeg: number, target: SpaceGroup): IntMat3[] {
  const subs = subgroupsOfLattice(reducedCell, maxDeltaDeg);
  const want = target.hm.replace(/\s/g, '');
  for (const g of subs) if (conventionalSetting(g, reducedCell).patterson.hm.replace(/\s/g, '') === want) return g;
  throw new ParameterError(`space_group: Laue group ${target.hm} is not compatible with the lattice symmetry of the datasets`);
}

function subgroupsOfLattice(cell: UnitCell, maxDeltaDeg: number): IntMat3[][] {
  return subgroups(latticeGroup(cell, maxDeltaDeg).rotations);
}

export const program: Program = {
  name: 'cosym',
  summary: 'Resolve indexing ambiguity and symmetry across many datasets',
  usage: 'xtalflow cosym *.expt *.refl [seed=0] [lattice_symmetry_max_delta=5] [d_min=…] [space_group=…]',
  params: PARAMS,
  async main(ctx) {
    const opts = resolveOptions(ctx.params);
    if (!(opts.maxDeltaDeg >= 0)) throw new ParameterError('lattice_symmetry_max_delta must be ≥ 0');
    const input = await loadMultiDataset(ctx.files);
    const res = run(input, opts, ctx.log);
    for (const tb of res.tables) ctx.log.info(`\n${tb.title}\n\n${tb.text}\n`);
    const ex = ctx.params['output.experiments'] ?? 'symmetrized.expt';
    const rf = ctx.params['output.reflections'] ?? 'symmetrized.refl';
    await writeExperiments(ex, res.outputs.experiments);
    await writeRefl(rf, res.outputs.reflections);
    ctx.log.info(`Saving ${res.outputs.experiments.length} reindexed experiments to ${ex} in space group ${res.outputs.spaceGroup.hm}`);
    ctx.log.info(`Saving ${res.outputs.reflections.nrows} reindexed reflections to ${rf}`);
    return res as StageResult;
  },
};
