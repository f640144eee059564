/**
 * Rule 3: which Bravais setting to continue with. The highest-symmetry setting that the Bravais
 * table recommends, stepped down while its refined RMSD exceeds `maxRmsdRatio` × the triclinic
 * RMSD; between settings of equal symmetry the refined RMSD decides. A user's space_group always wins (its lattice is taken, whatever the scores).
 */
import { decision, type Decision } from './decision.js';

export interface BravaisRow {
  settingId: number;
  /** Bravais symbol: aP mP mC mI oP oC oI oF tP tI hR hP cP cI cF */
  lattice: string;
  recommended: boolean;
  /** Refined RMSD (any unit, the same for every row). */
  rmsd: number;
  /** Le Page δ, degrees */
  metricFitDeg: number;
  cbOp: string;
}

/** Order of the lattice point group (holohedry), the measure of "higher symmetry". */
export const HOLOHEDRY_ORDER: Record<string, number> = {
  aP: 2, mP: 4, mC: 4, mI: 4, mA: 4, oP: 8, oC: 8, oA: 8, oI: 8, oF: 8,
  tP: 16, tI: 16, hR: 12, hP: 24, cP: 48, cI: 48, cF: 48,
};

export const MAX_RMSD_RATIO = 1.5;

export function chooseLattice(rows: readonly BravaisRow[], userLattice: string | null = null, maxRmsdRatio = MAX_RMSD_RATIO): Decision<BravaisRow | null> {
  const p1 = rows.find((r) => r.lattice === 'aP');
  const p1Rmsd = p1?.rmsd ?? Math.min(...rows.map((r) => r.rmsd));
  if (userLattice) {
    const matches = rows.filter((r) => r.lattice === userLattice).sort((a, b) => a.metricFitDeg - b.metricFitDeg);
    if (!matches.length) {
      return decision('lattice_choice', null, `the requested space group needs lattice ${userLattice}, which no Bravais setting offers`,
        { user_lattice: userLattice });
    }
    const r = matches[0];
    return decision('lattice_choice', r, `user space_group: lattice ${r.lattice} (setting ${r.settingId}, δ ${r.metricFitDeg.toFixed(2)}°)`,
      { rmsd: r.rmsd, rmsd_p1: p1Rmsd, metric_fit_deg: r.metricFitDeg });
  }
  const ordered = [...rows].sort((a, b) => (HOLOHEDRY_ORDER[b.lattice] ?? 0) - (HOLOHEDRY_ORDER[a.lattice] ?? 0) || a.rmsd - b.rmsd || a.metricFitDeg - b.metricFitDeg);
  const rejected: string[] = [];
  for (const r of ordered) {
    if (!r.recommended && r.lattice !== 'aP') continue;
    if (r.lattice !== 'aP' && r.rmsd > maxRmsdRatio * p1Rmsd) {
      rejected.push(`${r.lattice} (RMSD ${r.rmsd.toFixed(3)} > ${maxRmsdRatio}× P1 ${p1Rmsd.toFixed(3)})`);
      continue;
    }
    return decision('lattice_choice', r,
      `${r.lattice}: highest-symmetry recommended setting${rejected.length ? ', after rejecting ' + rejected.join(', ') : ''}; RMSD ${r.rmsd.toFixed(3)} vs P1 ${p1Rmsd.toFixed(3)}, δ ${r.metricFitDeg.toFixed(2)}°`,
      { rmsd: r.rmsd, rmsd_p1: p1Rmsd, ratio: r.rmsd / p1Rmsd, metric_fit_deg: r.metricFitDeg, setting: r.settingId });
  }
  return decision('lattice_choice', null, 'no Bravais setting (not even P1) is available', {});
}
