/**
 * `xtalflow search_beam_position imported.expt strong.refl [params]` → optimised.expt.
 *
 * Finds the direct-beam position from strong spots alone (the lattice they index on is most
 * periodic with the right centre) and writes the experiments with every detector moved so the
 * beam meets it. Run before indexing when a header's beam centre is doubtful.
 */
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import type { Log } from '../../core/log.js';
import { silentLog } from '../../core/log.js';
import type { Experiment } from '../../core/models/types.js';
import { beamCentre } from '../../core/geometry/beam_centre.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { formatTable } from '../../core/table.js';
import { searchBeamPosition, type BeamSearchOptions, type BeamSearchResult } from '../../core/beam_search/search.js';
import { readPair } from '../../core/io/inputs.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'optimised.expt', help: 'Output experiment list, detector moved to the beam centre found' },
  { name: 'default.max_cell', type: 'float', default: null, allowNone: true, min: 0,
    help: 'Longest cell edge (Å) the periodicity search looks for (Auto: from nearest-neighbour separations of the rlps ×1.3)' },
  { name: 'default.d_min', type: 'float', default: null, allowNone: true, min: 0, help: 'Use only spots at lower resolution than this (Å)' },
  { name: 'default.d_max', type: 'float', default: null, allowNone: true, min: 0, help: 'Use only spots at higher resolution than this (Å)' },
  { name: 'default.mm_search_scope', type: 'float', default: 4.0, min: 0.01,
    help: 'Radius (mm) around the starting beam centre covered by the wide grid search' },
  { name: 'default.wide_search_binning', type: 'float', default: 2, min: 0.1,
    help: 'Coarseness of the wide grid: its step is this many times the shift (λ·distance / (8·longest lattice vector)) that turns the longest vector\'s phase by π/4; larger is faster but may step over a sharp optimum (the grid holds at most 2000 centres)' },
  { name: 'default.n_macro_cycles', type: 'int', default: 1, min: 1,
    help: 'Repeat direction search, wide grid and fine search from the centre found this many times' },
  { name: 'default.max_reflections', type: 'int', default: 20000, min: 20,
    help: 'Most spots used by the fine search (a seeded random subset); more resolve the centre better but cost time' },
  { name: 'default.seed', type: 'int', default: 42, help: 'Seed of the random spot subsets' },
  { name: 'default.lattice_per_experiment', type: 'bool', default: null, allowNone: true,
    help: 'Search each experiment with its own lattice (different crystals) or all with one (sweeps of one crystal); Auto: one per experiment when the experiments are clearly more periodic alone than pooled' },
];

export function optionsFrom(p: Params, log: Log = silentLog): BeamSearchOptions {
  const dMin = p['default.d_min'] as number | null, dMax = p['default.d_max'] as number | null;
  if (dMin != null && dMax != null && dMin >= dMax) throw new UserError(`d_min=${dMin} must be smaller than d_max=${dMax}`, 'bad_parameter');
  return {
    maxCell: p['default.max_cell'] ?? null,
    dMin, dMax,
    mmSearchScope: p['default.mm_search_scope'] ?? 4,
    wideSearchBinning: p['default.wide_search_binning'] ?? 2,
    nMacroCycles: p['default.n_macro_cycles'] ?? 1,
    maxReflections: p['default.max_reflections'] ?? 20000,
    seed: p['default.seed'] ?? 42,
    latticePerExperiment: p['default.lattice_per_experiment'] ?? null,
    log,
  };
}

export interface SearchBeamPositionOutputs {
  experiments: Experiment[];
  result: BeamSearchResult;
}

function centreOf(e: Experiment): { px: [number, number]; mm: [number, number]; panel: number } {
  const c = beamCentre(e.detector!, e.beam!);
  return c ? { px: c.xyPx, mm: c.xyMm, panel: c.panel } : { px: [NaN, NaN], mm: [NaN, NaN], panel: -1 };
}

/** Pure stage function: imported models + strong spots → models with the beam centre found. */
export function run(experiments: Experiment[], strong: ReflectionTable, opts: BeamSearchOptions, sources: { expt?: string; refl?: string } = {}): StageResult<SearchBeamPositionOutputs> {
  const res = searchBeamPosition(experiments, strong, { ...opts, exptSource: sources.expt ?? 'experiments', reflSource: sources.refl ?? 'reflections' });
  const before = centreOf(experiments[0]), after = centreOf(res.experiments[0]);
  const [dx, dy] = res.shiftMm, [px, py] = res.shiftPx;
  const shift = Math.hypot(dx, dy);
  const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const tables = [
    {
      title: 'Beam centre search',
      text: formatTable(['', 'Beam centre x (px)', 'Beam centre y (px)', 'Beam centre x (mm)', 'Beam centre y (mm)', 'Periodicity score'], [
        ['Starting', f(before.px[0], 2), f(before.px[1], 2), f(before.mm[0], 3), f(before.mm[1], 3), res.scoreInitial.toFixed(4)],
        ['Optimised', f(after.px[0], 2), f(after.px[1], 2), f(after.mm[0], 3), f(after.mm[1], 3), res.scoreFinal.toFixed(4)],
      ]),
    },
    {
      title: 'Shift',
      text: formatTable(['Shift x (mm)', 'Shift y (mm)', '|shift| (mm)', 'Shift x (px)', 'Shift y (px)'],
        [[dx.toFixed(3), dy.toFixed(3), shift.toFixed(3), px.toFixed(2), py.toFixed(2)]], { align: ['r', 'r', 'r', 'r', 'r'] }),
    },
    {
      title: 'Macro-cycles',
      text: formatTable(['Cycle', 'Directions', 'Grid step (mm)', 'Trial centres', 'Wide score', 'Fine score', 'Shift x (mm)', 'Shift y (mm)'],
        res.cycles.map((c, k) => [k + 1, c.nDirections, c.gridStepMm.toFixed(3), c.nTrials, c.wideScore.toFixed(4), c.fineScore.toFixed(4), c.shiftMm[0].toFixed(3), c.shiftMm[1].toFixed(3)])),
    },
  ];
  return {
    outputs: { experiments: res.experiments, result: res },
    figures: {
      beam_shift_mm: shift,
      beam_shift_xy_mm: [dx, dy],
      beam_shift_xy_px: [px, py],
      beam_centre_px: after.px,
      beam_centre_mm: after.mm,
      beam_centre_panel: after.panel,
      initial_beam_centre_px: before.px,
      periodicity_score_initial: res.scoreInitial,
      periodicity_score_final: res.scoreFinal,
      n_spots_used: res.nSpots,
      max_cell: res.maxCell,
      at_search_scope_edge: res.atScopeEdge,
      n_alternative_centres: res.nAlternatives,
      lattice_per_experiment: res.latticePerExperiment,
    },
    tables,
  };
}

export const program: Program = {
  name: 'search_beam_position',
  summary: 'Find the beam centre from strong spots (optimised.expt)',
  usage: 'xtalflow search_beam_position imported.expt strong.refl [mm_search_scope=4] [max_cell=…] [d_min=…] [n_macro_cycles=1]',
  params: PARAMS,
  async main(ctx) {
    const opts = optionsFrom(ctx.params, ctx.log);
    const { expt, refl, experiments, reflections: strong } = await readPair(ctx.files, 'search_beam_position', 'imported.expt strong.refl');
    const t0 = Date.now();
    const result = run(experiments, strong, opts, { expt, refl });
    for (const t of result.tables) ctx.log.info(`${t.title}:\n${t.text}`);
    const out = path.resolve(String(ctx.params['output.experiments'] ?? 'optimised.expt'));
    await writeExperiments(out, result.outputs.experiments);
    ctx.log.info(`Saving optimised experiments to ${path.relative(process.cwd(), out) || out}`);
    ctx.log.debug(`search_beam_position: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { ...result, outputs: { experiments: out } };
  },
};
