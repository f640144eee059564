/** Locating test inputs whether tests run from test/ (tsx) or dist/test/ (compiled). */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { ROOT, HAVE_SHARED, SHARED_DATA } from '../../helpers/data.js';
export { ROOT };
export const REFL_DATA = path.join(ROOT, 'regression-data', 'refl');
/**
 * The shared data folder, or null when this machine does not have it (XTALFLOW_NO_SHARED=1
 * pretends it is absent, to check that the tests skip cleanly).
 */
export const SHARED = HAVE_SHARED ? SHARED_DATA : null;

export function regressionPath(name: string): string {
  return path.join(REFL_DATA, name);
}

/** Raw (decompressed) bytes of a gzipped regression .refl. */
export function regressionBytes(name: string): Uint8Array {
  return gunzipSync(readFileSync(regressionPath(name)));
}

export function referenceFigures(): Record<string, { rows: number; columns: string[]; ids: number[]; flag_counts: Record<string, number> }> {
  return JSON.parse(readFileSync(regressionPath('centroid_test_data.reference.json'), 'utf8')).figures;
}

/** Every *.refl below a folder. */
export function findRefl(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findRefl(p));
    else if (e.endsWith('.refl')) out.push(p);
  }
  return out;
}

/** Deterministic PRNG so fuzz failures can be replayed from the printed seed. */
export { mulberry32 as rng } from '../../../src/core/math/random.js';
