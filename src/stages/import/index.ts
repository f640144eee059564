/**
 * `xtalflow import`: image files, directories or `#` templates → sweeps → `imported.expt`
 * (DIALS ImageSequence experiments with relative templates). Geometry overrides apply to the
 * models read from the headers. `run` is pure apart from reading image headers; `main` writes.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Program, ProgramContext, StageResult } from '../../core/program.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Experiment, ExperimentList, Panel } from '../../core/models/types.js';
import { ParameterError, UserError } from '../../core/errors.js';
import { Vec3 } from '../../core/math/vec3.js';
import { writeExperiments } from '../../core/io/expt.js';
import { importSweeps, selectImageRange, openImageSource, sameBeam, sameDetector, sameGoniometer } from '../../core/formats/sweep.js';
import { flatHierarchy, sensorMu } from '../../core/formats/models.js';
import { beamCentreOnPanel } from '../../core/geometry/beam_centre.js';
import { Panel as PanelFns } from '../../core/models/detector.js';
import type { ImportedSweep } from '../../core/formats/types.js';

export { openImageSource };

export const params: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'imported.expt', help: 'The output experiment list' },
  { name: 'input.template', type: 'str', default: null, allowNone: true, multiple: true, help: 'An image template such as image_####.cbf (as a file argument works too)' },
  { name: 'input.directory', type: 'path', default: null, allowNone: true, multiple: true, help: 'A directory of images (as a file argument works too)' },
  { name: 'geometry.scan.image_range', type: 'ints', length: 2, default: null, allowNone: true, help: 'Import only images a,b (inclusive, image numbers) of each sweep' },
  { name: 'geometry.detector.distance', type: 'float', default: null, allowNone: true, min: 0, help: 'Override the detector distance (mm)' },
  { name: 'geometry.detector.fast_slow_beam_centre', type: 'floats', length: 2, default: null, allowNone: true, help: 'Override the beam centre: fast,slow in pixels (panel 0)' },
  { name: 'geometry.detector.slow_fast_beam_centre', type: 'floats', length: 2, default: null, allowNone: true, help: 'Override the beam centre: slow,fast in pixels (panel 0)' },
  { name: 'geometry.detector.mosflm_beam_centre', type: 'floats', length: 2, default: null, allowNone: true, aliases: ['geometry.mosflm_beam_centre'], help: 'Override the beam centre in mosflm convention: x,y in mm (x along slow, y along fast)' },
  { name: 'geometry.beam.wavelength', type: 'float', default: null, allowNone: true, min: 0, help: 'Override the wavelength (Å)' },
  { name: 'geometry.goniometer.axis', type: 'floats', length: 3, default: null, allowNone: true, aliases: ['goniometer.axis'], help: 'Override the rotation axis x,y,z (normalised)' },
];

export interface ImportOutputs {
  experiments: ExperimentList;
  sweeps: ImportedSweep[];
}

function shiftDetector(panels: Panel[], delta: Vec3): void {
  for (const p of panels) p.origin = Vec3.add(p.origin, delta);
}

/** Apply the geometry overrides to one sweep's (unshared) models. */
function applyOverrides(sw: ImportedSweep, p: Params): void {
  const panels = sw.detector.panels;
  const p0 = panels[0];
  const wavelength = p['geometry.beam.wavelength'] as number | null;
  if (wavelength !== null) {
    if (!(wavelength > 0)) throw new ParameterError('geometry.beam.wavelength must be positive');
    sw.beam.wavelength = wavelength;
    for (const q of panels) q.mu = sensorMu(q.material, wavelength);
  }
  const distance = p['geometry.detector.distance'] as number | null;
  if (distance !== null) {
    const n = Vec3.normalize(Vec3.cross(p0.fastAxis, p0.slowAxis));
    shiftDetector(panels, Vec3.scale(n, distance - PanelFns.distance(p0)));
  }
  const fs = p['geometry.detector.fast_slow_beam_centre'] as number[] | null;
  const sf = p['geometry.detector.slow_fast_beam_centre'] as number[] | null;
  const mosflm = p['geometry.detector.mosflm_beam_centre'] as number[] | null;
  if ([fs, sf, mosflm].filter((x) => x).length > 1) {
    throw new ParameterError('give only one of fast_slow_beam_centre, slow_fast_beam_centre and mosflm_beam_centre');
  }
  if (fs || sf || mosflm) {
    const target: [number, number] = fs ? [fs[0] * p0.pixelSize[0], fs[1] * p0.pixelSize[1]]
      : sf ? [sf[1] * p0.pixelSize[0], sf[0] * p0.pixelSize[1]]
      : [mosflm![1], mosflm![0]];
    const now = beamCentreOnPanel(p0, sw.beam)?.xyMm;
    if (!now) throw new UserError('cannot set the beam centre: the beam does not meet panel 0');
    shiftDetector(panels, Vec3.add(Vec3.scale(p0.fastAxis, now[0] - target[0]), Vec3.scale(p0.slowAxis, now[1] - target[1])));
  }
  const axis = p['geometry.goniometer.axis'] as number[] | null;
  if (axis) {
    if (!sw.goniometer) throw new UserError('geometry.goniometer.axis: these images have no goniometer');
    if (Math.hypot(axis[0], axis[1], axis[2]) === 0) throw new ParameterError('geometry.goniometer.axis must not be zero');
    const a = Vec3.normalize([axis[0], axis[1], axis[2]]);
    sw.goniometer.rotationAxis = a;
    if (sw.goniometer.axes && sw.goniometer.scanAxis !== undefined) sw.goniometer.axes[sw.goniometer.scanAxis] = a;
  }
}

/**
 * Sweeps recorded with the same beam, detector or goniometer share one model object, as in
 * dials.import's output (one `detector` entry for several sweeps), so a later refinement of the
 * shared detector applies to all of them.
 */
function shareEqualModels(sweeps: ImportedSweep[]): void {
  for (let i = 1; i < sweeps.length; i++) {
    const s = sweeps[i];
    for (let j = 0; j < i; j++) {
      const t = sweeps[j];
      if (s.beam !== t.beam && sameBeam(s.beam, t.beam) && s.beam.polarizationFraction === t.beam.polarizationFraction) s.beam = t.beam;
      if (s.detector !== t.detector && sameDetector(s.detector, t.detector)) s.detector = t.detector;
      if (s.goniometer && t.goniometer && s.goniometer !== t.goniometer && sameGoniometer(s.goniometer, t.goniometer)
        && JSON.stringify(s.goniometer.axes ?? null) === JSON.stringify(t.goniometer.axes ?? null)
        && JSON.stringify(s.goniometer.angles ?? null) === JSON.stringify(t.goniometer.angles ?? null)) s.goniometer = t.goniometer;
    }
  }
}

/** Import images: group into sweeps, apply overrides, build experiments. `outputDir` makes templates relative. */
export async function run(files: string[], p: Params, opts: { outputDir?: string } = {}): Promise<StageResult<ImportOutputs>> {
  files = [...files, ...((p['input.template'] ?? []) as string[]), ...((p['input.directory'] ?? []) as string[])];
  if (files.length === 0) throw new UserError('no images given: name image files, directories or templates (e.g. image_####.cbf)');
  let sweeps = await importSweeps(files);
  const range = p['geometry.scan.image_range'] as number[] | null;
  if (range) sweeps = sweeps.map((s) => selectImageRange(s, [range[0], range[1]]));
  const outDir = path.resolve(opts.outputDir ?? '.');
  const experiments: ExperimentList = [];
  for (const sw of sweeps) {
    applyOverrides(sw, p);
    sw.detector.hierarchy ??= flatHierarchy(sw.detector.panels.length);
  }
  shareEqualModels(sweeps);
  for (const sw of sweeps) {
    const template = sw.imageset.template ? path.resolve(sw.imageset.template) : undefined;
    const images = sw.imageset.images?.map((f) => path.resolve(f));
    const fields: Record<string, string | string[]> = {};
    if (template) fields.template = path.relative(outDir, template);
    if (images) fields.images = images.map((f) => path.relative(outDir, f));
    const imageset = {
      ...sw.imageset,
      ...(template ? { template } : {}),
      ...(images ? { images } : {}),
      params: { dynamic_shadowing: 'Auto', multi_panel: false },
      pathsAsRead: { dir: outDir, fields },
    };
    const e: Experiment = {
      identifier: randomUUID(),
      beam: sw.beam, detector: sw.detector, goniometer: sw.goniometer, scan: sw.scan, imageset,
    };
    experiments.push(e);
  }
  const nImages = sweeps.reduce((n, s) => n + s.source.length, 0);
  const nStill = sweeps.filter((s) => !s.scan || s.scan.oscillation[1] === 0).length;
  const formats = [...new Set(sweeps.map((s) => s.format))];
  const rule = '-'.repeat(80);
  const lines = [
    rule,
    `  format: ${formats.map((f) => `Format${f}`).join(', ')}`,
    `  num images: ${nImages}`,
    '  sequences:',
    `    still:    0`,
    `    sweep:    ${sweeps.length - nStill}`,
    `  num stills: ${nStill}`,
    rule,
  ];
  const table = ['  #  template                                   images      φ start   Δφ      λ (Å)    distance (mm)'];
  sweeps.forEach((s, i) => {
    const t = path.basename(s.imageset.template ?? s.imageset.images?.[0] ?? '');
    const r = s.scan?.imageRange ?? [1, 1];
    table.push(`${String(i + 1).padStart(3)}  ${t.padEnd(42)} ${`${r[0]}-${r[1]}`.padEnd(10)} ${(s.scan?.oscillation[0] ?? 0).toFixed(3).padStart(9)} ${(s.scan?.oscillation[1] ?? 0).toFixed(4).padStart(7)} ${s.beam.wavelength.toFixed(5).padStart(9)} ${PanelFns.distance(s.detector.panels[0]).toFixed(2).padStart(12)}`);
  });
  return {
    outputs: { experiments, sweeps },
    figures: { n_images: nImages, n_sweeps: sweeps.length - nStill, n_stills: nStill, format: formats.join(',') },
    tables: [{ title: 'Import summary', text: lines.join('\n') }, { title: 'Sweeps', text: table.join('\n') }],
  };
}

export const program: Program = {
  name: 'import',
  summary: 'Read image headers into experiment models (imported.expt)',
  usage: 'xtalflow import image_0001.cbf … | directory | image_####.cbf [image_range=a,b] [distance=…] [wavelength=…]\n'
    + '  [mosflm_beam_centre=x,y | fast_slow_beam_centre=f,s | slow_fast_beam_centre=s,f] [goniometer.axis=x,y,z]',
  params,
  async main(ctx: ProgramContext) {
    const out = ctx.params['output.experiments'] as string;
    const result = await run(ctx.files, ctx.params, { outputDir: path.dirname(path.resolve(out)) });
    try {
      for (const t of result.tables) ctx.log.info(t.text);
      await writeExperiments(out, result.outputs.experiments);
      ctx.log.info(`Writing experiments to ${out}`);
    } finally {
      await Promise.all(result.outputs.sweeps.map((s) => s.source.close()));
    }
  },
};
