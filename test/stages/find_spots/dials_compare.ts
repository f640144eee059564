/**
 * Compare our spot finding with DIALS 3.12's strong.refl on the shared data sets: spot count,
 * fraction of DIALS spots matched (same experiment and panel, |Δx|, |Δy| ≤ 1 px, |Δz| ≤ 1 image)
 * and RMS centroid difference of matched spots. Used by the acceptance test and by the benchmark.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importSweeps } from '../../../src/core/formats/sweep.js';
import { readReflSync } from '../../../src/core/io/refl.js';
import { silentLog } from '../../../src/core/log.js';
import type { Experiment } from '../../../src/core/models/types.js';
import type { ReflectionTable } from '../../../src/core/reflections/table.js';
import { resolveParams, run } from '../../../src/stages/find_spots/index.js';

/** The repository root, from test/… under tsx or dist/test/… when compiled. */
function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) || path.basename(d) === 'dist') {
    const up = path.dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
  return d;
}

export const DATA = process.env.XTALFLOW_SHARED_DATA ?? path.resolve(repoRoot(), '..', 'shared', 'data');

export interface Dataset { name: string; inputs: string[]; reference: string }

export function datasets(): Dataset[] {
  const ref = (n: string) => path.join(DATA, 'reference', n, 'strong.refl');
  const singles = ['DLS_I03_smargon_0001.cbf.gz', 'DLS_I23_P12M_thau_00001.cbf.gz', 'dlsnxs2cbf_therm_0001.cbf.gz', 'example_004.cbf.gz']
    .map((f) => ({ name: f.replace('.cbf.gz', ''), inputs: [path.join(DATA, 'images/cbf', f)], reference: ref(f.replace('.cbf.gz', '')) }));
  const smv = ['TIMEPIX_SU_512-stdgoni_0001.img', 'TIMEPIX_SU_516-stdgoni_0001.img']
    .map((f) => ({ name: f.replace('.img', ''), inputs: [path.join(DATA, 'images/smv', f)], reference: ref(f.replace('.img', '')) }));
  const lcys = { name: 'l_cysteine', inputs: [path.join(DATA, 'l_cysteine')], reference: ref('l_cysteine') };
  const sim = {
    name: 'lysozyme_sweep', inputs: [path.join(DATA, 'simulated/lysozyme_sweep/images')],
    reference: path.join(DATA, 'simulated/lysozyme_sweep/dials_reference/strong.refl'),
  };
  return [...singles, ...smv, lcys, sim];
}

export function available(d: Dataset): boolean {
  return existsSync(d.reference) && d.inputs.every((p) => existsSync(p));
}

/** Import images the way dials.import groups them, as experiments with fresh identifiers. */
export async function importExperiments(inputs: string[]): Promise<Experiment[]> {
  const sweeps = await importSweeps(inputs);
  return sweeps.map((s, i) => ({
    identifier: `xtalflow-test-${i}`,
    beam: s.beam, detector: s.detector, goniometer: s.goniometer, scan: s.scan, imageset: s.imageset,
  }));
}

export async function findSpots(inputs: string[], params: Record<string, unknown> = {}): Promise<ReflectionTable> {
  const experiments = await importExperiments(inputs);
  const r = await run(experiments, resolveParams({ nproc: 1, ...params }), { log: silentLog });
  return r.outputs.reflections;
}

export interface Comparison {
  ours: number;
  dials: number;
  /** ours / dials − 1 */
  countDiff: number;
  matched: number;
  matchedFraction: number;
  /** RMS of the x/y centroid differences of matched spots (px, both axes pooled per spot as |Δ|). */
  rmsXY: number;
  rmsZ: number;
}

/**
 * Match each DIALS spot to the nearest of our spots (same id and panel) within 1 px in x and y
 * and 1 image in z; each of ours is used at most once, closest pairs first.
 */
export function compareSpots(ours: ReflectionTable, dials: ReflectionTable): Comparison {
  const key = (t: ReflectionTable, i: number) => `${t.int('id')[i]}:${t.sizeT('panel')[i]}`;
  const a = ours.vec3('xyzobs.px.value'), b = dials.vec3('xyzobs.px.value');
  // Grid our spots by (id, panel, floor x, floor y) for neighbour lookup.
  const grid = new Map<string, number[]>();
  for (let i = 0; i < ours.nrows; i++) {
    const k = `${key(ours, i)}:${Math.floor(a[3 * i])}:${Math.floor(a[3 * i + 1])}`;
    let l = grid.get(k);
    if (!l) grid.set(k, (l = []));
    l.push(i);
  }
  const pairs: { d: number; i: number; j: number }[] = [];
  for (let j = 0; j < dials.nrows; j++) {
    const kb = key(dials, j);
    const x = b[3 * j], y = b[3 * j + 1], z = b[3 * j + 2];
    for (let gx = Math.floor(x) - 1; gx <= Math.floor(x) + 1; gx++) {
      for (let gy = Math.floor(y) - 1; gy <= Math.floor(y) + 1; gy++) {
        for (const i of grid.get(`${kb}:${gx}:${gy}`) ?? []) {
          const dx = a[3 * i] - x, dy = a[3 * i + 1] - y, dz = a[3 * i + 2] - z;
          if (Math.abs(dx) <= 1 && Math.abs(dy) <= 1 && Math.abs(dz) <= 1) pairs.push({ d: dx * dx + dy * dy + dz * dz, i, j });
        }
      }
    }
  }
  pairs.sort((p, q) => p.d - q.d || p.j - q.j || p.i - q.i);
  const usedA = new Uint8Array(ours.nrows), usedB = new Uint8Array(dials.nrows);
  let matched = 0, sxy = 0, sz = 0;
  for (const p of pairs) {
    if (usedA[p.i] || usedB[p.j]) continue;
    usedA[p.i] = usedB[p.j] = 1;
    matched++;
    const dx = a[3 * p.i] - b[3 * p.j], dy = a[3 * p.i + 1] - b[3 * p.j + 1], dz = a[3 * p.i + 2] - b[3 * p.j + 2];
    sxy += dx * dx + dy * dy;
    sz += dz * dz;
  }
  return {
    ours: ours.nrows, dials: dials.nrows, countDiff: ours.nrows / dials.nrows - 1,
    matched, matchedFraction: matched / dials.nrows,
    rmsXY: matched > 0 ? Math.sqrt(sxy / matched) : NaN, rmsZ: matched > 0 ? Math.sqrt(sz / matched) : NaN,
  };
}

export async function compareDataset(d: Dataset, params: Record<string, unknown> = {}): Promise<Comparison> {
  const ours = await findSpots(d.inputs, params);
  return compareSpots(ours, readReflSync(d.reference));
}
