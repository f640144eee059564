/**
 * Resumable runs. The machine is deterministic given the results of its steps, so a run is
 * persisted as the journal of step results (atomically rewritten after every step). Re-running
 * `process` in the same directory replays the journal — each recorded step returns its recorded
 * result as long as its output files are still there — and carries on from the first step not
 * recorded. `--force` (or different inputs/parameters) starts over.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../core/io/atomic.js';
import type { StepRequest, StepResult, StepName } from './context.js';
import type { StepRunner } from './machine.js';
import type { Log } from '../../core/log.js';

export const JOURNAL_FILE = 'xtalflow.state.json';

export interface JournalEntry { key: string; step: StepName; result: StepResult }

export interface Journal {
  version: 1;
  /** The command line the run was started with; a different one starts over. */
  command: string[];
  entries: JournalEntry[];
  status: 'running' | 'done' | 'failed';
  /** The machine state after the last step (for the report and for `show`). */
  state?: string;
}

export function loadJournal(dir: string, command: string[], force: boolean, log: Log): Journal {
  const file = path.join(dir, JOURNAL_FILE);
  const fresh: Journal = { version: 1, command, entries: [], status: 'running' };
  if (force || !existsSync(file)) return fresh;
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Journal;
    if (j.version !== 1 || JSON.stringify(j.command) !== JSON.stringify(command)) {
      log.info(`${JOURNAL_FILE} belongs to a different command: starting over`);
      return fresh;
    }
    log.info(`Resuming: ${j.entries.length} finished step(s) recorded in ${JOURNAL_FILE}`);
    return { ...j, status: 'running' };
  } catch {
    log.warn(`${JOURNAL_FILE} is unreadable: starting over`);
    return fresh;
  }
}

export function saveJournal(dir: string, journal: Journal): void {
  writeFileAtomicSync(path.join(dir, JOURNAL_FILE), JSON.stringify(journal, null, 1));
}

function outputsExist(dir: string, r: StepResult): boolean {
  return Object.values(r.files).every((f) => !f || existsSync(path.resolve(dir, f)));
}

/** Wrap a runner so finished steps replay from the journal and new ones are recorded. */
export function journaledRunner(dir: string, journal: Journal, runner: StepRunner, log: Log): StepRunner {
  let replaying = true;
  const replayed = new Set<string>();
  return async (req: StepRequest) => {
    if (replaying) {
      const entry = journal.entries.find((e) => e.key === req.key);
      if (entry && outputsExist(dir, entry.result)) {
        log.info(`[${req.key}] recorded in ${JOURNAL_FILE}: not run again`);
        replayed.add(req.key);
        return entry.result;
      }
      // From the first step not recorded (or whose files are gone) everything runs anew.
      replaying = false;
      journal.entries = journal.entries.filter((e) => replayed.has(e.key));
    }
    const result = await runner(req);
    journal.entries.push({ key: req.key, step: req.step, result });
    saveJournal(dir, journal);
    return result;
  };
}
