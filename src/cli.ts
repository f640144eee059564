/**
 * Runs one program from command-line words: load its module, parse parameters, set up logging,
 * call main, and turn every failure into a one-line message and a non-zero exit code.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { COMMON_PARAMS, describe, parseCommandLine, type ParamDef } from './core/params/index.js';
import { createProgramLogger } from './core/log.js';
import { UserError } from './core/errors.js';
import type { Program } from './core/program.js';
import { PROGRAMS } from './stages/registry.js';

export async function loadProgram(name: string): Promise<Program | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // index.js when built; index.ts when run from source under tsx (development, tests).
  const file = ['index.js', 'index.ts'].map((f) => path.join(here, 'stages', name, f)).find((f) => existsSync(f));
  if (!file) return null;
  const mod = (await import(file)) as { program?: Program };
  return mod.program ?? null;
}

/** Returns the process exit code. */
export async function runProgram(name: string, words: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(`xtalflow.${name}: error: ${s}\n`);
  if (!Object.hasOwn(PROGRAMS, name)) { err(`unknown program '${name}'`); return 2; }
  const program = await loadProgram(name);
  if (!program) { err('this program is not implemented yet'); return 2; }
  const defs: ParamDef[] = [...COMMON_PARAMS, ...program.params.filter((d) => !COMMON_PARAMS.some((c) => c.name === d.name))];

  const flags = new Set(['-c', '--show-config', '-v', '--verbose', '-h', '--help', '-vv']);
  const verbose = words.some((w) => w === '-v' || w === '-vv' || w === '--verbose');
  if (words.includes('-h') || words.includes('--help')) {
    out(`xtalflow ${name}: ${program.summary}`);
    if (program.usage) out('\n' + program.usage);
    out('\nParameters (-c lists them with defaults and help):');
    out(describe(defs, false));
    return 0;
  }
  if (words.includes('-c') || words.includes('--show-config')) {
    out(describe(defs, true));
    return 0;
  }
  let logger: ReturnType<typeof createProgramLogger> | undefined;
  try {
    let rest = words.filter((w) => !flags.has(w));
    let extra: Record<string, unknown> | undefined;
    if (program.splitWords) ({ rest, extra } = program.splitWords(rest));
    const parsed = parseCommandLine(defs, rest);
    logger = createProgramLogger(name, { verbose, file: parsed.params['output.log'] ?? undefined });
    logger.log.debug(`xtalflow ${name} ${words.join(' ')}`);
    await program.main({ files: parsed.files, params: parsed.params, log: logger.log, verbose, extra });
    await logger.close();
    return 0;
  } catch (e) {
    if (e instanceof UserError) err(e.message);
    else {
      const msg = e instanceof Error ? e.message : String(e);
      err(`internal error: ${msg.split('\n')[0]} (run with -v for details)`);
      if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    }
    if (logger) {
      logger.log.debug(e instanceof Error && e.stack ? e.stack : String(e));
      await logger.close();
    }
    return 1;
  }
}
