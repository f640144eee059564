/**
 * Builds the small beam-centre search inputs in this folder from ../shared/data (run from
 * /work/main: `node_modules/.bin/tsx regression-data/beam_search/make.mts`):
 *   lysozyme_strong_8k.refl.gz  8000 of the simulated sweep's 58 615 DIALS strong spots (seeded
 *                               random subset over all 120 images), centroid columns only
 *   lysozyme_imported.expt      DIALS' imported.expt (beam centre = the simulation's truth)
 *   lysozyme_truth.json         the simulation's beam centre (ground_truth.json)
 *   myd88_strong.refl.gz        MyD88 3D-ED strong spots, centroid columns only
 *   myd88_imported_axis_neg.expt  the corrected rotation axis (DIALS tutorial)
 *   l_cysteine_strong.refl(.gz) + l_cysteine_imported.expt: 4 sweeps × 15 images, DIALS' spots
 *   p41_strong_8k.refl.gz + p41_imported.expt: simulated/p41_multi, 4 crystals (one sweep each,
 *                               shared detector; truth centre = imported): 2000 DIALS strong spots
 *                               per crystal from integrated.refl (rows flagged strong)
 *   wedge_sweep_003.refl.gz + wedge_sweep_003.expt: spots/multi_narrow_wedges sweep 3 (1° wedge,
 *                               4 lattices in one sweep, indexed strong spots), centroid columns
 *   dials_reference.json        DIALS 3.12 search_beam_position on the same inputs (black-box runs, by hand)
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readRefl, encodeRefl } from '../../src/core/io/refl.js';
import type { ReflectionTable } from '../../src/core/reflections/table.js';
import { mulberry32 } from '../../src/core/math/random.js';
import { Flags } from '../../src/core/reflections/flags.js';

const DATA = '/work/shared/data';
const OUT = 'regression-data/beam_search';
const COLS = ['id', 'panel', 'flags', 'xyzobs.px.value'];

function keep(t: ReflectionTable): ReflectionTable {
  for (const c of t.columnNames()) if (!COLS.includes(c)) t.del(c);
  return t;
}
function save(t: ReflectionTable, name: string) {
  writeFileSync(`${OUT}/${name}`, gzipSync(encodeRefl(t), { level: 9 }));
}

const SIM = `${DATA}/simulated/lysozyme_sweep`;
const lys = await readRefl(`${SIM}/dials_reference/strong.refl`);
const rng = mulberry32(2024);
const idx = Array.from({ length: lys.nrows }, (_, i) => i);
for (let i = 0; i < 8000; i++) { const j = i + Math.floor(rng() * (idx.length - i)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
const mask = new Uint8Array(lys.nrows);
for (let i = 0; i < 8000; i++) mask[idx[i]] = 1;
save(keep(lys.select(mask)), 'lysozyme_strong_8k.refl.gz');
copyFileSync(`${SIM}/dials_reference/imported.expt`, `${OUT}/lysozyme_imported.expt`);
const truth = JSON.parse(readFileSync(`${SIM}/ground_truth.json`, 'utf8'));
writeFileSync(`${OUT}/lysozyme_truth.json`, JSON.stringify({
  source: 'simulated/lysozyme_sweep/ground_truth.json', beam_centre_px_fast_slow: truth.beam_centre_px_fast_slow,
  pixel_size_mm: truth.pixel_size_mm, distance_mm: truth.distance_mm, unit_cell: truth.unit_cell,
}, null, 1) + '\n');

save(keep(await readRefl(`${DATA}/spots/MyD88/strong.refl`)), 'myd88_strong.refl.gz');
copyFileSync(`${DATA}/spots/MyD88/imported_axis_neg.expt`, `${OUT}/myd88_imported_axis_neg.expt`);

save(keep(await readRefl(`${DATA}/reference/l_cysteine/strong.refl`)), 'l_cysteine_strong.refl.gz');
copyFileSync('regression-data/indexing/l_cysteine_imported.expt', `${OUT}/l_cysteine_imported.expt`);

const P41 = `${DATA}/simulated/p41_multi/dials_reference`;
const p41 = await readRefl(`${P41}/integrated.refl`);
const pf = p41.sizeT('flags'), pid = p41.int('id');
const pick = new Uint8Array(p41.nrows);
for (let k = 0; k < 4; k++) {
  const rows = Array.from({ length: p41.nrows }, (_, i) => i).filter((i) => pid[i] === k && (pf[i] & Flags.strong) !== 0);
  for (let i = 0; i < 2000; i++) { const j = i + Math.floor(rng() * (rows.length - i)); [rows[i], rows[j]] = [rows[j], rows[i]]; pick[rows[i]] = 1; }
}
save(keep(p41.select(pick)), 'p41_strong_8k.refl.gz');
copyFileSync(`${P41}/imported.expt`, `${OUT}/p41_imported.expt`);

const WEDGE = `${DATA}/spots/multi_narrow_wedges`;
save(keep(await readRefl(`${WEDGE}/sweep_003.refl`)), 'wedge_sweep_003.refl.gz');
copyFileSync(`${WEDGE}/sweep_003.expt`, `${OUT}/wedge_sweep_003.expt`);
