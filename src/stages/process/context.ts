/**
 * What the process machine knows: the figures each step measured, the decisions taken from them,
 * and the files the chain has reached. Everything here is plain JSON so it can be persisted.
 */
import type { Decision } from '../../strategies/decision.js';
import type { IndexingAttempt, IndexingOutcome } from '../../strategies/indexing.js';
import type { IndexingRmsds } from '../../strategies/rotation-axis.js';
import type { BravaisRow } from '../../strategies/lattice.js';
import type { AbsorptionLevel } from '../../strategies/absorption.js';

export type StepName =
  | 'import' | 'find_spots' | 'index' | 'index_inverted' | 'refine_bravais_settings' | 'reindex' | 'refine'
  | 'integrate' | 'symmetry' | 'cosym' | 'scale' | 'estimate_resolution' | 'rescale' | 'merge' | 'export' | 'report';

export type Figures = Record<string, unknown>;

/** Where the chain's data currently are (paths relative to the working directory). */
export interface ChainFiles {
  experiments?: string;
  reflections?: string;
  [name: string]: string | undefined;
}

/** What one step returns to the machine. */
export interface StepResult {
  figures: Figures;
  files: ChainFiles;
  tables?: { title: string; text: string }[];
  warnings?: string[];
}

/** What the machine asks of a step. */
export interface StepRequest {
  step: StepName;
  /** Unique, deterministic key of this invocation (`index#2`), used by the journal to replay. */
  key: string;
  files: ChainFiles;
  /** Parameter assignments for the stage, beyond the user's pass-through ones. */
  params: Record<string, string | number | boolean>;
  /** The machine's context as the step starts (given to the report step, which describes the run). */
  context?: ProcessContext;
}

export type EntryPoint = 'import' | 'find_spots' | 'index';

export interface ProcessContext {
  entry: EntryPoint;
  files: ChainFiles;
  /** Parameters of the process program (d_min, space_group, multi_crystal …). */
  options: {
    spaceGroup: string | null;
    unitCell: number[] | null;
    lattice: string | null;
    dMin: number | null;
    anomalous: boolean;
    multiCrystal: 'auto' | 'true' | 'false';
    ccHalf: number;
    absorptionLevel: AbsorptionLevel | null;
    stopAfter: StepName | null;
    minIndexedPercent: number;
  };
  stepCounts: Record<string, number>;
  /** Figures by step key, in the order they were measured. */
  figures: Record<string, Figures>;
  tables: { step: string; title: string; text: string }[];
  decisions: Decision<unknown>[];
  warnings: string[];
  indexing: {
    attempt: IndexingAttempt;
    history: IndexingOutcome[];
    joint: boolean;
    axis: 'original' | 'inverted';
    rmsds: { original?: IndexingRmsds; inverted?: IndexingRmsds };
    /** Files of the solution with the axis as imported, kept while the inverted one is tried. */
    originalFiles?: ChainFiles;
  };
  multiCrystal: boolean | null;
  lattice: BravaisRow | null;
  scanVarying: boolean | null;
  absorptionLevel: AbsorptionLevel | null;
  resolutionCut: number | null;
  failure: string | null;
  lastStep: StepName | null;
}
