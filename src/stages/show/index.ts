/**
 * `xtalflow show`: what is in experiment lists and reflection tables, as `dials.show` prints it.
 * Files are told apart by extension (.expt/.json experiment lists, .refl reflection tables);
 * several may be given. `run` only formats; `main` reads the files and logs the text.
 */
import path from 'node:path';
import type { Program, StageResult } from '../../core/program.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { ExperimentList } from '../../core/models/types.js';
import { UserError } from '../../core/errors.js';
import { readExperiments } from '../../core/io/expt.js';
import { readRefl } from '../../core/io/refl.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { formatReflectionSummary } from '../../core/reflections/summary.js';
import { beamCentre } from '../../core/geometry/beam_centre.js';
import { formatExperiment } from './format.js';

export const params: ParamDef[] = [
  { name: 'show_scan_varying', type: 'bool', default: false, help: 'Print the unit cell at every scan point of scan-varying crystals' },
  { name: 'show_shared_models', type: 'bool', default: false, help: 'Say which models experiments share' },
];

export interface ShowInputs {
  experiments: { path: string; list: ExperimentList }[];
  reflections: { path: string; table: ReflectionTable }[];
}

/** Which models each experiment shares with an earlier one (by object identity). */
function sharingLines(list: ExperimentList): string[] {
  const lines: string[] = [];
  const kinds = ['beam', 'detector', 'goniometer', 'scan', 'crystal', 'imageset'] as const;
  list.forEach((e, i) => {
    const shared: string[] = [];
    for (const k of kinds) {
      const m = e[k];
      if (m === undefined) continue;
      const j = list.findIndex((o, jj) => jj < i && o[k] === m);
      if (j >= 0) shared.push(`${k} with experiment ${j}`);
    }
    if (shared.length) lines.push(`Experiment ${i} shares ${shared.join(', ')}`);
  });
  return lines;
}

export function run(inputs: ShowInputs, p: Params): StageResult<{ text: string }> {
  const tables: { title: string; text: string }[] = [];
  const figures: StageResult['figures'] = {};
  let nExperiments = 0;
  for (const { path: file, list } of inputs.experiments) {
    const parts = list.map((e, i) => formatExperiment(e, i, { scanVarying: Boolean(p.show_scan_varying) }));
    if (p.show_shared_models) parts.push(sharingLines(list).join('\n'));
    tables.push({ title: `${file}: ${list.length} experiment${list.length === 1 ? '' : 's'}`, text: parts.join('\n') });
    for (const e of list) {
      if (nExperiments === 0 && e.detector && e.beam) {
        const bc = beamCentre(e.detector, e.beam);
        if (bc) figures.beam_centre_px = bc.xyPx;
      }
      nExperiments++;
    }
  }
  let nReflections = 0;
  for (const { path: file, table } of inputs.reflections) {
    tables.push({ title: file, text: formatReflectionSummary(table) });
    nReflections += table.nrows;
  }
  figures.n_experiments = nExperiments;
  figures.n_reflections = nReflections;
  const text = tables.map((t) => `${t.title}\n\n${t.text}`).join('\n\n');
  return { outputs: { text }, figures, tables };
}

const EXPT_EXTENSIONS = new Set(['.expt', '.json']);

export const program: Program = {
  name: 'show',
  summary: 'Show experiment models and reflection table summaries',
  usage: 'xtalflow show FILE.expt [FILE.refl ...] [show_scan_varying=True] [show_shared_models=True]',
  params,
  async main(ctx) {
    if (ctx.files.length === 0) throw new UserError('nothing to show: name one or more .expt or .refl files');
    const inputs: ShowInputs = { experiments: [], reflections: [] };
    for (const f of ctx.files) {
      const ext = path.extname(f).toLowerCase();
      if (EXPT_EXTENSIONS.has(ext)) inputs.experiments.push({ path: f, list: await readExperiments(f) });
      else if (ext === '.refl') inputs.reflections.push({ path: f, table: await readRefl(f) });
      else throw new UserError(`${f}: cannot show this file (expected .expt, .json or .refl)`);
    }
    const result = run(inputs, ctx.params);
    for (const t of result.tables) ctx.log.info(`${t.title}\n\n${t.text}\n`);
    return result;
  },
};
