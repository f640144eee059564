/**
 * Strong spots prepared for a beam-centre search: each spot's lab position with the detector as
 * given, plus everything needed to turn it into a reciprocal-lattice point for a trial beam
 * centre without touching the models again.
 *
 * A trial beam centre is a shift (dx, dy) in mm along the fast and slow axes of the panel the
 * beam hits. Moving the beam centre by +d on the detector is the same as moving the whole
 * detector by −d: every spot's lab position moves by −(dx·fast + dy·slow), while its panel mm
 * coordinates stay what the pixels say. (Parallax depends on the ray angle and so shifts by a
 * second-order amount; it is not recomputed per trial.)
 */
import { UserError } from '../errors.js';
import type { Experiment } from '../models/types.js';
import { Experiment as ExperimentNs } from '../models/experiment.js';
import { Beam } from '../models/beam.js';
import { Detector, Panel } from '../models/detector.js';
import type { ReflectionTable } from '../reflections/table.js';
import type { Vec3 } from '../math/vec3.js';
import { Scan } from '../models/scan.js';

/** Per-experiment geometry packed for the rlp loop (GEO_STRIDE numbers each). */
const GEO_STRIDE = 31;

export interface SpotSet {
  n: number;
  /** Lab position (mm) of each spot with the unshifted detector, 3 per spot. */
  lab: Float64Array;
  /** Experiment index of each spot. */
  experiment: Int32Array;
  cosPhi: Float64Array;
  sinPhi: Float64Array;
  /**
   * Per experiment: s0 (3), 1/λ, Sᵀ (9, row-major), unit rotation axis (3), Fᵀ (9), fast (3) and
   * slow (3) of the reference panel (the one the beam hits), in that order.
   */
  geometry: Float64Array;
}

/** The panel of `detector` the direct beam hits, or panel 0 when it hits none. */
export function referencePanel(exp: Experiment): number {
  const hit = Detector.panelForRay(exp.detector!, Beam.s0(exp.beam!));
  return hit ? hit.panel : 0;
}

/** Rejects inputs the search cannot use, with a one-line message naming the file. */
export function checkInputs(experiments: readonly Experiment[], table: ReflectionTable, source: string, exptSource: string): void {
  if (experiments.length === 0) throw new UserError(`${exptSource}: no experiments`, 'bad_file');
  experiments.forEach((e, k) => {
    if (!e.beam || !e.detector) throw new UserError(`${exptSource}: experiment ${k} has no beam or detector`, 'bad_file');
    if (ExperimentNs.isStill(e)) {
      throw new UserError(`${exptSource}: experiment ${k} is a still; search_beam_position needs rotation sweeps (a scan and a goniometer)`, 'still_imageset');
    }
  });
  if (table.nrows === 0) throw new UserError(`${source}: no spots; search_beam_position needs strong spots from find_spots`, 'too_few_spots');
  if (!table.has('xyzobs.px.value') && !table.has('xyzobs.mm.value')) {
    throw new UserError(`${source}: neither 'xyzobs.px.value' nor 'xyzobs.mm.value' is present`, 'bad_file');
  }
}

/**
 * Panel mm and φ (radians) of every spot. Rows with a negative id (unindexed rows of an indexed
 * table) are skipped: they cannot be placed in any sweep. An id naming no experiment, or a panel
 * the detector lacks, is an error: silently dropping those would hide a mismatched pair of files.
 */
export function spotObservations(experiments: readonly Experiment[], table: ReflectionTable, source: string):
  { experiment: Int32Array; panel: Int32Array; xMm: Float64Array; yMm: Float64Array; phiRad: Float64Array } {
  const n = table.nrows;
  const ids = table.has('id') ? table.int('id') : new Int32Array(n);
  const panelCol = table.has('panel') ? (table.get('panel') as ArrayLike<number>) : null;
  const usePx = table.has('xyzobs.px.value');
  const xyz = usePx ? table.vec3('xyzobs.px.value') : table.vec3('xyzobs.mm.value');
  let m = 0;
  for (let i = 0; i < n; i++) if (ids[i] >= 0) m++;
  const out = { experiment: new Int32Array(m), panel: new Int32Array(m), xMm: new Float64Array(m), yMm: new Float64Array(m), phiRad: new Float64Array(m) };
  const mm = new Float64Array(2);
  const DEG = Math.PI / 180;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (id < 0) continue;
    const e = experiments[id];
    if (!e) throw new UserError(`${source}: spot ${i} belongs to experiment ${id}, which the experiment list lacks`, 'bad_file');
    const pn = panelCol ? panelCol[i] : 0;
    const p = e.detector!.panels[pn];
    if (!p) throw new UserError(`${source}: spot ${i} is on panel ${pn}, which experiment ${id}'s detector lacks`, 'bad_file');
    if (usePx) {
      Panel.pixelToMmInto(p, xyz[3 * i], xyz[3 * i + 1], mm);
      out.phiRad[j] = Scan.angleFromFrame(e.scan!, xyz[3 * i + 2]) * DEG;
    } else {
      mm[0] = xyz[3 * i]; mm[1] = xyz[3 * i + 1];
      out.phiRad[j] = xyz[3 * i + 2];
    }
    out.experiment[j] = id; out.panel[j] = pn; out.xMm[j] = mm[0]; out.yMm[j] = mm[1];
    j++;
  }
  return out;
}

function packGeometry(experiments: readonly Experiment[]): Float64Array {
  const g = new Float64Array(GEO_STRIDE * experiments.length);
  experiments.forEach((e, k) => {
    const o = GEO_STRIDE * k;
    const s0 = Beam.s0(e.beam!);
    g[o] = s0[0]; g[o + 1] = s0[1]; g[o + 2] = s0[2];
    g[o + 3] = 1 / e.beam!.wavelength;
    const S = e.goniometer!.settingRotation, F = e.goniometer!.fixedRotation;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) { g[o + 4 + 3 * r + c] = S[3 * c + r]; g[o + 16 + 3 * r + c] = F[3 * c + r]; }
    const a = e.goniometer!.rotationAxis, al = Math.hypot(a[0], a[1], a[2]);
    g[o + 13] = a[0] / al; g[o + 14] = a[1] / al; g[o + 15] = a[2] / al;
    const p = e.detector!.panels[referencePanel(e)];
    g[o + 25] = p.fastAxis[0]; g[o + 26] = p.fastAxis[1]; g[o + 27] = p.fastAxis[2];
    g[o + 28] = p.slowAxis[0]; g[o + 29] = p.slowAxis[1]; g[o + 30] = p.slowAxis[2];
  });
  return g;
}

/** A SpotSet of the given rows of `obs` (all rows when `rows` is omitted). */
export function makeSpotSet(experiments: readonly Experiment[], obs: ReturnType<typeof spotObservations>, rows?: ArrayLike<number>): SpotSet {
  const n = rows ? rows.length : obs.xMm.length;
  const set: SpotSet = {
    n, lab: new Float64Array(3 * n), experiment: new Int32Array(n), cosPhi: new Float64Array(n), sinPhi: new Float64Array(n),
    geometry: packGeometry(experiments),
  };
  for (let j = 0; j < n; j++) {
    const i = rows ? rows[j] : j;
    const p = experiments[obs.experiment[i]].detector!.panels[obs.panel[i]];
    const x = obs.xMm[i], y = obs.yMm[i];
    set.lab[3 * j] = p.origin[0] + x * p.fastAxis[0] + y * p.slowAxis[0];
    set.lab[3 * j + 1] = p.origin[1] + x * p.fastAxis[1] + y * p.slowAxis[1];
    set.lab[3 * j + 2] = p.origin[2] + x * p.fastAxis[2] + y * p.slowAxis[2];
    set.experiment[j] = obs.experiment[i];
    set.cosPhi[j] = Math.cos(obs.phiRad[i]);
    set.sinPhi[j] = Math.sin(obs.phiRad[i]);
  }
  return set;
}

/**
 * Reciprocal-lattice points (Å⁻¹, crystal frame at φ = 0) of every spot with the beam centre
 * shifted by (dxMm, dyMm): x = Fᵀ·R(axis, −φ)·Sᵀ·(s1 − s0). Writes 3 numbers per spot into out.
 */
export function rlpsAtShift(set: SpotSet, dxMm: number, dyMm: number, out: Float64Array): void {
  const g = set.geometry, lab = set.lab;
  for (let i = 0; i < set.n; i++) {
    const o = GEO_STRIDE * set.experiment[i];
    const lx = lab[3 * i] - dxMm * g[o + 25] - dyMm * g[o + 28];
    const ly = lab[3 * i + 1] - dxMm * g[o + 26] - dyMm * g[o + 29];
    const lz = lab[3 * i + 2] - dxMm * g[o + 27] - dyMm * g[o + 30];
    const k = g[o + 3] / Math.sqrt(lx * lx + ly * ly + lz * lz);
    const rx = lx * k - g[o], ry = ly * k - g[o + 1], rz = lz * k - g[o + 2];
    const ax = g[o + 4] * rx + g[o + 5] * ry + g[o + 6] * rz;
    const ay = g[o + 7] * rx + g[o + 8] * ry + g[o + 9] * rz;
    const az = g[o + 10] * rx + g[o + 11] * ry + g[o + 12] * rz;
    // R(u, −φ)·a = a cos φ − (u × a) sin φ + u (u·a)(1 − cos φ)
    const ux = g[o + 13], uy = g[o + 14], uz = g[o + 15];
    const c = set.cosPhi[i], s = set.sinPhi[i];
    const dot = (ux * ax + uy * ay + uz * az) * (1 - c);
    const bx = ax * c - (uy * az - uz * ay) * s + ux * dot;
    const by = ay * c - (uz * ax - ux * az) * s + uy * dot;
    const bz = az * c - (ux * ay - uy * ax) * s + uz * dot;
    out[3 * i] = g[o + 16] * bx + g[o + 17] * by + g[o + 18] * bz;
    out[3 * i + 1] = g[o + 19] * bx + g[o + 20] * by + g[o + 21] * bz;
    out[3 * i + 2] = g[o + 22] * bx + g[o + 23] * by + g[o + 24] * bz;
  }
}

/**
 * A copy of the experiments with every detector moved so that the beam centre shifts by
 * (dxMm, dyMm) along its reference panel's fast and slow axes. Shared models stay shared.
 */
export function shiftBeamCentre(experiments: readonly Experiment[], dxMm: number, dyMm: number): Experiment[] {
  const out = structuredClone(experiments) as Experiment[];
  const moved = new Set<object>();
  out.forEach((e) => {
    const det = e.detector!;
    if (moved.has(det)) return;
    moved.add(det);
    const ref = det.panels[referencePanel(e)];
    const t: Vec3 = [
      -(dxMm * ref.fastAxis[0] + dyMm * ref.slowAxis[0]),
      -(dxMm * ref.fastAxis[1] + dyMm * ref.slowAxis[1]),
      -(dxMm * ref.fastAxis[2] + dyMm * ref.slowAxis[2]),
    ];
    for (const p of det.panels) p.origin = [p.origin[0] + t[0], p.origin[1] + t[1], p.origin[2] + t[2]];
  });
  return out;
}
