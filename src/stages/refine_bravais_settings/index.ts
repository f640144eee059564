/**
 * `xtalflow refine_bravais_settings indexed.expt indexed.refl` → bravais_setting_N.expt +
 * bravais_summary.json.
 *
 * Every Bravais lattice compatible with the indexed P1 cell within `lepage_max_delta` (Le Page
 * two-folds, from core/symmetry) is tried: the crystal and Miller indices are taken into the
 * setting's conventional basis, the cell is constrained to the lattice's metric, and the geometry
 * is refined with the same engine as indexing. The table gives the metric fit (Le Page δ), the
 * refined RMSD (√(X² + Y²), mm), min/max correlation of intensities related by the lattice's
 * rotations, the number of reflections used, the cell, volume and cb_op; solutions are
 * recommended (`*`) when δ ≤ lepage_max_delta and their RMSD is at most `rmsd_ratio` × that of the
 * triclinic solution.
 */
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeExperiments } from '../../core/io/expt.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import type { Log } from '../../core/log.js';
import { Mat3 } from '../../core/math/mat3.js';
import type { Crystal, Experiment } from '../../core/models/types.js';
import { Crystal as CrystalFns } from '../../core/models/crystal.js';
import type { ParamDef, Params } from '../../core/params/index.js';
import type { Program, StageResult } from '../../core/program.js';
import type { ReflectionTable } from '../../core/reflections/table.js';
import { formatTable } from '../../core/table.js';
import { CbOp, SpaceGroup, UnitCell, type Op } from '../../core/symmetry/index.js';
import { latticeSymmetry, type BravaisSetting } from '../../core/symmetry/lattice-symmetry.js';
import { indexedObservations } from '../../core/refinement/observations.js';
import { REFINEMENT_PARAMS, refinerOptionsFrom } from '../../core/refinement/params.js';
import { cloneExperiments, refineGeometry, type RefinerOptions } from '../../core/refinement/refiner.js';
import { decomposeA } from '../../core/refinement/parameterisation.js';
import type { RefinementData } from '../../core/refinement/target.js';
import { readPair } from '../../core/io/inputs.js';

export const PARAMS: ParamDef[] = [
  { name: 'lepage_max_delta', type: 'float', default: 5, min: 0, help: 'Largest Le Page δ (degrees) of a lattice two-fold' },
  { name: 'best_monoclinic_beta', type: 'bool', default: true, help: 'For centred monoclinic lattices take the I or C setting with β closer to 90°' },
  { name: 'rmsd_ratio', type: 'float', default: 4, min: 1,
    help: 'Recommend settings whose refined RMSD is at most this multiple of the triclinic one (DIALS 3.12 still recommends mI for MyD88 at 2.6×)' },
  { name: 'output.directory', type: 'path', default: '.', help: 'Where bravais_setting_N.expt and bravais_summary.json go' },
  { name: 'output.prefix', type: 'str', default: '', help: 'Prefix for the output file names' },
  ...REFINEMENT_PARAMS,
];

export interface RefinedSetting {
  settingId: number;
  lattice: string;
  metricFitDeg: number;
  /** √(RMSD_X² + RMSD_Y²) over the reflections used, mm */
  rmsd: number;
  minCC: number | null;
  maxCC: number | null;
  nSpots: number;
  unitCell: number[];
  volume: number;
  cbOp: string;
  recommended: boolean;
  experiments: Experiment[];
}

export interface BravaisOptions {
  maxDeltaDeg: number;
  bestMonoclinicBeta: boolean;
  rmsdRatio: number;
  refinement: RefinerOptions;
  log: Log;
}

export function optionsFrom(p: Params, log: Log): BravaisOptions {
  return {
    maxDeltaDeg: p['lepage_max_delta'] ?? 5,
    bestMonoclinicBeta: p['best_monoclinic_beta'] ?? true,
    rmsdRatio: p['rmsd_ratio'] ?? 4,
    refinement: refinerOptionsFrom(p),
    log,
  };
}

function properRotations(ops: readonly Op[]): Op[] {
  return ops.filter((o) => Mat3.determinant(Mat3.from(o.rot)) > 0);
}

/** The lattice group without inversion: the chiral group DIALS writes into bravais_setting_N.expt. */
function chiralLatticeGroup(s: BravaisSetting): SpaceGroup {
  return SpaceGroup.fromOperators(properRotations(s.group.symOps), s.group.centring);
}

/**
 * Correlation of intensities related by each proper rotation of the lattice (Miller indices in the
 * setting's basis), Friedel mates merged; min and max over the rotations other than identity.
 */
export function symmetryCorrelations(miller: Int32Array, intensity: Float64Array, rotations: readonly Op[]): { min: number | null; max: number | null } {
  const mean = new Map<string, [number, number]>();
  const key = (h: number, k: number, l: number) => {
    // Friedel: canonical sign of the first non-zero index
    const s = h !== 0 ? Math.sign(h) : k !== 0 ? Math.sign(k) : Math.sign(l);
    return `${s * h},${s * k},${s * l}`;
  };
  for (let i = 0; i < intensity.length; i++) {
    if (!Number.isFinite(intensity[i])) continue;
    const kk = key(miller[3 * i], miller[3 * i + 1], miller[3 * i + 2]);
    const m = mean.get(kk);
    if (m) { m[0] += intensity[i]; m[1]++; } else mean.set(kk, [intensity[i], 1]);
  }
  const ccs: number[] = [];
  for (const op of rotations) {
    if (op.rot.every((x, j) => x === (j % 4 === 0 ? 1 : 0))) continue;
    const xs: number[] = [], ys: number[] = [];
    for (const [kk, [sum, n]] of mean) {
      const h = kk.split(',').map(Number);
      const r = op.rot;
      const hp = [h[0] * r[0] + h[1] * r[3] + h[2] * r[6], h[0] * r[1] + h[1] * r[4] + h[2] * r[7], h[0] * r[2] + h[1] * r[5] + h[2] * r[8]];
      const k2 = key(hp[0], hp[1], hp[2]);
      if (k2 === kk) continue;
      const other = mean.get(k2);
      if (!other) continue;
      xs.push(sum / n); ys.push(other[0] / other[1]);
    }
    if (xs.length < 3) { ccs.push(0); continue; }
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
    ccs.push(sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0);
  }
  if (ccs.length === 0) return { min: null, max: null };
  return { min: Math.min(...ccs), max: Math.max(...ccs) };
}

/** Experiments in a setting: A' = A·Cᵀ, then the cell replaced by the symmetrised one (orientation kept). */
function experimentsInSetting(exps: readonly Experiment[], cb: CbOp, best: UnitCell, hall: string): Experiment[] {
  const out = cloneExperiments(exps);
  const done = new Set<Crystal>();
  const B = UnitCell.bMatrix(best);
  for (const e of out) {
    const c = e.crystal!;
    if (done.has(c)) continue;
    done.add(c);
    const Ap = CbOp.applyToA(cb, CrystalFns.A(c));
    const { U } = decomposeA(Ap);
    const A = Mat3.mul(U, B);
    const Ai = Mat3.inverse(A);
    c.realSpaceA = Mat3.row(Ai, 0); c.realSpaceB = Mat3.row(Ai, 1); c.realSpaceC = Mat3.row(Ai, 2);
    c.spaceGroupHall = hall;
    delete c.AAtScanPoints;
    delete c.BCovariance;
  }
  return out;
}

export function run(experiments: Experiment[], table: ReflectionTable, opts: BravaisOptions, source = 'indexed.refl'): StageResult<{ settings: RefinedSetting[] }> {
  const crystals = [...new Set(experiments.map((e) => e.crystal))];
  if (crystals.some((c) => !c)) throw new UserError('refine_bravais_settings needs indexed experiments (every experiment with a crystal)', 'not_indexed');
  const { data } = indexedObservations(table, experiments, source);
  const intensity = table.has('intensity.sum.value') ? selectIndexed(table, experiments.length, table.double('intensity.sum.value')) : null;
  const cell = UnitCell.fromA(CrystalFns.A(crystals[0]!));
  // one lattice only: several sweeps of one crystal (equal cells) are fine, several crystals are not
  for (const c of crystals.slice(1)) {
    if (!UnitCell.isSimilar(UnitCell.fromA(CrystalFns.A(c!)), cell, 0.01, 1)) {
      throw new UserError('refine_bravais_settings works on one lattice: these experiments hold crystals with different cells (split them, or index with max_lattices=1)', 'several_lattices');
    }
  }
  const settings = latticeSymmetry(cell, { maxDeltaDeg: opts.maxDeltaDeg, bestMonoclinicBeta: opts.bestMonoclinicBeta });
  if (settings.length === 0) throw new UserError('no Bravais setting found (not even P1): the cell is degenerate', 'no_lattice');
  // DIALS numbers solutions from the lowest symmetry (1 = aP) upwards
  const ordered = settings.slice().reverse();
  const results: RefinedSetting[] = [];
  ordered.forEach((s, k) => {
    const group = chiralLatticeGroup(s);
    const exps = experimentsInSetting(experiments, s.cbOp, s.bestCell, group.hall);
    const miller = CbOp.applyToHklArray(s.cbOp, data.miller);
    const d: RefinementData = { ...data, miller };
    const rots = properRotations(s.group.symOps);
    const W = rots.map((o) => Mat3.transpose(Mat3.from(o.rot)));
    // as in indexing, tilts the data cannot determine stay at their input values
    const refined = refineGeometry(exps, d, { maxTiltEsdMrad: 10, ...opts.refinement, cellOps: exps.map(() => W) });
    let s2 = 0, n = 0;
    for (const r of refined.rmsds) if (r.nref > 0) { s2 += (r.xMm ** 2 + r.yMm ** 2) * r.nref; n += r.nref; }
    const cc = intensity ? symmetryCorrelations(miller, intensity, rots) : { min: null, max: null };
    const c = refined.experiments[0].crystal!;
    results.push({
      settingId: k + 1, lattice: s.lattice, metricFitDeg: s.maxAngularDifferenceDeg, rmsd: Math.sqrt(s2 / n),
      minCC: s.lattice === 'aP' ? null : cc.min, maxCC: s.lattice === 'aP' ? null : cc.max, nSpots: n,
      unitCell: CrystalFns.unitCell(c), volume: CrystalFns.volume(c), cbOp: CbOp.toAbc(s.cbOp), recommended: false,
      experiments: refined.experiments,
    });
    opts.log.debug(`setting ${k + 1} ${s.lattice}: rmsd ${Math.sqrt(s2 / n).toFixed(4)} mm over ${n} reflections (${refined.history.reason})`);
  });
  const p1 = results.find((r) => r.lattice === 'aP');
  for (const r of results) r.recommended = r.metricFitDeg <= opts.maxDeltaDeg + 1e-9 && (!p1 || r.rmsd <= opts.rmsdRatio * p1.rmsd);
  const rows = results.slice().reverse().map((r) => [
    `${r.recommended ? '*' : ' '} ${String(r.settingId).padStart(6)}`, r.metricFitDeg.toFixed(4), r.rmsd.toFixed(3),
    r.minCC === null ? '-/-' : `${r.minCC.toFixed(3)}/${r.maxCC!.toFixed(3)}`, r.nSpots, r.lattice,
    r.unitCell.map((x) => x.toFixed(2).padStart(6)).join(' '), Math.round(r.volume), r.cbOp,
  ]);
  const text = formatTable(['Solution', 'Metric fit', 'rmsd', 'min/max cc', '#spots', 'lattice', 'unit_cell', 'volume', 'cb_op'], rows) + '\n* = recommended solution';
  const best = results.filter((r) => r.recommended).reduce<RefinedSetting | null>((a, r) => (a === null || r.settingId > a.settingId ? r : a), null);
  return {
    outputs: { settings: results },
    figures: {
      settings: results.map((r) => ({ settingId: r.settingId, lattice: r.lattice, recommended: r.recommended, rmsd: r.rmsd, metricFitDeg: r.metricFitDeg, cbOp: r.cbOp })) as unknown as number[],
      n_settings: results.length,
      recommended_lattice: best?.lattice ?? null,
      recommended_setting: best?.settingId ?? null,
    },
    tables: [{ title: 'Bravais settings', text }],
  };
}

/** A double column restricted to the rows `indexedObservations` keeps. */
function selectIndexed(table: ReflectionTable, nExp: number, col: Float64Array): Float64Array {
  const ids = table.int('id');
  const hkl = table.miller('miller_index');
  const out: number[] = [];
  for (let i = 0; i < table.nrows; i++) {
    if (ids[i] >= 0 && ids[i] < nExp && (hkl[3 * i] !== 0 || hkl[3 * i + 1] !== 0 || hkl[3 * i + 2] !== 0)) out.push(col[i]);
  }
  return Float64Array.from(out);
}

/** bravais_summary.json as DIALS writes it: one entry per solution id. */
function summaryJson(settings: readonly RefinedSetting[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    out[String(s.settingId)] = {
      bravais: s.lattice, cb_op: s.cbOp, max_angular_difference: s.metricFitDeg, rmsd: s.rmsd, min_cc: s.minCC, max_cc: s.maxCC,
      nspots: s.nSpots, unit_cell: s.unitCell, recommended: s.recommended,
    };
  }
  return out;
}

export const program: Program = {
  name: 'refine_bravais_settings',
  summary: 'Refine every Bravais setting consistent with the indexed lattice',
  usage: 'xtalflow refine_bravais_settings indexed.expt indexed.refl [lepage_max_delta=5] [best_monoclinic_beta=True] [detector.fix=distance]',
  params: PARAMS,
  async main(ctx) {
    const opts = optionsFrom(ctx.params, ctx.log);
    const { refl, experiments, reflections: table } = await readPair(ctx.files, 'refine_bravais_settings', 'indexed.expt indexed.refl');
    const result = run(experiments, table, opts, refl);
    for (const t of result.tables) ctx.log.info(t.text);
    const dir = path.resolve(String(ctx.params['output.directory'] ?? '.'));
    const prefix = String(ctx.params['output.prefix'] ?? '');
    await writeFileAtomic(path.join(dir, `${prefix}bravais_summary.json`), JSON.stringify(summaryJson(result.outputs.settings), null, 2) + '\n');
    ctx.log.info(`Saving summary as ${prefix}bravais_summary.json`);
    for (const s of result.outputs.settings.slice().reverse()) {
      const f = path.join(dir, `${prefix}bravais_setting_${s.settingId}.expt`);
      await writeExperiments(f, s.experiments);
      ctx.log.info(`Saving solution ${s.settingId} as ${path.basename(f)}`);
    }
    return { ...result, outputs: { settings: result.outputs.settings.map((s) => ({ ...s, experiments: undefined })) } };
  },
};
