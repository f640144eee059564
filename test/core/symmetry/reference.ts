/** Loads the cctbx/gemmi fact table shipped in regression-data (gzipped copy of shared reference). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export { repoRoot } from '../../helpers/data.js';
import { repoRoot } from '../../helpers/data.js';

export interface RefReflection { hkl: [number, number, number]; absent: boolean; centric: boolean; epsilon: number; ccp4_asu: [number, number, number]; isym: number }
export interface RefGroup {
  number: number; hm: string; hall: string; universal_hm: string; operators: string[]; n_ops: number; centring: string;
  point_group: string; laue_group: string; patterson_group: string; is_chiral: boolean; is_centric: boolean;
  enantiomorph: string | null; gemmi_hm: string; ccp4_number: number; reflections: RefReflection[];
}
export interface RefSetting { lattice: string; max_angular_difference: number; cb_op_inp_best: string; best_cell: number[]; best_group: string }
export interface Reference {
  hkl_list: number[][];
  space_groups: RefGroup[];
  extra_settings: RefGroup[];
  niggli: { input: number[]; niggli: number[]; volume: number }[];
  bravais_settings: { input_cell: number[]; settings: RefSetting[] }[];
}

let cached: Reference | null = null;
export function loadReference(): Reference {
  if (!cached) {
    const file = path.join(repoRoot(), 'regression-data', 'symmetry', 'space_groups.json.gz');
    cached = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Reference;
  }
  return cached;
}
