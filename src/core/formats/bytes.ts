/**
 * Whole-file reads with transparent decompression. Beamlines and archives ship images as
 * `.gz` or `.bz2`; we recognise the compression by its magic bytes (not the name), so a renamed
 * file still opens and a plain file called `.gz` is not mangled.
 */
import { readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { createRequire } from 'node:module';
import { FileFormatError } from '../errors.js';

const require = createRequire(import.meta.url);
const Bunzip = require('seek-bzip') as { decode(input: Uint8Array | Buffer): Buffer };

/**
 * The largest decompressed image we accept. A Pilatus 12M or Eiger 16M frame is ~75 MB as
 * int32; anything beyond this from a small file is a decompression bomb or corruption.
 */
export const MAX_IMAGE_BYTES = 512 * 1024 * 1024;

export type Compression = 'none' | 'gzip' | 'bzip2';

export function compressionOf(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  return 'none';
}

/** Decompress in-memory bytes if they carry a gzip/bzip2 signature; `path` names the file in errors. */
export function decompress(path: string, raw: Uint8Array): Uint8Array {
  const kind = compressionOf(raw);
  try {
    if (kind === 'gzip') {
      const out = gunzipSync(raw, { maxOutputLength: MAX_IMAGE_BYTES });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    if (kind === 'bzip2') {
      const out = Bunzip.decode(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new FileFormatError(path, `cannot decompress ${kind} data (${msg})`);
  }
  return raw;
}

/** Read a file whole, decompressing gzip/bzip2; missing or unreadable files become FileFormatError. */
export function readImageBytes(path: string): Uint8Array {
  let raw: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new FileFormatError(path, 'is a directory, not an image file');
    if (st.size > MAX_IMAGE_BYTES) throw new FileFormatError(path, `file too large (${st.size} bytes)`);
    raw = readFileSync(path);
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  }
  return decompress(path, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
}

/**
 * The start of a file after decompression, enough for its header: headers are parsed from this
 * so that importing a long sweep does not inflate every image. `complete` says whether the whole
 * file was read (small files, bzip2, which cannot be inflated partially).
 */
export function readImagePrefix(path: string, rawBytes = 65536): { bytes: Uint8Array; complete: boolean } {
  let raw: Uint8Array;
  let size: number;
  let fd: number | undefined;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new FileFormatError(path, 'is a directory, not an image file');
    size = st.size;
    fd = openSync(path, 'r');
    raw = new Uint8Array(Math.min(rawBytes, size));
    const got = readSync(fd, raw, 0, raw.length, 0);
    raw = raw.subarray(0, got);
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const complete = raw.length >= size;
  const kind = compressionOf(raw);
  if (kind === 'none') return { bytes: raw, complete };
  if (kind === 'bzip2' || complete) return { bytes: complete ? decompress(path, raw) : readImageBytes(path), complete: true };
  try {
    const out = gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: MAX_IMAGE_BYTES });
    return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), complete: false };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new FileFormatError(path, `cannot decompress gzip data (${msg})`);
  }
}

/** Latin-1 text of a byte range (headers are ASCII; binary bytes must not throw). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, Math.min(end, bytes.length) - start)).toString('latin1');
}

export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0, to = hay.length): number {
  const n = needle.length;
  const first = needle[0];
  const last = Math.min(to, hay.length) - n;
  outer: for (let i = from; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < n; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
