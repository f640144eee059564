/**
 * The xtalflow expert system as one XState v5 machine. Read it top to bottom as the strategy:
 * states are the programs of the chain, transient states apply the decision rules of
 * src/strategies to the figures the steps measured, and the context keeps every figure and
 * decision for the report. Steps run through the `step` actor, which `createProcessMachine`
 * binds to a runner (the real stages, a journal replay, or a test double).
 */
import { assign, fromPromise, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import type { ProcessContext, StepName, StepRequest, StepResult, ChainFiles } from './context.js';
import {
  FIRST_ATTEMPT, nextIndexingAttempt, shouldTrySecondLattice, keepExtraLattices, type IndexingOutcome,
} from '../../strategies/indexing.js';
import { shouldTryInvertedAxis, chooseRotationAxis, type IndexingRmsds } from '../../strategies/rotation-axis.js';
import { chooseLattice, type BravaisRow } from '../../strategies/lattice.js';
import { useScanVarying } from '../../strategies/refinement.js';
import { chooseAbsorptionLevel } from '../../strategies/absorption.js';
import { chooseResolutionCut } from '../../strategies/resolution.js';
import { chooseMultiCrystal, indexSeparatelyAfterJointFailure, jointIndexingConsistent } from '../../strategies/multi-crystal.js';
import type { Decision } from '../../strategies/decision.js';

export type StepRunner = (request: StepRequest) => Promise<StepResult>;

export interface ProcessInput {
  entry: ProcessContext['entry'];
  files: ChainFiles;
  options: ProcessContext['options'];
  /** Figures known before the first step (e.g. `import#0` measured from a given imported.expt). */
  figures?: ProcessContext['figures'];
}

export function initialContext(input: ProcessInput): ProcessContext {
  return {
    entry: input.entry,
    files: input.files,
    options: input.options,
    stepCounts: {},
    figures: input.figures ?? {},
    tables: [],
    decisions: [],
    warnings: [],
    indexing: { attempt: FIRST_ATTEMPT, history: [], joint: true, axis: 'original', rmsds: {} },
    multiCrystal: input.options.multiCrystal === 'true' ? true : null,
    lattice: null,
    scanVarying: null,
    absorptionLevel: null,
    resolutionCut: null,
    failure: null,
    lastStep: null,
  };
}

// ---- figures → rule inputs (the step's figure names are the contract with the stages) ----

const num = (x: unknown, d = NaN): number => (typeof x === 'number' && Number.isFinite(x) ? x : d);
const lastFigures = (c: ProcessContext, step: StepName) => {
  const n = c.stepCounts[step] ?? 0;
  return c.figures[`${step}#${n}`] ?? {};
};

function indexingOutcome(c: ProcessContext): IndexingOutcome {
  const f = lastFigures(c, 'index');
  const perLattice = Array.isArray(f.indexed_per_lattice) ? (f.indexed_per_lattice as number[]) : [];
  return {
    attempt: c.indexing.attempt,
    failure: typeof f.failure === 'string' ? f.failure : null,
    percentIndexed: num(f.percent_indexed, 0),
    indexedPerLattice: perLattice,
    nSpots: num(f.n_spots, 0),
  };
}

function rmsdsOf(f: Record<string, unknown>): IndexingRmsds {
  return { rmsdX: num(f.rmsd_x_px), rmsdY: num(f.rmsd_y_px), rmsdZ: num(f.rmsd_z_images), percentIndexed: num(f.percent_indexed, 0) };
}

function userLattice(c: ProcessContext): string | null {
  return c.options.lattice;
}

function withDecision(c: ProcessContext, d: Decision<unknown>): Decision<unknown>[] {
  return [...c.decisions, d];
}

/** Request for the next invocation of a step (counts invocations so journal keys are deterministic). */
function request(c: ProcessContext, step: StepName, params: StepRequest['params'] = {}): StepRequest {
  const n = (c.stepCounts[step] ?? 0) + 1;
  return { step, key: `${step}#${n}`, files: c.files, params };
}

function recordStep(c: ProcessContext, step: StepName, r: StepResult): Partial<ProcessContext> {
  const n = (c.stepCounts[step] ?? 0) + 1;
  const key = `${step}#${n}`;
  return {
    stepCounts: { ...c.stepCounts, [step]: n },
    figures: { ...c.figures, [key]: r.figures },
    tables: [...c.tables, ...(r.tables ?? []).map((t) => ({ step: key, ...t }))],
    warnings: [...c.warnings, ...(r.warnings ?? [])],
    files: { ...c.files, ...r.files },
    lastStep: step,
  };
}

/** A failed index attempt is an outcome the ladder reasons about, not a crash. */
function recordIndexFailure(c: ProcessContext, error: unknown): Partial<ProcessContext> {
  const n = (c.stepCounts.index ?? 0) + 1;
  const code = (error as { code?: string })?.code ?? 'error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    stepCounts: { ...c.stepCounts, index: n },
    figures: { ...c.figures, [`index#${n}`]: { failure: code, message, percent_indexed: 0 } },
    lastStep: 'index',
  };
}

const stopsAfter = (step: StepName) => ({ context }: { context: ProcessContext }) => context.options.stopAfter === step;

export const processMachine = setup({
  types: {
    context: {} as ProcessContext,
    input: {} as ProcessInput,
  },
  actors: {
    step: fromPromise<StepResult, StepRequest>(async () => {
      throw new Error('no step runner bound: use createProcessMachine(runner)');
    }),
  },
  actions: {
    stepDone: assign(({ context, event }, params: { step: StepName }) =>
      recordStep(context, params.step, (event as unknown as DoneActorEvent<StepResult>).output)),
    stepFailed: assign(({ event }, params: { step: StepName }) => {
      const err = (event as unknown as ErrorActorEvent).error;
      const msg = err instanceof Error ? err.message : String(err);
      return { failure: `${params.step}: ${msg}`, lastStep: params.step };
    }),
  },
  guards: {
    enterAtIndex: ({ context }) => context.entry === 'index',
    enterAtFindSpots: ({ context }) => context.entry === 'find_spots',
    indexFailedAndLadderGoesOn: ({ context }) =>
      indexingOutcome(context).failure !== null && nextIndexingAttempt(context.indexing.history, !!context.options.unitCell).choice !== null,
    indexFailed: ({ context }) => indexingOutcome(context).failure !== null,
    jointIndexingFailedOnSeveralSweeps: ({ context }) =>
      indexingOutcome(context).failure !== null && context.indexing.joint &&
      num(lastFigures(context, 'import').n_sweeps, 1) > 1 && context.options.multiCrystal !== 'false',
    severalCrystalsJointlyIndexed: ({ context }) => {
      if (!context.indexing.joint || context.multiCrystal === false) return false;
      const f = lastFigures(context, 'index');
      const per = Array.isArray(f.percent_indexed_per_sweep) ? (f.percent_indexed_per_sweep as number[]) : [];
      return per.length > 1 && (context.multiCrystal === true || !jointIndexingConsistent(per));
    },
    lowIndexingRate: ({ context }) => shouldTrySecondLattice(indexingOutcome(context), context.options.minIndexedPercent).choice,
    axisSuspicious: ({ context }) =>
      context.indexing.axis === 'original' && context.indexing.rmsds.inverted === undefined &&
      shouldTryInvertedAxis(rmsdsOf(lastFigures(context, 'index'))).choice,
    isMultiCrystal: ({ context }) => context.multiCrystal === true,
    noLattice: ({ context }) => context.lattice === null,
    latticeIsTriclinicSetting: ({ context }) => context.lattice?.lattice === 'aP' && (context.lattice?.cbOp ?? 'a,b,c') === 'a,b,c',
    resolutionCutChosen: ({ context }) => context.resolutionCut !== null,
    stopAfterImport: stopsAfter('import'),
    stopAfterFindSpots: stopsAfter('find_spots'),
    stopAfterIndex: stopsAfter('index'),
    stopAfterRefine: stopsAfter('refine'),
    stopAfterIntegrate: stopsAfter('integrate'),
    stopAfterScale: stopsAfter('scale'),
  },
}).createMachine({
  id: 'xtalflow',
  context: ({ input }) => initialContext(input),
  initial: 'start',
  states: {
    start: {
      always: [
        { guard: 'enterAtIndex', target: 'index' },
        { guard: 'enterAtFindSpots', target: 'findSpots' },
        { target: 'import' },
      ],
    },

    import: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'import'),
        onDone: [{ guard: 'stopAfterImport', target: 'report', actions: { type: 'stepDone', params: { step: 'import' } } }, { target: 'findSpots', actions: { type: 'stepDone', params: { step: 'import' } } }],
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'import' } } },
      },
    },

    findSpots: {
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'find_spots', context.indexing.attempt.relaxedSpots ? { sigma_strong: 2, min_spot_size: 2 } : {}),
        onDone: [
          { guard: 'stopAfterFindSpots', target: 'report', actions: { type: 'stepDone', params: { step: 'find_spots' } } },
          { target: 'index', actions: { type: 'stepDone', params: { step: 'find_spots' } } },
        ],
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'find_spots' } } },
      },
    },

    // Rule 1 (indexing ladder, second lattice) and rule 7 (several crystals) act on every attempt.
    index: {
      invoke: {
        src: 'step',
        input: ({ context }) => {
          const a = context.indexing.attempt;
          return request(context, 'index', {
            'indexing.method': a.method,
            max_lattices: a.maxLattices,
            joint: context.indexing.joint,
            ...(a.maxCellFactor !== 1 ? { max_cell_factor: a.maxCellFactor } : {}),
          });
        },
        onDone: { target: 'afterIndex', actions: { type: 'stepDone', params: { step: 'index' } } },
        onError: { target: 'afterIndex', actions: assign(({ context, event }) => recordIndexFailure(context, event.error)) },
      },
    },
    afterIndex: {
      entry: assign(({ context }) => ({
        indexing: { ...context.indexing, history: [...context.indexing.history, indexingOutcome(context)] },
      })),
      always: [
        {
          guard: 'jointIndexingFailedOnSeveralSweeps',
          target: 'index',
          actions: assign(({ context }) => {
            const d = indexSeparatelyAfterJointFailure(num(lastFigures(context, 'import').n_sweeps, 1), context.options.multiCrystal, indexingOutcome(context).failure ?? '');
            return { decisions: withDecision(context, d), multiCrystal: true, indexing: { ...context.indexing, joint: false, attempt: FIRST_ATTEMPT, history: [] } };
          }),
        },
        {
          guard: 'indexFailedAndLadderGoesOn',
          target: 'retrySpots',
          actions: assign(({ context }) => {
            const d = nextIndexingAttempt(context.indexing.history, !!context.options.unitCell);
            return { decisions: withDecision(context, d), indexing: { ...context.indexing, attempt: d.choice! } };
          }),
        },
        {
          guard: 'indexFailed',
          target: 'failed',
          actions: assign(({ context }) => {
            const d = nextIndexingAttempt(context.indexing.history, !!context.options.unitCell);
            const f = lastFigures(context, 'index');
            return { decisions: withDecision(context, d), failure: `index: ${String(f.message ?? f.failure)}` };
          }),
        },
        {
          guard: 'severalCrystalsJointlyIndexed',
          target: 'index',
          actions: assign(({ context }) => {
            const f = lastFigures(context, 'index');
            const d = chooseMultiCrystal({
              user: context.options.multiCrystal, nSweeps: (f.percent_indexed_per_sweep as number[]).length,
              jointIndexingConsistent: false, percentIndexedPerSweep: f.percent_indexed_per_sweep as number[],
            });
            return { decisions: withDecision(context, d), multiCrystal: true, indexing: { ...context.indexing, joint: false } };
          }),
        },
        {
          guard: 'lowIndexingRate',
          target: 'index',
          actions: assign(({ context }) => {
            const d = shouldTrySecondLattice(indexingOutcome(context), context.options.minIndexedPercent);
            return { decisions: withDecision(context, d), indexing: { ...context.indexing, attempt: { ...context.indexing.attempt, maxLattices: 2 } } };
          }),
        },
        {
          target: 'axisCheck',
          actions: assign(({ context }) => {
            const o = indexingOutcome(context);
            const decisions: Decision<unknown>[] = [];
            if (o.attempt.maxLattices > 1) decisions.push(keepExtraLattices(o));
            if (context.multiCrystal === null) {
              const f = lastFigures(context, 'index');
              const per = Array.isArray(f.percent_indexed_per_sweep) ? (f.percent_indexed_per_sweep as number[]) : [o.percentIndexed];
              decisions.push(chooseMultiCrystal({ user: context.options.multiCrystal, nSweeps: per.length, jointIndexingConsistent: jointIndexingConsistent(per), percentIndexedPerSweep: per }));
            }
            return {
              decisions: [...context.decisions, ...decisions],
              multiCrystal: context.multiCrystal ?? false,
              indexing: { ...context.indexing, rmsds: { ...context.indexing.rmsds, original: rmsdsOf(lastFigures(context, 'index')) } },
            };
          }),
        },
      ],
    },
    // A relaxed attempt needs spots found again; the others reuse strong.refl.
    retrySpots: {
      always: [
        { guard: ({ context }) => context.indexing.attempt.relaxedSpots && context.entry !== 'index', target: 'findSpots' },
        { target: 'index' },
      ],
    },

    // Rule 2: a poor RMSD_Z suggests the rotation axis runs the other way.
    axisCheck: {
      always: [
        {
          guard: 'axisSuspicious', target: 'indexInverted',
          actions: assign(({ context }) => ({
            decisions: withDecision(context, shouldTryInvertedAxis(rmsdsOf(lastFigures(context, 'index')))),
            indexing: { ...context.indexing, originalFiles: context.files },
          })),
        },
        { target: 'afterAxis' },
      ],
    },
    indexInverted: {
      invoke: {
        src: 'step',
        input: ({ context }) => {
          const a = context.indexing.attempt;
          return request(context, 'index_inverted', { 'indexing.method': a.method, max_lattices: a.maxLattices, joint: context.indexing.joint });
        },
        onDone: {
          target: 'afterAxis',
          actions: [
            { type: 'stepDone', params: { step: 'index_inverted' } },
            assign(({ context }) => {
              const inverted = rmsdsOf(lastFigures(context, 'index_inverted'));
              const d = chooseRotationAxis(context.indexing.rmsds.original!, inverted);
              return {
                decisions: withDecision(context, d),
                indexing: { ...context.indexing, axis: d.choice, rmsds: { ...context.indexing.rmsds, inverted } },
                files: d.choice === 'inverted' ? context.files : { ...context.files, ...context.indexing.originalFiles },
              };
            }),
          ],
        },
        onError: {
          target: 'afterAxis',
          actions: assign(({ context, event }) => ({
            decisions: withDecision(context, chooseRotationAxis(context.indexing.rmsds.original!, null)),
            warnings: [...context.warnings, `indexing with the inverted rotation axis failed: ${(event.error as Error)?.message ?? String(event.error)}`],
            files: { ...context.files, ...context.indexing.originalFiles },
          })),
        },
      },
    },
    // Multi-crystal data stay in P1 per crystal: cosym finds the symmetry across crystals.
    afterAxis: {
      always: [{ guard: 'stopAfterIndex', target: 'report' }, { guard: 'isMultiCrystal', target: 'refine' }, { target: 'bravais' }],
    },

    // Rule 3: the lattice.
    bravais: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'refine_bravais_settings'),
        onDone: { target: 'chooseLattice', actions: { type: 'stepDone', params: { step: 'refine_bravais_settings' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'refine_bravais_settings' } } },
      },
    },
    chooseLattice: {
      entry: assign(({ context }) => {
        const rows = (lastFigures(context, 'refine_bravais_settings').settings ?? []) as BravaisRow[];
        const d = chooseLattice(rows, userLattice(context));
        return { decisions: withDecision(context, d), lattice: d.choice };
      }),
      always: [
        { guard: 'noLattice', target: 'failed', actions: assign({ failure: 'no Bravais setting fits the requested lattice' }) },
        { guard: 'latticeIsTriclinicSetting', target: 'refine' },
        { target: 'reindex' },
      ],
    },
    reindex: {
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'reindex', { setting: context.lattice!.settingId, change_of_basis_op: context.lattice!.cbOp }),
        onDone: { target: 'refine', actions: { type: 'stepDone', params: { step: 'reindex' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'reindex' } } },
      },
    },

    // Rule 4: scan-varying refinement for scans wider than 5°.
    refine: {
      entry: assign(({ context }) => {
        const width = num(lastFigures(context, 'import').scan_width_deg, num(context.figures[Object.keys(context.figures).find((k) => k.startsWith('index')) ?? '']?.scan_width_deg, 0));
        const d = useScanVarying(width);
        return { decisions: withDecision(context, d), scanVarying: d.choice };
      }),
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'refine', { scan_varying: !!context.scanVarying }),
        onDone: [
          { guard: 'stopAfterRefine', target: 'report', actions: { type: 'stepDone', params: { step: 'refine' } } },
          { target: 'integrate', actions: { type: 'stepDone', params: { step: 'refine' } } },
        ],
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'refine' } } },
      },
    },

    integrate: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'integrate', context.options.dMin ? { 'prediction.d_min': context.options.dMin } : {}),
        onDone: [
          { guard: 'stopAfterIntegrate', target: 'report', actions: { type: 'stepDone', params: { step: 'integrate' } } },
          { guard: 'isMultiCrystal', target: 'cosym', actions: { type: 'stepDone', params: { step: 'integrate' } } },
          { target: 'symmetry', actions: { type: 'stepDone', params: { step: 'integrate' } } },
        ],
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'integrate' } } },
      },
    },

    // Rule 7: several crystals → cosym; one crystal → symmetry.
    symmetry: {
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'symmetry', context.options.spaceGroup ? { space_group: context.options.spaceGroup } : {}),
        onDone: { target: 'scale', actions: { type: 'stepDone', params: { step: 'symmetry' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'symmetry' } } },
      },
    },
    cosym: {
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'cosym', context.options.spaceGroup ? { space_group: context.options.spaceGroup } : {}),
        onDone: { target: 'scale', actions: { type: 'stepDone', params: { step: 'cosym' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'cosym' } } },
      },
    },

    // Rule 5: absorption level from the experiment (a user's choice wins).
    scale: {
      entry: assign(({ context }) => {
        if (context.options.absorptionLevel) return { absorptionLevel: context.options.absorptionLevel };
        const f = lastFigures(context, 'import');
        const d = chooseAbsorptionLevel({
          wavelengthA: num(f.wavelength, 1), totalRotationDeg: num(f.scan_width_deg, 0), anomalous: context.options.anomalous,
        });
        return { decisions: withDecision(context, d), absorptionLevel: d.choice };
      }),
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'scale', {
          ...(context.absorptionLevel && context.absorptionLevel !== 'none' ? { absorption_level: context.absorptionLevel } : { absorption_correction: false }),
          anomalous: context.options.anomalous,
          ...(context.multiCrystal ? { 'filtering.method': 'deltacchalf', 'deltacchalf.mode': 'dataset' } : {}),
          ...(context.options.dMin ? { d_min: context.options.dMin } : {}),
        }),
        onDone: [
          { guard: 'stopAfterScale', target: 'report', actions: { type: 'stepDone', params: { step: 'scale' } } },
          { target: 'resolution', actions: { type: 'stepDone', params: { step: 'scale' } } },
        ],
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'scale' } } },
      },
    },

    // Rule 6: cut at CC½ = 0.3 and rescale when it matters.
    resolution: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'estimate_resolution', { cc_half: context.options.ccHalf }),
        onDone: {
          target: 'chooseResolution',
          actions: [
            { type: 'stepDone', params: { step: 'estimate_resolution' } },
            assign(({ context }) => {
              const f = lastFigures(context, 'estimate_resolution');
              const est = typeof f.d_min_cc_half === 'number' ? f.d_min_cc_half : null;
              const d = chooseResolutionCut({ estimatedDmin: est, currentDmin: num(f.d_min_data, 0), ccHalfTarget: context.options.ccHalf, userDmin: context.options.dMin });
              // A user's d_min was applied when scaling already: never rescale for it.
              return { decisions: withDecision(context, d), resolutionCut: context.options.dMin ? null : d.choice };
            }),
          ],
        },
        onError: { target: 'merge', actions: assign(({ context, event }) => ({ warnings: [...context.warnings, `estimate_resolution failed: ${String((event.error as Error)?.message ?? event.error)}`] })) },
      },
    },
    chooseResolution: {
      always: [{ guard: 'resolutionCutChosen', target: 'rescale' }, { target: 'merge' }],
    },
    rescale: {
      invoke: {
        src: 'step',
        input: ({ context }) => request(context, 'rescale', {
          d_min: context.resolutionCut!,
          ...(context.absorptionLevel && context.absorptionLevel !== 'none' ? { absorption_level: context.absorptionLevel } : { absorption_correction: false }),
          anomalous: context.options.anomalous,
        }),
        onDone: { target: 'merge', actions: { type: 'stepDone', params: { step: 'rescale' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'rescale' } } },
      },
    },

    merge: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'merge', { anomalous: context.options.anomalous }),
        onDone: { target: 'export', actions: { type: 'stepDone', params: { step: 'merge' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'merge' } } },
      },
    },
    export: {
      invoke: {
        src: 'step', input: ({ context }) => request(context, 'export'),
        onDone: { target: 'report', actions: { type: 'stepDone', params: { step: 'export' } } },
        onError: { target: 'failed', actions: { type: 'stepFailed', params: { step: 'export' } } },
      },
    },

    report: {
      invoke: {
        src: 'step', input: ({ context }) => ({ ...request(context, 'report'), context }),
        onDone: { target: 'done', actions: { type: 'stepDone', params: { step: 'report' } } },
        onError: { target: 'done', actions: assign(({ context, event }) => ({ warnings: [...context.warnings, `report failed: ${String((event.error as Error)?.message ?? event.error)}`] })) },
      },
    },
    // A failed chain still gets its report (what was measured, what was decided, where it stopped).
    failed: {
      invoke: {
        src: 'step', input: ({ context }) => ({ ...request(context, 'report'), context }),
        onDone: { target: 'stopped' },
        onError: { target: 'stopped' },
      },
    },
    stopped: { type: 'final' },
    done: { type: 'final' },
  },
});

/** The machine bound to a step runner. */
export function createProcessMachine(runner: StepRunner) {
  return processMachine.provide({
    actors: { step: fromPromise<StepResult, StepRequest>(({ input }) => runner(input)) },
  });
}
