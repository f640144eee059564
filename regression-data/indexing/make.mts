/**
 * Builds the small indexing inputs in this folder from ../shared/data (run from /work/main with tsx):
 * column-stripped, gzipped copies of DIALS strong-spot tables plus the matching .expt files.
 *   lysozyme_30img.refl.gz  simulated sweep, spots on images 1–30 (15°) only
 *   myd88_strong.refl.gz    MyD88 3D-ED spots without shoeboxes
 *   i04_spots.refl.gz       i04_weak_data spot centroids (mm columns) only
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readRefl, encodeRefl } from '../../src/core/io/refl.js';
import type { ReflectionTable } from '../../src/core/reflections/table.js';

const DATA = '/work/shared/data';
const OUT = 'regression-data/indexing';

function keep(t: ReflectionTable, cols: string[]): ReflectionTable {
  for (const c of t.columnNames()) if (!cols.includes(c)) t.del(c);
  return t;
}
function save(t: ReflectionTable, name: string) {
  writeFileSync(`${OUT}/${name}`, gzipSync(encodeRefl(t), { level: 9 }));
}

const spotCols = ['id', 'panel', 'flags', 'xyzobs.px.value', 'xyzobs.px.variance'];
const lys = await readRefl(`${DATA}/simulated/lysozyme_sweep/dials_reference/strong.refl`);
const z = lys.vec3('xyzobs.px.value');
const mask = Uint8Array.from({ length: lys.nrows }, (_, i) => (z[3 * i + 2] < 30 ? 1 : 0));
save(keep(lys.select(mask), spotCols), 'lysozyme_30img.refl.gz');
copyFileSync(`${DATA}/simulated/lysozyme_sweep/dials_reference/imported.expt`, `${OUT}/lysozyme_imported.expt`);
copyFileSync(`${DATA}/simulated/lysozyme_sweep/ground_truth.expt`, `${OUT}/lysozyme_ground_truth.expt`);

save(keep(await readRefl(`${DATA}/spots/MyD88/strong.refl`), spotCols), 'myd88_strong.refl.gz');
copyFileSync(`${DATA}/spots/MyD88/imported_axis_pos.expt`, `${OUT}/myd88_imported_axis_pos.expt`);
copyFileSync(`${DATA}/spots/MyD88/imported_axis_neg.expt`, `${OUT}/myd88_imported_axis_neg.expt`);

save(keep(await readRefl(`${DATA}/spots/i04_weak_data/indexed.refl`), ['id', 'panel', 'flags', 'xyzobs.mm.value', 'xyzobs.mm.variance']), 'i04_spots.refl.gz');
copyFileSync(`${DATA}/spots/i04_weak_data/experiments.expt`, `${OUT}/i04_experiments.expt`);

// Miller indices of the i04 spots as DIALS indexed them (input to the refine test)
save(keep(await readRefl(`${DATA}/spots/i04_weak_data/indexed.refl`), ['id', 'miller_index']), 'i04_miller.refl.gz');
