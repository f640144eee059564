/**
 * Format auto-detection by content: HDF5 signature, `###CBF` (miniCBF vs full imgCIF by the
 * categories present), SMV `{HEADER_BYTES=`. Gzip/bzip2 wrappers are removed first. Returns the
 * models of the file and a reader for its images.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { FileFormatError } from '../errors.js';
import { compressionOf, readImageBytes } from './bytes.js';
import { decodeCbfPixels, isCbf, parseCbf } from './cbf.js';
import type { ImageHeader } from './header.js';
import { splitPanels } from './header.js';
import { fullCbfModels, isFullCbf } from './imgcif.js';
import { isMiniCbf, miniCbfModels } from './pilatus.js';
import { decodeSmvPixels, isSmv, parseSmvHeader, smvLayout, smvModels } from './smv.js';
import { isHdf5Signature, openNexus } from './nexus.js';
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

/** True when the file looks like an image we can read (cheap: only the first bytes, decompressed if needed). */
export function looksLikeImage(path: string): boolean {
  try {
    const head = rawHead(path, 64);
    if (isHdf5Signature(head)) return true;
    if (compressionOf(head) !== 'none') return /\.(cbf|img|smv|sfrm|mccd)?\.?(gz|bz2)$/i.test(path) || true;
    return isCbf(head) || isSmv(head);
  } catch {
    return false;
  }
}

/** Read one image file's pixels (single-image formats). */
function readSingle(path: string, header: ImageHeader): RawImage {
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

/** Open any supported image file. */
export async function openImageFile(path: string): Promise<ImageFile> {
  const head = rawHead(path, 8);
  if (isHdf5Signature(head)) return openNexus(path);
  const bytes = readImageBytes(path);
  let header: Omit<ImageHeader, 'path'>;
  if (isCbf(bytes)) {
    const cbf = parseCbf(path, bytes);
    if (isFullCbf(cbf)) header = fullCbfModels(cbf);
    else if (isMiniCbf(cbf)) header = miniCbfModels(cbf);
    else throw new FileFormatError(path, 'CBF file has neither a Pilatus header nor imgCIF axis categories');
  } else if (isSmv(bytes)) {
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
