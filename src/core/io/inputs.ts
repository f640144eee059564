/**
 * Which command-line files are experiment lists and which are reflection tables. DIALS programs
 * take them in any order; `.refl.gz` is accepted wherever `.refl` is (readRefl reads gzip).
 */
import { UserError } from '../errors.js';
import type { ExperimentList } from '../models/types.js';
import type { ReflectionTable } from '../reflections/table.js';
import { readExperiments } from './expt.js';
import { readRefl } from './refl.js';

export function isExperimentsFile(f: string): boolean {
  return f.endsWith('.expt') || f.endsWith('.json');
}

export function isReflectionsFile(f: string): boolean {
  return f.endsWith('.refl') || f.endsWith('.refl.gz');
}

export interface InputFiles { experiments: string[]; reflections: string[]; other: string[] }

export function classifyInputs(files: readonly string[]): InputFiles {
  const out: InputFiles = { experiments: [], reflections: [], other: [] };
  for (const f of files) (isExperimentsFile(f) ? out.experiments : isReflectionsFile(f) ? out.reflections : out.other).push(f);
  return out;
}

/** Exactly one experiment list and one reflection table, or a one-line error showing the usage. */
export function onePair(files: readonly string[], program: string, example: string): { expt: string; refl: string } {
  const c = classifyInputs(files);
  if (c.other.length) throw new UserError(`${c.other[0]}: not an experiment list (.expt) or reflection table (.refl)`);
  if (c.experiments.length !== 1 || c.reflections.length !== 1) {
    throw new UserError(`${program} needs one experiment list and one reflection table, e.g. \`xtalflow ${program} ${example}\``);
  }
  return { expt: c.experiments[0], refl: c.reflections[0] };
}

/** onePair, read: the experiment list and reflection table of a two-file program, and their paths. */
export async function readPair(files: readonly string[], program: string, example: string): Promise<{ expt: string; refl: string; experiments: ExperimentList; reflections: ReflectionTable }> {
  const { expt, refl } = onePair(files, program, example);
  return { expt, refl, experiments: await readExperiments(expt), reflections: await readRefl(refl) };
}
