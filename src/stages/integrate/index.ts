/**
 * `xtalflow integrate refined.expt refined.refl [params]` → integrated.expt, integrated.refl.
 *
 * Per experiment: predict every reflection of the scan (scan-varying A when present); estimate
 * σ_b and σ_m from the strong spots' pixels (first pass over the images); build shoeboxes of
 * ±n_sigma·σ in the Kabsch frame plus a background margin; integrate by summation while learning
 * reference profiles (second pass); fit the profiles (third pass). Every pass streams the images
 * in blocks of `block.size` degrees through the worker pool.
 *
 * Memory. A worker holds one block: its reflections' inputs, the shoeboxes open at one time, and
 * an accumulator or profiles for the few profile slots the block touches — bounded by block.size,
 * not by the number of images. Block tasks are built only when a worker is about to take them and
 * their results folded in block order as they arrive (streamBlocks). What grows with the sweep is
 * in this thread: one typed column set per kept prediction, which becomes the output table (273 B
 * per reflection in integrated.refl; about 330 B per prediction while integrating, with the
 * integrator's inputs and the overlap lists), and the reference-profile accumulator (2·(2g+1)³
 * doubles per slot, 9 slots per panel per scan_step). The table is cut from those columns in place
 * and written column by column, never held twice.
 */
import path from 'node:path';
import { ParameterError, UserError } from '../../core/errors.js';
import { openImageSource } from '../../core/formats/sweep.js';
import type { ImageSource } from '../../core/formats/types.js';
import { correctionGeometry, lpCorrection, quantumEfficiency } from '../../core/integration/corrections.js';
import type { BackgroundParams, IntegrationGeometry, IntegrationResults, ReflectionBatch } from '../../core/integration/integrator.js';
import { emptyResults } from '../../core/integration/integrator.js';
import { KabschFrame, panelGeometry, setFrame } from '../../core/integration/kabsch.js';
import { labAxis, predictScan, rotationGeometry, type Predictions } from '../../core/integration/predict.js';
import { addMoments, boundingBox, emptyMoments, partiality, sigmaAt, sigmaBFromDials, sigmaBToDials, sigmasByShell, sigmasFromMoments, type SigmaModel } from '../../core/integration/profile_model.js';
import { emptyAccumulator, finaliseProfiles, gridPoints, numProfiles, profileCentre, profileIndex, type ProfileAccumulator, type ProfileGridSpec, type ReferenceProfiles } from '../../core/integration/reference_profiles.js';
import { writeExperiments } from '../../core/io/expt.js';
import { readPair } from '../../core/io/inputs.js';
import { writeRefl } from '../../core/io/refl.js';
import type { Log } from '../../core/log.js';
import { Beam } from '../../core/models/beam.js';
import { Panel } from '../../core/models/detector.js';
import type { Experiment, ExperimentList } from '../../core/models/types.js';
import { onIceRing } from '../../core/geometry/ice_rings.js';
import { maxResolutionAtCorners } from '../../core/geometry/resolution.js';
import { invert3 } from '../../core/geometry/prediction.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import { resolveNproc, streamBlocks, workerScriptUrl } from '../../core/parallel/index.js';
import type { Program, StageResult } from '../../core/program.js';
import { Flags } from '../../core/reflections/flags.js';
import { ReflectionTable } from '../../core/reflections/table.js';
import type { BlockOutput, BlockTask } from './block.js';
import { runBlock } from './block.js';
import { experimentSummary, summaryTables, type ExperimentSummary } from './report.js';
import type { WorkerTask } from './worker.js';

const DEG = Math.PI / 180;

export const PARAMS: ParamDef[] = [
  { name: 'output.experiments', type: 'path', default: 'integrated.expt', help: 'Output experiments' },
  { name: 'output.reflections', type: 'path', default: 'integrated.refl', help: 'Output reflection table' },
  { name: 'prediction.d_min', type: 'float', default: null, allowNone: true, help: 'High-resolution limit of prediction (Å); Auto: the detector corners' },
  { name: 'profile.gaussian_rs.parameters.sigma_b', type: 'float', default: null, allowNone: true, help: 'Beam divergence σ_b (degrees) as DIALS gives it: the RMS of the 2-D offset in the Kabsch frame, √2 × the width along each axis; Auto: estimated from the strong spots' },
  { name: 'profile.gaussian_rs.parameters.sigma_m', type: 'float', default: null, allowNone: true, help: 'Mosaicity σ_m (degrees); Auto: estimated from the strong spots' },
  { name: 'profile.gaussian_rs.parameters.n_sigma', type: 'float', default: 3, min: 0.5, help: 'Foreground half-width in σ' },
  { name: 'profile.gaussian_rs.parameters.resolution_shells', type: 'int', default: 12, min: 1, help: 'At most this many resolution shells in which σ_b, σ_m are estimated from the strong spots, interpolated in 1/d² (1: one σ_b, σ_m for all, as DIALS)' },
  { name: 'integration.shoebox.margin', type: 'int', default: 3, min: 0, help: 'Background margin (pixels) around the foreground bounding box' },
  { name: 'integration.background.algorithm', type: 'choice', default: 'glm', choices: ['glm', 'simple'], help: 'glm: robust Poisson GLM constant (photon counting); simple: constant/plane with outlier rejection' },
  { name: 'integration.background.simple.model', type: 'choice', default: 'constant3d', choices: ['constant3d', 'linear2d'], help: 'simple background: one constant, or a plane per frame' },
  { name: 'integration.background.simple.outlier.n_sigma', type: 'float', default: 3, min: 0.5, help: 'simple background: reject pixels beyond n_sigma standard deviations' },
  { name: 'integration.background.min_pixels', type: 'int', default: 10, min: 1, help: 'Fewest usable background pixels' },
  { name: 'integration.block.size', type: 'float', default: 15, min: 0.01, help: 'Block of images per worker task (degrees)' },
  { name: 'integration.profile.fitting', type: 'bool', default: true, help: 'Profile fitting (a third pass over the images)' },
  { name: 'integration.profile.grid_size', type: 'int', default: 8, min: 1, help: 'Reference profile half-size g (grid of 2g+1 points per axis over ±n_sigma·σ; coarser grids broaden the profile and bias weak fits)' },
  { name: 'integration.profile.scan_step', type: 'float', default: 5, min: 0.01, help: 'Reference profiles every scan_step degrees' },
  { name: 'integration.profile.min_reflections', type: 'int', default: 10, min: 1, help: 'Fewest reflections for a reference profile (else the nearest is used)' },
  { name: 'integration.filter.ice_rings', type: 'bool', default: false, help: 'Flag reflections on hexagonal-ice powder rings (in_powder_ring, the "# ice" column) and learn no reference profile from them; they are still integrated' },
  { name: 'integration.filter.min_zeta', type: 'float', default: 0.05, min: 0, help: 'Reflections with |ζ| below this (too close to the spindle) are not integrated' },
];

export interface IntegrateParams {
  dMin: number | null;
  /** per-axis σ_b (DIALS' sigma_b / √2) */
  sigmaBDeg: number | null;
  sigmaMDeg: number | null;
  nSigma: number;
  profileShells: number;
  margin: number;
  background: BackgroundParams;
  blockSizeDeg: number;
  profileFitting: boolean;
  gridSize: number;
  scanStepDeg: number;
  minProfileReflections: number;
  minZeta: number;
  iceRings: boolean;
  nproc: number;
}

export function resolveParams(p: Params): IntegrateParams {
  const get = <T>(name: string, fallback: T): T => (name in p && p[name] !== undefined && p[name] !== null ? p[name] : fallback);
  const dMin = get<number | null>('prediction.d_min', null);
  if (dMin !== null && !(dMin > 0)) throw new ParameterError(`prediction.d_min=${dMin}: must be positive`);
  for (const k of ['sigma_b', 'sigma_m']) {
    const v = get<number | null>(`profile.gaussian_rs.parameters.${k}`, null);
    if (v !== null && !(v > 0)) throw new ParameterError(`profile.gaussian_rs.parameters.${k}=${v}: must be positive (degrees)`);
  }
  const sigmaB = get<number | null>('profile.gaussian_rs.parameters.sigma_b', null);
  return {
    dMin,
    sigmaBDeg: sigmaB === null ? null : sigmaBFromDials(sigmaB),
    sigmaMDeg: get<number | null>('profile.gaussian_rs.parameters.sigma_m', null),
    nSigma: get('profile.gaussian_rs.parameters.n_sigma', 3),
    profileShells: get('profile.gaussian_rs.parameters.resolution_shells', 12),
    margin: get('integration.shoebox.margin', 3),
    background: {
      algorithm: get('integration.background.algorithm', 'glm'),
      simpleModel: get('integration.background.simple.model', 'constant3d'),
      nSigma: get('integration.background.simple.outlier.n_sigma', 3),
      minPixels: get('integration.background.min_pixels', 10),
    },
    blockSizeDeg: get('integration.block.size', 15),
    profileFitting: get('integration.profile.fitting', true),
    gridSize: get('integration.profile.grid_size', 8),
    scanStepDeg: get('integration.profile.scan_step', 5),
    minProfileReflections: get('integration.profile.min_reflections', 10),
    minZeta: get('integration.filter.min_zeta', 0.05),
    iceRings: get('integration.filter.ice_rings', false),
    nproc: resolveNproc(get<number | null>('nproc', null)),
  };
}

export interface IntegrateOutputs {
  experiments: ExperimentList;
  reflections: ReflectionTable;
  /** per experiment: σ_b (per-axis width, not DIALS' √2-larger value: see sigmaBToDials), σ_m (degrees) */
  sigmas: { sigmaBDeg: number; sigmaMDeg: number }[];
}

export interface RunOptions {
  log: Log;
  /** directory against which relative image paths resolve */
  dir?: string;
  onImage?: (pass: string, image: number) => void;
  /**
   * How to open an experiment's images in this thread (default: the formats module). Workers
   * always open files themselves, so a custom source only serves nproc = 1.
   */
  open?: (e: Experiment) => Promise<ImageSource>;
}

/** Everything a block needs about one experiment; shared by the three passes. */
interface SweepContext {
  experiment: Experiment;
  dir: string;
  open?: (e: Experiment) => Promise<ImageSource>;
  nImages: number;
  firstImageNumber: number;
  widths: number[];
  heights: number[];
  geometry: IntegrationGeometry;
}

function sweepContext(e: Experiment, dir: string): SweepContext {
  const det = e.detector!, scan = e.scan!;
  const geom = rotationGeometry(e);
  return {
    experiment: e, dir,
    nImages: scan.imageRange[1] - scan.imageRange[0] + 1,
    firstImageNumber: scan.imageRange[0],
    widths: det.panels.map((p) => p.imageSize[0]),
    heights: det.panels.map((p) => p.imageSize[1]),
    geometry: {
      s0: Beam.s0(e.beam!), m2: labAxis(geom), panels: det.panels.map(panelGeometry),
      trustedMax: det.panels.map((p) => p.trustedRange[1]),
      normals: det.panels.map((p) => Panel.normal(p)),
      pixelArea: det.panels.map((p) => p.pixelSize[0] * p.pixelSize[1]),
      phi0Rad: scan.oscillation[0] * DEG, dPhiRad: scan.oscillation[1] * DEG,
    },
  };
}

/** Blocks of frames of block.size degrees; reflections go to the block holding their centre. */
function assignBlocks(zCentre: Float64Array, rows: Int32Array, nImages: number, framesPerBlock: number): Int32Array[] {
  const nBlocks = Math.max(1, Math.ceil(nImages / framesPerBlock));
  const lists: number[][] = Array.from({ length: nBlocks }, () => []);
  for (const r of rows) {
    const b = Math.min(nBlocks - 1, Math.max(0, Math.floor(zCentre[r] / framesPerBlock)));
    lists[b].push(r);
  }
  return lists.map((l) => Int32Array.from(l));
}

/** Blocks of the kept predictions by the frame of their centre (xyzcal.px z). */
function blocksByCentre(xyzPx: Float64Array, nImages: number, framesPerBlock: number): Int32Array[] {
  const n = xyzPx.length / 3, zc = new Float64Array(n);
  for (let k = 0; k < n; k++) zc[k] = Math.min(Math.max(xyzPx[3 * k + 2], 0), nImages - 1e-9);
  return assignBlocks(zc, Int32Array.from({ length: n }, (_, i) => i), nImages, framesPerBlock);
}

function subsetBatch(b: ReflectionBatch, rows: Int32Array): ReflectionBatch {
  const n = rows.length;
  const out: ReflectionBatch = {
    bbox: new Int32Array(6 * n), panel: new Int32Array(n), s1: new Float64Array(3 * n), phi: new Float64Array(n),
    profile: new Int32Array(n), reference: new Uint8Array(n), deltaB: new Float64Array(n), deltaM: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    out.bbox.set(b.bbox.subarray(6 * r, 6 * r + 6), 6 * i);
    out.s1.set(b.s1.subarray(3 * r, 3 * r + 3), 3 * i);
    out.panel[i] = b.panel[r]; out.phi[i] = b.phi[r]; out.profile[i] = b.profile[r]; out.reference[i] = b.reference[r];
    out.deltaB[i] = b.deltaB[r]; out.deltaM[i] = b.deltaM[r];
  }
  return out;
}

/** Every task of a pass (the σ_b/σ_m pass), results in block order. */
async function runPass(ctx: SweepContext, tasks: BlockTask[], nproc: number, onEvent?: (image: number) => void): Promise<BlockOutput[]> {
  const outs: BlockOutput[] = new Array(tasks.length);
  await streamPass(ctx, tasks.length, (i) => tasks[i], (i, o) => { outs[i] = o; }, nproc, onEvent);
  return outs;
}

/** A learn or fit pass: tasks built on demand, results handed to onResult in block order. */
async function streamPass(ctx: SweepContext, count: number, task: (bi: number) => BlockTask, onResult: (bi: number, out: BlockOutput) => void, nproc: number, onEvent?: (image: number) => void): Promise<void> {
  await streamBlocks<WorkerTask, BlockOutput>({
    workerScript: workerScriptUrl(import.meta.url, './worker'),
    method: 'integrateBlock',
    local: async (t, emit) => {
      const source = ctx.open ? await ctx.open(ctx.experiment) : await openImageSource(ctx.experiment, ctx.dir);
      try { return await runBlock(source, t, emit); } finally { await source.close(); }
    },
    count,
    task: (bi) => ({ ...task(bi), experiment: ctx.experiment, dir: ctx.dir }),
    onResult,
    nproc,
    onEvent: (ev) => onEvent?.((ev as { image: number }).image),
  });
}

function scatterResults(all: IntegrationResults, part: IntegrationResults, rows: Int32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    all.iSum[r] = part.iSum[i]; all.vSum[r] = part.vSum[i]; all.iPrf[r] = part.iPrf[i]; all.vPrf[r] = part.vPrf[i];
    all.cc[r] = part.cc[i]; all.bgMean[r] = part.bgMean[i]; all.bgDispersion[r] = part.bgDispersion[i];
    all.nForeground[r] = part.nForeground[i]; all.nBackground[r] = part.nBackground[i]; all.nValid[r] = part.nValid[i];
    all.xyzObs.set(part.xyzObs.subarray(3 * i, 3 * i + 3), 3 * r);
    all.flags[r] = part.flags[i];
  }
}

/**
 * Renumber a block's profile column, in place, to the scan's profile slots it uses (in order of
 * first use); returns the scan's slot of each local one. The block then accumulates and fits with
 * arrays of those few slots instead of every slot of the scan.
 */
function localSlots(profile: Int32Array): Int32Array {
  const local = new Map<number, number>(), slots: number[] = [];
  for (let i = 0; i < profile.length; i++) {
    let l = local.get(profile[i]);
    if (l === undefined) { l = slots.length; local.set(profile[i], l); slots.push(profile[i]); }
    profile[i] = l;
  }
  return Int32Array.from(slots);
}

/**
 * Add a block's accumulator over local slots into the scan's (slot j is the scan's slots[j]).
 * Element by element the same sums as adding whole-scan accumulators in block order, so the
 * profiles do not change.
 */
function addLocalAccumulator(acc: ProfileAccumulator, part: ProfileAccumulator, slots: Int32Array): void {
  const gp = gridPoints(acc.spec);
  for (let j = 0; j < slots.length; j++) {
    const a = slots[j] * gp, b = j * gp;
    for (let i = 0; i < gp; i++) { acc.sumWV[a + i] += part.sumWV[b + i]; acc.sumW[a + i] += part.sumW[b + i]; }
    acc.count[slots[j]] += part.count[j];
  }
}

/** The reference profiles a block needs: its local slots, each pointing at a copy of the grid it uses. */
function localProfiles(ref: ReferenceProfiles, slots: Int32Array): ReferenceProfiles {
  const gp = gridPoints(ref.spec), where = new Map<number, number>(), used: number[] = [];
  const source = new Int32Array(slots.length);
  slots.forEach((p, j) => {
    const q = ref.source[p];
    let l = where.get(q);
    if (l === undefined) { l = used.length; where.set(q, l); used.push(q); }
    source[j] = l;
  });
  const grid = new Float64Array(used.length * gp);
  used.forEach((q, l) => grid.set(ref.grid.subarray(q * gp, (q + 1) * gp), l * gp));
  return { spec: ref.spec, grid, count: Int32Array.from(slots, (p) => ref.count[p]), source };
}

/**
 * For each reflection, the reflections whose foreground box (the shoebox without the background
 * margin) intersects its shoebox, in ascending order: foreground boxes are bucketed on a grid of
 * square cells of each panel (typed arrays, counting sort; the cell size only sets how many
 * candidates are tested), candidates tested exactly, z included.
 */
function findOverlaps(b: ReflectionBatch, margin: number): { offset: Int32Array; list: Int32Array; count: number } {
  const n = b.panel.length, bb = b.bbox;
  let nPanels = 1, xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let k = 0; k < n; k++) {
    const o = 6 * k;
    nPanels = Math.max(nPanels, b.panel[k] + 1);
    xMin = Math.min(xMin, bb[o]); xMax = Math.max(xMax, bb[o + 1]); yMin = Math.min(yMin, bb[o + 2]); yMax = Math.max(yMax, bb[o + 3]);
  }
  const offset = new Int32Array(n + 1);
  if (n === 0) return { offset, list: new Int32Array(0), count: 0 };
  let C = 16;
  while (nPanels * (Math.floor((yMax - yMin) / C) + 1) * (Math.floor((xMax - xMin) / C) + 1) > 4 * n + 65536) C *= 2;
  const nCx = Math.floor((xMax - xMin) / C) + 1, nCy = Math.floor((yMax - yMin) / C) + 1;
  const cellOf = (p: number, cy: number, cx: number) => (p * nCy + cy) * nCx + cx;
  const cellStart = new Int32Array(nPanels * nCy * nCx + 1);
  let items = new Int32Array(0), fill = new Int32Array(0);
  // foreground boxes (bbox less the margin) by cell: count, prefix sums, fill in row order
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < n; k++) {
      const o = 6 * k, p = b.panel[k];
      const cy0 = Math.floor((bb[o + 2] + margin - yMin) / C), cy1 = Math.floor((bb[o + 3] - margin - 1 - yMin) / C);
      const cx0 = Math.floor((bb[o] + margin - xMin) / C), cx1 = Math.floor((bb[o + 1] - margin - 1 - xMin) / C);
      for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) {
        if (pass === 0) cellStart[cellOf(p, cy, cx) + 1]++;
        else items[fill[cellOf(p, cy, cx)]++] = k;
      }
    }
    if (pass === 0) {
      for (let c = 1; c < cellStart.length; c++) cellStart[c] += cellStart[c - 1];
      items = new Int32Array(cellStart[cellStart.length - 1]);
      fill = cellStart.slice(0, cellStart.length - 1);
    }
  }
  let list = new Int32Array(Math.max(1024, 2 * n)), used = 0, count = 0;
  const seen = new Int32Array(n).fill(-1);
  let found = new Int32Array(64);
  for (let k = 0; k < n; k++) {
    offset[k] = used;
    const o = 6 * k, p = b.panel[k];
    let nFound = 0;
    const cy0 = Math.max(0, Math.floor((bb[o + 2] - yMin) / C)), cy1 = Math.min(nCy - 1, Math.floor((bb[o + 3] - 1 - yMin) / C));
    const cx0 = Math.max(0, Math.floor((bb[o] - xMin) / C)), cx1 = Math.min(nCx - 1, Math.floor((bb[o + 1] - 1 - xMin) / C));
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) {
      const c = cellOf(p, cy, cx);
      for (let t = cellStart[c]; t < cellStart[c + 1]; t++) {
        const q = items[t];
        if (q === k || seen[q] === k) continue;
        seen[q] = k;
        const a = 6 * q;
        if (bb[a] + margin >= bb[o + 1] || bb[a + 1] - margin <= bb[o] || bb[a + 2] + margin >= bb[o + 3] || bb[a + 3] - margin <= bb[o + 2]) continue;
        if (bb[a + 4] >= bb[o + 5] || bb[a + 5] <= bb[o + 4]) continue;
        if (nFound === found.length) { const g = new Int32Array(2 * found.length); g.set(found); found = g; }
        found[nFound++] = q;
      }
    }
    if (nFound === 0) continue;
    count++;
    // a fixed order, so the result does not depend on the bucketing
    found.subarray(0, nFound).sort();
    if (used + nFound > list.length) { const g = new Int32Array(Math.max(2 * list.length, used + nFound)); g.set(list.subarray(0, used)); list = g; }
    list.set(found.subarray(0, nFound), used);
    used += nFound;
  }
  offset[n] = used;
  return { offset, list: list.slice(0, used), count };
}

/** Give a block's batch its rows' neighbour lists and a compact table of those neighbours. */
function attachNeighbours(sub: ReflectionBatch, rows: Int32Array, all: ReflectionBatch, ov: { offset: Int32Array; list: Int32Array }, margin: number): ReflectionBatch {
  const local = new Map<number, number>(), ids: number[] = [];
  const offset = new Int32Array(rows.length + 1), list: number[] = [];
  rows.forEach((r, i) => {
    offset[i] = list.length;
    for (let a = ov.offset[r]; a < ov.offset[r + 1]; a++) {
      const q = ov.list[a];
      let l = local.get(q);
      if (l === undefined) { l = ids.length; local.set(q, l); ids.push(q); }
      list.push(l);
    }
  });
  offset[rows.length] = list.length;
  const m = ids.length;
  const t = { s1: new Float64Array(3 * m), phi: new Float64Array(m), deltaB: new Float64Array(m), deltaM: new Float64Array(m), box: new Int32Array(6 * m), panel: new Int32Array(m) };
  ids.forEach((q, i) => {
    t.s1.set(all.s1.subarray(3 * q, 3 * q + 3), 3 * i);
    t.phi[i] = all.phi[q]; t.deltaB[i] = all.deltaB[q]; t.deltaM[i] = all.deltaM[q]; t.panel[i] = all.panel[q];
    const o = 6 * q;
    t.box.set([all.bbox[o] + margin, all.bbox[o + 1] - margin, all.bbox[o + 2] + margin, all.bbox[o + 3] - margin, all.bbox[o + 4], all.bbox[o + 5]], 6 * i);
  });
  return { ...sub, neighbourOffset: offset, neighbours: Int32Array.from(list), neighbourTable: t };
}

/** Strong spots of experiment `id` usable for the profile model: indexed, not outliers. */
function strongRows(strong: ReflectionTable, id: number): number[] {
  const flags = strong.sizeT('flags'), ids = strong.int('id'), hkl = strong.miller('miller_index');
  const rows: number[] = [];
  for (let i = 0; i < strong.nrows; i++) {
    const f = flags[i] >>> 0;
    if (ids[i] !== id || !(f & Flags.indexed) || (f & Flags.bad_for_refinement)) continue;
    if (hkl[3 * i] === 0 && hkl[3 * i + 1] === 0 && hkl[3 * i + 2] === 0) continue;
    rows.push(i);
  }
  return rows;
}

/** σ_b, σ_m from the strong spots' pixels: the first pass over the images. */
async function estimateSigmas(ctx: SweepContext, strong: ReflectionTable, rows: number[], params: IntegrateParams, framesPerBlock: number, opts: RunOptions): Promise<{ sigmaBDeg: number; sigmaMDeg: number; nSpots: number; model: SigmaModel }> {
  const bb = strong.int6('bbox'), panel = strong.sizeT('panel');
  const hasCal = strong.has('xyzcal.mm') && strong.has('s1');
  if (!hasCal) throw new UserError('reflections have no s1/xyzcal.mm columns: integrate needs refined (indexed) reflections to model the profiles', 'missing_column');
  const s1 = strong.vec3('s1'), mm = strong.vec3('xyzcal.mm');
  const n = rows.length;
  const batch: ReflectionBatch = { bbox: new Int32Array(6 * n), panel: new Int32Array(n), s1: new Float64Array(3 * n), phi: new Float64Array(n), profile: new Int32Array(n), reference: new Uint8Array(n), deltaB: new Float64Array(n), deltaM: new Float64Array(n) };
  const inner = new Int32Array(6 * n), zc = new Float64Array(n), s2 = new Float64Array(n);
  const s0 = ctx.geometry.s0;
  const M = 4, MZ = 2; // margin in pixels / frames: enough background around a spot-finder bbox
  let k = 0;
  for (const i of rows) {
    const o = 6 * i, p = panel[i];
    if (!Number.isFinite(mm[3 * i + 2]) || !Number.isFinite(s1[3 * i]) || !Number.isFinite(s1[3 * i + 1]) || !Number.isFinite(s1[3 * i + 2])) continue;
    const z0 = Math.max(0, bb[o + 4] - MZ), z1 = Math.min(ctx.nImages, bb[o + 5] + MZ);
    if (z1 <= z0) continue;
    batch.bbox.set([bb[o] - M, bb[o + 1] + M, bb[o + 2] - M, bb[o + 3] + M, z0, z1], 6 * k);
    inner.set(bb.subarray(o, o + 6), 6 * k);
    batch.panel[k] = p; batch.s1.set(s1.subarray(3 * i, 3 * i + 3), 3 * k); batch.phi[k] = mm[3 * i + 2];
    zc[k] = 0.5 * (bb[o + 4] + bb[o + 5]);
    s2[k] = (s1[3 * i] - s0[0]) ** 2 + (s1[3 * i + 1] - s0[1]) ** 2 + (s1[3 * i + 2] - s0[2]) ** 2;
    k++;
  }
  // resolution shells: narrow at low resolution, where a finite domain size makes the rocking
  // width change fastest (∝ d), wider towards high resolution; each shell ≥ 100 spots
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => s2[a] - s2[b]);
  const fractions = shellFractions(k, params.profileShells);
  const nShells = fractions.length;
  const shellOf = new Int32Array(k), centres: number[] = [];
  for (let sh = 0; sh < nShells; sh++) {
    const a = sh === 0 ? 0 : Math.round(fractions[sh - 1] * k), b = Math.round(fractions[sh] * k);
    for (let q = a; q < b; q++) shellOf[order[q]] = sh;
    centres.push(s2[order[(a + b) >> 1]]);
  }
  const all = Int32Array.from({ length: k }, (_, i) => i);
  const blocks = assignBlocks(zc, all, ctx.nImages, framesPerBlock);
  const tasks: BlockTask[] = blocks.map((b) => {
    const sub = subsetBatch(batch, b);
    const inn = new Int32Array(6 * b.length);
    for (let i = 0; i < b.length; i++) inn.set(inner.subarray(6 * b[i], 6 * b[i] + 6), 6 * i);
    const { offset, boxes } = neighbourBoxes(sub.bbox, sub.panel, inn, inner, batch.panel, k);
    const shell = Int32Array.from(b, (i) => shellOf[i]);
    return { mode: 'sigma', firstImageNumber: ctx.firstImageNumber, widths: ctx.widths, heights: ctx.heights, geometry: ctx.geometry, batch: sub, inner: inn, othersOffset: offset, othersBoxes: boxes, shell, nShells, background: params.background, profileSpec: dummySpec(ctx) };
  });
  const outs = await runPass(ctx, tasks, params.nproc, (z) => opts.onImage?.('profile model', z));
  let m = emptyMoments(nShells);
  for (const o of outs) m = addMoments(m, o.moments!);
  const pooled = sigmasFromMoments(m);
  if (pooled.nSpots < 10 || !(pooled.sigmaBDeg > 0) || !(pooled.sigmaMDeg > 0)) throw new UserError(`only ${pooled.nSpots} strong spots could be used to model the reflection profile (σ_b, σ_m): give profile.gaussian_rs.parameters.sigma_b and sigma_m`, 'too_few_spots');
  const byShell = sigmasByShell(m);
  return { ...pooled, model: { s2: centres, sigmaBDeg: byShell.sigmaBDeg, sigmaMDeg: byShell.sigmaMDeg } };
}

/**
 * For each box (with its own spot-finder box `own`), the spot-finder boxes of all other spots
 * (`all`, first n rows) on the same panel that intersect it: a hash on 16-pixel cells and frames.
 */
function neighbourBoxes(box: Int32Array, panel: Int32Array, own: Int32Array, all: Int32Array, allPanel: Int32Array, n: number): { offset: Int32Array; boxes: Int32Array } {
  const C = 16;
  const cells = new Map<string, number[]>();
  for (let q = 0; q < n; q++) {
    const o = 6 * q;
    for (let z = all[o + 4]; z < all[o + 5]; z++)
      for (let cy = Math.floor(all[o + 2] / C); cy <= Math.floor((all[o + 3] - 1) / C); cy++)
        for (let cx = Math.floor(all[o] / C); cx <= Math.floor((all[o + 1] - 1) / C); cx++) {
          const key = `${allPanel[q]},${z},${cy},${cx}`;
          let l = cells.get(key);
          if (!l) cells.set(key, (l = []));
          l.push(q);
        }
  }
  const m = panel.length;
  const offset = new Int32Array(m + 1);
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    offset[i] = out.length / 6;
    const o = 6 * i;
    const seen = new Set<number>();
    for (let z = box[o + 4]; z < box[o + 5]; z++)
      for (let cy = Math.floor(box[o + 2] / C); cy <= Math.floor((box[o + 3] - 1) / C); cy++)
        for (let cx = Math.floor(box[o] / C); cx <= Math.floor((box[o + 1] - 1) / C); cx++) {
          for (const q of cells.get(`${panel[i]},${z},${cy},${cx}`) ?? []) {
            if (seen.has(q)) continue;
            seen.add(q);
            const a = 6 * q;
            const same = all[a] === own[o] && all[a + 1] === own[o + 1] && all[a + 2] === own[o + 2] && all[a + 3] === own[o + 3] && all[a + 4] === own[o + 4] && all[a + 5] === own[o + 5];
            if (same) continue;
            if (all[a] >= box[o + 1] || all[a + 1] <= box[o] || all[a + 2] >= box[o + 3] || all[a + 3] <= box[o + 2] || all[a + 4] >= box[o + 5] || all[a + 5] <= box[o + 4]) continue;
            for (let t = 0; t < 6; t++) out.push(all[a + t]);
          }
        }
  }
  offset[m] = out.length / 6;
  return { offset, boxes: Int32Array.from(out) };
}

/**
 * Cumulative fractions (low resolution first) of the strong spots closing each shell: doubling
 * from 0.5 % up to a third, then equal steps; at most `maxShells`, each with ≥ 100 spots (fewer
 * spots: equal shells of ≥ 200, or one).
 */
export function shellFractions(nSpots: number, maxShells: number): number[] {
  if (maxShells <= 1 || nSpots < 400) return [1];
  const f: number[] = [];
  for (let x = 0.005; x < 0.33; x *= 2) if (x * nSpots >= 100) f.push(x);
  const start = f.length ? f[f.length - 1] : 0;
  const rest = Math.max(1, Math.min(4, maxShells - f.length));
  for (let i = 1; i <= rest; i++) f.push(start + ((1 - start) * i) / rest);
  if (f.length > maxShells || (f.length > 1 && (f[0] * nSpots < 100))) {
    const n = Math.max(1, Math.min(maxShells, Math.floor(nSpots / 200)));
    return Array.from({ length: n }, (_, i) => (i + 1) / n);
  }
  return f;
}

function dummySpec(ctx: SweepContext): ProfileGridSpec {
  return { halfSize: 1, nPanels: ctx.widths.length, panelSizes: ctx.widths.map((w, i) => [w, ctx.heights[i]]), nFrames: ctx.nImages, scanStepFrames: ctx.nImages };
}

/** The kept predictions of one experiment (prediction order), one typed column each. */
interface KeptPredictions extends Omit<Predictions, 'n'> {
  /** row in the full prediction list (DIALS' partial_id) */
  predIndex: Int32Array;
  bbox: Int32Array;
  partiality: Float64Array;
  lp: Float64Array;
  qe: Float64Array;
  /** foreground half-widths n_sigma·σ_b, n_sigma·σ_m (radians) */
  deltaB: Float64Array;
  deltaM: Float64Array;
}

interface ExperimentIntegration {
  kept: KeptPredictions;
  /** per kept row: the matched strong spot, or −1 */
  matched: Int32Array;
  results: IntegrationResults;
  sigmaBDeg: number;
  sigmaMDeg: number;
  model: SigmaModel;
  nReference: number;
  profiles: ReferenceProfiles | null;
  tooCloseToSpindle: number;
}

/**
 * Move rows keep[0], keep[1], … (ascending) of a column of `stride` values per row to its front,
 * in place, and return the view of those rows.
 */
function compactRows<T extends Float64Array | Int32Array | Uint8Array>(a: T, stride: number, keep: Int32Array): T {
  for (let k = 0; k < keep.length; k++) {
    const i = keep[k];
    if (i !== k) a.copyWithin(stride * k, stride * i, stride * i + stride);
  }
  return a.subarray(0, stride * keep.length) as T;
}

/** One number per Miller index |h|, |k|, |l| < 2048 (NaN outside). */
function millerKey(h: number, k: number, l: number): number {
  if (Math.abs(h) >= 2048 || Math.abs(k) >= 2048 || Math.abs(l) >= 2048) return NaN;
  return ((h + 2048) * 4096 + (k + 2048)) * 4096 + (l + 2048);
}

/**
 * DIALS counts the frame coordinate z from image 1 whatever the scan's first image (see Scan);
 * integration works in frames from the scan's start. Shift z-valued columns (bbox z, observed and
 * calculated px z) of the rows of experiment `id` by dz, in a copy (or in place: a table of our own).
 */
function shiftFrames(table: ReflectionTable, id: number | null, dz: number, inPlace = false): ReflectionTable {
  if (dz === 0) return table;
  const t = inPlace ? table : table.clone();
  const ids = t.has('id') ? t.int('id') : null;
  const bbox = t.has('bbox') ? t.int6('bbox') : null;
  const vecs = ['xyzobs.px.value', 'xyzcal.px'].filter((c) => t.has(c)).map((c) => t.vec3(c));
  for (let i = 0; i < t.nrows; i++) {
    if (id !== null && ids && ids[i] !== id) continue;
    if (bbox) { bbox[6 * i + 4] += dz; bbox[6 * i + 5] += dz; }
    for (const v of vecs) if (v[3 * i] !== 0 || v[3 * i + 1] !== 0 || v[3 * i + 2] !== 0) v[3 * i + 2] += dz;
  }
  return t;
}

async function integrateExperiment(e: Experiment, id: number, strongIn: ReflectionTable, params: IntegrateParams, opts: RunOptions): Promise<ExperimentIntegration> {
  const strong = shiftFrames(strongIn, id, -((e.scan?.imageRange[0] ?? 1) - 1));
  const { log } = opts;
  if (!e.crystal) throw new UserError(`experiment ${id} has no crystal model: integrate needs indexed (refined) experiments`, 'no_crystal');
  if (!e.scan || !e.goniometer || !e.beam || !e.detector || !e.imageset) throw new UserError(`experiment ${id} is not a rotation scan with images (beam, detector, goniometer, scan, imageset)`, 'no_scan');
  if (e.scan.oscillation[1] === 0) throw new UserError(`experiment ${id}: zero oscillation width; stills cannot be integrated here`, 'still');
  const dir = opts.dir ?? process.cwd();
  const osc = Math.abs(e.scan.oscillation[1]);
  const framesPerBlock = Math.max(1, Math.round(params.blockSizeDeg / osc));
  const ctx = { ...sweepContext(e, dir), open: opts.open };
  const rows = strongRows(strong, id);
  let sigmaBDeg = params.sigmaBDeg, sigmaMDeg = params.sigmaMDeg;
  let model: SigmaModel | null = null;
  log.info('='.repeat(80));
  log.info(`Experiment ${id}: modelling the reflection profile`);
  log.info(` using ${rows.length} indexed strong spots`);
  if (sigmaBDeg === null || sigmaMDeg === null) {
    if (rows.length === 0) throw new UserError(`experiment ${id}: no indexed strong spots to model the profile from; give profile.gaussian_rs.parameters.sigma_b and sigma_m`, 'too_few_spots');
    log.info('Calculating E.S.D Beam Divergence.');
    log.info('Calculating E.S.D Reflecting Range (mosaicity).');
    const est = await estimateSigmas(ctx, strong, rows, params, framesPerBlock, opts);
    if (sigmaBDeg === null && sigmaMDeg === null) model = est.model;
    sigmaBDeg ??= est.sigmaBDeg;
    sigmaMDeg ??= est.sigmaMDeg;
  }
  log.info(` sigma b: ${sigmaBToDials(sigmaBDeg).toFixed(6)} degrees`);
  log.info(` sigma m: ${sigmaMDeg.toFixed(6)} degrees`);
  model ??= { s2: [0], sigmaBDeg: [sigmaBDeg], sigmaMDeg: [sigmaMDeg] };
  if (model.s2.length > 1) {
    log.info(' by resolution (shells of strong spots, narrow at low resolution):');
    log.info('    d (Å)   sigma b   sigma m');
    model.s2.forEach((s2, i) => log.info(`${(1 / Math.sqrt(s2)).toFixed(2).padStart(9)} ${sigmaBToDials(model!.sigmaBDeg[i]).toFixed(4).padStart(9)} ${model!.sigmaMDeg[i].toFixed(4).padStart(9)}`));
  }
  const dMin = params.dMin ?? maxResolutionAtCorners(e.detector, e.beam);
  log.info('='.repeat(80));
  log.info('Predicting reflections');
  const widest = Math.max(...model.sigmaMDeg);
  const pred = predictScan(e, dMin, params.nSigma * widest / Math.max(params.minZeta, 0.05) + 1);
  const nPred = pred.n;
  const deltaB = new Float64Array(nPred), deltaM = new Float64Array(nPred), sig = new Float64Array(2);
  const g = ctx.geometry;
  const nImages = ctx.nImages;
  const phiA = g.phi0Rad, phiB = g.phi0Rad + nImages * g.dPhiRad;
  const f = new KabschFrame();
  const bbox = new Int32Array(6 * nPred), part = new Float64Array(nPred), lp = new Float64Array(nPred), qe = new Float64Array(nPred);
  const keepAll = new Int32Array(nPred);
  let n = 0;
  const cg = correctionGeometry(g.s0, g.m2, e.beam.polarizationNormal, e.beam.polarizationFraction);
  const Dinv = e.detector.panels.map((p) => invert3([p.fastAxis[0], p.slowAxis[0], p.origin[0], p.fastAxis[1], p.slowAxis[1], p.origin[1], p.fastAxis[2], p.slowAxis[2], p.origin[2]]));
  let tooClose = 0;
  for (let i = 0; i < nPred; i++) {
    const sx = pred.s1[3 * i], sy = pred.s1[3 * i + 1], sz = pred.s1[3 * i + 2];
    setFrame(f, g.s0, g.m2, sx, sy, sz, pred.xyzMm[3 * i + 2]);
    if (Math.abs(f.zeta) < params.minZeta) { tooClose++; continue; }
    const p = pred.panel[i], panel = e.detector.panels[p];
    sigmaAt(model, pred.d[i], sig);
    deltaB[i] = params.nSigma * sig[0] * DEG; deltaM[i] = params.nSigma * sig[1] * DEG;
    if (!boundingBox(f, Dinv[p], panel.pixelSize, deltaB[i], deltaM[i], g.phi0Rad, g.dPhiRad, bbox, 6 * i)) continue;
    const o = 6 * i;
    bbox[o] -= params.margin; bbox[o + 1] += params.margin; bbox[o + 2] -= params.margin; bbox[o + 3] += params.margin;
    if (g.dPhiRad < 0) { const a = bbox[o + 4]; bbox[o + 4] = bbox[o + 5]; bbox[o + 5] = a; }
    bbox[o + 4] = Math.max(0, bbox[o + 4]); bbox[o + 5] = Math.min(nImages, bbox[o + 5]);
    if (bbox[o + 5] <= bbox[o + 4]) continue;
    if (bbox[o + 1] <= 0 || bbox[o] >= panel.imageSize[0] || bbox[o + 3] <= 0 || bbox[o + 2] >= panel.imageSize[1]) continue;
    part[i] = partiality(f, sig[1] * DEG, phiA, phiB);
    lp[i] = lpCorrection(cg, sx, sy, sz);
    const nrm = g.normals[p];
    qe[i] = quantumEfficiency(panel.mu, panel.thickness, nrm[0], nrm[1], nrm[2], sx, sy, sz);
    keepAll[n++] = i;
  }
  log.info(`Predicted ${n} reflections to d_min ${dMin.toFixed(2)} Å (${tooClose} too close to the spindle, |ζ| < ${params.minZeta}, not integrated)`);
  // From here on only the kept predictions, in prediction order: every column is compacted in
  // place (no second copy), and the block batches and the output table are cut from these.
  const keep = keepAll.subarray(0, n);
  const kept: KeptPredictions = {
    predIndex: keep,
    miller: compactRows(pred.miller, 3, keep), entering: compactRows(pred.entering, 1, keep), panel: compactRows(pred.panel, 1, keep),
    s1: compactRows(pred.s1, 3, keep), xyzMm: compactRows(pred.xyzMm, 3, keep), xyzPx: compactRows(pred.xyzPx, 3, keep),
    d: compactRows(pred.d, 1, keep), zeta: compactRows(pred.zeta, 1, keep),
    bbox: compactRows(bbox, 6, keep), partiality: compactRows(part, 1, keep), lp: compactRows(lp, 1, keep), qe: compactRows(qe, 1, keep),
    deltaB: compactRows(deltaB, 1, keep), deltaM: compactRows(deltaM, 1, keep),
  };
  // reference spots: predictions matched to the indexed strong spots by Miller index and the
  // nearest rotation angle (the two crossings of one index are half a turn apart, so the angle
  // decides; the `entering` column is not trusted, its sense differs between programs)
  const matched = new Int32Array(n).fill(-1);
  {
    // predictions by Miller index: first row of each index, then a chain through the others (row order)
    const first = new Map<number, number>(), chain = new Int32Array(n);
    for (let k = n - 1; k >= 0; k--) {
      const key = millerKey(kept.miller[3 * k], kept.miller[3 * k + 1], kept.miller[3 * k + 2]);
      chain[k] = first.get(key) ?? -1;
      first.set(key, k);
    }
    const hkl = strong.miller('miller_index');
    const zobs = strong.has('xyzobs.px.value') ? strong.vec3('xyzobs.px.value') : null;
    const phiObs = strong.has('xyzobs.mm.value') ? strong.vec3('xyzobs.mm.value') : null;
    const phiCal = strong.vec3('xyzcal.mm');
    let nMatched = 0;
    for (const s of rows) {
      const z = zobs ? zobs[3 * s + 2] : ((phiObs ? phiObs[3 * s + 2] : phiCal[3 * s + 2]) - g.phi0Rad) / g.dPhiRad;
      let best = -1, bestDz = 3;
      const key = millerKey(hkl[3 * s], hkl[3 * s + 1], hkl[3 * s + 2]);
      for (let j = Number.isNaN(key) ? -1 : first.get(key) ?? -1; j >= 0; j = chain[j]) {
        const dz = Math.abs(kept.xyzPx[3 * j + 2] - z);
        if (dz < bestDz) { bestDz = dz; best = j; }
      }
      if (best >= 0 && matched[best] < 0) { matched[best] = s; nMatched++; }
    }
    log.info(`Matched ${nMatched} of ${rows.length} reference spots with predicted reflections`);
  }
  const spec: ProfileGridSpec = {
    halfSize: params.gridSize, nPanels: ctx.widths.length, panelSizes: ctx.widths.map((w, i) => [w, ctx.heights[i]]),
    nFrames: nImages, scanStepFrames: Math.max(1, Math.round(params.scanStepDeg / osc)),
  };
  let onIce: Uint8Array | null = null;
  if (params.iceRings) {
    onIce = Uint8Array.from(kept.d, (d) => (onIceRing(d) ? 1 : 0));
    log.info(`${onIce.reduce((a, v) => a + v, 0)} reflections lie on ice rings (flagged in_powder_ring)`);
  }
  // the integrator's inputs: views of the kept columns where they are the same numbers
  const batch: ReflectionBatch = {
    bbox: kept.bbox, panel: kept.panel, s1: kept.s1, phi: new Float64Array(n), profile: new Int32Array(n), reference: new Uint8Array(n),
    deltaB: kept.deltaB, deltaM: kept.deltaM,
  };
  for (let k = 0; k < n; k++) {
    batch.phi[k] = kept.xyzMm[3 * k + 2];
    batch.profile[k] = profileIndex(spec, kept.panel[k], kept.xyzPx[3 * k], kept.xyzPx[3 * k + 1], kept.xyzPx[3 * k + 2]);
    batch.reference[k] = matched[k] >= 0 && kept.partiality[k] > 0.99 && !(onIce && onIce[k]) ? 1 : 0;
  }
  const blocks = blocksByCentre(kept.xyzPx, nImages, framesPerBlock);
  const overlaps = findOverlaps(batch, params.margin);
  log.info(`${overlaps.count} reflections have a neighbour's foreground inside their shoebox (masked as overlaps)`);
  const base = { firstImageNumber: ctx.firstImageNumber, widths: ctx.widths, heights: ctx.heights, geometry: g, background: params.background, profileSpec: spec };
  log.info('='.repeat(80));
  log.info(`Integrating ${n} reflections in ${blocks.length} block(s) of ${framesPerBlock} images, ${params.nproc} worker(s)`);
  // A block's inputs are cut from the scan's columns when a worker is about to take it and dropped
  // with its result; its profile slots are renumbered to the few it touches (slotsOf), so neither
  // the tasks in flight nor the accumulators and profiles they carry grow with the sweep.
  const slotsOf: (Int32Array | undefined)[] = new Array(blocks.length);
  const blockBatch = (bi: number): ReflectionBatch => {
    const sub = attachNeighbours(subsetBatch(batch, blocks[bi]), blocks[bi], batch, overlaps, params.margin);
    slotsOf[bi] = localSlots(sub.profile);
    return sub;
  };
  // The fitting pass redoes the summation, so when it is to run the learning pass returns only the
  // profile sums: the scan's results columns then never coexist with the scan's accumulator.
  let results: IntegrationResults | null = params.profileFitting ? null : emptyResults(n);
  let acc: ProfileAccumulator | null = emptyAccumulator(spec);
  await streamPass(ctx, blocks.length, (bi) => {
    const b = blockBatch(bi);
    return { ...base, mode: 'learn', batch: b, profileSlots: slotsOf[bi]!.length, withResults: results !== null };
  }, (bi, o) => {
    if (results) scatterResults(results, o.results!, blocks[bi]);
    addLocalAccumulator(acc!, o.accumulator!, slotsOf[bi]!);
    slotsOf[bi] = undefined;
  }, params.nproc, (z) => opts.onImage?.('summation', z));
  let nReference = 0;
  for (let p = 0; p < acc.count.length; p++) nReference += acc.count[p];
  let profiles: ReferenceProfiles | null = null;
  if (params.profileFitting) {
    profiles = finaliseProfiles(acc, params.minProfileReflections);
    acc = null;
    const out = (results = emptyResults(n));
    if (!profiles) {
      log.warn(`no reference profile has ${params.minProfileReflections} reflections: profile fitting skipped`);
      // summation only, as the learning pass found it (it did not keep its results)
      await streamPass(ctx, blocks.length, (bi) => ({ ...base, mode: 'fit', batch: blockBatch(bi), profileSlots: slotsOf[bi]!.length, profiles: null }), (bi, o) => {
        scatterResults(out, o.results!, blocks[bi]);
        slotsOf[bi] = undefined;
      }, params.nproc, (z) => opts.onImage?.('summation', z));
    } else {
      const ref = profiles;
      log.info('Summary of profile model');
      log.info('  Profile     X (px)     Y (px)   Z (im)  # reflections');
      for (let p = 0; p < numProfiles(spec); p++) {
        const c = profileCentre(spec, p);
        log.info(`${String(p).padStart(9)} ${c.x.toFixed(1).padStart(10)} ${c.y.toFixed(1).padStart(10)} ${c.z.toFixed(1).padStart(8)} ${String(ref.count[p]).padStart(14)}`);
      }
      await streamPass(ctx, blocks.length, (bi) => {
        const b = blockBatch(bi);
        return { ...base, mode: 'fit', batch: b, profileSlots: slotsOf[bi]!.length, profiles: localProfiles(ref, slotsOf[bi]!) };
      }, (bi, o) => {
        scatterResults(out, o.results!, blocks[bi]);
        slotsOf[bi] = undefined;
      }, params.nproc, (z) => opts.onImage?.('profile fitting', z));
    }
  }
  acc = null;
  if (!results) throw new Error('internal: integration produced no results');
  if (onIce) for (let k = 0; k < n; k++) if (onIce[k]) results.flags[k] = (results.flags[k] | Flags.in_powder_ring) >>> 0;
  return { kept, matched, results, sigmaBDeg, sigmaMDeg, model, nReference, profiles, tooCloseToSpindle: tooClose };
}

/**
 * integrated.refl rows (integrated ones only, as DIALS keeps them) of one experiment, made from
 * the experiment's own columns, which it consumes: each is compacted in place to the integrated
 * rows, copied once to its exact length and released, so the table never exists twice.
 */
function toTable(x: ExperimentIntegration, id: number, e: Experiment, strong: ReflectionTable): ReflectionTable {
  const c: Partial<KeptPredictions> = x.kept, r: Partial<IntegrationResults> = x.results;
  const flagsIn = r.flags!, nKept = flagsIn.length;
  const selAll = new Int32Array(nKept);
  let n = 0;
  for (let k = 0; k < nKept; k++) if ((flagsIn[k] >>> 0) & Flags.integrated) selAll[n++] = k;
  const sel = selAll.subarray(0, n);
  const strongFlags = strong.sizeT('flags');
  for (const k of sel) {
    let fl = flagsIn[k] >>> 0;
    const m = x.matched[k];
    if (m >= 0) fl |= ((strongFlags[m] >>> 0) & (Flags.indexed | Flags.used_in_refinement | Flags.strong)) | Flags.reference_spot;
    flagsIn[k] = fl;
  }
  /** The integrated rows of a column, which is then dropped from `from`. */
  const take = <O extends object, K extends keyof O>(from: O, key: K, stride: number): NonNullable<O[K]> => {
    const a = from[key] as unknown as Float64Array | Int32Array | Uint8Array;
    const out = compactRows(a, stride, sel).slice();
    delete from[key];
    return out as unknown as NonNullable<O[K]>;
  };
  const t = ReflectionTable.empty(n);
  const idc = new Int32Array(n).fill(id);
  const panel = Float64Array.from(sel, (k) => c.panel![k]), partialId = Float64Array.from(sel, (k) => c.predIndex![k]);
  t.setMiller('miller_index', take(c, 'miller', 3)).setInt('id', idc).setSizeT('panel', panel).setSizeT('flags', take(r, 'flags', 1)).setBool('entering', take(c, 'entering', 1))
    .setVec3('s1', take(c, 's1', 3)).setVec3('xyzcal.mm', take(c, 'xyzMm', 3)).setVec3('xyzcal.px', take(c, 'xyzPx', 3)).setInt6('bbox', take(c, 'bbox', 6))
    .setDouble('d', take(c, 'd', 1)).setDouble('partiality', take(c, 'partiality', 1)).setSizeT('partial_id', partialId).setDouble('lp', take(c, 'lp', 1)).setDouble('qe', take(c, 'qe', 1)).setDouble('zeta', take(c, 'zeta', 1))
    .setDouble('intensity.sum.value', take(r, 'iSum', 1)).setDouble('intensity.sum.variance', take(r, 'vSum', 1))
    .setDouble('intensity.prf.value', take(r, 'iPrf', 1)).setDouble('intensity.prf.variance', take(r, 'vPrf', 1)).setDouble('profile.correlation', take(r, 'cc', 1))
    .setDouble('background.mean', take(r, 'bgMean', 1)).setDouble('background.dispersion', take(r, 'bgDispersion', 1))
    .setInt('num_pixels.foreground', take(r, 'nForeground', 1)).setInt('num_pixels.background', take(r, 'nBackground', 1)).setInt('num_pixels.valid', take(r, 'nValid', 1))
    .setVec3('xyzobs.px.value', take(r, 'xyzObs', 3)).setInt('imageset_id', idc);
  t.identifiers.set(id, e.identifier);
  return shiftFrames(t, null, (e.scan?.imageRange[0] ?? 1) - 1, true);
}

export async function run(experiments: ExperimentList, strong: ReflectionTable, params: IntegrateParams, opts: RunOptions): Promise<StageResult<IntegrateOutputs>> {
  const { log } = opts;
  if (experiments.length === 0) throw new UserError('no experiments to integrate', 'no_experiments');
  const tables: ReflectionTable[] = [];
  const sigmas: { sigmaBDeg: number; sigmaMDeg: number }[] = [];
  const outExperiments: ExperimentList = [];
  const summaries: ExperimentSummary[] = [];
  for (let id = 0; id < experiments.length; id++) {
    const e = experiments[id];
    const x = await integrateExperiment(e, id, strong, params, opts);
    // the summary needs every prediction's result; the table keeps the integrated ones
    summaries.push(experimentSummary({ id, predicted: x.kept.d.length, results: x.results, partiality: x.kept.partiality, d: x.kept.d }));
    const t = toTable(x, id, e, strong);
    tables.push(t);
    sigmas.push({ sigmaBDeg: x.sigmaBDeg, sigmaMDeg: x.sigmaMDeg });
    outExperiments.push({
      ...e,
      profile: {
        __id__: 'gaussian_rs', n_sigma: params.nSigma, sigma_b: sigmaBToDials(x.sigmaBDeg), sigma_m: x.sigmaMDeg,
        // xtalflow's resolution-dependent widths (DIALS ignores unknown keys here)
        xtalflow_shells: { d: x.model.s2.map((v) => 1 / Math.sqrt(v)), sigma_b: x.model.sigmaBDeg.map(sigmaBToDials), sigma_m: x.model.sigmaMDeg },
      },
    });
  }
  const reflections = tables.length === 1 ? tables[0] : ReflectionTable.concat(tables);
  const report = summaryTables(summaries);
  for (const tb of report.tables) { log.info(tb.title); log.info(tb.text); }
  return {
    outputs: { experiments: outExperiments, reflections, sigmas },
    figures: {
      ...report.figures,
      sigma_b_deg: sigmaBToDials(sigmas[0].sigmaBDeg),
      sigma_m_deg: sigmas[0].sigmaMDeg,
      plots: report.plots as unknown as number[],
    },
    tables: report.tables,
  };
}

export const program: Program = {
  name: 'integrate',
  summary: 'Predict and integrate every reflection (integrated.expt/.refl)',
  usage: 'xtalflow integrate refined.expt refined.refl [nproc=N] [prediction.d_min=…] [integration.background.algorithm=glm|simple] [integration.block.size=15]',
  params: PARAMS,
  async main(ctx) {
    const params = resolveParams(ctx.params);
    const { expt, experiments, reflections: strong } = await readPair(ctx.files, 'integrate', 'refined.expt refined.refl');
    const result = await run(experiments, strong, params, { log: ctx.log, dir: path.dirname(path.resolve(expt)) });
    const outR = path.resolve(String(ctx.params['output.reflections'] ?? 'integrated.refl'));
    const outE = path.resolve(String(ctx.params['output.experiments'] ?? 'integrated.expt'));
    await writeRefl(outR, result.outputs.reflections);
    await writeExperiments(outE, result.outputs.experiments);
    ctx.log.info(`Saved ${result.outputs.reflections.nrows} reflections to ${path.relative(process.cwd(), outR) || outR}`);
    ctx.log.info(`Saved the experiments to ${path.relative(process.cwd(), outE) || outE}`);
    return result;
  },
};
