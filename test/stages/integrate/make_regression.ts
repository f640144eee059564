/**
 * How regression-data/integrate was made from the shared simulated sweep (run once; kept for the
 * record): the strong spots of the first three images from DIALS' refined.refl, and 400 rows of
 * DIALS' integrated.refl (Miller index, s1, xyzcal.px, lp, qe, partiality, d) as JSON.
 * The images sim_000{1,2,3}.cbf.gz are byte copies; lysozyme_3images.expt is DIALS' refined.expt
 * cut to images 1–3 (scan, A at scan points 0–3, template relative to the folder).
 *   npx tsx test/stages/integrate/make_regression.ts
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readRefl, writeRefl } from '../../../src/core/io/refl.js';

const D = '/work/shared/data/simulated/lysozyme_sweep/dials_reference/';
const R = new URL('../../../regression-data/integrate/', import.meta.url).pathname;

const refined = await readRefl(D + 'refined.refl');
const bb = refined.int6('bbox');
const keep = new Uint8Array(refined.nrows);
for (let i = 0; i < refined.nrows; i++) keep[i] = bb[6 * i + 5] <= 3 ? 1 : 0;
await writeRefl(R + 'lysozyme_3images_refined.refl', refined.select(keep));

const t = await readRefl(D + 'integrated.refl');
const step = Math.floor(t.nrows / 400);
const rows: Record<string, number[]>[] = [];
const hkl = t.miller('miller_index'), s1 = t.vec3('s1'), px = t.vec3('xyzcal.px');
for (let i = 0; i < t.nrows && rows.length < 400; i += step) {
  rows.push({
    miller_index: Array.from(hkl.subarray(3 * i, 3 * i + 3)), s1: Array.from(s1.subarray(3 * i, 3 * i + 3)),
    xyzcal_px: Array.from(px.subarray(3 * i, 3 * i + 3)),
    lp: [t.double('lp')[i]], qe: [t.double('qe')[i]], partiality: [t.double('partiality')[i]], d: [t.double('d')[i]],
  });
}
writeFileSync(R + 'dials_integrated_rows.json.gz', gzipSync(JSON.stringify({ source: 'DIALS 3.12 dials.integrate on the simulated lysozyme sweep (integrated.refl), every ' + step + 'th row', sigma_m_deg: 0.503045, sigma_b_deg: 0.082944, rows })));
