/**
 * `xtalflow report experiments.expt reflections.refl`: an HTML report of spot finding, indexing,
 * refinement, integration or scaling results, whichever the files hold (as dials.report).
 */
import type { Program, ProgramContext, StageResult } from '../../core/program.js';
import type { ParamDef } from '../../core/params/index.js';
import { UserError } from '../../core/errors.js';
import { readExperiments } from '../../core/io/expt.js';
import { readRefl } from '../../core/io/refl.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { renderHtml } from '../../core/report/html.js';
import { classifyInputs } from '../../core/io/inputs.js';
import { Crystal } from '../../core/models/crystal.js';
import type { ExperimentList } from '../../core/models/types.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { spotsPerImage, centroidResiduals, intensityByResolution, scalesPerImage, type Section } from './analysis.js';

const params: ParamDef[] = [
  { name: 'output.html', type: 'path', default: 'xtalflow.report.html', help: 'Report file' },
];

export function run(expts: ExperimentList, refl: ReflectionTable | null): StageResult<{ sections: Section[] }> {
  const sections: Section[] = [];
  if (refl) {
    for (const s of [spotsPerImage(refl, expts), centroidResiduals(refl), intensityByResolution(refl, expts), scalesPerImage(refl)]) if (s) sections.push(s);
  }
  const crystals = expts.filter((e) => e.crystal).map((e, i) => ({ i, cell: Crystal.unitCell(e.crystal!).map((v) => v.toFixed(3)).join(' '), sg: e.crystal!.spaceGroupHall.trim() }));
  return {
    outputs: { sections },
    figures: { n_experiments: expts.length, n_reflections: refl?.nrows ?? 0, n_crystals: crystals.length },
    tables: sections.filter((s) => s.text).map((s) => ({ title: s.title, text: s.text! })),
  };
}

async function main(ctx: ProgramContext): Promise<StageResult> {
  const { experiments: exptFiles, reflections: reflFiles, other } = classifyInputs(ctx.files);
  if (other.length) throw new UserError(`${other[0]}: not an .expt or .refl file`);
  if (!exptFiles.length) throw new UserError('report needs an .expt file (and optionally a .refl file)');
  const expts = (await Promise.all(exptFiles.map((f) => readExperiments(f)))).flat();
  const refl = reflFiles.length ? await readRefl(reflFiles[0]) : null;
  const result = run(expts, refl);
  const crystals = expts.filter((e) => e.crystal).map((e) => ({ cell: Crystal.unitCell(e.crystal!).map((v) => v.toFixed(3)).join(' '), sg: e.crystal!.spaceGroupHall.trim() }));
  const html = renderHtml('report', {
    generated: new Date().toISOString(), files: ctx.files.join(' '),
    summary: [
      { label: 'Experiments', value: String(expts.length) },
      { label: 'Reflections', value: String(refl?.nrows ?? 0) },
      ...crystals.map((c, i) => ({ label: `Crystal ${i} (Hall ${c.sg})`, value: c.cell })),
    ],
    sections: result.outputs.sections.map((s, i) => ({ ...s, plots: s.plots.map((p, j) => ({ id: `${i}-${j}`, plot: p })) })),
  });
  const out = ctx.params['output.html'] as string;
  await writeFileAtomic(out, html);
  for (const t of result.tables) ctx.log.info(`${t.title}\n${t.text}\n`);
  ctx.log.info(`Report written to ${out}`);
  return result;
}

export const program: Program = { name: 'report', summary: 'Write an HTML report for experiments and reflections', params, main };
