/**
 * `xtalflow reindex [indexed.expt] indexed.refl change_of_basis_op=… [space_group=…]` →
 * reindexed.expt / reindexed.refl.
 *
 * Applies a change of basis to the Miller indices of a reflection table and to the crystal models
 * (A' = A·Cᵀ, so every reflection keeps its reciprocal-lattice vector: A'·h' = A·h). Indices that
 * do not map onto integers (a centred target cell that is not a lattice of the input) are an
 * error, not silently rounded.
 */
import path from 'node:path';
import { ParameterError, UserError } from '../../core/errors.js';
import { readExperiments, writeExperiments } from '../../core/io/expt.js';
import { readRefl, writeRefl } from '../../core/io/refl.js';
import { Mat3 } from '../../core/math/mat3.js';
import type { Crystal, Experiment } from '../../core/models/types.js';
import { Crystal as CrystalFns } from '../../core/models/crystal.js';
import type { ParamDef } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { CbOp, SpaceGroup } from '../../core/symmetry/index.js';
import { reindexExperiments, reindexMiller } from '../../core/models/reindex.js';
import { classifyInputs } from '../../core/io/inputs.js';

export const PARAMS: ParamDef[] = [
  { name: 'change_of_basis_op', type: 'str', default: 'a,b,c', help: 'Change of basis, e.g. b,c,a or a+b,-a+b,c (or h,k,l / x,y,z forms)' },
  { name: 'space_group', type: 'str', default: null, allowNone: true, help: 'Space group to assign to the reindexed crystals (in the new basis)' },
  { name: 'output.experiments', type: 'path', default: 'reindexed.expt', help: 'Output experiment list' },
  { name: 'output.reflections', type: 'path', default: 'reindexed.refl', help: 'Output reflection table' },
];



export function run(experiments: Experiment[] | null, table: ReflectionTable | null, cbText: string, spaceGroup: string | null, source = 'reflections'): StageResult<{ experiments: Experiment[] | null; reflections: ReflectionTable | null }> {
  const cb = CbOp.parse(cbText);
  let hall: string | null = null;
  if (spaceGroup !== null) {
    try { hall = SpaceGroup.find(spaceGroup).hall; } catch { throw new ParameterError(`space_group=${spaceGroup}: not a space group symbol or number`); }
  }
  const outExps = experiments ? reindexExperiments(experiments, cb, hall) : null;
  let outTable: ReflectionTable | null = null;
  if (table) {
    if (!table.has('miller_index')) throw new UserError(`${source}: no 'miller_index' column to reindex`, 'not_indexed');
    outTable = table.clone();
    outTable.setMiller('miller_index', reindexMiller(cb, table.miller('miller_index'), source));
  }
  return {
    outputs: { experiments: outExps, reflections: outTable },
    figures: { change_of_basis_op: CbOp.toAbc(cb) },
    tables: [],
  };
}

export const program: Program = {
  name: 'reindex',
  summary: 'Apply a change of basis to experiments and reflections',
  usage: 'xtalflow reindex [indexed.expt] [indexed.refl] change_of_basis_op=b,c,a [space_group=P4]',
  params: PARAMS,
  async main(ctx) {
    const { experiments: expts, reflections: refls, other } = classifyInputs(ctx.files);
    if (expts.length > 1 || refls.length > 1 || expts.length + refls.length === 0 || other.length) {
      throw new UserError('reindex takes at most one experiment list and one reflection table');
    }
    const experiments = expts.length ? await readExperiments(expts[0]) : null;
    const table = refls.length ? await readRefl(refls[0]) : null;
    const result = run(experiments, table, String(ctx.params['change_of_basis_op'] ?? 'a,b,c'), ctx.params['space_group'] ?? null, refls[0]);
    ctx.log.info(`Change of basis op: ${result.figures.change_of_basis_op}`);
    const outputs: Record<string, string> = {};
    if (result.outputs.experiments) {
      const f = path.resolve(String(ctx.params['output.experiments'] ?? 'reindexed.expt'));
      await writeExperiments(f, result.outputs.experiments);
      ctx.log.info(`Saving reindexed experimental models to ${path.basename(f)}`);
      outputs.experiments = f;
    }
    if (result.outputs.reflections) {
      const f = path.resolve(String(ctx.params['output.reflections'] ?? 'reindexed.refl'));
      await writeRefl(f, result.outputs.reflections);
      ctx.log.info(`Saving reindexed reflections to ${path.basename(f)}`);
      outputs.reflections = f;
    }
    return { ...result, outputs };
  },
};
