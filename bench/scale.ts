/**
 * Scaling benchmark and acceptance figures against DIALS 3.12 on the shared data:
 *  - l_cysteine integrated (4 real sweeps, scaled in P 21 21 21 as dials.symmetry chose; DIALS 97 s);
 *  - the simulated lysozyme sweep (DIALS' integrated.refl reindexed into DIALS' symmetrized.expt
 *    setting, P 4 2 2; DIALS 23.9 s), with the CC of merged intensities against the ground truth.
 * Skips (returns no rows) when ../shared/data is absent.
 * Run: `npx tsx bench/run.ts scale` (or `npm run bench -- scale`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExperiments } from '../src/core/io/expt.js';
import { readReflSync } from '../src/core/io/refl.js';
import { silentLog } from '../src/core/log.js';
import { Crystal } from '../src/core/models/crystal.js';
import { Mat3 } from '../src/core/math/mat3.js';
import { loadDataset, type Dataset } from '../src/core/stats/dataset.js';
import { SpaceGroup } from '../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../src/core/symmetry/unitcell.js';
import { ReflectionSymmetry, millerKey } from '../src/core/scaling/symops.js';
import { resolveParams, run } from '../src/stages/scale/index.js';
import type { MergedReflection } from '../src/core/stats/merging.js';

/** The repository root, whether this runs from bench/ (tsx) or dist/bench/ (compiled). */
function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) || path.basename(d) === 'dist') d = path.dirname(d);
  return d;
}
export const SHARED = (process.env.XTALFLOW_SHARED_DATA ?? path.resolve(repoRoot(), '..', 'shared', 'data')) + '/';
const LCYS = `${SHARED}spots/l_cysteine_integrated/`;
const SIM = `${SHARED}simulated/lysozyme_sweep/`;

export function haveSharedData(): boolean {
  return !process.env.XTALFLOW_NO_SHARED && existsSync(`${LCYS}20_integrated.refl`) && existsSync(`${SIM}dials_reference/integrated.refl`);
}

export async function loadLCysteine(): Promise<Dataset> {
  return loadDataset([20, 25, 30, 35].flatMap((n) => [`${LCYS}${n}_integrated.expt`, `${LCYS}${n}_integrated.refl`]));
}

/** Rows of a crystal's direct axes (a, b, c) as a matrix. */
function axes(c: { realSpaceA: number[]; realSpaceB: number[]; realSpaceC: number[] }): Mat3 {
  return Mat3.fromRows(c.realSpaceA as [number, number, number], c.realSpaceB as [number, number, number], c.realSpaceC as [number, number, number]);
}

/**
 * DIALS' integrated reflections of the simulated sweep in the setting dials.symmetry chose:
 * new axes = M·old axes, so new indices h' = M·h with M = axes_new · axes_old⁻¹.
 */
export async function loadSimulated(): Promise<Dataset> {
  const integrated = await readExperiments(`${SIM}dials_reference/integrated.expt`);
  const experiments = await readExperiments(`${SIM}dials_reference/symmetrized.expt`);
  const t = readReflSync(`${SIM}dials_reference/integrated.refl`);
  const M = Mat3.mul(axes(experiments[0].crystal!), Mat3.inverse(axes(integrated[0].crystal!)));
  const mi = t.miller('miller_index');
  for (let i = 0; i < t.nrows; i++) {
    const h = mi[3 * i], k = mi[3 * i + 1], l = mi[3 * i + 2];
    mi[3 * i] = Math.round(M[0] * h + M[1] * k + M[2] * l);
    mi[3 * i + 1] = Math.round(M[3] * h + M[4] * k + M[5] * l);
    mi[3 * i + 2] = Math.round(M[6] * h + M[7] * k + M[8] * l);
  }
  const cell = UnitCell.fromParams(Crystal.unitCell(experiments[0].crystal!));
  return { experiments, reflections: t, cell, spaceGroup: SpaceGroup.fromHall(experiments[0].crystal!.spaceGroupHall), d: Float64Array.from(t.double('d')) };
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * CC of merged intensities with the ground truth: indices taken into the truth's basis with
 * A_truth⁻¹·A (the sweep README's recipe), both sides reduced to one representative per 422 class.
 */
export function ccWithTruth(merged: readonly MergedReflection[], dataset: Dataset): { cc: number; n: number } {
  const truth = JSON.parse(readFileSync(`${SIM}ground_truth.json`, 'utf8')) as { A: number[] };
  const Atruth = Mat3.from(truth.A);
  const A = Mat3.inverse(axes(dataset.experiments[0].crystal!)); // A = (rows a,b,c)⁻¹
  const T = Mat3.mul(Mat3.inverse(Atruth), A);
  const sym = ReflectionSymmetry.find('P 4 2 2');
  const c = new Int32Array(3);
  const truthI = new Map<number, number>();
  for (const line of readFileSync(`${SIM}ground_truth_F.csv`, 'utf8').split('\n').slice(1)) {
    const f = line.split(',');
    if (f.length < 7) continue;
    sym.canonical(Number(f[0]), Number(f[1]), Number(f[2]), false, c);
    truthI.set(millerKey(c[0], c[1], c[2]), Number(f[6]));
  }
  const x: number[] = [], y: number[] = [];
  for (const m of merged) {
    const h = Math.round(T[0] * m.h + T[1] * m.k + T[2] * m.l), k = Math.round(T[3] * m.h + T[4] * m.k + T[5] * m.l), l = Math.round(T[6] * m.h + T[7] * m.k + T[8] * m.l);
    sym.canonical(h, k, l, false, c);
    const t = truthI.get(millerKey(c[0], c[1], c[2]));
    if (t === undefined) continue;
    x.push(m.I); y.push(t);
  }
  return { cc: pearson(x, y), n: x.length };
}

type Row = Record<string, string | number | boolean | null>;

export async function benchScale(): Promise<Row[]> {
  if (!haveSharedData()) return [];
  const rows: Row[] = [];
  const cases: [string, () => Promise<Dataset>, Record<string, unknown>, number][] = [
    ['l_cysteine (4 sweeps)', loadLCysteine, { 'symmetry.space_group': 'P 21 21 21' }, 97],
    ['simulated lysozyme', loadSimulated, {}, 23.9],
  ];
  for (const [name, load, p, dialsWall] of cases) {
    const ds = await load();
    const t0 = performance.now();
    const r = run(ds, resolveParams(p), silentLog);
    const wall = (performance.now() - t0) / 1000;
    const f = r.figures;
    const row: Row = {
      dataset: name, wall_s: wall, dials_wall_s: dialsWall,
      cc_half: f.cc_half as number, r_pim: f.r_pim as number, i_over_sigma: f.i_over_sigma as number,
      completeness: f.completeness as number, multiplicity: f.multiplicity as number,
      a: f.error_model_a as number, b: f.error_model_b as number, d_min_cc_half: f.d_min_cc_half as number,
    };
    if (name.startsWith('simulated')) row.cc_truth = ccWithTruth(r.outputs.statistics.merged, ds).cc;
    rows.push(row);
  }
  return rows;
}
