/**
 * Test inputs for the model, geometry and `.expt` tests: small real files copied into
 * regression-data/expt (gzip where large) and, when present, the full shared data set.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readExperiments } from '../../../src/core/io/expt.js';
import type { ExperimentList } from '../../../src/core/models/types.js';

import { repoRoot, SHARED_DATA, HAVE_SHARED } from '../../helpers/data.js';
export { repoRoot, SHARED_DATA, HAVE_SHARED };

export const REGRESSION_DIR = path.join(repoRoot(), 'regression-data', 'expt');

let scratch: string | undefined;
/** A private temporary directory for this test process. */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'xtalflow-expt-test-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

/** Path of a regression file, gunzipped into the scratch directory when stored as .gz. */
export function regressionFile(name: string): string {
  const p = path.join(REGRESSION_DIR, name);
  if (!name.endsWith('.gz')) return p;
  const out = path.join(scratchDir(), name.slice(0, -3));
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(p)));
  return out;
}

export function loadExpt(name: string): Promise<ExperimentList> {
  return readExperiments(regressionFile(name));
}

/**
 * A DIALS reflection-table excerpt saved as JSON: `rows`, `source`, and per column a flat number
 * array (3 numbers per row for vectors). Columns are typed loosely since names vary per file.
 */
export interface SpotExcerpt {
  source: string;
  rows: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [column: string]: any;
}

export function loadSpots(name: string): SpotExcerpt {
  return JSON.parse(gunzipSync(readFileSync(path.join(REGRESSION_DIR, name))).toString('utf8'));
}

export const REGRESSION_EXPT = [
  'centroid_imported.expt', 'centroid_indexed.expt', 'centroid_experiments_old.expt', 'myd88_imported.expt',
  'experiments_004.json', 'wedge_sweep_003.expt', 'lysozyme_ground_truth.expt', 'lysozyme_refined.expt.gz',
  'lysozyme_scaled.expt.gz', 'lcys_20_integrated.expt.gz', 'lysozyme_indexed.expt',
];
