/**
 * From the project's models (ExperimentList + ReflectionTable) to the scaler's per-sweep arrays.
 */
import type { Experiment, ExperimentList } from '../models/types.js';
import type { ReflectionTable } from '../reflections/table.js';
import { UserError } from '../errors.js';
import type { Vec3 } from '../math/vec3.js';
import type { SweepData } from './data.js';

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
  const qe = dbl('qe') ?? dbl('dqe');
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
      prfValue: pick(dbl('intensity.prf.value'), rows),
      prfVariance: pick(dbl('intensity.prf.variance'), rows),
      sumValue: pick(dbl('intensity.sum.value'), rows)!,
      sumVariance: pick(dbl('intensity.sum.variance'), rows)!,
      flags: pick(flags, rows)!,
      partiality: pick(dbl('partiality'), rows),
      lp: pick(dbl('lp'), rows),
      qe: pick(qe, rows),
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
  if (t.has('partial_id')) {
    const pid = t.sizeT('partial_id');
    sweeps.forEach((sw, si) => { combinePartials(sw, Float64Array.from(rowsOut[si], (i) => pid[i])); });
  }
  return { sweeps, rows: rowsOut };
}

/**
 * Rows sharing a partial_id are parts of one reflection recorded in separate integration blocks:
 * add their (LP/QE-corrected) summed intensities, variances and partialities into the most
 * complete part, and give the other parts partiality 0 so they drop out with the partiality cut.
 * The profile-fitted value of the most complete part is kept as it is: profile fitting already
 * estimates the whole reflection from each part, so adding the parts would count it twice.
 */
export function combinePartials(s: SweepData, partialId: Float64Array): number {
  const n = partialId.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => partialId[a] - partialId[b]);
  const conv = (i: number) => (s.lp ? s.lp[i] : 1) / (s.qe && s.qe[i] > 0 ? s.qe[i] : 1);
  const p = s.partiality ?? (s.partiality = new Float64Array(n).fill(1));
  let combined = 0;
  for (let a = 0; a < n;) {
    let b = a + 1;
    while (b < n && partialId[order[b]] === partialId[order[a]]) b++;
    if (b - a > 1) {
      let rep = order[a];
      for (let r = a; r < b; r++) if (p[order[r]] > p[rep]) rep = order[r];
      const cr = conv(rep);
      let sum = 0, sumV = 0, pt = 0, allSum = true;
      for (let r = a; r < b; r++) {
        const i = order[r], c = conv(i) / cr, f = s.flags[i] >>> 0;
        sum += s.sumValue[i] * c; sumV += s.sumVariance[i] * c * c; pt += p[i];
        if ((f & (1 << 8)) === 0) allSum = false;
      }
      s.sumValue[rep] = sum; s.sumVariance[rep] = sumV; p[rep] = Math.min(1, pt);
      let f = s.flags[rep];
      if (!allSum && ((f >>> 0) & (1 << 8))) f -= 1 << 8;
      s.flags[rep] = f;
      for (let r = a; r < b; r++) if (order[r] !== rep) p[order[r]] = 0;
      combined++;
    }
    a = b;
  }
  return combined;
}
