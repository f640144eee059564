/**
 * Builds regression-data/scaling/l_cysteine.{expt.json,refl}.gz from the shared DIALS-integrated
 * l-cysteine sweeps (../shared/data/spots/l_cysteine_integrated/{20,25,30,35}_integrated.*):
 * all four sweeps, rows that can be scaled only (indexed, integrated, partiality ≥ 0.4, or a part of
 * a split reflection one of whose parts is) and only
 * the columns scaling reads; experiments without the scan-varying crystal matrices.
 * Run: node_modules/.bin/tsx regression-data/scaling/make_l_cysteine.ts
 */
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { readExperiments, experimentsToJson } from '../../src/core/io/expt.js';
import { readReflSync, encodeRefl } from '../../src/core/io/refl.js';
import { ReflectionTable } from '../../src/core/reflections/table.js';

const dir = new URL('../../../shared/data/spots/l_cysteine_integrated/', import.meta.url).pathname;
const keep = ['miller_index', 'flags', 'id', 'intensity.prf.value', 'intensity.prf.variance', 'intensity.sum.value', 'intensity.sum.variance',
  'partiality', 'partial_id', 'lp', 'dqe', 'd', 's1', 'xyzobs.px.value'];
const experiments = [];
const parts: ReflectionTable[] = [];
for (const [k, n] of [20, 25, 30, 35].entries()) {
  const ex = await readExperiments(`${dir}${n}_integrated.expt`);
  for (const e of ex) if (e.crystal) { delete e.crystal.AAtScanPoints; delete e.crystal.BCovariance; }
  experiments.push(...ex);
  const t = readReflSync(`${dir}${n}_integrated.refl`);
  const id = t.int('id'), p = t.double('partiality'), f = t.sizeT('flags');
  const mask = new Uint8Array(t.nrows);
  // every part of a split reflection (same partial_id) is kept when one part is: the scaler folds
  // them as DIALS does, and a reflection missing its small parts is not the one DIALS scaled
  const pid = t.sizeT('partial_id');
  const keepPid = new Set<number>();
  for (let i = 0; i < t.nrows; i++) if (id[i] === 0 && p[i] >= 0.4 && ((f[i] >>> 0) & 0x300) !== 0) keepPid.add(pid[i]);
  for (let i = 0; i < t.nrows; i++) mask[i] = id[i] === 0 && ((f[i] >>> 0) & 0x300) !== 0 && (p[i] >= 0.4 || keepPid.has(pid[i])) ? 1 : 0;
  const s = t.select(mask);
  const out = ReflectionTable.empty(s.nrows);
  for (const c of keep) out.setColumn(c, s.typeOf(c), s.get(c) as Float64Array);
  const ids = out.int('id');
  for (let i = 0; i < ids.length; i++) ids[i] = k;
  parts.push(out);
}
const all = ReflectionTable.concat(parts);
const here = new URL('./', import.meta.url).pathname;
writeFileSync(`${here}l_cysteine.refl.gz`, gzipSync(encodeRefl(all), { level: 9 }));
writeFileSync(`${here}l_cysteine.expt.json.gz`, gzipSync(JSON.stringify(experimentsToJson(experiments)), { level: 9 }));
console.log(`${all.nrows} rows, ${experiments.length} experiments`);
