/**
 * The real step runner: each step calls a program's `main` in-process (never a shell), with the
 * chain's current files and the step's parameters, in the working directory, and returns the
 * figures the program measured. Programs write DIALS' file names; the runner knows which.
 */
import path from 'node:path';
import { loadProgram } from '../../cli.js';
import { COMMON_PARAMS, parseCommandLine, knowsParameter, type ParamDef } from '../../core/params/index.js';
import { createProgramLogger, type Log } from '../../core/log.js';
import { UserError } from '../../core/errors.js';
import { readExperiments, writeExperiments } from '../../core/io/expt.js';
import { Vec3 } from '../../core/math/vec3.js';
import type { ChainFiles, StepRequest, StepResult, Figures, StepName } from './context.js';
import type { StepRunner } from './machine.js';
import type { StageResult } from '../../core/program.js';
import { measureImport } from './measure.js';

export interface RunnerOptions {
  /** The user's image arguments (for import). */
  inputs: string[];
  /** Pass-through parameters per program (`index.max_lattices=2` → { index: ['max_lattices=2'] }). */
  passThrough: Record<string, string[]>;
  /** Parameters every program gets when it knows them (nproc …). */
  common: string[];
  verbose: boolean;
  log: Log;
  /** Called with the program name when a step starts (terminal progress). */
  onStart?: (step: StepName, key: string) => void;
}

/** Which program runs a step, which chain files it reads, what it writes. */
interface StepPlan { program: string; inputs: (keyof ChainFiles)[]; outputs: ChainFiles; words?: string[] }

function plan(req: StepRequest, f: ChainFiles): StepPlan {
  switch (req.step) {
    case 'import': return { program: 'import', inputs: [], outputs: { experiments: 'imported.expt', imported: 'imported.expt' } };
    case 'find_spots': return { program: 'find_spots', inputs: ['imported'], outputs: { reflections: 'strong.refl', strong: 'strong.refl' } };
    case 'index': return { program: 'index', inputs: ['imported', 'strong'], outputs: { experiments: 'indexed.expt', reflections: 'indexed.refl' } };
    case 'index_inverted': return {
      program: 'index', inputs: ['imported_inverted', 'strong'],
      outputs: { experiments: 'indexed_inverted.expt', reflections: 'indexed_inverted.refl' },
      words: ['output.experiments=indexed_inverted.expt', 'output.reflections=indexed_inverted.refl'],
    };
    case 'refine_bravais_settings': return { program: 'refine_bravais_settings', inputs: ['experiments', 'reflections'], outputs: {} };
    case 'reindex': return {
      program: 'reindex', inputs: ['reflections'], outputs: { experiments: `bravais_setting_${req.params.setting}.expt`, reflections: 'reindexed.refl' },
    };
    case 'refine': return { program: 'refine', inputs: ['experiments', 'reflections'], outputs: { experiments: 'refined.expt', reflections: 'refined.refl' } };
    case 'integrate': return { program: 'integrate', inputs: ['experiments', 'reflections'], outputs: { experiments: 'integrated.expt', reflections: 'integrated.refl' } };
    case 'symmetry': return { program: 'symmetry', inputs: ['experiments', 'reflections'], outputs: { experiments: 'symmetrized.expt', reflections: 'symmetrized.refl', symmetrized_experiments: 'symmetrized.expt', symmetrized_reflections: 'symmetrized.refl' } };
    case 'cosym': return { program: 'cosym', inputs: ['experiments', 'reflections'], outputs: { experiments: 'symmetrized.expt', reflections: 'symmetrized.refl', symmetrized_experiments: 'symmetrized.expt', symmetrized_reflections: 'symmetrized.refl' } };
    case 'scale': return { program: 'scale', inputs: ['experiments', 'reflections'], outputs: { experiments: 'scaled.expt', reflections: 'scaled.refl' } };
    case 'rescale': return { program: 'scale', inputs: ['symmetrized_experiments', 'symmetrized_reflections'], outputs: { experiments: 'scaled.expt', reflections: 'scaled.refl' } };
    case 'estimate_resolution': return { program: 'estimate_resolution', inputs: ['experiments', 'reflections'], outputs: {} };
    case 'merge': return { program: 'merge', inputs: ['experiments', 'reflections'], outputs: { merged_mtz: 'merged.mtz' } };
    case 'export': return { program: 'export', inputs: ['experiments', 'reflections'], outputs: { scaled_mtz: 'scaled.mtz' } };
    case 'report': return { program: 'report', inputs: [], outputs: { report: 'xtalflow.html' } };
  }
}

/** The imported experiments with every rotation axis reversed (rule 2's second attempt). */
async function writeInvertedAxis(src: string, dst: string): Promise<void> {
  const list = await readExperiments(src);
  const seen = new Set<object>();
  for (const e of list) {
    const g = e.goniometer;
    if (!g || seen.has(g)) continue;
    seen.add(g);
    g.rotationAxis = Vec3.neg(g.rotationAxis);
    if (g.axes && g.scanAxis !== undefined) g.axes[g.scanAxis] = Vec3.neg(g.axes[g.scanAxis]);
  }
  await writeExperiments(dst, list);
}

export function stageRunner(o: RunnerOptions, renderReport: (req: StepRequest) => Promise<StepResult>): StepRunner {
  return async (req: StepRequest): Promise<StepResult> => {
    o.onStart?.(req.step, req.key);
    if (req.step === 'report') return renderReport(req);
    const files: ChainFiles = { ...req.files };
    if (req.step === 'index_inverted') {
      files.imported_inverted = 'imported_inverted.expt';
      await writeInvertedAxis(files.imported!, files.imported_inverted);
    }
    const p = plan(req, files);
    const program = await loadProgram(p.program);
    if (!program) throw new UserError(`program '${p.program}' is not available in this build`, 'not_implemented');
    const inputs = req.step === 'import' ? o.inputs : p.inputs.map((k) => {
      const f = files[k];
      if (!f) throw new UserError(`${req.step}: no ${String(k)} file from an earlier step`);
      return f;
    });
    const defs: ParamDef[] = [...COMMON_PARAMS, ...program.params];
    const known = (key: string) => knowsParameter(defs, key);
    const dropped = Object.keys(req.params).filter((k) => !known(k));
    if (dropped.length) o.log.debug(`${req.key}: ${p.program} has no parameter ${dropped.join(', ')}`);
    const words = [
      ...inputs,
      ...o.common.filter((w) => known(w.split('=')[0])),
      ...Object.entries(req.params).filter(([k]) => known(k)).map(([k, v]) => `${k}=${v}`),
      ...(p.words ?? []),
      ...(o.passThrough[p.program] ?? []),
    ];
    const parsed = parseCommandLine(defs, words);
    const logName = req.step === 'index_inverted' || req.step === 'rescale' ? req.step : p.program;
    const logger = createProgramLogger(p.program, { verbose: o.verbose, console: o.verbose, file: path.resolve(`xtalflow.${logName}.log`) });
    o.log.debug(`${req.key}: xtalflow ${p.program} ${words.join(' ')}`);
    let result: StageResult | void;
    try {
      result = await program.main({ files: parsed.files, params: parsed.params, log: logger.log, verbose: o.verbose });
    } finally {
      await logger.close();
    }
    const figures: Figures = { ...(result?.figures ?? {}) };
    if (req.step === 'import') {
      for (const [k, v] of Object.entries(await measureImport(p.outputs.experiments!))) if (figures[k] === undefined) figures[k] = v;
    }
    return { figures, files: p.outputs, tables: result?.tables ?? [] };
  };
}
