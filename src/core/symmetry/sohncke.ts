/**
 * Sohncke (chiral-compatible) space groups per Bravais lattice: the groups a macromolecular crystal
 * can have once its lattice is known, as dials.refine_bravais_settings lists them
 * ("Chiral space groups corresponding to each Bravais lattice:", short symbols without spaces,
 * in space-group-number order; the mI lattice in the I 1 2 1 setting).
 */
import { ParameterError } from '../errors.js';
import { centringType, isSohncke, SpaceGroup, type SpaceGroup as SG } from './spacegroup.js';

/** Crystal-family letter of a standard space group number (a m o t h c). */
export function crystalFamilyLetter(number: number): string {
  if (number <= 2) return 'a';
  if (number <= 15) return 'm';
  if (number <= 74) return 'o';
  if (number <= 142) return 't';
  if (number <= 194) return 'h';
  return 'c';
}

/** Bravais lattice symbol of a group (or any symbol `SpaceGroup.find` reads), e.g. `mC`, `hR`, `cF`. */
export function bravaisLatticeOf(group: SG | string): string {
  const sg = typeof group === 'string' ? SpaceGroup.find(group) : group;
  if (!sg.number) throw new ParameterError(`space group ${sg.hall || sg.hm}: not one of the 230 types in a known setting`);
  const ref = SpaceGroup.fromNumber(sg.number);
  const c = centringType(ref);
  return crystalFamilyLetter(ref.number) + (c === 'A' || c === 'B' ? 'C' : c);
}

/** Short symbol: spaces and the '1' placeholders of monoclinic full symbols removed (`P 1 21 1` → `P21`). */
export function shortSymbol(hm: string): string {
  const parts = hm.split(' ');
  if (parts.length === 4 && parts[1] === '1' && parts[3] === '1') return parts[0] + parts[2];
  if (parts.length === 4 && parts[1] === '1' && parts[2] === '1') return parts[0] + parts[3];
  return hm.replace(/\s+/g, '');
}

const VALID = ['aP', 'mP', 'mC', 'mI', 'oP', 'oC', 'oI', 'oF', 'tP', 'tI', 'hP', 'hR', 'cP', 'cI', 'cF'];

/** Sohncke groups compatible with a Bravais lattice symbol (mI gives the I-centred monoclinic setting). */
export function sohnckeGroupsFor(lattice: string): SG[] {
  if (!VALID.includes(lattice)) throw new ParameterError(`'${lattice}' is not a Bravais lattice symbol (${VALID.join(' ')})`);
  const want = lattice === 'mI' ? 'mC' : lattice;
  const out: SG[] = [];
  for (let n = 1; n <= 230; n++) {
    const sg = SpaceGroup.fromNumber(n);
    if (!isSohncke(sg) || bravaisLatticeOf(sg) !== want) continue;
    out.push(lattice === 'mI' ? SpaceGroup.fromHM(sg.hm.replace(/^C/, 'I')) : sg);
  }
  return out;
}

/** The dials.refine_bravais_settings block, one line per lattice in the order given. */
export function chiralGroupsTable(lattices: readonly string[]): string {
  const lines = ['Chiral space groups corresponding to each Bravais lattice:'];
  const seen = new Set<string>();
  for (const l of lattices) {
    if (seen.has(l)) continue;
    seen.add(l);
    lines.push(`${l}: ${sohnckeGroupsFor(l).map((g) => shortSymbol(g.hm)).join(' ')}`);
  }
  return lines.join('\n');
}
