/**
 * `xtalflow process`: images (or imported.expt + strong.refl) → merged.mtz, scaled.mtz and
 * xtalflow.html, through the expert-system machine. Any program's parameter passes through as
 * `<program>.<parameter>=value` (`index.max_lattices=2`, `scale.absorption_level=high`).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Program, ProgramContext } from '../../core/program.js';
import type { ParamDef } from '../../core/params/index.js';
import { UserError, ParameterError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { PROGRAMS } from '../registry.js';
import { runMachine } from './run.js';
import { stageRunner } from './runner.js';
import { journaledRunner, loadJournal, saveJournal, JOURNAL_FILE } from './journal.js';
import { processReportHtml } from './report.js';
import { measureImport } from './measure.js';
import { classifyInputs } from '../../core/io/inputs.js';
import { bravaisLatticeOf } from '../../core/symmetry/index.js';
import type { ProcessContext, EntryPoint, ChainFiles, StepName } from './context.js';
import type { ProcessInput } from './machine.js';

const STEPS: StepName[] = ['import', 'find_spots', 'index', 'refine', 'integrate', 'scale'];

export const params: ParamDef[] = [
  { name: 'd_min', type: 'float', default: null, allowNone: true, min: 0, help: 'High-resolution limit (Å) applied from integration on; disables the automatic cut' },
  { name: 'space_group', type: 'str', default: null, allowNone: true, help: 'Space group to use (always wins over the automatic choice)' },
  { name: 'unit_cell', type: 'floats', length: 6, default: null, allowNone: true, help: 'Known unit cell a,b,c,α,β,γ (enables real-space grid search)' },
  { name: 'anomalous', type: 'bool', default: false, help: 'Keep I+ and I− apart in scaling and merging' },
  { name: 'multi_crystal', type: 'choice', choices: ['auto', 'true', 'false'], default: 'auto', help: 'Multi-crystal path (per-crystal indexing, cosym, ΔCC½ filtering)' },
  { name: 'cc_half', type: 'float', default: 0.3, min: 0, max: 1, help: 'CC½ at which the resolution is cut' },
  { name: 'absorption_level', type: 'choice', choices: ['none', 'low', 'medium', 'high'], default: null, allowNone: true, help: 'Absorption correction level (default: chosen from the experiment)' },
  { name: 'stop_after', type: 'choice', choices: STEPS, default: null, allowNone: true, help: 'Stop (and write the report) after this stage' },
  { name: 'min_indexed_percent', type: 'float', default: 80, min: 0, max: 100, help: 'Below this % indexed, search for a second lattice' },
  { name: 'force', type: 'bool', default: false, help: 'Start over, ignoring a previous run recorded in this directory' },
];

/** Split `<program>.<param>=value` words off for that program. */
export function splitPassThrough(words: string[]): { rest: string[]; passThrough: Record<string, string[]> } {
  const passThrough: Record<string, string[]> = {};
  const rest: string[] = [];
  for (const w of words) {
    const m = /^([a-z_]+)\.([A-Za-z_][\w.]*=.*)$/s.exec(w);
    if (m && Object.hasOwn(PROGRAMS, m[1]) && m[1] !== 'process') (passThrough[m[1]] ??= []).push(m[2]);
    else rest.push(w);
  }
  return { rest, passThrough };
}

function entryPoint(files: string[]): { entry: EntryPoint; chain: ChainFiles; images: string[] } {
  const { experiments: expt, reflections: refl } = classifyInputs(files);
  for (const f of [...expt, ...refl]) if (!existsSync(f)) throw new UserError(`${f}: no such file`);
  if (expt.length && refl.length) {
    if (expt.length > 1 || refl.length > 1) throw new UserError('process takes one .expt and one .refl (or images)');
    return { entry: 'index', chain: { experiments: expt[0], imported: expt[0], reflections: refl[0], strong: refl[0] }, images: [] };
  }
  if (expt.length) return { entry: 'find_spots', chain: { experiments: expt[0], imported: expt[0] }, images: [] };
  if (!files.length) throw new UserError('no images given: xtalflow process <images|directories|templates> [key=value …]');
  return { entry: 'import', chain: {}, images: files };
}

async function main(ctx: ProgramContext): Promise<void> {
  const p = ctx.params;
  const { entry, chain, images } = entryPoint(ctx.files);
  const command = [...ctx.files, ...Object.entries(p).filter(([k, v]) => v !== null && k !== 'force' && k !== 'output.log').map(([k, v]) => `${k}=${String(v)}`)];
  const dir = process.cwd();
  const journal = loadJournal(dir, command, p.force, ctx.log);
  if (p.force) rmSync(path.join(dir, JOURNAL_FILE), { force: true });

  const options: ProcessContext['options'] = {
    spaceGroup: p.space_group, unitCell: p.unit_cell, lattice: p.space_group ? latticeOf(p.space_group) : null,
    dMin: p.d_min, anomalous: p.anomalous, multiCrystal: p.multi_crystal, ccHalf: p.cc_half,
    absorptionLevel: p.absorption_level, stopAfter: p.stop_after, minIndexedPercent: p.min_indexed_percent,
  };
  // Entering after import: the experiment's figures (wavelength, scan width) come from the given file.
  const input: ProcessInput = { entry, files: chain, options, figures: chain.imported ? { 'import#0': await measureImport(chain.imported) } : {} };
  let finalState = 'running';
  const common = [...(p.nproc ? [`nproc=${p.nproc}`] : []), ...(p.d_min ? [`d_min=${p.d_min}`] : [])];
  const passThrough = (ctx.extra?.passThrough ?? {}) as Record<string, string[]>;
  const t0 = Date.now();
  const runner = stageRunner(
    {
      inputs: images, passThrough, common, verbose: ctx.verbose, log: ctx.log,
      onStart: (step, key) => ctx.log.info(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${key.padEnd(28)} ${PROGRAMS[step === 'index_inverted' ? 'index' : step === 'rescale' ? 'scale' : step] ?? ''}`),
    },
    async (req) => {
      const c = req.context!;
      const html = processReportHtml(c, { finalState: c.failure ? 'stopped' : 'done', command: `xtalflow process ${command.join(' ')}` });
      await writeFileAtomic('xtalflow.html', html);
      return { figures: {}, files: { report: 'xtalflow.html' } };
    },
  );
  const out = await runMachine(input, journaledRunner(dir, journal, runner, ctx.log), (state) => {
    finalState = state;
  });
  for (const d of out.context.decisions) ctx.log.info(`Decision [${d.rule}]: ${d.reason}`);
  for (const w of out.context.warnings) ctx.log.warn(w);
  journal.status = out.finalState === 'done' ? 'done' : 'failed';
  journal.state = finalState;
  saveJournal(dir, journal);
  if (out.finalState !== 'done') throw new UserError(`process stopped: ${out.context.failure ?? 'unknown failure'} (report in xtalflow.html)`, 'process_failed');
  ctx.log.info(`Finished in ${((Date.now() - t0) / 1000).toFixed(1)} s: xtalflow.html${existsSync('merged.mtz') ? ', merged.mtz' : ''}${existsSync('scaled.mtz') ? ', scaled.mtz' : ''}`);
}

/** Bravais lattice symbol (e.g. tP) of a space group given by the user. */
function latticeOf(symbol: string): string {
  try {
    return bravaisLatticeOf(symbol);
  } catch (e) {
    throw new ParameterError(`space_group=${symbol}: ${(e as Error).message}`);
  }
}

export const program: Program = {
  name: 'process',
  summary: PROGRAMS.process,
  usage: 'xtalflow process <images|directories|templates> [key=value …]\nxtalflow process imported.expt strong.refl   (enter at indexing)\nStage parameters pass through as <program>.<parameter>=value, e.g. index.max_lattices=2',
  params,
  splitWords(words) {
    const { rest, passThrough } = splitPassThrough(words);
    return { rest, extra: { passThrough } };
  },
  main,
};
