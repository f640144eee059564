/**
 * All settings the library knows by name: the 230 standard ones, origin choice 1, rhombohedral
 * axes, and the monoclinic and orthorhombic settings of International Tables A Table 4.3.2.1,
 * the latter derived from the standard one by the setting's change of basis (the symbol follows
 * by relabelling axes, the operators by transforming the Hall generators).
 */
import { CbOp } from './cbop.js';
import { ORIGIN_CHOICE_1, STANDARD_SETTINGS } from './tables.js';

export interface SettingEntry {
  readonly number: number;
  readonly ccp4: number;
  /** Extended Hermann–Mauguin symbol, e.g. `P 1 21 1`, `R 3 :H`, `P n n n :1`. */
  readonly hm: string;
  readonly hall: string;
  /** Change of basis from the reference (standard) setting (abc form); null when the entry is
   * standard or the change of basis is to be found by search. */
  readonly basisOp: string | null;
  /** First entry of its number: the reference setting. */
  readonly isReference: boolean;
}

/** Signed axis permutations (new axes in terms of old) for orthorhombic settings, ITA order. */
const ORTHO_SETTINGS = ['a,b,c', 'b,a,-c', 'c,a,b', '-c,b,a', 'b,c,a', 'a,-c,b'];

/**
 * Monoclinic settings relative to `unique axis b, cell choice 1` (the standard), by relabelling.
 */
const MONO_SETTINGS = ['c,a,b', 'b,c,a']; // unique axis c, a (cell choice 1)

function permSign(cb: string): { perm: number[]; ok: boolean } {
  const parts = cb.split(',').map((p) => p.replace('-', ''));
  const perm = parts.map((p) => 'abc'.indexOf(p));
  return { perm, ok: perm.every((x) => x >= 0) };
}

/**
 * Relabel an orthorhombic/monoclinic full HM symbol for a signed axis permutation: position i of
 * the new symbol describes new axis i = old axis perm[i]; glide letters and A/B/C centring letters
 * name axes and are renamed with them.
 */
function relabel(hm: string, cb: string): string | null {
  const { perm, ok } = permSign(cb);
  if (!ok) return null;
  const parts = hm.split(' ');
  if (parts.length !== 4) return null;
  // old axis letter -> new axis letter
  const rename: Record<string, string> = {};
  perm.forEach((old, i) => { rename['abc'[old]] = 'abc'[i]; });
  const renameCentring: Record<string, string> = {};
  perm.forEach((old, i) => { renameCentring['ABC'[old]] = 'ABC'[i]; });
  const lat = renameCentring[parts[0]] ?? parts[0];
  const comps = [parts[1 + perm[0]], parts[1 + perm[1]], parts[1 + perm[2]]].map((c) => c.replace(/[abc]/g, (ch) => rename[ch]));
  return [lat, ...comps].join(' ');
}

/** Full monoclinic HM symbol from the short table symbol (`P 1 2 1` style already). */
function buildEntries(): SettingEntry[] {
  const entries: SettingEntry[] = [];
  const seen = new Set<string>();
  const push = (e: SettingEntry) => {
    const k = e.hm.replace(/\s+/g, '');
    if (seen.has(k)) return;
    seen.add(k);
    entries.push(e.hm in CCP4_SETTING_NUMBERS ? { ...e, ccp4: CCP4_SETTING_NUMBERS[e.hm] } : e);
  };
  for (const [number, ccp4, hm, hall] of STANDARD_SETTINGS) push({ number, ccp4, hm, hall, basisOp: null, isReference: true });
  for (const [number, hm, hall] of ORIGIN_CHOICE_1) push({ number, ccp4: 0, hm, hall, basisOp: null, isReference: false });
  // rhombohedral axes: ITA's obverse relation between hexagonal and rhombohedral cells
  const RHOMBO = '-y+z,x+z,-x+y+z';
  for (const [number, ccp4, hm, hall] of STANDARD_SETTINGS) {
    if (!hm.endsWith(':H')) continue;
    const cb = CbOp.parse(RHOMBO);
    push({ number, ccp4: ccp4 ? 1000 + ccp4 : 0, hm: hm.replace(':H', ':R'), hall: `${hall} (${RHOMBO})`, basisOp: CbOp.toAbc(cb), isReference: false });
  }
  for (const [number, , hm, hall] of STANDARD_SETTINGS) {
    if (number >= 3 && number <= 15) {
      // b unique cell choices 2,3 need the monoclinic full symbol rebuilt: handled by the
      // explicit list below; here only axis relabellings.
      for (const cb of MONO_SETTINGS.slice(0, 2)) {
        const sym = relabel(hm, cb);
        if (!sym) continue;
        const c = CbOp.parse(cb);
        push({ number, ccp4: 0, hm: sym, hall: `${hall} (${CbOp.toXyz(c)})`, basisOp: CbOp.toAbc(c), isReference: false });
      }
    } else if (number >= 16 && number <= 74) {
      const base = hm.replace(/ :[12]$/, '');
      const suffix = hm.endsWith(':1') ? ' :1' : hm.endsWith(':2') ? ' :2' : '';
      for (const cb of ORTHO_SETTINGS.slice(1)) {
        const sym = relabel(base, cb);
        if (!sym) continue;
        const c = CbOp.parse(cb);
        push({ number, ccp4: 0, hm: sym + suffix, hall: `${hall} (${CbOp.toXyz(c)})`, basisOp: CbOp.toAbc(c), isReference: false });
      }
    }
  }
  for (const [number, hm, hall, cb] of MONO_CELL_CHOICES) push({ number, ccp4: 0, hm, hall, basisOp: cb, isReference: false });
  return entries;
}

/**
 * Monoclinic cell choices 2 and 3 (unique axis b) and a few c-unique settings, by Hall symbol.
 * Where cctbx/gemmi record the change of basis from the standard setting (I 1 2 1 = C 1 2 1
 * (a+c,b,c) …) it is given so that ASU and ISYM agree with those libraries; otherwise it is found by
 * search (spacegroup.ts).
 */
const MONO_CELL_CHOICES: readonly (readonly [number, string, string, string | null])[] = [
  [5, 'A 1 2 1', 'C 2y (z,y,-x)', 'c,b,-a'],
  [5, 'I 1 2 1', 'C 2y (x,y,-x+z)', 'a+c,b,c'],
  [5, 'B 1 1 2', 'C 2y (-x,z,y)', '-a,c,b'],
  [15, 'I 1 2/a 1', '-C 2yc (x+z,y,-x)', 'c,b,-a+c'],
  [4, 'P 1 1 21', 'P 2yb (z,x,y)', 'c,a,b'],
  [7, 'P 1 n 1', 'P -2yac', null],
  [7, 'P 1 a 1', 'P -2ya', null],
  [8, 'A 1 m 1', 'A -2y', null],
  [8, 'I 1 m 1', 'I -2y', null],
  [9, 'A 1 n 1', 'A -2yab', null],
  [9, 'I 1 a 1', 'I -2ya', null],
  [12, 'A 1 2/m 1', '-A 2y', null],
  [12, 'I 1 2/m 1', '-I 2y', null],
  [13, 'P 1 2/n 1', '-P 2yac', null],
  [13, 'P 1 2/a 1', '-P 2ya', null],
  [14, 'P 1 21/n 1', '-P 2yn', null],
  [14, 'P 1 21/a 1', '-P 2yab', null],
  [15, 'A 1 2/n 1', '-A 2yab', null],
  [8, 'B 1 1 m', 'B -2', null],
  [12, 'B 1 1 2/m', '-B 2', null],
];

/**
 * CCP4 numbers (symop.lib/syminfo.lib) of non-standard settings that MTZ files commonly carry; the
 * rhombohedral-axes settings get 1000 + number in buildEntries. Others have none (0).
 */
const CCP4_SETTING_NUMBERS: Record<string, number> = {
  'P 1 1 2': 1003, 'P 1 1 21': 1004, 'B 1 1 2': 1005, 'A 1 2 1': 2005, 'I 1 2 1': 4005,
  'P 1 21/n 1': 2014, 'P 21 2 21': 2018, 'P 2 21 21': 3018,
};

let cache: SettingEntry[] | null = null;
export function allSettings(): readonly SettingEntry[] {
  if (!cache) cache = buildEntries();
  return cache;
}
