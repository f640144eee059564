/**
 * One block of integration work, run in a worker (or in this thread for nproc = 1): stream the
 * block's reflections' shoeboxes from the images and either accumulate the σ_b/σ_m moments of
 * strong spots ('sigma'), integrate and learn reference profiles ('learn'), or integrate and
 * fit the finished profiles ('fit'). A block's reflections are those whose centre lies in its
 * frame range; blocks are fixed by block.size, not by the worker count, and their results are
 * combined in block order, so any nproc gives identical numbers.
 */
import type { ImageSource } from '../../core/formats/types.js';
import { addSpotMoments, emptyMoments, type SigmaMoments } from '../../core/integration/profile_model.js';
import { KabschFrame, setFrame } from '../../core/integration/kabsch.js';
import { emptyResults, ShoeboxIntegrator, type BackgroundParams, type IntegrationGeometry, type IntegrationResults, type ReflectionBatch } from '../../core/integration/integrator.js';
import { gridPoints, numProfiles, type ProfileAccumulator, type ProfileGridSpec, type ReferenceProfiles } from '../../core/integration/reference_profiles.js';
import { streamShoeboxes } from '../../core/integration/shoebox_stream.js';
import type { Emit } from '../../core/parallel/index.js';

export interface BlockTask {
  mode: 'sigma' | 'learn' | 'fit';
  /** image number of source index 0 */
  firstImageNumber: number;
  widths: number[];
  heights: number[];
  geometry: IntegrationGeometry;
  /** local rows 0…n−1 */
  batch: ReflectionBatch;
  /** 'sigma': the spot-finder bboxes inside batch.bbox (which carries the margin) */
  inner?: Int32Array;
  /** 'sigma': per spot, the spot-finder bboxes of other spots reaching into its box (offsets into othersBoxes, n + 1) */
  othersOffset?: Int32Array;
  othersBoxes?: Int32Array;
  /** 'sigma': resolution shell of each spot, and the number of shells */
  shell?: Int32Array;
  nShells?: number;
  background: BackgroundParams;
  profileSpec: ProfileGridSpec;
  /**
   * 'learn'/'fit': number of profile slots `batch.profile` indexes. The main thread renumbers a
   * block's slots to the few it uses, so the block's accumulator (and, for 'fit', `profiles`)
   * covers those, not every slot of the scan.
   */
  profileSlots?: number;
  /** 'learn': also return the per-reflection results (false: only the profile sums) */
  withResults?: boolean;
  profiles?: ReferenceProfiles | null;
}

export interface BlockOutput {
  moments?: SigmaMoments;
  results?: IntegrationResults;
  accumulator?: ProfileAccumulator;
}

/** Progress event: one image read. */
export interface ImageReadEvent { image: number }

export async function runBlock(source: ImageSource, task: BlockTask, emit: Emit): Promise<BlockOutput> {
  const { batch, geometry: g } = task;
  const n = batch.panel.length;
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  const req = { rows, bbox: batch.bbox, panel: batch.panel, widths: task.widths, heights: task.heights, firstImageNumber: task.firstImageNumber };
  const onImage = (z: number) => emit({ image: z } satisfies ImageReadEvent);
  if (task.mode === 'sigma') {
    const m = emptyMoments(task.nShells!), f = new KabschFrame(), inner = task.inner!, oo = task.othersOffset!, ob = task.othersBoxes!, shell = task.shell!;
    await streamShoeboxes(source, req, (r, data) => {
      setFrame(f, g.s0, g.m2, batch.s1[3 * r], batch.s1[3 * r + 1], batch.s1[3 * r + 2], batch.phi[r]);
      addSpotMoments(m, shell[r], f, g.panels[batch.panel[r]], batch.bbox.subarray(6 * r, 6 * r + 6), inner.subarray(6 * r, 6 * r + 6), data, g.phi0Rad, g.dPhiRad, ob.subarray(6 * oo[r], 6 * oo[r + 1]));
    }, onImage);
    return { moments: m };
  }
  const out = emptyResults(n);
  const integrator = new ShoeboxIntegrator(g, task.background);
  const learn = task.mode === 'learn' ? slotAccumulator(task.profileSpec, task.profileSlots ?? numProfiles(task.profileSpec)) : null;
  const profiles = task.mode === 'fit' ? task.profiles ?? null : null;
  await streamShoeboxes(source, req, (r, data) => integrator.process(r, data, batch, out, learn, profiles), onImage);
  if (!learn) return { results: out };
  return task.withResults === false ? { accumulator: learn } : { results: out, accumulator: learn };
}

/** An empty accumulator of `nSlots` profiles on the grid of `spec`. */
function slotAccumulator(spec: ProfileGridSpec, nSlots: number): ProfileAccumulator {
  const n = nSlots * gridPoints(spec);
  return { spec, sumWV: new Float64Array(n), sumW: new Float64Array(n), count: new Int32Array(nSlots) };
}
