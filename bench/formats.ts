/**
 * Image decode throughput per format: whole-image reads as stages do them (file read, gunzip,
 * header, decompression, panel split) through a sweep's `ImageSource.read`, for CBF also the
 * byte_offset decoder alone, and header-only import speed. MB/s counts the decoded int32 pixels (4 bytes each). Medians of a few repeats,
 * on ../shared/data when present, else on regression-data/images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSweeps } from '../src/core/formats/sweep.js';
import { openHdf5Frames } from '../src/core/formats/nexus.js';
import { parseCbf, decodeCbfPixels } from '../src/core/formats/cbf.js';

type Row = Record<string, string | number | boolean | null>;

function root(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) || path.basename(d) === 'dist') d = path.dirname(d);
  return d;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function time(repeats: number, fn: () => Promise<number> | number): Promise<{ ms: number; pixels: number }> {
  let pixels = 0;
  await fn(); // warm-up (JIT, HDF5 module load)
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    pixels = await fn();
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), pixels };
}

export async function benchFormats(): Promise<Row[]> {
  const R = root();
  const shared = path.resolve(R, '..', 'shared', 'data');
  const useShared = existsSync(path.join(shared, 'images'));
  const reg = path.join(R, 'regression-data', 'images');
  const pick = (sharedRel: string, regRel: string) => (useShared && existsSync(path.join(shared, sharedRel)) ? path.join(shared, sharedRel) : path.join(reg, regRel));
  const cases: { name: string; file: string; dataset?: string }[] = [
    { name: 'miniCBF Pilatus 6M (gz)', file: pick('images/cbf/example_004.cbf.gz', 'cbf/DLS_I03_smargon_0001.cbf.gz') },
    { name: 'miniCBF Eiger2 16M (gz)', file: pick('images/cbf/dlsnxs2cbf_therm_0001.cbf.gz', 'cbf/dlsnxs2cbf_therm_0001.cbf.gz') },
    { name: 'miniCBF Pilatus 12M, 24 panels (gz)', file: pick('images/cbf/DLS_I23_P12M_thau_00001.cbf.gz', 'cbf/DLS_I23_P12M_thau_00001.cbf.gz') },
    { name: 'full CBF Pilatus 2M (gz)', file: pick('l_cysteine/l-cyst_01_00001.cbf.gz', 'l_cysteine/l-cyst_01_00001.cbf.gz') },
    { name: 'SMV Timepix 516', file: pick('images/smv/TIMEPIX_SU_516-stdgoni_0001.img', 'smv/TIMEPIX_SU_516-stdgoni_0001.img') },
    { name: 'SMV Timepix 512, 4 panels', file: pick('images/smv/TIMEPIX_SU_512-stdgoni_0001.img', 'smv/TIMEPIX_SU_512-stdgoni_0001.img') },
    { name: 'HDF5 Eiger1 LZ4 frame', file: pick('images/hdf5/dectris_h5-testfiles/datasets_eiger1/eiger1_testmode10_2datafiles_4images_lz4_data_000001.h5', 'hdf5/dectris_h5-testfiles/datasets_eiger1/eiger1_testmode10_2datafiles_4images_lz4_data_000001.h5'), dataset: '/entry/data/data' },
    { name: 'HDF5 Eiger2 bitshuffle-LZ4 frame', file: pick('images/hdf5/dectris_h5-testfiles/datasets_eiger2/eiger2_simread7_2datafiles_4images_bslz4_data_000001.h5', 'hdf5/dectris_h5-testfiles/datasets_eiger2/eiger2_simread7_2datafiles_4images_bslz4_data_000001.h5'), dataset: '/entry/data/data' },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    if (!existsSync(c.file)) continue;
    const repeats = 5;
    let r: { ms: number; pixels: number };
    if (c.dataset) {
      const h = await openHdf5Frames(c.file, c.dataset);
      r = await time(repeats, () => h.read(0).length);
      h.close();
    } else {
      // As stages read images: through the sweep's ImageSource (one pass over the file per image).
      const [sweep] = await importSweeps([c.file]);
      r = await time(repeats, async () => {
        const img = await sweep.source.read(0);
        return img.panels.reduce((n, p) => n + p.length, 0);
      });
    }
    rows.push({ format: c.name, source: useShared ? 'shared' : 'regression-data', megapixels: r.pixels / 1e6, 'ms/image': r.ms, 'images/s': 1000 / r.ms, 'MB/s (int32 out)': (r.pixels * 4) / 1e6 / (r.ms / 1000) });
    if (/CBF/.test(c.name)) {
      const bytes = new Uint8Array(gunzipSync(readFileSync(c.file)));
      const cbf = parseCbf(c.file, bytes);
      const out = new Int32Array(cbf.binary.nElements);
      const d = await time(repeats, () => decodeCbfPixels(cbf, bytes, out).length);
      rows.push({ format: `  byte_offset decode only`, source: '', megapixels: d.pixels / 1e6, 'ms/image': d.ms, 'images/s': 1000 / d.ms, 'MB/s (int32 out)': (d.pixels * 4) / 1e6 / (d.ms / 1000) });
    }
  }
  // Import: header parsing only (first 64 kB of each file), images per second.
  const lcyst = useShared ? path.join(shared, 'l_cysteine') : path.join(reg, 'l_cysteine');
  if (existsSync(lcyst)) {
    let n = 0;
    const h = await time(3, async () => { const s = await importSweeps([lcyst]); n = s.reduce((k, x) => k + x.source.length, 0); return n; });
    rows.push({ format: `import headers, full CBF (${n} files)`, source: useShared ? 'shared' : 'regression-data', megapixels: null, 'ms/image': h.ms / n, 'images/s': (n * 1000) / h.ms, 'MB/s (int32 out)': null });
  }
  return rows;
}
