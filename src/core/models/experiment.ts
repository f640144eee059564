/**
 * Experiment and ExperimentList helpers. An experiment is one crystal seen in one sweep (or one
 * still); experiments share models by object identity, so "how many detectors" means how many
 * distinct objects, which is what DIALS' joint refinement and `.expt` writing both rely on.
 */
import { randomUUID } from 'node:crypto';
import type { Experiment as ExperimentModel, ExperimentList as ExperimentListModel } from './types.js';
import { Scan } from './scan.js';

export type Experiment = ExperimentModel;
export type ExperimentList = ExperimentListModel;

type ModelKind = 'beam' | 'detector' | 'goniometer' | 'scan' | 'crystal' | 'imageset' | 'profile' | 'scalingModel';

export namespace Experiment {
  /** A new experiment with a fresh UUID v4 identifier unless one is given. */
  export function create(models: Omit<Experiment, 'identifier'> & { identifier?: string }): Experiment {
    return { ...models, identifier: models.identifier ?? randomUUID() };
  }

  /** A still: no goniometer, no scan, or a scan without rotation. */
  export function isStill(e: Experiment): boolean {
    return !e.goniometer || !e.scan || Scan.isStill(e.scan);
  }
}

export namespace ExperimentList {
  /** Deep copies of the experiments' models, keeping which experiments share a model. */
  export function clone(exps: readonly Experiment[]): Experiment[] {
    const memo = new Map<object, object>();
    const dup = <T extends object | undefined>(x: T): T => {
      if (x === undefined) return x;
      if (!memo.has(x)) memo.set(x, structuredClone(x));
      return memo.get(x) as T;
    };
    return exps.map((e) => ({ ...e, beam: dup(e.beam), detector: dup(e.detector), goniometer: dup(e.goniometer), scan: dup(e.scan), crystal: dup(e.crystal) }));
  }

  /** The distinct models of one kind, in order of first use (the order `.expt` lists them). */
  export function models<K extends ModelKind>(list: ExperimentList, kind: K): NonNullable<Experiment[K]>[] {
    const seen = new Set<unknown>();
    const out: NonNullable<Experiment[K]>[] = [];
    for (const e of list) {
      const m = e[kind];
      if (m !== undefined && !seen.has(m)) {
        seen.add(m);
        out.push(m as NonNullable<Experiment[K]>);
      }
    }
    return out;
  }

  /** Indices of the experiments that use `model` (compared by identity). */
  export function indicesUsing(list: ExperimentList, kind: ModelKind, model: object): number[] {
    const out: number[] = [];
    list.forEach((e, i) => { if (e[kind] === model) out.push(i); });
    return out;
  }

  /** Experiment by identifier, or undefined. */
  export function find(list: ExperimentList, identifier: string): Experiment | undefined {
    return list.find((e) => e.identifier === identifier);
  }

  /** Throws when two experiments carry the same identifier (reflection tables key on them). */
  export function checkIdentifiers(list: ExperimentList): void {
    const seen = new Map<string, number>();
    list.forEach((e, i) => {
      const j = seen.get(e.identifier);
      if (j !== undefined) throw new RangeError(`experiments ${j} and ${i} share the identifier ${e.identifier}`);
      seen.set(e.identifier, i);
    });
  }
}
