export * from './decision.js';
export * from './indexing.js';
export * from './rotation-axis.js';
export * from './lattice.js';
export * from './refinement.js';
export * from './absorption.js';
export * from './resolution.js';
export * from './multi-crystal.js';
