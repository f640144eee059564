/**
 * The contract between the CLI and a program (stage). A program module under
 * `src/stages/<name>/index.ts` exports `program: Program`. `main` reads inputs, calls the stage's
 * pure `run` (which `process` also calls directly), writes outputs atomically and logs tables.
 */
import type { ParamDef, Params } from './params/index.js';
import type { Log } from './log.js';

export interface ProgramContext {
  /** Input files/dirs/templates given on the command line (parameters removed). */
  files: string[];
  params: Params;
  log: Log;
  verbose: boolean;
  /** What the program's own `splitWords` took off the command line before parameter parsing. */
  extra?: Record<string, unknown>;
}

export interface Program {
  name: string;
  summary: string;
  /** Extra usage text shown by --help. */
  usage?: string;
  params: ParamDef[];
  /**
   * Optional: take words the program handles itself (e.g. process's `<program>.<param>=value`
   * pass-through) off the command line before the parameters are parsed.
   */
  splitWords?(words: string[]): { rest: string[]; extra: Record<string, unknown> };
  /**
   * Read inputs, run, write outputs. Returning the StageResult (figures + tables) lets `process`
   * call programs in-process and feed the figures to its decision rules.
   */
  main(ctx: ProgramContext): Promise<StageResult | void>;
}

/** What a stage's `run` returns: outputs plus plain-number figures and printable tables. */
export interface StageResult<T = unknown> {
  outputs: T;
  figures: Record<string, number | string | boolean | null | number[]>;
  tables: { title: string; text: string }[];
}
