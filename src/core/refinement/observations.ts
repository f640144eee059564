/**
 * Spot centroids as refinement observations: pixel centroids → panel mm (parallax-corrected when
 * the panel says so) and frame z → φ in radians, with variances propagated the same way. Indexing
 * and refine both start from these arrays; Miller indices are filled in by the caller.
 */
import type { Experiment } from '../models/types.js';
import { Panel } from '../models/detector.js';
import type { ReflectionTable } from '../reflections/table.js';
import { UserError } from '../errors.js';
import type { RefinementData } from './target.js';
import { Scan } from '../models/scan.js';

const DEG = Math.PI / 180;

/** Smallest centroid variance used for weights (px², images²): guards against single-pixel spots. */
const MIN_VARIANCE = 1e-3;

/** Observation arrays for n reflections, zero-filled. */
function emptyObservations(n: number): RefinementData {
  return {
    experiment: new Int32Array(n), panel: new Int32Array(n), miller: new Int32Array(3 * n),
    xObs: new Float64Array(n), yObs: new Float64Array(n), phiObs: new Float64Array(n),
    xVar: new Float64Array(n), yVar: new Float64Array(n), phiVar: new Float64Array(n),
  };
}

/** Reflection i's panel, after checking its experiment has a detector and scan; a one-line error naming the file otherwise. */
function checkedPanel(experiments: readonly Experiment[], id: number, pn: number, i: number, source: string): Panel {
  const e = experiments[id];
  if (!e || !e.detector || !e.scan) throw new UserError(`${source}: reflection ${i} refers to experiment ${id}, which ${e ? 'has no detector or scan' : 'does not exist'}`, 'bad_file');
  const p = e.detector.panels[pn];
  if (!p) throw new UserError(`${source}: reflection ${i} is on panel ${pn}, which experiment ${id}'s detector lacks`, 'bad_file');
  return p;
}

export function observationsFromTable(table: ReflectionTable, experiments: readonly Experiment[], source = 'reflections'): RefinementData {
  const n = table.nrows;
  if (!table.has('id')) throw new UserError(`${source}: column 'id' is missing`, 'bad_file');
  // Older tables (e.g. converted pickles) carry only mm/radian centroids: use those as they are.
  if (!table.has('xyzobs.px.value')) {
    if (!table.has('xyzobs.mm.value')) throw new UserError(`${source}: neither 'xyzobs.px.value' nor 'xyzobs.mm.value' is present`, 'bad_file');
    return observationsFromMm(table, experiments, source);
  }
  const xyz = table.vec3('xyzobs.px.value');
  const vari = table.has('xyzobs.px.variance') ? table.vec3('xyzobs.px.variance') : null;
  const ids = table.int('id');
  const panelCol = table.has('panel') ? table.get('panel') as ArrayLike<number> : null;
  const data = emptyObservations(n);
  const mm = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const id = ids[i], pn = panelCol ? panelCol[i] : 0;
    const p = checkedPanel(experiments, id, pn, i, source), scan = experiments[id].scan!;
    Panel.pixelToMmInto(p, xyz[3 * i], xyz[3 * i + 1], mm);
    data.experiment[i] = id;
    data.panel[i] = pn;
    data.xObs[i] = mm[0];
    data.yObs[i] = mm[1];
    const osc = scan.oscillation;
    data.phiObs[i] = Scan.angleFromFrame(scan, xyz[3 * i + 2]) * DEG;
    const vx = vari ? vari[3 * i] : 0.25, vy = vari ? vari[3 * i + 1] : 0.25, vz = vari ? vari[3 * i + 2] : 0.25;
    data.xVar[i] = Math.max(vx, MIN_VARIANCE) * p.pixelSize[0] ** 2;
    data.yVar[i] = Math.max(vy, MIN_VARIANCE) * p.pixelSize[1] ** 2;
    data.phiVar[i] = Math.max(vz, MIN_VARIANCE) * (osc[1] * DEG) ** 2;
  }
  return data;
}

function observationsFromMm(table: ReflectionTable, experiments: readonly Experiment[], source: string): RefinementData {
  const n = table.nrows;
  const xyz = table.vec3('xyzobs.mm.value');
  const vari = table.has('xyzobs.mm.variance') ? table.vec3('xyzobs.mm.variance') : null;
  const ids = table.int('id');
  const panelCol = table.has('panel') ? table.get('panel') as ArrayLike<number> : null;
  const data = emptyObservations(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i], pn = panelCol ? panelCol[i] : 0;
    const p = checkedPanel(experiments, id, pn, i, source), scan = experiments[id].scan!;
    data.experiment[i] = id;
    data.panel[i] = pn;
    data.xObs[i] = xyz[3 * i]; data.yObs[i] = xyz[3 * i + 1]; data.phiObs[i] = xyz[3 * i + 2];
    const oscRad = scan.oscillation[1] * DEG;
    data.xVar[i] = Math.max(vari ? vari[3 * i] : 0, MIN_VARIANCE * p.pixelSize[0] ** 2);
    data.yVar[i] = Math.max(vari ? vari[3 * i + 1] : 0, MIN_VARIANCE * p.pixelSize[1] ** 2);
    data.phiVar[i] = Math.max(vari ? vari[3 * i + 2] : 0, MIN_VARIANCE * oscRad ** 2);
  }
  return data;
}

/** A copy of `data` restricted to the given row indices. */
export function subsetObservations(data: RefinementData, idx: ArrayLike<number>): RefinementData {
  const n = idx.length;
  const out = emptyObservations(n);
  for (let j = 0; j < n; j++) {
    const i = idx[j];
    out.experiment[j] = data.experiment[i]; out.panel[j] = data.panel[i];
    out.miller[3 * j] = data.miller[3 * i]; out.miller[3 * j + 1] = data.miller[3 * i + 1]; out.miller[3 * j + 2] = data.miller[3 * i + 2];
    out.xObs[j] = data.xObs[i]; out.yObs[j] = data.yObs[i]; out.phiObs[j] = data.phiObs[i];
    out.xVar[j] = data.xVar[i]; out.yVar[j] = data.yVar[i]; out.phiVar[j] = data.phiVar[i];
  }
  return out;
}

/**
 * Observations of the indexed rows of a table (id ≥ 0, Miller index set), with their Miller
 * indices; `rows` maps back to table rows.
 */
export function indexedObservations(table: ReflectionTable, experiments: readonly Experiment[], source = 'reflections'): { data: RefinementData; rows: Int32Array } {
  if (!table.has('miller_index')) throw new UserError(`${source}: no 'miller_index' column: index the spots first`, 'not_indexed');
  const ids = table.int('id');
  const hkl = table.miller('miller_index');
  const keep = new Uint8Array(table.nrows);
  for (let i = 0; i < table.nrows; i++) {
    keep[i] = ids[i] >= 0 && ids[i] < experiments.length && (hkl[3 * i] !== 0 || hkl[3 * i + 1] !== 0 || hkl[3 * i + 2] !== 0) ? 1 : 0;
  }
  const rows: number[] = [];
  for (let i = 0; i < keep.length; i++) if (keep[i]) rows.push(i);
  if (rows.length === 0) throw new UserError(`${source}: no indexed reflections`, 'not_indexed');
  const sub = table.select(keep);
  const data = observationsFromTable(sub, experiments, source);
  data.miller.set(sub.miller('miller_index'));
  return { data, rows: Int32Array.from(rows) };
}
