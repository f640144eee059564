/**
 * The one worker pool every heavy stage uses. Work is described as contiguous image blocks; each
 * block goes to a worker-thread function that returns typed arrays (moved back, not copied, as
 * transferables). Results come back in block order whatever finishes first, so a stage that
 * combines them in that order gets the same answer for any number of workers.
 *
 * With one worker the same function runs in this thread (no pool, no copies), which is also what
 * makes it testable without compiled workers.
 *
 * A worker script is a module that calls `registerWorker({ method: fn })`; the stage passes its
 * URL from `workerScriptUrl(import.meta.url, './worker')`, which finds `worker.ts` when running
 * under tsx and `worker.js` when compiled.
 */
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import workerpool from 'workerpool';
import { UserError } from '../errors.js';

export interface ImageBlock {
  /** 0-based index of the block's first image within its sweep. */
  first: number;
  count: number;
}

/** Worker count to use: the user's nproc, else every core the OS offers us. */
export function resolveNproc(nproc: number | null | undefined): number {
  if (nproc !== null && nproc !== undefined && nproc >= 1) return Math.floor(nproc);
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * Cut images [0, n) into contiguous blocks: about `perWorker` blocks per worker so a slow block
 * does not leave the others idle, but never fewer than `minBlock` images per block (each block
 * costs one boundary merge and one message).
 */
export function splitImages(n: number, nproc: number, opts: { perWorker?: number; minBlock?: number } = {}): ImageBlock[] {
  if (n <= 0) return [];
  const perWorker = opts.perWorker ?? 4;
  const minBlock = Math.max(1, opts.minBlock ?? 1);
  const nBlocks = Math.max(1, Math.min(Math.ceil(n / minBlock), nproc * perWorker, n));
  const blocks: ImageBlock[] = [];
  for (let b = 0; b < nBlocks; b++) {
    const first = Math.floor((b * n) / nBlocks);
    const end = Math.floor(((b + 1) * n) / nBlocks);
    if (end > first) blocks.push({ first, count: end - first });
  }
  return blocks;
}

/** Resolve a worker module next to `fromUrl`: `.ts` under tsx, `.js` once compiled. */
export function workerScriptUrl(fromUrl: string, relative: string): string {
  const ext = fromUrl.endsWith('.ts') ? '.ts' : '.js';
  const file = fileURLToPath(new URL(relative + ext, fromUrl));
  if (!existsSync(file)) throw new Error(`worker script ${file} not found`);
  return file;
}

/**
 * A `.ts` worker script (tests, tsx) needs tsx's loader inside the worker thread too, and
 * `tsx --test` installs it in the main thread only; such a worker starts from a small CommonJS
 * bootstrap that registers tsx there and then imports the script. Compiled `.js` workers load
 * directly.
 */
function workerLaunch(script: string): { script: string; threadOpts: Record<string, unknown> } {
  if (!script.endsWith('.ts')) return { script, threadOpts: {} };
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new Error(`worker script ${script} is TypeScript but tsx cannot be found to load it`);
  }
  const bootstrap = [
    "const { workerData } = require('node:worker_threads');",
    'import(workerData.tsxApi).then((m) => { m.register(); return import(workerData.script); });',
  ].join('\n');
  return { script: bootstrap, threadOpts: { eval: true, workerData: { tsxApi: api, script: pathToFileURL(script).href } } };
}

/** What a block function receives besides its task: a way to report progress. */
export type Emit = (payload: unknown) => void;

export interface RunBlocksOptions<T, R> {
  /** Worker module (see workerScriptUrl) and the method it registers. */
  workerScript: string;
  method: string;
  /** The same function, for running in this thread when nproc = 1. */
  local: (task: T, emit: Emit) => Promise<R> | R;
  tasks: readonly T[];
  nproc: number;
  /** Progress events from blocks (any order). */
  onEvent?: (payload: unknown) => void;
}

/**
 * Run every task, at most `nproc` at a time, and return the results in task order. The first
 * failure stops the pool and is re-thrown (with its message intact, so a UserError from a worker
 * still reads as one line).
 */
export async function runBlocks<T, R>(opts: RunBlocksOptions<T, R>): Promise<R[]> {
  const out: R[] = new Array(opts.tasks.length);
  await streamBlocks({ ...opts, count: opts.tasks.length, task: (i) => opts.tasks[i], onResult: (i, r) => { out[i] = r; } });
  return out;
}

export interface StreamBlocksOptions<T, R> {
  /** Worker module (see workerScriptUrl) and the method it registers. */
  workerScript: string;
  method: string;
  /** The same function, for running in this thread when nproc = 1. */
  local: (task: T, emit: Emit) => Promise<R> | R;
  /** Number of tasks; `task(i)` builds task i only when it is about to be sent. */
  count: number;
  task: (i: number) => T;
  /** Each result in task order, as soon as it and every earlier one are in. */
  onResult: (i: number, result: R) => void;
  nproc: number;
  /** Progress events from blocks (any order). */
  onEvent?: (payload: unknown) => void;
}

/**
 * runBlocks for work whose inputs and outputs grow with the sweep: tasks are built one at a time
 * just before a worker takes them, and each result is handed over (in task order) and can be
 * dropped, so at most about 2·nproc tasks and results exist at once instead of all of them.
 * A task is not started while more than 2·nproc results wait for an earlier, slower one.
 */
export async function streamBlocks<T, R>(opts: StreamBlocksOptions<T, R>): Promise<void> {
  const emit: Emit = opts.onEvent ?? (() => {});
  const { count } = opts;
  if (opts.nproc <= 1 || count <= 1) {
    for (let i = 0; i < count; i++) opts.onResult(i, await opts.local(opts.task(i), emit));
    return;
  }
  const launch = workerLaunch(opts.workerScript);
  const pool = workerpool.pool(launch.script, {
    maxWorkers: Math.min(opts.nproc, count),
    workerType: 'thread',
    workerThreadOpts: launch.threadOpts,
  });
  const window = 2 * opts.nproc;
  try {
    await new Promise<void>((resolve, reject) => {
      const waiting = new Map<number, R>();
      let next = 0, delivered = 0, running = 0, failed = false;
      const fail = (e: unknown) => { if (!failed) { failed = true; reject(reviveError(e)); } };
      const pump = () => {
        while (!failed && running < opts.nproc && next < count && next < delivered + window) {
          const i = next++;
          let t: T;
          try { t = opts.task(i); } catch (e) { fail(e); return; }
          running++;
          (pool.exec(opts.method, [t], { on: emit }) as unknown as Promise<R>).then((r) => {
            running--;
            if (failed) return;
            waiting.set(i, r);
            try {
              while (waiting.has(delivered)) {
                const x = waiting.get(delivered)!;
                waiting.delete(delivered);
                opts.onResult(delivered++, x);
              }
            } catch (e) { fail(e); return; }
            if (delivered === count) resolve(); else pump();
          }, fail);
        }
      };
      pump();
    });
  } finally {
    await pool.terminate(true);
  }
}

/**
 * Errors cross the thread boundary as plain objects; give back an Error whose message and name
 * survive, and mark user-facing ones (name UserError/FileFormatError/ParameterError) so the CLI
 * prints them as one line.
 */
function reviveError(e: unknown): Error {
  if (e instanceof UserError) return e;
  const o = e as { message?: string; name?: string; stack?: string; code?: string };
  const message = o?.message ?? String(e);
  if (o?.name && USER_ERRORS.has(o.name)) return new UserError(message, typeof o.code === 'string' ? o.code : 'user_error');
  if (e instanceof Error) return e;
  const err = new Error(message);
  if (o?.name) err.name = o.name;
  return err;
}

const USER_ERRORS = new Set(['UserError', 'FileFormatError', 'ParameterError']);

/** Worker side: register the block functions of a worker script. */
export function registerWorker(methods: Record<string, (task: any) => unknown>): void {
  workerpool.worker(methods);
}

/** Worker side: report progress to the main thread. */
export function workerEmit(payload: unknown): void {
  workerpool.workerEmit(payload);
}

/**
 * Worker side: return `result`, moving (not copying) the buffers of every typed array found in
 * its top-level fields or one level down in arrays/objects.
 *
 * Moving detaches the buffers in the worker, and the first detached ArrayBuffer in a thread
 * makes V8 discard all optimised code that reads typed arrays and recompile it with detach
 * checks (measured in find_spots: the threshold passes and the CBF decoder recompiled in every
 * worker). Worth it for results of hundreds of MB; for a few MB per block, copying is cheaper
 * (find_spots returns its pixel lists as copies).
 */
export function transferable<R extends object>(result: R): R {
  const buffers = new Set<ArrayBuffer>();
  const collect = (v: unknown, depth: number) => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.byteLength > 0) buffers.add(v.buffer);
    } else if (depth < 2 && v && typeof v === 'object') {
      for (const x of Object.values(v as Record<string, unknown>)) collect(x, depth + 1);
    }
  };
  collect(result, 0);
  return new workerpool.Transfer(result, [...buffers]) as unknown as R;
}
