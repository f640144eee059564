/** Drive the process machine to its end with a given step runner. */
import { createActor, type SnapshotFrom } from 'xstate';
import { createProcessMachine, type ProcessInput, type StepRunner } from './machine.js';
import type { ProcessContext } from './context.js';

export interface ProcessOutcome {
  /** 'done' or 'stopped' (a failure; `context.failure` says why). */
  finalState: string;
  context: ProcessContext;
}

export function runMachine(input: ProcessInput, runner: StepRunner, onState?: (state: string, ctx: ProcessContext) => void): Promise<ProcessOutcome> {
  const machine = createProcessMachine(runner);
  return new Promise((resolve, reject) => {
    const actor = createActor(machine, { input });
    actor.subscribe({
      next: (s: SnapshotFrom<typeof machine>) => {
        onState?.(String(s.value), s.context);
        if (s.status === 'done') resolve({ finalState: String(s.value), context: s.context });
      },
      error: reject,
    });
    actor.start();
  });
}
