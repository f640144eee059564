/**
 * Reflection equivalence as the scaler needs it, on top of src/core/symmetry: every observation's
 * Miller index is replaced by one canonical member of its class (the lexicographically largest image
 * under the point group, and under −1 too unless anomalous), so equal keys mean symmetry-equivalent.
 * A plain integer key is faster to sort than an ASU lookup, and the choice of representative does
 * not matter for scaling.
 */
import { SpaceGroup, isCentric, isSystematicallyAbsent } from '../symmetry/index.js';

export class ReflectionSymmetry {
  readonly rotations: Int8Array[];
  constructor(readonly spaceGroup: SpaceGroup) {
    const seen = new Map<string, Int8Array>();
    for (const o of spaceGroup.symOps) {
      const k = o.rot.join(',');
      if (!seen.has(k)) seen.set(k, Int8Array.from(o.rot));
    }
    this.rotations = [...seen.values()];
  }

  /** From a number, Hermann–Mauguin or Hall symbol. */
  static find(symbol: string): ReflectionSymmetry { return new ReflectionSymmetry(SpaceGroup.find(symbol)); }

  /** Writes the canonical index of (h,k,l) into out[0..2]; returns true when it is the Friedel-mate (I−) half. */
  canonical(h: number, k: number, l: number, anomalous: boolean, out: Int32Array): boolean {
    let bh = -1e9, bk = 0, bl = 0, minus = false;
    let fh = -1e9, fk = 0, fl = 0;
    for (const r of this.rotations) {
      // h' = h·R (row vector): how Miller indices transform under x' = R·x
      const h2 = h * r[0] + k * r[3] + l * r[6];
      const k2 = h * r[1] + k * r[4] + l * r[7];
      const l2 = h * r[2] + k * r[5] + l * r[8];
      if (h2 > bh || (h2 === bh && (k2 > bk || (k2 === bk && l2 > bl)))) { bh = h2; bk = k2; bl = l2; }
      if (-h2 > fh || (-h2 === fh && (-k2 > fk || (-k2 === fk && -l2 > fl)))) { fh = -h2; fk = -k2; fl = -l2; }
    }
    // the class of h and the class of −h: I+ is the one with the larger representative
    minus = fh > bh || (fh === bh && (fk > bk || (fk === bk && fl > bl)));
    if (!anomalous && minus) { bh = fh; bk = fk; bl = fl; }
    out[0] = bh; out[1] = bk; out[2] = bl;
    return minus;
  }

  isSystematicallyAbsent(h: number, k: number, l: number): boolean { return isSystematicallyAbsent(this.spaceGroup, [h, k, l]); }
  isCentric(h: number, k: number, l: number): boolean { return isCentric(this.spaceGroup, [h, k, l]); }
}

/** Pack a Miller index (|h|,|k|,|l| < 1024) into one exact integer key. */
export function millerKey(h: number, k: number, l: number): number {
  return ((h + 1024) * 2048 + (k + 1024)) * 2048 + (l + 1024);
}
