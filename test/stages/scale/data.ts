/** Loads the stripped l-cysteine set shipped in regression-data/scaling (see make_l_cysteine.ts). */
import { decodeRefl } from '../../../src/core/io/refl.js';
import { experimentsFromJson } from '../../../src/core/io/expt.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { medianCell, type Dataset } from '../../../src/core/stats/dataset.js';
import { SpaceGroup } from '../../../src/core/symmetry/spacegroup.js';

import { readMaybeGz, regressionData } from '../../helpers/data.js';

export function loadLCysteineRegression(): Dataset {
  const reflections = decodeRefl(readMaybeGz(regressionData('scaling', 'l_cysteine.refl.gz')), 'l_cysteine.refl.gz');
  const experiments = experimentsFromJson(JSON.parse(readMaybeGz(regressionData('scaling', 'l_cysteine.expt.json.gz')).toString('utf8')), { source: 'l_cysteine.expt.json.gz' });
  const cell = medianCell(experiments.map((e) => Crystal.unitCell(e.crystal!)));
  return { experiments, reflections, cell, spaceGroup: SpaceGroup.fromHall(experiments[0].crystal!.spaceGroupHall), d: Float64Array.from(reflections.double('d')) };
}
