import { UserError } from '../errors.js';
import type { ReflectionTable } from './table.js';

/**
 * DIALS reflection `flags` bits (the std::size_t column `flags`).
 *
 * Values as DIALS itself reports them (`flex.reflection_table.flags`, DIALS 3.x run as a black
 * box; regression-data/refl/dials_flags.json), and consistent with the bit counts of every .refl
 * in the shared data: e.g. strong 5 on every spot-finder row, centroid_outlier 17 on the 16 126
 * outliers of dials.refine, excluded_for_refinement 25 on its unused rows, the scaling
 * exclusions 22–24 in DIALS-scaled tables. DIALS calls bit 11 `overlapped_bg`; `overlapped` is
 * kept as the same bit.
 */
export const Flags = {
  predicted: 1 << 0,
  observed: 1 << 1,
  indexed: 1 << 2,
  used_in_refinement: 1 << 3,
  strong: 1 << 5,
  reference_spot: 1 << 6,
  dont_integrate: 1 << 7,
  integrated_sum: 1 << 8,
  integrated_prf: 1 << 9,
  integrated: (1 << 8) | (1 << 9),
  overloaded: 1 << 10,
  overlapped_bg: 1 << 11,
  overlapped: 1 << 11,
  overlapped_fg: 1 << 12,
  in_powder_ring: 1 << 13,
  foreground_includes_bad_pixels: 1 << 14,
  background_includes_bad_pixels: 1 << 15,
  includes_bad_pixels: (1 << 14) | (1 << 15),
  /** overloaded | overlapped_bg | overlapped_fg | in_powder_ring | includes_bad_pixels */
  bad_shoebox: 0xfc00,
  bad_spot: 0xfc00,
  used_in_modelling: 1 << 16,
  centroid_outlier: 1 << 17,
  failed_during_background_modelling: 1 << 18,
  failed_during_summation: 1 << 19,
  failed_during_profile_fitting: 1 << 20,
  bad_reference: 1 << 21,
  user_excluded_in_scaling: 1 << 22,
  outlier_in_scaling: 1 << 23,
  excluded_for_scaling: 1 << 24,
  bad_for_scaling: (1 << 22) | (1 << 23) | (1 << 24),
  excluded_for_refinement: 1 << 25,
  /** centroid_outlier | excluded_for_refinement */
  bad_for_refinement: (1 << 17) | (1 << 25),
  scaled: 1 << 26,
} as const;

export type FlagName = keyof typeof Flags;

/**
 * Low 32 bits of a flags value. Every DIALS bit lives there; values ≥ 2^31 do not fit JS's
 * signed bitwise operators, hence `>>> 0` (ToUint32 is exact for integers below 2^53).
 */
function low32(v: number): number {
  return v >>> 0;
}

/** Does row i carry all bits of f? */
export function hasFlag(flags: Float64Array, i: number, f: number): boolean {
  return ((low32(flags[i]) & f) >>> 0) === f >>> 0;
}

/** Does row i carry any bit of f? */
export function hasAnyFlag(flags: Float64Array, i: number, f: number): boolean {
  return (low32(flags[i]) & f) !== 0;
}

function flagsColumn(table: ReflectionTable, create: boolean): Float64Array {
  if (!table.has('flags')) {
    if (!create) throw new UserError("reflection table has no 'flags' column", 'missing_column');
    table.setSizeT('flags', new Float64Array(table.nrows));
  }
  return table.sizeT('flags');
}

function checkMask(table: ReflectionTable, mask: Uint8Array | readonly boolean[]): void {
  if (mask.length !== table.nrows) throw new RangeError(`flags: mask has ${mask.length} entries for ${table.nrows} rows`);
}

/** Set bits f on the rows where mask is true (creates a zero `flags` column if absent). */
export function setFlags(table: ReflectionTable, mask: Uint8Array | readonly boolean[], f: number): void {
  checkMask(table, mask);
  const flags = flagsColumn(table, true);
  for (let i = 0; i < flags.length; i++) {
    if (!mask[i]) continue;
    const v = flags[i], lo = low32(v);
    flags[i] = v - lo + ((lo | f) >>> 0);
  }
}

/** Clear bits f on the rows where mask is true. */
export function unsetFlags(table: ReflectionTable, mask: Uint8Array | readonly boolean[], f: number): void {
  checkMask(table, mask);
  if (!table.has('flags')) return;
  const flags = table.sizeT('flags');
  for (let i = 0; i < flags.length; i++) {
    if (!mask[i]) continue;
    const v = flags[i], lo = low32(v);
    flags[i] = v - lo + ((lo & ~f) >>> 0);
  }
}

/** Mask of rows having all bits of f (DIALS' get_flags(f, all=True)). */
export function selectFlags(table: ReflectionTable, f: number): Uint8Array {
  const flags = flagsColumn(table, false);
  const out = new Uint8Array(flags.length);
  const want = f >>> 0;
  for (let i = 0; i < flags.length; i++) out[i] = ((low32(flags[i]) & want) >>> 0) === want ? 1 : 0;
  return out;
}

/** Mask of rows having any bit of f (DIALS' get_flags(f, all=False)). */
export function selectAnyFlags(table: ReflectionTable, f: number): Uint8Array {
  const flags = flagsColumn(table, false);
  const out = new Uint8Array(flags.length);
  for (let i = 0; i < flags.length; i++) out[i] = (low32(flags[i]) & f) !== 0 ? 1 : 0;
  return out;
}

/** Number of rows having all bits of f. */
export function countFlags(table: ReflectionTable, f: number): number {
  const m = selectFlags(table, f);
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i];
  return n;
}

/** Names of the single-bit flags set in a value, for logs and debugging. */
export function flagNames(v: number): FlagName[] {
  const lo = low32(v);
  return (Object.keys(Flags) as FlagName[]).filter((k) => {
    const f = Flags[k];
    return (f & (f - 1)) === 0 && (lo & f) !== 0; // single bits only
  });
}
