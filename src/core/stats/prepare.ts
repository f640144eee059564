/**
 * Intensity preparation shared by symmetry, cosym, scaling and merging: choose the intensity
 * (profile-fitted, summed or scaled), apply the corrections integrated data still need, and drop
 * the rows no program should trust. Scaled data (`intensity.scale.*` with `inverse_scale_factor`)
 * already carry LP/QE and partiality in the scale, so only the scale factor is divided out.
 *
 * Then: map to the reciprocal ASU with the Friedel sign (I+ / I−), centric flags and d-spacings,
 * the complete set for completeness, and E² normalisation in resolution shells.
 */
import { UserError } from '../errors.js';
import { Flags } from '../reflections/flags.js';
import type { ReflectionTable } from '../reflections/table.js';
import { ReciprocalAsu, isCentric, isSystematicallyAbsent, epsilon } from '../symmetry/asu.js';
import type { SpaceGroup } from '../symmetry/spacegroup.js';
import { UnitCell } from '../symmetry/unitcell.js';
import { equalCountBinIndex } from './binning.js';
import type { CompleteSet, Observations } from './merging.js';

export type IntensityKind = 'prf' | 'sum' | 'scale' | 'auto';

export interface PrepareOptions {
  /** 'auto': scaled intensities when present, else profile-fitted (summed where no profile fit). */
  intensity: IntensityKind;
  /** Rows with partiality below this are dropped (integrated data only). */
  partialityThreshold: number;
  /** Keep rows with I/σ ≥ this (DIALS drops I/σ < −5 as junk). */
  minIOverSigma: number;
  dMin: number | null;
  dMax: number | null;
  /** Sum rows sharing a `partial_id` into one observation before anything else. */
  combinePartials: boolean;
  /** Multiply integrated intensities by LP and divide by QE (DIALS does so before scaling). */
  applyLpQe: boolean;
  /** Extra flag bits every kept row must carry (e.g. both integrated_sum and integrated_prf). */
  requireFlags: number;
}

export const DEFAULT_PREPARE: PrepareOptions = {
  intensity: 'auto', partialityThreshold: 0.4, minIOverSigma: -5, dMin: null, dMax: null, combinePartials: true, applyLpQe: true, requireFlags: 0,
};

export interface PreparedIntensities {
  /** Rows of the input table kept, in order. */
  rows: Int32Array;
  I: Float64Array;
  sigma: Float64Array;
  /** Which intensity was used. */
  kind: 'prf' | 'sum' | 'scale';
  /** What was dropped and why, for the log. */
  counts: Record<string, number>;
}

function optionalDouble(t: ReflectionTable, name: string): Float64Array | null {
  return t.has(name) && t.typeOf(name) === 'double' ? t.double(name) : null;
}

/**
 * Choose, correct and filter intensities. `d` (Å, one per row) is needed for the resolution cuts;
 * pass null to skip them. Throws a UserError naming `source` when nothing survives.
 */
export function prepareIntensities(t: ReflectionTable, d: Float64Array | null, opts: Partial<PrepareOptions> = {}, source = 'reflections'): PreparedIntensities {
  const o = { ...DEFAULT_PREPARE, ...opts };
  const n = t.nrows;
  const flags = t.has('flags') ? t.sizeT('flags') : new Float64Array(n);
  const hasScale = t.has('intensity.scale.value') && t.has('inverse_scale_factor');
  let kind: 'prf' | 'sum' | 'scale';
  if (o.intensity === 'auto') kind = hasScale ? 'scale' : t.has('intensity.prf.value') ? 'prf' : 'sum';
  else kind = o.intensity;
  const need = kind === 'scale' ? ['intensity.scale.value', 'intensity.scale.variance', 'inverse_scale_factor'] : [`intensity.${kind}.value`, `intensity.${kind}.variance`];
  for (const c of need) if (!t.has(c)) throw new UserError(`${source}: no column ${c} (intensity=${kind} needs it)`, 'missing_column');

  const counts: Record<string, number> = { input: n };
  const bump = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
  const rows: number[] = [];
  const Iout: number[] = [], Sout: number[] = [];
  const partiality = optionalDouble(t, 'partiality');
  const lp = optionalDouble(t, 'lp');
  const qe = optionalDouble(t, 'qe') ?? optionalDouble(t, 'dqe');

  if (kind === 'scale') {
    const I = t.double('intensity.scale.value'), V = t.double('intensity.scale.variance'), s = t.double('inverse_scale_factor');
    for (let i = 0; i < n; i++) {
      const f = flags[i] >>> 0;
      if (f & Flags.bad_for_scaling) { bump('bad_for_scaling'); continue; }
      if (!(s[i] > 0)) { bump('no_scale'); continue; }
      if (!(V[i] > 0)) { bump('non_positive_variance'); continue; }
      if (d && ((o.dMin !== null && d[i] < o.dMin) || (o.dMax !== null && d[i] > o.dMax))) { bump('resolution'); continue; }
      const Ii = I[i] / s[i], si = Math.sqrt(V[i]) / s[i];
      rows.push(i); Iout.push(Ii); Sout.push(si);
    }
  } else {
    const I = t.double(`intensity.${kind}.value`), V = t.double(`intensity.${kind}.variance`);
    const want = (kind === 'prf' ? Flags.integrated_prf : Flags.integrated_sum) | o.requireFlags;
    // Partials: rows sharing partial_id within an experiment are parts of one reflection.
    let partner: Int32Array | null = null;
    if (o.combinePartials && t.has('partial_id')) partner = partialGroups(t);
    const done = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const f = flags[i] >>> 0;
      if ((f & want) !== want) { bump('not_integrated'); continue; }
      if (f & Flags.bad_for_scaling) { bump('bad_for_scaling'); continue; }
      let Ii = I[i], Vi = V[i], p = partiality ? partiality[i] : 1;
      const conv = o.applyLpQe ? (lp ? lp[i] : 1) / (qe && qe[i] > 0 ? qe[i] : 1) : 1;
      Ii *= conv; Vi *= conv * conv;
      if (partner && partner[i] !== i) {
        // i is the first row of a partial group: combine the others (same experiment, same
        // partial_id). Summation intensities of the parts add up (as do partialities); each part's
        // profile-fitted value is already an estimate of the full intensity, so those are averaged
        // with inverse-variance weights (a tiny part's estimate is very uncertain).
        let sw = Vi > 0 ? 1 / Vi : 0, swI = Vi > 0 ? Ii / Vi : 0;
        for (let j = partner[i]; j !== i; j = partner[j]) {
          done[j] = 1;
          if (((flags[j] >>> 0) & want) !== want || !(V[j] > 0)) continue;
          const cj = o.applyLpQe ? (lp ? lp[j] : 1) / (qe && qe[j] > 0 ? qe[j] : 1) : 1;
          if (kind === 'prf') { const vj = V[j] * cj * cj; sw += 1 / vj; swI += (I[j] * cj) / vj; }
          else { Ii += I[j] * cj; Vi += V[j] * cj * cj; }
          if (partiality) p += partiality[j];
        }
        if (kind === 'prf' && sw > 0) { Ii = swI / sw; Vi = 1 / sw; }
        bump('partials_combined');
      }
      if (!(Vi > 0)) { bump('non_positive_variance'); continue; }
      if (p < o.partialityThreshold) { bump('low_partiality'); continue; }
      if (d && ((o.dMin !== null && d[i] < o.dMin) || (o.dMax !== null && d[i] > o.dMax))) { bump('resolution'); continue; }
      const si = Math.sqrt(Vi);
      if (Ii / si < o.minIOverSigma) { bump('low_i_over_sigma'); continue; }
      rows.push(i); Iout.push(Ii); Sout.push(si);
    }
  }
  counts.selected = rows.length;
  if (rows.length === 0) {
    throw new UserError(`${source}: no reflections left after filtering (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')})`, 'no_reflections');
  }
  return { rows: Int32Array.from(rows), I: Float64Array.from(Iout), sigma: Float64Array.from(Sout), kind, counts };
}

/**
 * For each row, the next row of its partial group in a cycle (itself when alone), so that the
 * first row of a group can walk its partners.
 */
function partialGroups(t: ReflectionTable): Int32Array {
  const n = t.nrows;
  const pid = t.sizeT('partial_id');
  const id = t.has('id') ? t.int('id') : new Int32Array(n);
  const next = Int32Array.from({ length: n }, (_, i) => i);
  const firstOf = new Map<string, number>();
  const lastOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `${id[i]}:${pid[i]}`;
    const f = firstOf.get(key);
    if (f === undefined) { firstOf.set(key, i); lastOf.set(key, i); continue; }
    const last = lastOf.get(key)!;
    next[last] = i; next[i] = f; lastOf.set(key, i);
  }
  return next;
}

/**
 * Observations for the merging statistics: indices mapped to the ASU of `sg`, Friedel sign from
 * the ISYM parity (odd = I+), centric flags and d-spacings from `cell`.
 */
export function toObservations(miller: Int32Array, rows: Int32Array, I: Float64Array, sigma: Float64Array, sg: SpaceGroup, cell: UnitCell): Observations {
  const n = rows.length;
  const asu = new ReciprocalAsu(sg);
  const obs: Observations = {
    h: new Int32Array(n), k: new Int32Array(n), l: new Int32Array(n), friedel: new Int8Array(n),
    I: Float64Array.from(I), sigma: Float64Array.from(sigma), d: new Float64Array(n), centric: new Uint8Array(n),
  };
  const cache = new Map<number, { h: number; k: number; l: number; sign: number; centric: number }>();
  for (let j = 0; j < n; j++) {
    const r = rows[j];
    const h = miller[3 * r], k = miller[3 * r + 1], l = miller[3 * r + 2];
    const key = ((h + 1024) * 2048 + (k + 1024)) * 2048 + (l + 1024);
    let m = cache.get(key);
    if (!m) {
      const a = asu.toAsu([h, k, l]);
      const c = isCentric(sg, a.hkl) ? 1 : 0;
      m = { h: a.hkl[0], k: a.hkl[1], l: a.hkl[2], sign: c || a.isym % 2 === 1 ? 1 : -1, centric: c };
      cache.set(key, m);
    }
    obs.h[j] = m.h; obs.k[j] = m.k; obs.l[j] = m.l; obs.friedel[j] = m.sign; obs.centric[j] = m.centric;
    obs.d[j] = UnitCell.dSpacing(cell, h, k, l);
  }
  return obs;
}

/**
 * Every unique (non-anomalous) index of the ASU with dMin ≤ d ≤ dMax, systematic absences of
 * the space group left out (unless `includeAbsent`), as completeness is usually counted.
 */
export function completeSet(sg: SpaceGroup, cell: UnitCell, dMin: number, dMax: number, opts: { includeAbsent?: boolean } = {}): CompleteSet & { hkl: Int32Array } {
  const asu = new ReciprocalAsu(sg);
  const [hmax, kmax, lmax] = [Math.floor(cell.a / dMin) + 1, Math.floor(cell.b / dMin) + 1, Math.floor(cell.c / dMin) + 1];
  const lo = 1 / (dMax * dMax) * (1 - 1e-9), hi = 1 / (dMin * dMin) * (1 + 1e-9);
  const d: number[] = [], c: number[] = [], hkl: number[] = [];
  const includeAbsent = opts.includeAbsent ?? false;
  for (let h = -hmax; h <= hmax; h++)
    for (let k = -kmax; k <= kmax; k++)
      for (let l = -lmax; l <= lmax; l++) {
        if (h === 0 && k === 0 && l === 0) continue;
        const s2 = UnitCell.dStarSq(cell, h, k, l);
        if (s2 < lo || s2 > hi) continue;
        if (!asu.isIn(h, k, l)) continue;
        if (!includeAbsent && isSystematicallyAbsent(sg, [h, k, l])) continue;
        d.push(1 / Math.sqrt(s2)); c.push(isCentric(sg, [h, k, l]) ? 1 : 0); hkl.push(h, k, l);
      }
  return { d: Float64Array.from(d), centric: Uint8Array.from(c), hkl: Int32Array.from(hkl) };
}

/**
 * Normalised intensities E² = I / (ε ⟨I/ε⟩shell), shells of equal counts in resolution, so that
 * correlations between symmetry mates are not dominated by the fall-off with resolution. σ is
 * scaled by the same factor.
 */
export function normaliseE2(miller: Int32Array, d: Float64Array, I: Float64Array, sigma: Float64Array, sg: SpaceGroup, nShells = 20): { E2: Float64Array; sigmaE2: Float64Array } {
  const n = I.length;
  const { bin, n: nb } = equalCountBinIndex(d, Math.max(1, Math.min(nShells, Math.floor(n / 20))));
  const eps = new Float64Array(n);
  for (let i = 0; i < n; i++) eps[i] = epsilon(sg, [miller[3 * i], miller[3 * i + 1], miller[3 * i + 2]]);
  const sum = new Float64Array(nb), cnt = new Float64Array(nb);
  for (let i = 0; i < n; i++) { sum[bin[i]] += I[i] / eps[i]; cnt[bin[i]] += 1; }
  const E2 = new Float64Array(n), sE2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mean = sum[bin[i]] / cnt[bin[i]];
    const f = mean > 0 ? 1 / (eps[i] * mean) : 0;
    E2[i] = I[i] * f; sE2[i] = sigma[i] * f;
  }
  return { E2, sigmaE2: sE2 };
}
