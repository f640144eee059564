/**
 * Analyses for `xtalflow report` (as dials.report): strong spots per image, indexed share,
 * centroid residuals per image, and intensity statistics by resolution — each a table and a
 * plot, computed from whatever columns the reflection table has.
 */
import type { ExperimentList } from '../../core/models/types.js';
import { Crystal } from '../../core/models/crystal.js';
import { ReflectionTable } from '../../core/reflections/table.js';
import { Flags } from '../../core/reflections/flags.js';
import type { PlotData } from '../../core/report/plot.js';
import { formatTable, fmt } from '../../core/table.js';

export interface Section { title: string; text?: string; plots: PlotData[] }

function flagsOf(t: ReflectionTable): Float64Array | null {
  return t.has('flags') ? t.sizeT('flags') : null;
}

/** Spots per image (from the observed z centroid), split into indexed and unindexed when known. */
export function spotsPerImage(t: ReflectionTable, expts: ExperimentList): Section | null {
  if (!t.has('xyzobs.px.value')) return null;
  const xyz = t.vec3('xyzobs.px.value');
  const flags = flagsOf(t);
  const id = t.has('id') ? t.int('id') : null;
  const scan = expts[0]?.scan;
  const first = scan ? scan.imageRange[0] : 1;
  const n = scan ? scan.imageRange[1] - scan.imageRange[0] + 1 : Math.ceil(Math.max(1, ...Array.from({ length: t.nrows }, (_, i) => xyz[3 * i + 2])));
  const all = new Float64Array(n), indexed = new Float64Array(n);
  for (let i = 0; i < t.nrows; i++) {
    if (id && id[i] !== 0 && expts.length > 1 && expts[id[i]]?.scan !== scan) continue;
    const k = Math.min(n - 1, Math.max(0, Math.floor(xyz[3 * i + 2]) - (first - 1)));
    all[k]++;
    if (flags && (flags[i] & Flags.indexed)) indexed[k]++;
  }
  const images = Array.from({ length: n }, (_, k) => first + k);
  const series = [{ label: 'all spots', y: Array.from(all) }];
  const anyIndexed = indexed.some((v) => v > 0);
  if (anyIndexed) series.push({ label: 'indexed', y: Array.from(indexed) });
  const total = all.reduce((a, b) => a + b, 0);
  const text = formatTable(['', 'spots'], [
    ['total', total], ['per image (mean)', fmt(total / n, 1)], ['images', n],
    ...(anyIndexed ? [['indexed', indexed.reduce((a, b) => a + b, 0)] as [string, number]] : []),
  ]);
  return { title: 'Spots per image', text, plots: [{ title: 'Spots per image', xLabel: 'image', yLabel: 'spots', kind: 'bar', x: images, series }] };
}

/** RMS of observed − calculated centroids per image for indexed reflections. */
export function centroidResiduals(t: ReflectionTable): Section | null {
  if (!t.has('xyzobs.px.value') || !t.has('xyzcal.px')) return null;
  const obs = t.vec3('xyzobs.px.value'), cal = t.vec3('xyzcal.px');
  const flags = flagsOf(t);
  let zmax = 0;
  for (let i = 0; i < t.nrows; i++) zmax = Math.max(zmax, obs[3 * i + 2]);
  const n = Math.max(1, Math.ceil(zmax));
  const sx = new Float64Array(n), sy = new Float64Array(n), sz = new Float64Array(n), cnt = new Float64Array(n);
  let tx = 0, ty = 0, tz = 0, tn = 0;
  // As refinement sees them: reflections used in refinement when there are any, else all indexed ones.
  let want: number = Flags.indexed;
  if (flags) for (let i = 0; i < t.nrows; i++) if (flags[i] & Flags.used_in_refinement) { want = Flags.used_in_refinement; break; }
  for (let i = 0; i < t.nrows; i++) {
    if (flags && !(flags[i] & want)) continue;
    if (obs[3 * i] === 0 && obs[3 * i + 1] === 0 && obs[3 * i + 2] === 0) continue;
    const dx = obs[3 * i] - cal[3 * i], dy = obs[3 * i + 1] - cal[3 * i + 1], dz = obs[3 * i + 2] - cal[3 * i + 2];
    if (!Number.isFinite(dx + dy + dz) || (cal[3 * i] === 0 && cal[3 * i + 1] === 0)) continue;
    const k = Math.min(n - 1, Math.max(0, Math.floor(obs[3 * i + 2])));
    sx[k] += dx * dx; sy[k] += dy * dy; sz[k] += dz * dz; cnt[k]++;
    tx += dx * dx; ty += dy * dy; tz += dz * dz; tn++;
  }
  if (tn === 0) return null;
  const rms = (s: Float64Array) => Array.from(s, (v, k) => (cnt[k] ? Math.sqrt(v / cnt[k]) : NaN));
  const x = Array.from({ length: n }, (_, k) => k + 1);
  return {
    title: 'Centroid residuals',
    text: formatTable(['', 'RMSD X (px)', 'RMSD Y (px)', 'RMSD Z (images)', 'N'], [['overall', fmt(Math.sqrt(tx / tn), 3), fmt(Math.sqrt(ty / tn), 3), fmt(Math.sqrt(tz / tn), 3), tn]]),
    plots: [{ title: 'RMS centroid residuals per image', xLabel: 'image', yLabel: 'RMSD (px, images)', kind: 'line', x, series: [{ label: 'X (px)', y: rms(sx) }, { label: 'Y (px)', y: rms(sy) }, { label: 'Z (images)', y: rms(sz) }] }],
  };
}

/** ⟨I/σ(I)⟩ by resolution for summation (and profile-fitted) intensities, 10 shells equal in 1/d³. */
export function intensityByResolution(t: ReflectionTable, expts: ExperimentList, nBins = 10): Section | null {
  if (!t.has('intensity.sum.value') || !t.has('intensity.sum.variance')) return null;
  const dcol = t.has('d') ? t.double('d') : null;
  const hkl = t.has('miller_index') ? t.miller('miller_index') : null;
  const id = t.has('id') ? t.int('id') : null;
  if (!dcol && !hkl) return null;
  const d = new Float64Array(t.nrows);
  for (let i = 0; i < t.nrows; i++) {
    if (dcol) { d[i] = dcol[i]; continue; }
    const c = expts[id ? id[i] : 0]?.crystal;
    const h: [number, number, number] = [hkl![3 * i], hkl![3 * i + 1], hkl![3 * i + 2]];
    d[i] = c && (h[0] || h[1] || h[2]) ? Crystal.dSpacing(c, h) : NaN;
  }
  const kinds = [['sum', 'intensity.sum'], ...(t.has('intensity.prf.value') && t.has('intensity.prf.variance') ? [['prf', 'intensity.prf']] : [])];
  const flags = flagsOf(t);
  const use = (i: number, kind: string) => !flags || (flags[i] & (kind === 'prf' ? Flags.integrated_prf : Flags.integrated_sum)) !== 0 || !(flags[i] & (Flags.integrated_sum | Flags.integrated_prf));
  let lo = Infinity, hi = 0;
  for (let i = 0; i < t.nrows; i++) if (d[i] > 0 && Number.isFinite(d[i])) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
  if (!Number.isFinite(lo)) return null;
  // Equal volume in reciprocal space: edges uniform in 1/d³.
  const s3lo = 1 / hi ** 3, s3hi = 1 / lo ** 3;
  const edges = Array.from({ length: nBins + 1 }, (_, k) => 1 / Math.cbrt(s3lo + ((s3hi - s3lo) * k) / nBins));
  const rows: (string | number)[][] = [];
  const series: { label: string; y: number[] }[] = kinds.map(([k]) => ({ label: `⟨I/σ⟩ ${k}`, y: [] }));
  const x: number[] = [];
  for (let b = 0; b < nBins; b++) {
    const dHi = edges[b], dLo = edges[b + 1];
    const row: (string | number)[] = [`${fmt(dHi, 2)} - ${fmt(dLo, 2)}`];
    let nRow = 0;
    kinds.forEach(([k, col], s) => {
      const I = t.double(`${col}.value`), V = t.double(`${col}.variance`);
      let sum = 0, n = 0;
      for (let i = 0; i < t.nrows; i++) {
        if (!(d[i] <= dHi && d[i] > dLo) && !(b === nBins - 1 && d[i] === dLo)) continue;
        if (V[i] <= 0 || !use(i, k)) continue;
        sum += I[i] / Math.sqrt(V[i]); n++;
      }
      series[s].y.push(n ? sum / n : NaN);
      row.push(n ? fmt(sum / n, 2) : '-');
      nRow = Math.max(nRow, n);
    });
    row.push(nRow);
    rows.push(row);
    x.push(1 / ((dHi + dLo) / 2) ** 2);
  }
  return {
    title: 'Intensities by resolution',
    text: formatTable(['d range (Å)', ...kinds.map(([k]) => `⟨I/σ⟩ ${k}`), 'N'], rows),
    plots: [{ title: '⟨I/σ(I)⟩ by resolution', xLabel: 'resolution (Å)', yLabel: '⟨I/σ(I)⟩', kind: 'line', xTickFormat: 'd_from_s2', x, series }],
  };
}

/** Inverse scale factor against image number (scaled data). */
export function scalesPerImage(t: ReflectionTable): Section | null {
  if (!t.has('inverse_scale_factor') || !t.has('xyzobs.px.value')) return null;
  const s = t.double('inverse_scale_factor'), xyz = t.vec3('xyzobs.px.value');
  let zmax = 0;
  for (let i = 0; i < t.nrows; i++) zmax = Math.max(zmax, xyz[3 * i + 2]);
  const n = Math.max(1, Math.ceil(zmax));
  const sum = new Float64Array(n), cnt = new Float64Array(n);
  for (let i = 0; i < t.nrows; i++) {
    if (!(s[i] > 0)) continue;
    const k = Math.min(n - 1, Math.max(0, Math.floor(xyz[3 * i + 2])));
    sum[k] += s[i]; cnt[k]++;
  }
  return {
    title: 'Scale factors',
    plots: [{ title: 'Mean inverse scale factor per image', xLabel: 'image', yLabel: '⟨1/scale⟩', kind: 'line', x: Array.from({ length: n }, (_, k) => k + 1), series: [{ label: 'inverse scale', y: Array.from(sum, (v, k) => (cnt[k] ? v / cnt[k] : NaN)) }] }],
  };
}
