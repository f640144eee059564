/**
 * Format auto-detection by content: HDF5 signature, `###CBF` (miniCBF vs full imgCIF by the
 * categories present), SMV `{HEADER_BYTES=`. Gzip/bzip2 wrappers are removed first. Returns the
 * models of the file and a reader for its images.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { FileFormatError, UserError } from '../errors.js';
import { compressionOf, latin1, readImageBytes, readImagePrefix } from './bytes.js';
import { decodeCbfPixels, isCbf, parseCbf, type CbfFile } from './cbf.js';
import type { ImageHeader } from './header.js';
import { splitPanels } from './header.js';
import { fullCbfModels, isFullCbf } from './imgcif.js';
import { isMiniCbf, miniCbfModels } from './pilatus.js';
import { decodeSmvPixels, isSmv, parseSmvHeader, smvLayout, smvModels } from './smv.js';
import { isHdf5Signature, oneLine, openNexus } from './nexus.js';
import type { RawImage } from './types.js';

export interface ImageFile extends ImageHeader {
  /** Read image `index` (0-based within this file). */
  read(index: number): Promise<RawImage>;
  close(): Promise<void>;
}

function rawHead(path: string, n = 8): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new FileFormatError(path, 'is a directory, not an image file');
    throw new FileFormatError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * True when the file looks like an image we can read. Cheap: only the first bytes, for gzip
 * through a partial inflate of the first 64 kB; bzip2 files are trusted by name.
 */
export function looksLikeImage(path: string): boolean {
  try {
    const head = rawHead(path, 8);
    if (isHdf5Signature(head)) return true;
    if (compressionOf(head) === 'bzip2') return /\.(cbf|img|smv)\.bz2$/i.test(path);
    const { bytes } = readImagePrefix(path, 4096);
    return isCbf(bytes) || isSmv(bytes);
  } catch {
    return false;
  }
}

/**
 * Read one single-image file's pixels in one pass (no header models), split into `panelWindows`
 * when the detector is cut into panels. Sweeps read their images through this.
 */
export function readSingleImage(path: string, panelWindows: ImageHeader['panelWindows']): RawImage {
  try {
    return readSingle(path, { panelWindows });
  } catch (e) {
    throw cleanError(path, e);
  }
}

function readSingle(path: string, header: Pick<ImageHeader, 'panelWindows'>): RawImage {
  const bytes = readImageBytes(path);
  if (isCbf(bytes)) {
    const cbf = parseCbf(path, bytes);
    const full = decodeCbfPixels(cbf, bytes);
    return splitPanels(full, cbf.binary.nFast, header.panelWindows);
  }
  if (isSmv(bytes)) {
    const h = parseSmvHeader(path, bytes);
    const full = decodeSmvPixels(path, bytes, h);
    return splitPanels(full, smvLayout(path, h).nFast, header.panelWindows);
  }
  throw new FileFormatError(path, 'no longer a CBF or SMV image');
}

/**
 * Any failure inside a reader becomes one clean line naming the file: corrupt headers can make
 * arithmetic or library code throw (zero-length axes, HDF5 errors), and values copied from a
 * header into a message may contain line breaks.
 */
export function cleanError(path: string, e: unknown): UserError {
  if (e instanceof UserError) {
    if (!/[\r\n]/.test(e.message)) return e;
    const flat = e.message.replace(/\s*[\r\n]+\s*/g, ' ');
    return e instanceof FileFormatError ? new FileFormatError(e.path, flat.slice(e.path.length + 2)) : new UserError(flat, e.code);
  }
  return new FileFormatError(path, `malformed or corrupt file (${oneLine(e)})`);
}

/** Open any supported image file. */
export async function openImageFile(path: string): Promise<ImageFile> {
  let file: ImageFile;
  try {
    file = await openUnguarded(path);
  } catch (e) {
    throw cleanError(path, e);
  }
  const read = file.read.bind(file);
  file.read = async (index: number) => {
    try {
      return await read(index);
    } catch (e) {
      throw cleanError(path, e);
    }
  };
  return file;
}

async function openUnguarded(path: string): Promise<ImageFile> {
  const head = rawHead(path, 8);
  if (isHdf5Signature(head)) return openNexus(path);
  let { bytes, complete } = readImagePrefix(path);
  let header: Omit<ImageHeader, 'path'>;
  if (isCbf(bytes)) {
    let cbf: CbfFile;
    try {
      cbf = parseCbf(path, bytes, { headerOnly: true });
    } catch (e) {
      // A header longer than the prefix: read the whole file.
      if (complete) throw e;
      bytes = readImageBytes(path);
      complete = true;
      cbf = parseCbf(path, bytes, { headerOnly: true });
    }
    if (isFullCbf(cbf)) header = fullCbfModels(cbf);
    else if (isMiniCbf(cbf)) header = miniCbfModels(cbf);
    else throw new FileFormatError(path, 'CBF file has neither a Pilatus header nor imgCIF axis categories');
  } else if (isSmv(bytes)) {
    const declared = /HEADER_BYTES\s*=\s*(\d+)/.exec(latin1(bytes, 0, Math.min(bytes.length, 64)));
    if (!complete && declared && Number(declared[1]) > bytes.length) bytes = readImageBytes(path);
    const { smv: _smv, ...rest } = smvModels(path, bytes);
    header = rest;
  } else {
    throw new FileFormatError(path, 'not a recognised image format (CBF, SMV or HDF5/NeXus)');
  }
  const h: ImageHeader = { ...header, path };
  return {
    ...h,
    async read(index: number) {
      if (index !== 0) throw new FileFormatError(path, `image ${index + 1} requested from a single-image file`);
      return readSingle(path, h);
    },
    async close() {},
  };
}
