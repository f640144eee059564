/**
 * The tables and the resolution cut of a Laue-group analysis, shared by `symmetry` (one dataset)
 * and `cosym` (many): element and subgroup scores as dials.symmetry prints them.
 */
import { equalCountBinIndex } from '../stats/binning.js';
import { fmt, formatTable } from '../table.js';
import type { ElementScore, SubgroupScore } from './scoring.js';
import type { Setting } from './lattice.js';

/** ⟨I⟩/⟨σ⟩ in equal-count shells: the d of the outermost shell (from low resolution) still above the limit. */
export function autoDMin(d: Float64Array, I: Float64Array, sigma: Float64Array, limit: number, nShells = 20): number | null {
  const { bin, n } = equalCountBinIndex(d, Math.min(nShells, Math.max(1, Math.floor(d.length / 50))));
  const sI = new Float64Array(n), sS = new Float64Array(n), dmin = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < d.length; i++) { sI[bin[i]] += I[i]; sS[bin[i]] += sigma[i]; dmin[bin[i]] = Math.min(dmin[bin[i]], d[i]); }
  let cut: number | null = null;
  for (let b = 0; b < n; b++) {
    if (sI[b] / sS[b] < limit) { cut = b === 0 ? null : dmin[b - 1]; break; }
  }
  return cut;
}

function stars(l: number): string { return l > 0.9 ? '***' : l > 0.7 ? '**' : l > 0.5 ? '*' : ''; }

export function elementTable(scores: readonly ElementScore[]): string {
  return formatTable(['likelihood', 'Z-CC', 'CC', 'N', '', 'Operator'], scores.map((s) => [
    fmt(s.likelihood, 3), fmt(s.z, 2), fmt(s.cc, 2), s.n, stars(s.likelihood), `${s.element.order} |(${s.element.axis.join(', ')})`,
  ]), { align: ['r', 'r', 'r', 'r', 'l', 'l'] });
}

export function subgroupTable(subs: readonly (SubgroupScore & { setting: Setting; reindexFromMinimum: string })[]): string {
  return formatTable(['Patterson group', '', 'Likelihood', 'NetZcc', 'Zcc+', 'Zcc-', 'CC', 'CC-', 'delta', 'Reindex operator'], subs.map((s, i) => [
    s.setting.patterson.hm, i === 0 ? '***' : '', fmt(s.likelihood, 3), fmt(s.netZcc, 2), fmt(s.zccPlus, 2), fmt(s.zccMinus, 2), fmt(s.ccPlus, 2), fmt(s.ccMinus, 2), fmt(s.deltaDeg, 1), s.reindexFromMinimum,
  ]), { align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'] });
}
