/**
 * `xtalflow find_spots imported.expt [params]` → strong.refl.
 *
 * The images of every sweep are cut into blocks that go to one worker pool (each block: read,
 * mask, threshold, label within the block); the main thread merges block labels per sweep,
 * computes spot properties, filters, and builds one reflection table for all sweeps. `run` is
 * pure apart from reading images, so `process` calls it directly.
 */
import path from 'node:path';
import { ParameterError, UserError } from '../../core/errors.js';
import type { ImageSource } from '../../core/formats/types.js';
import { writeRefl } from '../../core/io/refl.js';
import { readExperiments } from '../../core/io/expt.js';
import type { Log } from '../../core/log.js';
import type { Experiment, ExperimentList } from '../../core/models/types.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import { resolveNproc, runBlocks, splitImages, workerScriptUrl } from '../../core/parallel/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { Flags } from '../../core/reflections/flags.js';
import { ReflectionTable, makeShoeboxColumn } from '../../core/reflections/table.js';
import { findStrongPixels, type BlockResult, type BlockTask, type ImageDoneEvent } from './block.js';
import { mergeBlocks } from './components.js';
import { checkMaskParams, staticMasks, type MaskParams } from './mask.js';
import { openSource, type SourceOpener } from './source.js';
import { buildShoeboxes, computeSpots, filterSpots, spotsPerImage, type ShoeboxParts, type SpotList } from './spots.js';
import { checkThresholdParams, THRESHOLD_ALGORITHMS, type ThresholdAlgorithm, type ThresholdParams } from './threshold.js';
import { histogram, progressReporter } from './report.js';
import type { WorkerTask } from './worker.js';
import { isExperimentsFile } from '../../core/io/inputs.js';
import { ICE_RING_HALF_WIDTH } from '../../core/geometry/ice_rings.js';

export const PARAMS: ParamDef[] = [
  { name: 'output.reflections', type: 'path', default: 'strong.refl', help: 'Output reflection table' },
  { name: 'output.shoeboxes', type: 'bool', default: false, help: 'Store a shoebox (strong pixels in the bbox) per spot' },
  { name: 'spotfinder.threshold.algorithm', type: 'choice', default: 'dispersion_extended', choices: [...THRESHOLD_ALGORITHMS],
    help: 'dispersion: local index-of-dispersion test; dispersion_extended: two-pass variant with the background taken outside the first-pass signal (DIALS default); global: counts > global_threshold only' },
  { name: 'spotfinder.threshold.dispersion.gain', type: 'float', default: null, allowNone: true, help: 'Detector gain: variance/mean of pure background (default 1, photon counting)' },
  { name: 'spotfinder.threshold.dispersion.kernel_size', type: 'ints', length: 2, default: [3, 3], min: 1, help: 'Kernel half-widths (fast, slow): 3,3 is a 7×7 window' },
  { name: 'spotfinder.threshold.dispersion.sigma_background', type: 'float', default: 6, min: 0, help: 'Dispersion cut-off in standard deviations' },
  { name: 'spotfinder.threshold.dispersion.sigma_strong', type: 'float', default: 3, min: 0, help: 'Strong-pixel cut-off above the local mean in standard deviations' },
  { name: 'spotfinder.threshold.dispersion.min_local', type: 'int', default: 2, help: 'Minimum usable pixels under the kernel (≤ 0: the whole kernel)' },
  { name: 'spotfinder.threshold.dispersion.global_threshold', type: 'float', default: 0, help: 'Pixels must also exceed this many counts' },
  { name: 'spotfinder.filter.min_spot_size', type: 'int', default: null, allowNone: true, min: 1, help: 'Smallest spot in pixels (Auto: 3 for pixel-array detectors, 6 otherwise)' },
  { name: 'spotfinder.filter.max_spot_size', type: 'int', default: 1000, min: 1, help: 'Largest spot in pixels' },
  { name: 'spotfinder.filter.max_separation', type: 'float', default: 2, allowNone: true, help: 'Largest distance (px) between the brightest pixel and the centroid' },
  { name: 'spotfinder.filter.max_strong_pixel_fraction', type: 'float', default: 0.25, min: 0, max: 1, help: 'Images with a larger fraction of strong pixels are reported and skipped' },
  { name: 'spotfinder.filter.d_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit (Å)' },
  { name: 'spotfinder.filter.d_max', type: 'float', default: null, allowNone: true, help: 'Low-resolution limit (Å)' },
  { name: 'spotfinder.filter.ice_rings.filter', type: 'bool', default: false, help: 'Exclude pixels on hexagonal-ice powder rings' },
  { name: 'spotfinder.filter.ice_rings.width', type: 'float', default: ICE_RING_HALF_WIDTH, help: 'Half-width of an ice ring in 1/d² (Å⁻²)' },
  { name: 'spotfinder.mp.nproc', type: 'int', default: null, allowNone: true, min: 1, help: "DIALS' name for nproc (worker threads; default all cores)" },
  { name: 'spotfinder.lookup.mask', type: 'path', default: null, allowNone: true,
    help: 'User mask: an xtalflow-mask JSON file ({"format": "xtalflow-mask", "panels": [{"panel": 0, "rectangles": [[x0,y0,x1,y1]], "circles": [[x,y,r]], "pixels": [[x,y]]}]}); DIALS mask pickles cannot be read' },
];

export interface FindSpotsParams {
  threshold: ThresholdParams;
  /** null: Auto (from the detector type). */
  minSpotSize: number | null;
  maxSpotSize: number;
  maxSeparation: number | null;
  maxStrongPixelFraction: number;
  mask: MaskParams;
  shoeboxes: boolean;
  nproc: number;
}

/** Turn resolved parameter values into typed options, rejecting impossible combinations. */
export function resolveParams(p: Params): FindSpotsParams {
  const get = <T>(name: string, fallback: T): T => (name in p && p[name] !== undefined ? p[name] : fallback);
  const algorithm = get<string>('spotfinder.threshold.algorithm', 'dispersion_extended');
  if (!(THRESHOLD_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new ParameterError(`spotfinder.threshold.algorithm=${algorithm}: expected one of ${THRESHOLD_ALGORITHMS.join(', ')}`);
  }
  const threshold: ThresholdParams = {
    algorithm: algorithm as ThresholdAlgorithm,
    kernelSize: get<number[]>('spotfinder.threshold.dispersion.kernel_size', [3, 3]).slice(0, 2) as [number, number],
    gain: get<number | null>('spotfinder.threshold.dispersion.gain', null) ?? 1,
    sigmaBackground: get('spotfinder.threshold.dispersion.sigma_background', 6),
    sigmaStrong: get('spotfinder.threshold.dispersion.sigma_strong', 3),
    minLocal: get('spotfinder.threshold.dispersion.min_local', 2),
    globalThreshold: get('spotfinder.threshold.dispersion.global_threshold', 0),
  };
  checkThresholdParams(threshold);
  const mask: MaskParams = {
    dMin: get<number | null>('spotfinder.filter.d_min', null),
    dMax: get<number | null>('spotfinder.filter.d_max', null),
    iceRings: get('spotfinder.filter.ice_rings.filter', false),
    iceRingWidth: get('spotfinder.filter.ice_rings.width', ICE_RING_HALF_WIDTH),
    maskFile: get<string | null>('spotfinder.lookup.mask', null),
  };
  checkMaskParams(mask);
  return {
    threshold,
    minSpotSize: get<number | null>('spotfinder.filter.min_spot_size', null),
    maxSpotSize: get('spotfinder.filter.max_spot_size', 1000),
    maxSeparation: get<number | null>('spotfinder.filter.max_separation', 2),
    maxStrongPixelFraction: get('spotfinder.filter.max_strong_pixel_fraction', 0.25),
    mask,
    shoeboxes: get('output.shoeboxes', false),
    nproc: resolveNproc(get<number | null>('spotfinder.mp.nproc', null) ?? get<number | null>('nproc', null)),
  };
}

/** The worker script of this stage (compiled .js, or .ts under tsx). */
export function findSpotsWorker(): string {
  return workerScriptUrl(import.meta.url, './worker');
}

/** Per-sweep summary, for the log, the report and `process`' decisions. */
export interface SweepSummary {
  experimentIds: number[];
  description: string;
  firstImage: number;
  nImages: number;
  strongPixelsPerImage: number[];
  spotsPerImage: number[];
  extracted: number;
  removedSmall: number;
  removedLarge: number;
  removedSeparation: number;
  rejectedImages: number[];
  spots: number;
}

export interface FindSpotsOutputs {
  reflections: ReflectionTable;
  sweeps: SweepSummary[];
}

export interface RunOptions {
  log: Log;
  /**
   * How to open a sweep's images (default: the formats module). Workers cannot use a custom
   * opener, so giving one runs every block in this thread.
   */
  open?: SourceOpener;
  /** Directory against which relative image paths resolve (default: the working directory). */
  dir?: string;
  /** Called after each image (any order across blocks). */
  onImage?: (event: ImageDoneEvent) => void;
}

/** Experiments that share one imageset are one sweep; spot finding runs once per sweep. */
function groupSweeps(experiments: ExperimentList): { ids: number[]; experiment: Experiment }[] {
  const groups: { ids: number[]; experiment: Experiment; key: unknown }[] = [];
  experiments.forEach((e, i) => {
    if (!e.imageset || !e.detector) throw new UserError(`experiment ${i} has no imageset/detector: nothing to find spots on`);
    const key = e.imageset;
    const g = groups.find((x) => x.key === key);
    if (g) g.ids.push(i); else groups.push({ ids: [i], experiment: e, key });
  });
  return groups;
}

function autoMinSpotSize(e: Experiment): number {
  return e.detector!.panels.every((p) => p.type === 'SENSOR_PAD') ? 3 : 6;
}

export async function run(experiments: ExperimentList, params: FindSpotsParams, opts: RunOptions): Promise<StageResult<FindSpotsOutputs>> {
  const { log } = opts;
  const open = opts.open ?? ((e: Experiment) => openSource(e, opts.dir));
  const groups = groupSweeps(experiments);
  // Every sweep's blocks go through one pool, so workers start once per run, not once per sweep.
  const sweeps: { ids: number[]; experiment: Experiment; source: ImageSource; zOffset: number; nImages: number;
    panelSizes: [number, number][]; minSpotSize: number }[] = [];
  const tasks: (WorkerTask & { sweep: number })[] = [];
  try {
    for (const g of groups) {
      const detector = g.experiment.detector!;
      const panelSizes = detector.panels.map((p) => [p.imageSize[0], p.imageSize[1]] as [number, number]);
      const masks = staticMasks(detector, g.experiment.beam, params.mask);
      const source = await open(g.experiment);
      const zOffset = g.experiment.scan ? g.experiment.scan.imageRange[0] - 1 : 0;
      const sweep = sweeps.length;
      sweeps.push({ ...g, source, zOffset, nImages: source.length, panelSizes, minSpotSize: params.minSpotSize ?? autoMinSpotSize(g.experiment) });
      for (const block of splitImages(source.length, params.nproc, { minBlock: 2 })) {
        tasks.push({
          sweep, block, imageNumberOffset: zOffset, panelSizes, staticMasks: masks, threshold: params.threshold,
          trustedRanges: detector.panels.map((p) => [p.trustedRange[0], p.trustedRange[1]] as [number, number]),
          maxStrongPixelFraction: params.maxStrongPixelFraction,
          experiment: g.experiment, dir: opts.dir ?? process.cwd(),
        });
      }
    }
    log.info(`Finding spots on ${sweeps.reduce((a, s) => a + s.nImages, 0)} images in ${sweeps.length} imageset(s) with ${params.nproc} worker(s)`);
    const results = await runBlocks<WorkerTask & { sweep: number }, BlockResult>({
      workerScript: findSpotsWorker(),
      method: 'findStrongPixels',
      local: (task, emit) => findStrongPixels(sweeps[task.sweep].source, task, emit),
      tasks,
      nproc: opts.open ? 1 : params.nproc,
      onEvent: (ev) => opts.onImage?.(ev as ImageDoneEvent),
    });
    const parts: { spots: SpotList; id: number; shoeboxes: ShoeboxParts | null }[] = [];
    const summaries: SweepSummary[] = [];
    sweeps.forEach((sw, si) => {
      const mine = results.filter((_, k) => tasks[k].sweep === si);
      const r = summariseSweep(sw, si, mine, params, log);
      parts.push(r.part);
      summaries.push(r.summary);
    });
    return finish(parts, summaries, experiments, params, log);
  } finally {
    for (const sw of sweeps) await sw.source.close();
  }
}

/** Merge one sweep's blocks into spots, filter them, and log what DIALS logs. */
function summariseSweep(
  sw: { ids: number[]; source: ImageSource; zOffset: number; nImages: number; panelSizes: [number, number][]; minSpotSize: number },
  si: number, results: BlockResult[], params: FindSpotsParams, log: Log,
): { part: { spots: SpotList; id: number; shoeboxes: ShoeboxParts | null }; summary: SweepSummary } {
  const { zOffset, nImages, minSpotSize, source } = sw;
  const widths = sw.panelSizes.map(([w]) => w);
  log.info('-'.repeat(80));
  log.info(`Finding strong spots in imageset ${si}`);
  log.info('-'.repeat(80));
  log.info(`Setting spotfinder.filter.min_spot_size=${minSpotSize}`);
  log.info(`Finding spots in image ${zOffset + 1} to ${zOffset + nImages} (${source.description})`);
  const strongPerImage: number[] = [];
  const rejected: number[] = [];
  for (const r of results) {
    for (let i = 0; i < r.strongPerImage.length; i++) {
      strongPerImage.push(r.strongPerImage[i]);
      if (r.rejected[i]) rejected.push(r.pixels.firstImage + i);
    }
  }
  strongPerImage.forEach((n, i) => log.info(`Found ${n} strong pixels on image ${zOffset + i + 1}`));
  for (const i of rejected) {
    log.warn(`image ${zOffset + i + 1} (${source.pathOf(i)}): more than ${(100 * params.maxStrongPixelFraction).toFixed(0)} % of pixels are strong; its pixels were not used`);
  }
  const labelled = mergeBlocks(results.map((r) => r.pixels));
  const all = computeSpots(labelled, widths, zOffset);
  const filtered = filterSpots(all, { minSpotSize, maxSpotSize: params.maxSpotSize, maxSeparation: params.maxSeparation });
  log.info(`Extracted ${all.n} spots`);
  log.info(`Removed ${filtered.removedSmall} spots with size < ${minSpotSize} pixels`);
  log.info(`Removed ${filtered.removedLarge} spots with size > ${params.maxSpotSize} pixels`);
  if (filtered.removedEmpty > 0) log.info(`Removed ${filtered.removedEmpty} spots with no positive counts`);
  log.info(`Filtered ${filtered.spots.n} of ${all.n - filtered.removedSmall - filtered.removedLarge - filtered.removedEmpty} spots by peak-centroid distance`);
  const perImage = spotsPerImage(filtered.spots, zOffset, nImages);
  log.info('');
  log.info(`Histogram of per-image spot count for imageset ${si}:`);
  log.info(histogram(perImage, zOffset + 1));
  return {
    part: {
      spots: filtered.spots, id: sw.ids[0],
      shoeboxes: params.shoeboxes ? buildShoeboxes(labelled, widths, zOffset, filtered.spots, filtered.sourceIndex) : null,
    },
    summary: {
      experimentIds: sw.ids, description: source.description, firstImage: zOffset + 1, nImages,
      strongPixelsPerImage: strongPerImage, spotsPerImage: Array.from(perImage),
      extracted: all.n, removedSmall: filtered.removedSmall, removedLarge: filtered.removedLarge,
      removedSeparation: filtered.removedSeparation, rejectedImages: rejected.map((i) => zOffset + i + 1),
      spots: filtered.spots.n,
    },
  };
}

function finish(parts: { spots: SpotList; id: number; shoeboxes: ShoeboxParts | null }[], summaries: SweepSummary[],
  experiments: ExperimentList, params: FindSpotsParams, log: Log): StageResult<FindSpotsOutputs> {
  const table = toReflectionTable(parts.map((p) => ({ spots: p.spots, id: p.id })), experiments);
  if (params.shoeboxes) table.setShoebox('shoebox', concatShoeboxes(parts.map((p) => p.shoeboxes!)));
  log.info('-'.repeat(80));
  const total = table.nrows;
  return {
    outputs: { reflections: table, sweeps: summaries },
    figures: {
      n_spots: total,
      n_spots_per_sweep: summaries.map((s) => s.spots),
      n_images: summaries.reduce((a, s) => a + s.nImages, 0),
      mean_spots_per_image: total / Math.max(1, summaries.reduce((a, s) => a + s.nImages, 0)),
    },
    tables: summaries.map((s, i) => ({ title: `Spots per image, imageset ${i}`, text: histogram(Int32Array.from(s.spotsPerImage), s.firstImage) })),
  };
}

/** strong.refl's columns, as DIALS 3.12 writes them (px only; mm/rad columns come with indexing). */
export function toReflectionTable(parts: { spots: SpotList; id: number }[], experiments: ExperimentList): ReflectionTable {
  const n = parts.reduce((a, p) => a + p.spots.n, 0);
  const bbox = new Int32Array(6 * n), flags = new Float64Array(n), id = new Int32Array(n);
  const I = new Float64Array(n), V = new Float64Array(n), nSignal = new Int32Array(n), panel = new Float64Array(n);
  const xyz = new Float64Array(3 * n), xyzVar = new Float64Array(3 * n);
  let o = 0;
  for (const { spots: s, id: eid } of parts) {
    bbox.set(s.bbox, 6 * o);
    xyz.set(s.xyz, 3 * o);
    xyzVar.set(s.xyzVariance, 3 * o);
    I.set(s.intensity, o);
    V.set(s.intensityVariance, o);
    nSignal.set(s.nSignal, o);
    for (let i = 0; i < s.n; i++) {
      flags[o + i] = Flags.strong;
      id[o + i] = eid;
      panel[o + i] = s.panel[i];
    }
    o += s.n;
  }
  const t = ReflectionTable.empty(n);
  t.setInt6('bbox', bbox).setSizeT('flags', flags).setInt('id', id)
    .setDouble('intensity.sum.value', I).setDouble('intensity.sum.variance', V)
    .setInt('n_signal', nSignal).setSizeT('panel', panel)
    .setVec3('xyzobs.px.value', xyz).setVec3('xyzobs.px.variance', xyzVar);
  for (const p of parts) t.identifiers.set(p.id, experiments[p.id].identifier);
  return t;
}

/** Concatenate the sweeps' shoeboxes into one column (rows in table order). */
function concatShoeboxes(parts: ShoeboxParts[]) {
  const n = parts.reduce((a, p) => a + p.panel.length, 0);
  const total = parts.reduce((a, p) => a + p.data.length, 0);
  const panel = new Uint32Array(n), bbox = new Int32Array(6 * n), allocated = new Uint8Array(n).fill(1);
  const data = new Float32Array(total), mask = new Int32Array(total), background = new Float32Array(total);
  let o = 0, q = 0;
  for (const p of parts) {
    panel.set(p.panel, o); bbox.set(p.bbox, 6 * o); data.set(p.data, q); mask.set(p.mask, q);
    o += p.panel.length; q += p.data.length;
  }
  return makeShoeboxColumn({ panel, bbox, allocated, data, mask, background });
}

function totalImages(experiments: ExperimentList): number {
  return groupSweeps(experiments).reduce((a, g) => {
    const r = g.experiment.scan?.imageRange;
    return a + (r ? r[1] - r[0] + 1 : g.experiment.imageset?.images?.length ?? 1);
  }, 0);
}

function resolveInputs(files: string[]): string {
  const expts = files.filter(isExperimentsFile);
  if (expts.length !== 1 || files.length !== 1) {
    throw new UserError('find_spots needs exactly one experiment list (e.g. imported.expt); import images first with `xtalflow import`');
  }
  return expts[0];
}

export const program: Program = {
  name: 'find_spots',
  summary: 'Find strong spots on every image (strong.refl)',
  usage: 'xtalflow find_spots imported.expt [nproc=N] [spotfinder.threshold.algorithm=dispersion|dispersion_extended|global] [d_min=…] [output.reflections=strong.refl]',
  params: PARAMS,
  async main(ctx) {
    const params = resolveParams(ctx.params);
    const file = resolveInputs(ctx.files);
    const experiments = await readExperiments(file);
    const progress = progressReporter(totalImages(experiments));
    let result: StageResult<FindSpotsOutputs>;
    try {
      result = await run(experiments, params, { log: ctx.log, onImage: progress.tick, dir: path.dirname(path.resolve(file)) });
    } finally {
      progress.stop();
    }
    const out = path.resolve(String(ctx.params['output.reflections'] ?? 'strong.refl'));
    await writeRefl(out, result.outputs.reflections);
    ctx.log.info(`Saved ${result.outputs.reflections.nrows} reflections to ${path.relative(process.cwd(), out) || out}`);
    return result;
  },
};
