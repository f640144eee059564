/**
 * Where test data live, the same whether tests run from test/ (tsx) or dist/test/ (compiled):
 * `regression-data/` in the repository (always there), and the shared data set beside the
 * checkout (`../shared/data`, or $XTALFLOW_SHARED_DATA) when present. Tests that need the shared
 * data skip when `HAVE_SHARED` is false; XTALFLOW_NO_SHARED=1 simulates its absence.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) || path.basename(d) === 'dist') {
    const up = path.dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
}

export const ROOT = repoRoot();

export function regressionData(...parts: string[]): string {
  return path.join(ROOT, 'regression-data', ...parts);
}

export const SHARED_DATA = process.env.XTALFLOW_SHARED_DATA ?? path.resolve(ROOT, '..', 'shared', 'data');
export const HAVE_SHARED = !process.env.XTALFLOW_NO_SHARED && existsSync(path.join(SHARED_DATA, 'README.md'));

/** A file of the shared data set, or null when the set is absent. */
export function sharedData(...parts: string[]): string | null {
  return HAVE_SHARED ? path.join(SHARED_DATA, ...parts) : null;
}

/** File contents, gunzipped when the name ends in .gz. */
export function readMaybeGz(p: string): Buffer {
  const b = readFileSync(p);
  return p.endsWith('.gz') ? gunzipSync(b) : b;
}
