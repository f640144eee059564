/**
 * `xtalflow process` on the simulated sweep (../shared/data/simulated/lysozyme_sweep), one
 * command with no parameters, measured against the ground truth and DIALS' chained run:
 * wall time, peak memory, space group, cell error, and the correlation of merged intensities
 * with the true I (indices taken into the truth's basis via A_truth⁻¹·A, then into the truth's
 * asymmetric unit), as the data README computes DIALS' CC(I) = 0.994.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../src/cli.js';
import { readExperiments } from '../src/core/io/expt.js';
import { readMtz, mtzColumn } from '../src/core/io/mtz.js';
import { Crystal } from '../src/core/models/crystal.js';
import { Mat3 } from '../src/core/math/mat3.js';
import { SpaceGroup, ReciprocalAsu } from '../src/core/symmetry/index.js';
import type { Vec3 } from '../src/core/math/vec3.js';
import { pearson } from '../src/core/stats/merging.js';

type Row = Record<string, string | number | null>;

function root(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) || path.basename(d) === 'dist') d = path.dirname(d);
  return d;
}
const SHARED = process.env.XTALFLOW_SHARED_DATA ?? path.resolve(root(), '..', 'shared', 'data');
const SWEEP = path.join(SHARED, 'simulated', 'lysozyme_sweep');


/** CC(I) of a merged MTZ with the truth, in the truth's basis and ASU. */
export async function mergedVersusTruth(mtzPath: string, exptPath: string, truthDir: string): Promise<{ cc: number; n: number; cellErrorPct: number }> {
  const truth = JSON.parse(readFileSync(path.join(truthDir, 'ground_truth.json'), 'utf8')) as { A: number[]; space_group: string; unit_cell: number[] };
  const sg = SpaceGroup.find(truth.space_group);
  const asu = new ReciprocalAsu(sg);
  const trueI = new Map<string, number>();
  for (const line of readFileSync(path.join(truthDir, 'ground_truth_F.csv'), 'utf8').split('\n').slice(1)) {
    const f = line.split(',');
    if (f.length < 7) continue;
    const m = asu.toAsu([+f[0], +f[1], +f[2]]).hkl;
    trueI.set(m.join(','), +f[6]);
  }
  const [e] = await readExperiments(exptPath);
  const A = Crystal.A(e.crystal!);
  const M = Mat3.mul(Mat3.inverse(Mat3.from(truth.A)), A).map(Math.round) as Mat3;
  const mtz = readMtz(mtzPath);
  const H = mtzColumn(mtz, 'H').data, K = mtzColumn(mtz, 'K').data, L = mtzColumn(mtz, 'L').data, I = mtzColumn(mtz, 'IMEAN').data;
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < H.length; i++) {
    if (!Number.isFinite(I[i])) continue;
    const ht = Mat3.mulVec(M, [H[i], K[i], L[i]] as Vec3);
    const t = trueI.get(asu.toAsu(ht).hkl.join(','));
    if (t === undefined) continue;
    xs.push(I[i]); ys.push(t);
  }
  const cell = Crystal.unitCell(e.crystal!);
  const ours = cellSorted(cell), known = cellSorted(truth.unit_cell);
  const cellErrorPct = 100 * Math.max(...[0, 1, 2].map((k) => Math.abs(ours[k] - known[k]) / known[k]));
  return { cc: pearson(xs, ys), n: xs.length, cellErrorPct };
}

/** Cell edges in increasing order, so settings that permute a, b, c compare. */
function cellSorted(c: number[]): number[] { return c.slice(0, 3).sort((a, b) => a - b); }

export async function benchProcess(): Promise<Row[]> {
  if (!existsSync(SWEEP)) return [];
  const dir = mkdtempSync(path.join(tmpdir(), 'xf-bench-process-'));
  const cwd = process.cwd();
  process.chdir(dir);
  const t0 = performance.now();
  let code: number;
  try {
    code = await runProgram('process', [path.join(SWEEP, 'images'), 'output.log=xtalflow.log']);
  } finally {
    process.chdir(cwd);
  }
  const wall = (performance.now() - t0) / 1000;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  if (code !== 0) return [{ dataset: 'lysozyme_sweep', result: `process failed (exit ${code}); see ${dir}` }];
  const m = await mergedVersusTruth(path.join(dir, 'merged.mtz'), path.join(dir, 'scaled.expt'), SWEEP);
  const [e] = await readExperiments(path.join(dir, 'scaled.expt'));
  const sgName = SpaceGroup.find(e.crystal!.spaceGroupHall).hm;
  const timings = readFileSync(path.join(SWEEP, 'dials_reference', 'timings.tsv'), 'utf8');
  const dialsTotal = timings.split('\n').slice(1).reduce((s, l) => s + (Number(l.split('\t')[1]) || 0), 0);
  return [{
    dataset: 'lysozyme_sweep', wall_s: wall, dials_wall_s: dialsTotal || 253, ratio: wall / (dialsTotal || 253), peak_rss_mb: rssMb,
    space_group: sgName, cell_error_pct: m.cellErrorPct, cc_merged_vs_truth: m.cc, dials_cc: 0.994, n_common: m.n, dir,
  }];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(await benchProcess());
}
