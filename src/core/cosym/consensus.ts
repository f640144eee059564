/**
 * Reindexing operators from the embedding, once the Patterson group G is chosen. The vectors of
 * dataset i under the operations of one right coset G·a coincide (they differ by true symmetry),
 * so each dataset offers [L:G] candidate directions v_(i,c), the coset means. Consistent
 * indexing picks one per dataset so that all point the same way: maximise |Σ_i v_(i,c_i)| by
 * alternating "consensus direction ← sum of the chosen vectors" and "c_i ← the candidate most
 * along it" (k-means with one cluster over the per-dataset choices; it cannot increase the
 * objective's loss, so it converges). Several starts — each of the strongest datasets as the seed
 * of the consensus, plus random assignments from the seeded generator — and the best objective
 * wins. Finally the whole set is moved by one common operation so that as many datasets as
 * possible keep their own indexing.
 */
import type { IntMat3 } from '../symmetry/op.js';
import { mulRot } from './correlation.js';
import { opIndex, type EmbeddingView } from './patterson.js';
import { rotKey } from '../laue/lattice.js';

export interface Cosets {
  /** Coset representative (op index, lowest in its coset) for every op. */
  cosetOf: Int32Array;
  /** Representatives, identity first. */
  reps: number[];
  /** For each representative, the ops g·rep (g ∈ G). */
  members: number[][];
}

export function rightCosets(ops: readonly IntMat3[], group: readonly IntMat3[]): Cosets {
  const idx = opIndex(ops);
  const m = ops.length;
  const cosetOf = new Int32Array(m).fill(-1);
  const reps: number[] = [], members: number[][] = [];
  for (let a = 0; a < m; a++) {
    if (cosetOf[a] >= 0) continue;
    const mem = group.map((g) => idx.get(rotKey(mulRot(g, ops[a]))));
    if (mem.some((k) => k === undefined)) throw new RangeError('the Patterson group is not a subgroup of the lattice group');
    for (const k of mem) cosetOf[k!] = a;
    reps.push(a); members.push(mem as number[]);
  }
  return { cosetOf, reps, members };
}

export interface Consensus {
  /** Chosen op index (a coset representative) per dataset: reindex h → h·R. */
  opOfDataset: Int32Array;
  /** cos between each dataset's chosen vector and the consensus direction. */
  agreement: Float64Array;
  objective: number;
}

export function consensusReindexing(v: EmbeddingView, group: readonly IntMat3[], rand: () => number, nRandomStarts = 8): Consensus {
  const { x, dims: d, nDatasets: N, ops } = v;
  const m = ops.length;
  const cos = rightCosets(ops, group);
  const C = cos.reps.length;
  // coset-mean vectors v_(i,c)
  const vm = new Float64Array(N * C * d);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) {
    const mem = cos.members[c];
    for (const a of mem) for (let q = 0; q < d; q++) vm[(i * C + c) * d + q] += x[(i * m + a) * d + q] / mem.length;
  }
  const norm = (i: number, c: number) => { let s = 0; for (let q = 0; q < d; q++) s += vm[(i * C + c) * d + q] ** 2; return Math.sqrt(s); };
  const u = new Float64Array(d);
  const refine = (choice: Int32Array): number => {
    for (let iter = 0; iter < 100; iter++) {
      u.fill(0);
      for (let i = 0; i < N; i++) for (let q = 0; q < d; q++) u[q] += vm[(i * C + choice[i]) * d + q];
      let changed = false;
      for (let i = 0; i < N; i++) {
        let best = choice[i], bestDot = -Infinity;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let q = 0; q < d; q++) s += vm[(i * C + c) * d + q] * u[q];
          if (s > bestDot + 1e-12) { bestDot = s; best = c; }
        }
        if (best !== choice[i]) { choice[i] = best; changed = true; }
      }
      if (!changed) break;
    }
    u.fill(0);
    for (let i = 0; i < N; i++) for (let q = 0; q < d; q++) u[q] += vm[(i * C + choice[i]) * d + q];
    let s = 0;
    for (let q = 0; q < d; q++) s += u[q] * u[q];
    return Math.sqrt(s);
  };
  const order = Array.from({ length: N }, (_, i) => i).sort((p, q) => norm(q, 0) - norm(p, 0) || p - q);
  let best: Int32Array | null = null, bestObj = -Infinity;
  const tryStart = (choice: Int32Array) => {
    const obj = refine(choice);
    if (obj > bestObj + 1e-9) { bestObj = obj; best = Int32Array.from(choice); }
  };
  for (const s of order.slice(0, Math.min(N, 5))) {
    // seed: dataset s as it is; everyone else picks the candidate closest to it
    const choice = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      let bc = 0, bd = -Infinity;
      for (let c = 0; c < C; c++) {
        let t = 0;
        for (let q = 0; q < d; q++) t += vm[(i * C + c) * d + q] * vm[(s * C) * d + q];
        if (t > bd) { bd = t; bc = c; }
      }
      choice[i] = i === s ? 0 : bc;
    }
    tryStart(choice);
  }
  for (let r = 0; r < nRandomStarts && C > 1; r++) tryStart(Int32Array.from({ length: N }, () => Math.floor(rand() * C)));
  const choice: Int32Array = best!;
  // common right multiplication keeping as many datasets as possible in their own setting
  const idx = opIndex(ops);
  let bestT = 0, bestKeep = -1;
  for (let t = 0; t < m; t++) {
    let keep = 0;
    for (let i = 0; i < N; i++) if (cos.cosetOf[idx.get(rotKey(mulRot(ops[cos.reps[choice[i]]], ops[t])))!] === 0) keep++;
    if (keep > bestKeep) { bestKeep = keep; bestT = t; }
  }
  const opOfDataset = new Int32Array(N);
  const agreement = new Float64Array(N);
  refine(Int32Array.from(choice)); // leaves u = consensus of the best choice
  let un = 0;
  for (let q = 0; q < d; q++) un += u[q] * u[q];
  un = Math.sqrt(un);
  for (let i = 0; i < N; i++) {
    const a = idx.get(rotKey(mulRot(ops[cos.reps[choice[i]]], ops[bestT])))!;
    opOfDataset[i] = cos.cosetOf[a];
    let s = 0;
    for (let q = 0; q < d; q++) s += vm[(i * C + choice[i]) * d + q] * u[q];
    const n = norm(i, choice[i]);
    agreement[i] = n > 0 && un > 0 ? s / (n * un) : 0;
  }
  return { opOfDataset, agreement, objective: bestObj };
}
