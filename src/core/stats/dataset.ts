/**
 * Loading what symmetry, merge and export work on: experiments and reflection tables given on the
 * command line (paired in order, or one table for all experiments), one common cell and space
 * group, and d-spacings per reflection. Cells that disagree beyond DIALS' tolerances (5 % in
 * lengths, 2° in angles) cannot be merged and are refused with the experiments named.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../errors.js';
import { readExperiments } from '../io/expt.js';
import { readRefl } from '../io/refl.js';
import { Crystal } from '../models/crystal.js';
import type { ExperimentList } from '../models/types.js';
import { ReflectionTable } from '../reflections/table.js';
import { SpaceGroup } from '../symmetry/spacegroup.js';
import { UnitCell } from '../symmetry/unitcell.js';
import { classifyInputs } from '../io/inputs.js';

export interface Dataset {
  experiments: ExperimentList;
  /** All reflections, `id` renumbered to index `experiments`. */
  reflections: ReflectionTable;
  /** Median cell over experiments. */
  cell: UnitCell;
  spaceGroup: SpaceGroup;
  /** d (Å) of every reflection from its own experiment's cell. */
  d: Float64Array;
  /** The reflection file name(s), for messages. */
  source?: string;
}

export async function loadDataset(files: readonly string[]): Promise<Dataset> {
  const { experiments: exptFiles, reflections: reflFiles, other } = classifyInputs(files);
  if (other.length) throw new UserError(`unrecognised input ${other.join(', ')} (expected .expt and .refl files)`);
  if (exptFiles.length === 0 || reflFiles.length === 0) throw new UserError('need experiments (.expt) and reflections (.refl)');
  if (reflFiles.length !== 1 && reflFiles.length !== exptFiles.length) {
    throw new UserError(`${exptFiles.length} experiment files but ${reflFiles.length} reflection files: give one reflection file, or one per experiment file`);
  }
  const lists = await Promise.all(exptFiles.map((f) => readExperiments(f)));
  const tables = await Promise.all(reflFiles.map((f) => readRefl(f)));
  const experiments: ExperimentList = [];
  const parts: ReflectionTable[] = [];
  if (reflFiles.length === 1) {
    lists.forEach((l) => experiments.push(...l));
    parts.push(tables[0]);
  } else {
    for (let i = 0; i < lists.length; i++) {
      const offset = experiments.length;
      experiments.push(...lists[i]);
      const t = tables[i];
      if (t.has('id')) {
        const id = t.int('id');
        for (let r = 0; r < id.length; r++) if (id[r] >= 0) id[r] += offset;
      }
      const ids = new Map<number, string>();
      for (const [k, v] of t.identifiers) ids.set(k + offset, v);
      t.identifiers = ids;
      parts.push(t);
    }
  }
  const reflections = parts.length === 1 ? parts[0] : ReflectionTable.concat(harmonise(parts, reflFiles));
  // Old tables carry no experiment identifiers: link them now (DIALS refuses files whose table and
  // experiments disagree), giving identifier-less experiments a fresh one.
  experiments.forEach((e, i) => {
    if (!e.identifier) e.identifier = randomUUID();
    const have = reflections.identifiers.get(i);
    if (have === undefined) reflections.identifiers.set(i, e.identifier);
    else if (have !== e.identifier) throw new UserError(`experiment ${i}: identifier ${e.identifier} in the experiments but ${have} in the reflections (${reflFiles.map((f) => path.basename(f)).join(', ')})`, 'identifier_mismatch');
  });
  const cells = experiments.map((e, i) => {
    if (!e.crystal) throw new UserError(`experiment ${i} has no crystal model (run index/integrate first)`);
    return Crystal.unitCell(e.crystal);
  });
  const cell = medianCell(cells);
  checkCells(cells, cell, exptFiles);
  const halls = new Set(experiments.map((e) => e.crystal!.spaceGroupHall.trim()));
  if (halls.size > 1) throw new UserError(`experiments are in different space groups (${[...halls].join(' / ')}); reindex them to one first`);
  // A crystal's symbol is a Hall symbol: read it as one (' P 4 2' is P 4 2 2, not the HM P 42).
  const spaceGroup = SpaceGroup.fromHall([...halls][0] || 'P 1');
  const d = dSpacings(reflections, experiments);
  return { experiments, reflections, cell, spaceGroup, d, source: reflFiles.map((f) => path.basename(f)).join(', ') };
}

/** Keep only the columns every table has, so that tables from different programs concatenate. */
export function harmonise(tables: ReflectionTable[], names: readonly string[]): ReflectionTable[] {
  const common = tables[0].columnNames().filter((c) => tables.every((t) => t.has(c) && t.typeOf(c) === tables[0].typeOf(c)));
  if (!common.includes('miller_index')) throw new UserError(`reflection files ${names.map((n) => path.basename(n)).join(', ')} do not all have miller_index`);
  return tables.map((t) => {
    const out = ReflectionTable.empty(t.nrows);
    out.identifiers = t.identifiers;
    for (const c of common) {
      const data = t.get(c);
      if ('kind' in (data as object)) continue; // shoeboxes are not needed here
      if (['int', 'double', 'bool', 'std::size_t', 'vec2<double>', 'vec3<double>', 'mat3<double>', 'cctbx::miller::index<>', 'int6'].includes(t.typeOf(c))) out.setColumn(c, t.typeOf(c), data as Float64Array);
    }
    return out;
  });
}

export function medianCell(cells: readonly number[][]): UnitCell {
  const med = [0, 1, 2, 3, 4, 5].map((k) => {
    const v = cells.map((c) => c[k]).sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  });
  return UnitCell.fromParams(med);
}

export function checkCells(cells: readonly number[][], ref: UnitCell, files: readonly string[], relLength = 0.05, angleDeg = 2): void {
  const p = [ref.a, ref.b, ref.c, ref.alpha, ref.beta, ref.gamma];
  cells.forEach((c, i) => {
    const bad = [0, 1, 2].some((k) => Math.abs(c[k] - p[k]) > relLength * p[k]) || [3, 4, 5].some((k) => Math.abs(c[k] - p[k]) > angleDeg);
    if (bad) {
      throw new UserError(`inconsistent unit cells: experiment ${i} (${c.map((x) => x.toFixed(3)).join(' ')}) differs from the median (${p.map((x) => x.toFixed(3)).join(' ')}) by more than ${relLength * 100} % / ${angleDeg}°${files.length ? ` (inputs ${files.map((f) => path.basename(f)).join(', ')})` : ''}`, 'unit_cell_mismatch');
    }
  });
}

/** d of each reflection from its experiment's crystal (the `d` column when present and positive). */
export function dSpacings(t: ReflectionTable, experiments: ExperimentList): Float64Array {
  const n = t.nrows;
  const out = new Float64Array(n);
  const mi = t.miller('miller_index');
  const id = t.has('id') ? t.int('id') : new Int32Array(n);
  const cells = experiments.map((e) => UnitCell.fromParams(Crystal.unitCell(e.crystal!)));
  for (let i = 0; i < n; i++) {
    const c = cells[id[i]] ?? cells[0];
    const h = mi[3 * i], k = mi[3 * i + 1], l = mi[3 * i + 2];
    out[i] = h === 0 && k === 0 && l === 0 ? 0 : UnitCell.dSpacing(c, h, k, l);
  }
  return out;
}
