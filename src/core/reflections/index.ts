export * from './table.js';
export * from './flags.js';
export * from './summary.js';
