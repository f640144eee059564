/**
 * Reading many datasets for cosym: `.expt`/`.refl` pairs (or one table for all experiments),
 * with the clean-up multi-crystal inputs need and DIALS needed a script for
 * (shared/data README, multi_narrow_wedges):
 *  - rows whose `id` names no experiment of their file (lattices dropped upstream) and rows with
 *    miller_index (0,0,0) (unindexed) are dropped;
 *  - tables that carry no integration flag at all (indexed strong-spot lists) are taken as
 *    summation intensities: their rows get the `integrated_sum` bit in memory.
 */
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { readExperiments } from '../../core/io/expt.js';
import { readRefl } from '../../core/io/refl.js';
import type { ExperimentList } from '../../core/models/types.js';
import { Flags } from '../../core/reflections/flags.js';
import { ReflectionTable } from '../../core/reflections/table.js';
import { harmonise } from '../../core/stats/dataset.js';

export interface MultiDataset {
  experiments: ExperimentList;
  /** All kept rows; `id` indexes `experiments`. */
  reflections: ReflectionTable;
  /** Input file of each experiment (for messages). */
  sourceOf: string[];
  counts: { rowsRead: number; rowsKept: number; badId: number; unindexed: number; strongSpotTables: number };
}

/** Keep rows with a valid id and a non-zero index; mark strong-spot tables as summation data. */
export function cleanTable(t: ReflectionTable, nExperiments: number, source: string, counts: MultiDataset['counts']): ReflectionTable {
  if (!t.has('miller_index')) throw new UserError(`${source}: no miller_index column (index the data first)`, 'not_indexed');
  const n = t.nrows;
  const id = t.has('id') ? t.int('id') : new Int32Array(n);
  const mi = t.miller('miller_index');
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!(id[i] >= 0 && id[i] < nExperiments)) { counts.badId++; continue; }
    if (mi[3 * i] === 0 && mi[3 * i + 1] === 0 && mi[3 * i + 2] === 0) { counts.unindexed++; continue; }
    keep[i] = 1;
  }
  counts.rowsRead += n;
  const out = t.select(keep);
  if (!out.has('id')) out.setColumn('id', 'int', new Int32Array(out.nrows));
  if (!out.has('flags')) out.setColumn('flags', 'std::size_t', new Float64Array(out.nrows));
  const flags = out.sizeT('flags');
  let any = false;
  for (let i = 0; i < flags.length && !any; i++) if ((flags[i] >>> 0) & Flags.integrated) any = true;
  if (!any && out.has('intensity.sum.value')) {
    counts.strongSpotTables++;
    const f2 = Float64Array.from(flags, (f) => f + ((f >>> 0) & Flags.integrated_sum ? 0 : Flags.integrated_sum));
    out.setColumn('flags', 'std::size_t', f2);
  }
  counts.rowsKept += out.nrows;
  return out;
}

export async function loadMultiDataset(files: readonly string[]): Promise<MultiDataset> {
  const exptFiles = files.filter((f) => f.endsWith('.expt') || f.endsWith('.json'));
  const reflFiles = files.filter((f) => f.endsWith('.refl'));
  const other = files.filter((f) => !exptFiles.includes(f) && !reflFiles.includes(f));
  if (other.length) throw new UserError(`unrecognised input ${other.join(', ')} (expected .expt and .refl files)`);
  if (exptFiles.length === 0 || reflFiles.length === 0) throw new UserError('cosym needs experiments (.expt) and reflections (.refl)');
  if (reflFiles.length !== 1 && reflFiles.length !== exptFiles.length) {
    throw new UserError(`${exptFiles.length} experiment files but ${reflFiles.length} reflection files: give one reflection file, or one per experiment file`);
  }
  const lists = await Promise.all(exptFiles.map((f) => readExperiments(f)));
  const counts = { rowsRead: 0, rowsKept: 0, badId: 0, unindexed: 0, strongSpotTables: 0 };
  const experiments: ExperimentList = [];
  const sourceOf: string[] = [];
  const parts: ReflectionTable[] = [];
  if (reflFiles.length === 1) {
    lists.forEach((l, k) => { experiments.push(...l); l.forEach(() => sourceOf.push(path.basename(exptFiles[k]))); });
    parts.push(cleanTable(await readRefl(reflFiles[0]), experiments.length, reflFiles[0], counts));
  } else {
    for (let k = 0; k < lists.length; k++) {
      const offset = experiments.length;
      experiments.push(...lists[k]);
      lists[k].forEach(() => sourceOf.push(path.basename(exptFiles[k])));
      const t = cleanTable(await readRefl(reflFiles[k]), lists[k].length, reflFiles[k], counts);
      const id = t.int('id');
      for (let r = 0; r < id.length; r++) id[r] += offset;
      const ids = new Map<number, string>();
      for (const [i, v] of t.identifiers) if (i < lists[k].length) ids.set(i + offset, v);
      t.identifiers = ids;
      parts.push(t);
    }
  }
  experiments.forEach((e, i) => {
    if (!e.crystal) throw new UserError(`${sourceOf[i]}: experiment ${i} has no crystal model (index the data first)`, 'no_crystal');
  });
  const reflections = parts.length === 1 ? parts[0] : ReflectionTable.concat(harmonise(parts, reflFiles));
  return { experiments, reflections, sourceOf, counts };
}
