/**
 * Experimental models: each name is both the plain-data type (fields as in DIALS' `.expt`) and a
 * namespace of pure functions over it (`Beam.s0(beam)`, `Panel.pixelToMm(panel, xy)` …).
 */
export type { PxMmStrategy, ImageSetRef } from './types.js';
export { Experiment, ExperimentList } from './experiment.js';
export { Beam } from './beam.js';
export { Panel, Detector } from './detector.js';
export { Goniometer } from './goniometer.js';
export { Scan } from './scan.js';
export { Crystal, type UnitCellParameters } from './crystal.js';
