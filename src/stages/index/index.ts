/**
 * `xtalflow index imported.expt strong.refl [params]` → indexed.expt + indexed.refl.
 *
 * Reads the imported models and strong spots, runs the core indexer (fft3d basis search, P1
 * reduced cell, macro-cycles of static refinement), and writes the refined models and the spot
 * table with Miller indices, predictions and flags. Unindexed spots keep id −1, as in DIALS.
 */
import path from 'node:path';
import { ParameterError, UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeRefl } from '../../core/io/refl.js';
import type { Log } from '../../core/log.js';
import type { Experiment } from '../../core/models/types.js';
import { Crystal } from '../../core/models/crystal.js';
import { Panel } from '../../core/models/detector.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { Flags } from '../../core/reflections/flags.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { formatTable } from '../../core/table.js';
import { SpaceGroup, UnitCell } from '../../core/symmetry/index.js';
import { observationsFromTable } from '../../core/refinement/observations.js';
import type { RefinementData } from '../../core/refinement/target.js';
import { REFINEMENT_PARAMS, describeCrystal, refinerOptionsFrom, rmsdTable } from '../../core/refinement/params.js';
import { indexSpots, type IndexingOptions, type IndexingResult } from '../../core/indexing/indexer.js';
import { readPair } from '../../core/io/inputs.js';
import { Scan } from '../../core/models/scan.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'indexed.expt', help: 'Output experiment list' },
  { name: 'output.reflections', type: 'path', default: 'indexed.refl', help: 'Output reflection table' },
  { name: 'indexing.method', type: 'choice', default: 'fft3d', choices: ['fft3d', 'fft1d', 'real_space_grid_search'],
    help: 'Basis-vector search: fft3d (3D FFT of the rlps), fft1d (1D FFTs of projections on a hemisphere of directions), real_space_grid_search (needs unit_cell)' },
  { name: 'indexing.known_symmetry.unit_cell', type: 'floats', length: 6, default: null, allowNone: true, help: 'Known unit cell a,b,c,α,β,γ: the lattice found must fit it' },
  { name: 'indexing.known_symmetry.space_group', type: 'str', default: null, allowNone: true, help: 'Known space group (symbol or number): the crystal is given in its setting and refined with its metric constraints' },
  { name: 'indexing.max_cell', type: 'float', default: null, allowNone: true, min: 0, help: 'Largest cell edge (Å) to search for (Auto: from nearest-neighbour separations ×1.3)' },
  { name: 'indexing.min_cell', type: 'float', default: 3, min: 0, help: 'Shortest cell edge (Å) accepted' },
  { name: 'indexing.fft3d.reciprocal_space_grid.n_points', type: 'int', default: 256, min: 16, help: 'FFT grid points per dimension (power of two)' },
  { name: 'indexing.refinement_protocol.n_macro_cycles', type: 'int', default: 5, min: 1, help: 'Macro-cycles of re-indexing and refinement at rising resolution' },
  { name: 'indexing.multiple_lattice_search.max_lattices', type: 'int', default: 1, min: 1, help: 'Search the unindexed spots for up to this many lattices' },
  { name: 'indexing.joint_indexing', type: 'bool', default: true, aliases: ['joint', 'joint_indexing'], help: 'Index several sweeps as one crystal (False: one crystal per sweep)' },
  { name: 'indexing.max_cell_factor', type: 'float', default: 1, min: 0.1, help: 'Multiplier on the estimated max_cell (when max_cell is not given)' },
  { name: 'indexing.joint_split_orientations', type: 'bool', default: true,
    help: 'Joint indexing of several sweeps: refine one orientation per sweep in the last macro-cycle (one shared cell), so small inconsistencies between goniometer settings do not distort the cell' },
  { name: 'indexing.index_assignment.simple.hkl_tolerance', type: 'float', default: 0.3, min: 0, max: 0.5, help: 'Largest |h − round(h)| of an indexed spot' },
  ...REFINEMENT_PARAMS,
];

export interface IndexOutputs {
  experiments: Experiment[];
  reflections: ReflectionTable;
  result: IndexingResult;
}

export function indexingOptionsFrom(p: Params, log: Log): IndexingOptions {
  const n = p['indexing.fft3d.reciprocal_space_grid.n_points'] ?? 256;
  if ((n & (n - 1)) !== 0) throw new ParameterError(`indexing.fft3d.reciprocal_space_grid.n_points=${n}: must be a power of two`);
  const cellP = p['indexing.known_symmetry.unit_cell'] as number[] | null;
  const sgP = p['indexing.known_symmetry.space_group'] as string | null;
  let spaceGroup: SpaceGroup | null = null;
  if (sgP) {
    try { spaceGroup = SpaceGroup.find(sgP); } catch { throw new ParameterError(`indexing.known_symmetry.space_group=${sgP}: not a space group symbol or number`); }
  }
  const unitCell = cellP ? UnitCell.fromParams(cellP) : null;
  const method = (p['indexing.method'] ?? 'fft3d') as IndexingOptions['method'];
  if (method === 'real_space_grid_search' && !unitCell) throw new ParameterError('indexing.method=real_space_grid_search needs indexing.known_symmetry.unit_cell');
  return {
    method,
    knownSymmetry: unitCell || spaceGroup ? { unitCell, spaceGroup } : undefined,
    maxCell: p['indexing.max_cell'] ?? null,
    maxCellFactor: p['indexing.max_cell_factor'] ?? 1,
    minCell: p['indexing.min_cell'] ?? 3,
    gridSize: n,
    hklTolerance: p['indexing.index_assignment.simple.hkl_tolerance'] ?? 0.3,
    nMacroCycles: p['indexing.refinement_protocol.n_macro_cycles'] ?? 5,
    maxLattices: p['indexing.multiple_lattice_search.max_lattices'] ?? 1,
    joint: p['indexing.joint_indexing'] ?? true,
    splitOrientations: p['indexing.joint_split_orientations'] ?? true,
    refinement: refinerOptionsFrom(p),
    log,
  };
}

/** The strong-spot table annotated with the indexing result (new table; input unchanged). */
export function indexedTable(strong: ReflectionTable, data: RefinementData, experiments: readonly Experiment[], inputExperiments: readonly Experiment[], res: IndexingResult): ReflectionTable {
  const t = strong.clone();
  const n = t.nrows;
  const id = Int32Array.from(res.experimentOf);
  t.setInt('id', id);
  t.setMiller('miller_index', res.miller);
  const mmVal = new Float64Array(3 * n), mmVar = new Float64Array(3 * n), calMm = new Float64Array(3 * n), calPx = new Float64Array(3 * n);
  const entering = new Uint8Array(n);
  const tmp = new Float64Array(2);
  const DEG = Math.PI / 180;
  for (let i = 0; i < n; i++) {
    const e = inputExperiments[data.experiment[i]];
    const det = (id[i] >= 0 ? experiments[id[i]] : e).detector!;
    const p = det.panels[data.panel[i]];
    const scan = e.scan!;
    mmVal[3 * i] = data.xObs[i]; mmVal[3 * i + 1] = data.yObs[i]; mmVal[3 * i + 2] = data.phiObs[i];
    mmVar[3 * i] = data.xVar[i]; mmVar[3 * i + 1] = data.yVar[i]; mmVar[3 * i + 2] = data.phiVar[i];
    if (id[i] >= 0 && Number.isFinite(res.xCal[i])) {
      calMm[3 * i] = res.xCal[i]; calMm[3 * i + 1] = res.yCal[i]; calMm[3 * i + 2] = res.phiCal[i];
      Panel.mmToPixelInto(p, res.xCal[i], res.yCal[i], tmp);
      calPx[3 * i] = tmp[0]; calPx[3 * i + 1] = tmp[1];
      calPx[3 * i + 2] = Scan.frameFromAngle(scan, res.phiCal[i] / DEG);
      // entering: s1 · (e × s0) < 0 with e the lab rotation axis
      const x = experiments[id[i]];
      const g = x.goniometer!;
      const ax = g.settingRotation;
      const r = g.rotationAxis;
      const el = [ax[0] * r[0] + ax[1] * r[1] + ax[2] * r[2], ax[3] * r[0] + ax[4] * r[1] + ax[5] * r[2], ax[6] * r[0] + ax[7] * r[1] + ax[8] * r[2]];
      const s0 = x.beam!.direction.map((v) => -v / x.beam!.wavelength);
      const cx = el[1] * s0[2] - el[2] * s0[1], cy = el[2] * s0[0] - el[0] * s0[2], cz = el[0] * s0[1] - el[1] * s0[0];
      entering[i] = res.s1[3 * i] * cx + res.s1[3 * i + 1] * cy + res.s1[3 * i + 2] * cz < 0 ? 1 : 0;
    }
  }
  t.setVec3('xyzobs.mm.value', mmVal);
  t.setVec3('xyzobs.mm.variance', mmVar);
  t.setVec3('xyzcal.mm', calMm);
  t.setVec3('xyzcal.px', calPx);
  t.setVec3('s1', res.s1.map((v) => (Number.isFinite(v) ? v : 0)));
  t.setVec3('rlp', res.rlp);
  t.setBool('entering', entering);
  const flags = t.sizeT('flags');
  for (let i = 0; i < n; i++) {
    let f = flags[i];
    const clear = Flags.indexed | Flags.used_in_refinement | Flags.centroid_outlier;
    f = f - (((f >>> 0) & clear) >>> 0);
    if (id[i] >= 0) f += Flags.indexed;
    if (res.usedInRefinement[i]) f += Flags.used_in_refinement;
    if (res.centroidOutlier[i]) f += Flags.centroid_outlier;
    flags[i] = f;
  }
  for (let k = 0; k < experiments.length; k++) t.identifiers.set(k, experiments[k].identifier);
  for (const key of [...t.identifiers.keys()]) if (key >= experiments.length) t.identifiers.delete(key);
  return t;
}

/** Pure stage function: models + strong spots → indexed models and table, figures and tables. */
export function run(experiments: Experiment[], strong: ReflectionTable, opts: IndexingOptions, source = 'strong.refl'): StageResult<IndexOutputs> {
  const log = opts.log!;
  const data = observationsFromTable(strong, experiments, source);
  const res = indexSpots(experiments, data, opts);
  const outExps = res.experiments;
  const table = indexedTable(strong, data, outExps, experiments, res);

  const nImagesets = experiments.length;
  const perSet = Array.from({ length: nImagesets }, () => [0, 0]);
  for (let i = 0; i < data.experiment.length; i++) perSet[data.experiment[i]][res.experimentOf[i] >= 0 ? 0 : 1]++;
  const pct = perSet.map(([a, b]) => (a + b > 0 ? (100 * a) / (a + b) : 0));
  const tables = [
    { title: 'Refined crystal models', text: outExps.map((e, k) => `model ${k + 1} (${res.experimentOf.filter((x) => x === k).length} reflections):\n${describeCrystal(e.crystal!)}`).join('\n') },
    { title: 'Indexed per imageset', text: formatTable(['Imageset', '# indexed', '# unindexed', '% indexed'], perSet.map(([a, b], k) => [k, a, b, `${pct[k].toFixed(1)}%`])) },
    { title: 'RMSDs by experiment', text: rmsdTable(res.rmsds) },
  ];
  const nIndexed = res.experimentOf.reduce((s, x) => s + (x >= 0 ? 1 : 0), 0);
  const nLattices = res.latticeOfExperiment.reduce((m, l) => Math.max(m, l + 1), 0);
  const perLattice = new Array(nLattices).fill(0);
  for (let i = 0; i < res.experimentOf.length; i++) if (res.experimentOf[i] >= 0) perLattice[res.latticeOfExperiment[res.experimentOf[i]]]++;
  const wsum = (f: (r: (typeof res.rmsds)[number]) => number) => {
    let s = 0, w = 0;
    for (const r of res.rmsds) if (r.nref > 0) { s += f(r) ** 2 * r.nref; w += r.nref; }
    return w > 0 ? Math.sqrt(s / w) : NaN;
  };
  const cell = Crystal.unitCell(outExps[0].crystal!);
  const scanWidth = experiments.reduce((m, e) => Math.max(m, e.scan ? Math.abs(e.scan.oscillation[1]) * (e.scan.imageRange[1] - e.scan.imageRange[0] + 1) : 0), 0);
  return {
    outputs: { experiments: outExps, reflections: table, result: res },
    figures: {
      n_spots: data.experiment.length,
      n_indexed: nIndexed,
      percent_indexed: (100 * nIndexed) / data.experiment.length,
      percent_indexed_per_sweep: pct,
      indexed_per_lattice: perLattice,
      n_lattices: nLattices,
      rmsd_x_px: wsum((r) => r.xPx),
      rmsd_y_px: wsum((r) => r.yPx),
      rmsd_z_images: wsum((r) => r.zImages),
      unit_cell: cell,
      max_cell: res.maxCell,
      scan_width_deg: scanWidth,
    },
    tables,
  };
}

export const program: Program = {
  name: 'index',
  summary: 'Autoindex strong spots: crystal orientation and cell (indexed.expt/.refl)',
  usage: 'xtalflow index imported.expt strong.refl [max_cell=…] [detector.fix=distance] [goniometer.fix=None] [joint_indexing=False] [max_lattices=N]',
  params: PARAMS,
  async main(ctx) {
    const opts = indexingOptionsFrom(ctx.params, ctx.log);
    const { refl, experiments, reflections: strong } = await readPair(ctx.files, 'index', 'imported.expt strong.refl');
    const t0 = Date.now();
    const result = run(experiments, strong, opts, refl);
    for (const t of result.tables) ctx.log.info(`${t.title}:\n${t.text}`);
    const outE = path.resolve(String(ctx.params['output.experiments'] ?? 'indexed.expt'));
    const outR = path.resolve(String(ctx.params['output.reflections'] ?? 'indexed.refl'));
    await writeExperiments(outE, result.outputs.experiments);
    await writeRefl(outR, result.outputs.reflections);
    ctx.log.info(`Saving refined experiments to ${path.relative(process.cwd(), outE) || outE}`);
    ctx.log.info(`Saving refined reflections to ${path.relative(process.cwd(), outR) || outR}`);
    ctx.log.debug(`index: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { ...result, outputs: { experiments: outE, reflections: outR } };
  },
};
