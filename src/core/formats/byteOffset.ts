/**
 * CBF "byte_offset" compression (CBFlib / imgCIF spec): each pixel is stored as the difference
 * to the previous one, in 1 byte if it fits in −127…127, else the escape 0x80 followed by 2 bytes,
 * else 0x8000 followed by 4 bytes, else 0x80000000 followed by 8 bytes, all little-endian and
 * signed. The running value starts at 0.
 */

export class ByteOffsetError extends Error {}

/**
 * Decode `count` pixels from `src[start, end)` into `out` (allocated if absent). Throws
 * ByteOffsetError when the stream ends early or a 64-bit delta leaves the int32 range, so a
 * corrupted stream never yields a silently wrong image.
 */
export function decodeByteOffset(src: Uint8Array, start: number, end: number, count: number, out?: Int32Array): Int32Array {
  const dst = out ?? new Int32Array(count);
  if (dst.length < count) throw new ByteOffsetError(`output holds ${dst.length} pixels, need ${count}`);
  const stop = Math.min(end, src.length);
  let p = start;
  let value = 0;
  let i = 0;
  // Fast path: while at least 15 bytes remain, no escape sequence can overrun `stop`.
  const safe = stop - 15;
  while (i < count) {
    if (p >= safe) break;
    let d = src[p++];
    if (d !== 0x80) {
      value += (d << 24) >> 24;
    } else {
      d = src[p] | (src[p + 1] << 8);
      p += 2;
      if (d !== 0x8000) {
        value += (d << 16) >> 16;
      } else {
        d = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24);
        p += 4;
        if (d !== -0x80000000) {
          value += d;
        } else {
          value += read64(src, p);
          p += 8;
        }
      }
    }
    value |= 0;
    dst[i++] = value;
  }
  // Careful tail: bounds-checked.
  while (i < count) {
    if (p >= stop) throw new ByteOffsetError(`stream ends after ${i} of ${count} pixels`);
    let d = src[p++];
    if (d !== 0x80) {
      value += (d << 24) >> 24;
    } else {
      if (p + 2 > stop) throw new ByteOffsetError(`stream ends inside a 16-bit delta at pixel ${i}`);
      d = src[p] | (src[p + 1] << 8);
      p += 2;
      if (d !== 0x8000) {
        value += (d << 16) >> 16;
      } else {
        if (p + 4 > stop) throw new ByteOffsetError(`stream ends inside a 32-bit delta at pixel ${i}`);
        d = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24);
        p += 4;
        if (d !== -0x80000000) {
          value += d;
        } else {
          if (p + 8 > stop) throw new ByteOffsetError(`stream ends inside a 64-bit delta at pixel ${i}`);
          value += read64(src, p);
          p += 8;
        }
      }
    }
    value |= 0;
    dst[i++] = value;
  }
  return dst;
}

/** A 64-bit little-endian delta; valid int32 images never need one beyond ±2^31. */
function read64(src: Uint8Array, p: number): number {
  const lo = (src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24)) >>> 0;
  const hi = src[p + 4] | (src[p + 5] << 8) | (src[p + 6] << 16) | (src[p + 7] << 24);
  if (hi !== 0 && hi !== -1) throw new ByteOffsetError('64-bit delta outside the 32-bit pixel range');
  return hi === -1 ? lo - 0x100000000 : lo;
}

/** Encode int32 pixels with byte_offset (for tests and for writing CBF). */
export function encodeByteOffset(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 7 + 16);
  let p = 0;
  let prev = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] | 0;
    const d = v - prev;
    prev = v;
    if (d >= -127 && d <= 127) {
      out[p++] = d & 0xff;
    } else if (d >= -32767 && d <= 32767) {
      out[p++] = 0x80;
      out[p++] = d & 0xff;
      out[p++] = (d >> 8) & 0xff;
    } else if (d >= -2147483647 && d <= 2147483647) {
      out[p++] = 0x80; out[p++] = 0x00; out[p++] = 0x80;
      out[p++] = d & 0xff; out[p++] = (d >> 8) & 0xff; out[p++] = (d >> 16) & 0xff; out[p++] = (d >>> 24) & 0xff;
    } else {
      out[p++] = 0x80; out[p++] = 0x00; out[p++] = 0x80;
      out[p++] = 0x00; out[p++] = 0x00; out[p++] = 0x00; out[p++] = 0x80;
      const lo = d >>> 0, hi = d < 0 ? -1 : 0;
      out[p++] = lo & 0xff; out[p++] = (lo >>> 8) & 0xff; out[p++] = (lo >>> 16) & 0xff; out[p++] = (lo >>> 24) & 0xff;
      out[p++] = hi & 0xff; out[p++] = (hi >> 8) & 0xff; out[p++] = (hi >> 16) & 0xff; out[p++] = (hi >> 24) & 0xff;
    }
  }
  return out.slice(0, p);
}
