/**
 * cosym cost vs number of datasets: wall time and peak memory for 8, 32 and 128 simulated
 * datasets (P 41 intensities in a 4/mmm lattice, 4 Å, partial wedges, random settings; see
 * src/core/cosym/simulate.ts), and the real multi_narrow_wedges set (103 lattices in a cubic
 * lattice, 24 operations) when ../shared/data is present. DIALS 3.12: 257 s and 4.9 GB for the
 * 103 lattices. Peak RSS is the process's high-water mark (cases run smallest first); CPU
 * seconds are given beside wall time because the benchmark machine is shared.
 * Run: `npx tsx bench/run.ts cosym`.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { silentLog } from '../src/core/log.js';
import { cosym } from '../src/core/cosym/index.js';
import { simulateDatasets } from '../src/core/cosym/simulate.js';
import { SpaceGroup } from '../src/core/symmetry/spacegroup.js';
import { UnitCell } from '../src/core/symmetry/unitcell.js';
import { latticeGroup } from '../src/core/laue/lattice.js';
import { loadMultiDataset } from '../src/stages/cosym/load.js';
import { resolveOptions, run } from '../src/stages/cosym/index.js';

const WEDGES = new URL('../../shared/data/spots/multi_narrow_wedges/', import.meta.url).pathname;

type Row = Record<string, string | number | boolean | null>;

/** CPU seconds since `c0`: the machine is shared, so wall time alone overstates the cost. */
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

export async function benchCosym(): Promise<Row[]> {
  const rows: Row[] = [];
  const cell = UnitCell.create(68, 68, 105);
  const lattice = latticeGroup(cell, 5).rotations;
  const p4 = SpaceGroup.find('P 4').symOps.map((o) => o.rot);
  for (const N of [8, 32, 128]) {
    const sim = simulateDatasets({ cell, symmetry: p4, settings: lattice, nDatasets: N, dMin: 4, seed: N });
    const nRefl = sim.datasets.reduce((s, d) => s + d.E2.length, 0);
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = cosym(sim.datasets, cell, { seed: 0 });
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(c0);
    rows.push({
      case: `simulated P41, ${N} datasets`, datasets: N, operations: lattice.length, reflections: nRefl, dimensions: r.scan.chosen.dims,
      laue_group: r.setting.patterson.hm, wall_s: wall, cpu_s: cpu, peak_rss_mb: process.resourceUsage().maxRSS / 1024, dials_wall_s: null, dials_rss_gb: null,
    });
  }
  if (existsSync(WEDGES)) {
    const names = readdirSync(WEDGES).filter((f) => /^sweep_\d+\.expt$/.test(f)).sort();
    const files = [...names.map((f) => path.join(WEDGES, f)), ...names.map((f) => path.join(WEDGES, f.replace('.expt', '.refl')))];
    const t0 = performance.now(), c0 = process.cpuUsage();
    const input = await loadMultiDataset(files);
    const res = run(input, resolveOptions({ seed: 0 }), silentLog);
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(c0);
    rows.push({
      case: 'multi_narrow_wedges (real)', datasets: res.figures.n_datasets_used as number, operations: res.outputs.result.ops.length, reflections: res.figures.n_reflections_used as number,
      dimensions: res.figures.dimensions as number, laue_group: res.figures.laue_group as string, wall_s: wall, cpu_s: cpu, peak_rss_mb: process.resourceUsage().maxRSS / 1024, dials_wall_s: 257, dials_rss_gb: 4.9,
    });
  }
  return rows;
}
