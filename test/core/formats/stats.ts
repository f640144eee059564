/** The per-panel figures the reference files record, computed the same way. */
import { createHash } from 'node:crypto';

export function panelStats(a: Int32Array) {
  let sum = 0, min = Infinity, max = -Infinity, countGe0 = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v >= 0) countGe0++;
  }
  const sha256 = createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
  return { sum, min, max, count_ge0: countGe0, sha256 };
}

/**
 * Sum/min/max/sha256 of a typed array in its own type (HDF5 datasets), bytes little-endian as
 * stored. The reference takes float datasets' figures on integer-truncated values (the sha256 is
 * of the float bytes), so we do too.
 */
export function nativeStats(v: ArrayBufferView) {
  const arr = v as unknown as ArrayLike<number | bigint>;
  const isFloat = v instanceof Float32Array || v instanceof Float64Array;
  let sum = 0, min = Infinity, max = -Infinity, countGe0 = 0;
  for (let i = 0; i < arr.length; i++) {
    const x = isFloat ? Math.trunc(Number(arr[i])) : Number(arr[i]);
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
    if (x >= 0) countGe0++;
  }
  const sha256 = createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
  return { sum, min, max, count_ge0: countGe0, sha256 };
}
