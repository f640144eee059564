/**
 * From the project's models (ExperimentList + ReflectionTable) to the scaler's per-sweep arrays.
 */
import type { Experiment, ExperimentList } from '../models/types.js';
import type { ReflectionTable } from '../reflections/table.js';
import { UserError } from '../errors.js';
import type { Vec3 } from '../math/vec3.js';
import type { SweepData } from './data.js';
import { correctIntegrated, HAS_PRF, HAS_SUM, splitReflections, type IntegratedIntensities } from '../stats/prepare.js';
import { Flags } from '../reflections/flags.js';

function pick(a: Float64Array | null, rows: Int32Array, width = 1): Float64Array | null {
  if (!a) return null;
  const out = new Float64Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) for (let k = 0; k < width; k++) out[r * width + k] = a[rows[r] * width + k];
  return out;
}

/**
 * One SweepData per experiment: the rows whose `id` is the experiment's index. `d` is the
 * resolution of every row of the table (e.g. from each experiment's own cell).
 */
export function sweepsFromModels(experiments: ExperimentList, t: ReflectionTable, d: Float64Array, source = 'reflections'): { sweeps: SweepData[]; rows: Int32Array[] } {
  for (const c of ['miller_index', 'flags', 'intensity.sum.value', 'intensity.sum.variance', 's1']) {
    if (!t.has(c)) throw new UserError(`${source}: missing column ${c} (scale needs integrated reflections)`);
  }
  if (!t.has('xyzobs.px.value') && !t.has('xyzcal.px')) throw new UserError(`${source}: missing column xyzobs.px.value`);
  const n = t.nrows;
  const id = t.has('id') ? t.int('id') : new Int32Array(n);
  const dbl = (name: string): Float64Array | null => (t.has(name) ? (t.typeOf(name) === 'std::size_t' ? t.sizeT(name) : t.double(name)) : null);
  const xyz = t.has('xyzobs.px.value') ? t.vec3('xyzobs.px.value') : t.vec3('xyzcal.px');
  const mi = t.miller('miller_index');
  const s1 = t.vec3('s1');
  const flags = t.sizeT('flags');
  const corrected = correctIntegrated(t, { combinePartials: false });
  foldProfileFittedParts(t, corrected);
  const sweeps: SweepData[] = [];
  const rowsOut: Int32Array[] = [];
  experiments.forEach((e: Experiment, ei: number) => {
    const list: number[] = [];
    for (let i = 0; i < n; i++) {
      if (id[i] !== ei) continue;
      const h = mi[3 * i], k = mi[3 * i + 1], l = mi[3 * i + 2];
      if (h === 0 && k === 0 && l === 0) continue;
      list.push(i);
    }
    const rows = Int32Array.from(list);
    if (!e.beam) throw new UserError(`${source}: experiment ${ei} has no beam model`);
    const b = e.beam;
    const dn = Math.hypot(...b.direction);
    const s0: Vec3 = [-b.direction[0] / dn / b.wavelength, -b.direction[1] / dn / b.wavelength, -b.direction[2] / dn / b.wavelength];
    const g = e.goniometer, scan = e.scan;
    const miller = new Int32Array(rows.length * 3);
    const z = new Float64Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r];
      miller[3 * r] = mi[3 * i]; miller[3 * r + 1] = mi[3 * i + 1]; miller[3 * r + 2] = mi[3 * i + 2];
      z[r] = xyz[3 * i + 2];
    }
    sweeps.push({
      identifier: e.identifier,
      miller,
      intensities: selectRows(corrected, rows),
      flags: pick(flags, rows)!,
      d: pick(d, rows)!,
      zFrame: z,
      s1: pick(s1, rows, 3)!,
      s0,
      rotationAxis: g ? g.rotationAxis : [1, 0, 0],
      fixedRotation: g ? g.fixedRotation : [1, 0, 0, 0, 1, 0, 0, 0, 1],
      settingRotation: g ? g.settingRotation : [1, 0, 0, 0, 1, 0, 0, 0, 1],
      imageRange: scan ? scan.imageRange : [1, 1],
      oscillation: scan ? scan.oscillation : [0, 0],
      stills: !scan || !g || scan.oscillation[1] === 0,
    });
    rowsOut.push(rows);
  });
  return { sweeps, rows: rowsOut };
}

/** The rows `rows` of corrected intensities (partOf renumbered within them). */
function selectRows(c: IntegratedIntensities, rows: Int32Array): IntegratedIntensities {
  const local = new Map<number, number>();
  rows.forEach((i, r) => local.set(i, r));
  return {
    prfI: pick(c.prfI, rows), prfV: pick(c.prfV, rows),
    sumI: pick(c.sumI, rows)!, sumV: pick(c.sumV, rows)!,
    has: Uint8Array.from(rows, (i) => c.has[i]),
    partiality: pick(c.partiality, rows)!,
    conv: pick(c.conv, rows),
    partOf: Int32Array.from(rows, (i) => (c.partOf[i] >= 0 ? local.get(c.partOf[i]) ?? -1 : -1)),
  };
}

/**
 * Split reflections (rows sharing `partial_id` within an experiment) folded as dials.scale 3.12
 * folds them, black-box on l-cysteine (its symmetrized.refl in, its scaled.refl out; all 61
 * multi-part reflections follow this rule): only the parts that were profile fitted
 * (integrated_prf) are folded, into the first of them; the parts whose profile fit failed stay
 * rows of their own with their own partiality (the partiality cutoff then drops the small ones).
 * The folded row's partiality, summed intensity and summed variance are the sums over the folded
 * parts (DIALS: 0.176 + 0.813 → 0.989; Is 2 092 − 4 → 2 087, Vs 2 245 + 47 → 2 292); its
 * profile-fitted intensity and variance are those of the most complete part. (DIALS' looks like
 * the parts' variance-weighted mean — 15 753 from 899 and 16 556 — but that mean lowered the
 * simulated sweep's CC with the truth to 0.985; for the usual weak edge piece the two agree.)
 * Folding a failed part in as well (the general rule in stats/prepare.ts) made l-cysteine's
 * 2 0 -3 a near-full observation with a far too small σ where DIALS has a p = 0.81 partial that
 * stays out of the error model; that one group moved the error model's strong bins and its b.
 */
function foldProfileFittedParts(t: ReflectionTable, c: IntegratedIntensities): void {
  if (!t.has('partial_id')) return;
  const flags = t.sizeT('flags');
  for (const parts of splitReflections(t, (i) => ((flags[i] >>> 0) & Flags.integrated_prf) !== 0)) {
    const rep = parts[0];
    let sI = 0, sV = 0, pt = 0, pV = 0, best = rep, allSum = true, allPrf = c.prfI !== null;
    for (const i of parts) {
      if (c.partiality[i] > c.partiality[best]) best = i;
      sI += c.sumI[i]; sV += c.sumV[i]; pt += c.partiality[i];
      if (!(c.has[i] & HAS_SUM)) allSum = false;
      if (!(c.has[i] & HAS_PRF)) allPrf = false;
      if (c.prfV) pV += c.prfV[i];
    }
    c.sumI[rep] = sI; c.sumV[rep] = sV; c.partiality[rep] = Math.min(1, pt);
    if (allSum && sV > 0) c.has[rep] |= HAS_SUM; else c.has[rep] &= ~HAS_SUM;
    if (allPrf && pV > 0) { c.prfI![rep] = c.prfI![best]; c.prfV![rep] = c.prfV![best]; } else c.has[rep] &= ~HAS_PRF;
    for (const i of parts) if (i !== rep) { c.partiality[i] = 0; c.partOf[i] = rep; c.has[i] = 0; }
  }
}
