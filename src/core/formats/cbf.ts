/**
 * The CBF container: a CIF text header, then a MIME-like binary section
 * (`--CIF-BINARY-FORMAT-SECTION--`, `X-Binary-*` headers, the 4-byte start marker 0C 1A 04 D5,
 * then `X-Binary-Size` bytes of byte_offset-compressed int32 pixels). Models built from the
 * header live in pilatus.ts (miniCBF `header_contents`) and imgcif.ts (full imgCIF).
 */
import { FileFormatError } from '../errors.js';
import { ByteOffsetError, decodeByteOffset } from './byteOffset.js';
import { indexOfBytes, latin1 } from './bytes.js';
import { parseCif, type CifBlock } from './cif.js';

const BINARY_SECTION = new TextEncoder().encode('--CIF-BINARY-FORMAT-SECTION--');
const START_MARKER = new Uint8Array([0x0c, 0x1a, 0x04, 0xd5]);
/** Guard against absurd declared sizes before allocating (a 16M detector has 1.8e7 pixels). */
const MAX_PIXELS = 64 * 1024 * 1024;

export function isCbf(head: Uint8Array): boolean {
  return latin1(head, 0, 16).startsWith('###CBF');
}

export interface CbfBinaryInfo {
  /** Offset of the first compressed byte (after the start marker). */
  dataStart: number;
  size: number;
  nFast: number;
  nSlow: number;
  nElements: number;
  elementType: string;
  conversions: string;
}

export interface CbfFile {
  path: string;
  /** The CIF text before the binary section. */
  headerText: string;
  cif: CifBlock;
  binary: CbfBinaryInfo;
}

function mimeField(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(text);
  return m ? m[1].trim() : undefined;
}

/**
 * Parse header and binary-section metadata; pixels are decoded later (decodeCbfPixels).
 * With `headerOnly`, `bytes` may be just the start of the file (no truncation check).
 */
export function parseCbf(path: string, bytes: Uint8Array, opts: { headerOnly?: boolean } = {}): CbfFile {
  if (!isCbf(bytes)) throw new FileFormatError(path, 'not a CBF file (no ###CBF signature)');
  const sec = indexOfBytes(bytes, BINARY_SECTION, 0, Math.min(bytes.length, 1 << 20));
  if (sec < 0) throw new FileFormatError(path, 'CBF binary section not found (truncated header?)');
  const marker = indexOfBytes(bytes, START_MARKER, sec, Math.min(bytes.length, sec + 8192));
  if (marker < 0) throw new FileFormatError(path, 'CBF binary start marker not found (truncated file?)');
  const headerText = latin1(bytes, 0, sec);
  const mime = latin1(bytes, sec, marker);
  const int = (name: string): number => {
    const v = mimeField(mime, name);
    const n = v === undefined ? NaN : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new FileFormatError(path, `CBF binary header ${name} missing or invalid`);
    return n;
  };
  const size = int('X-Binary-Size');
  const nFast = int('X-Binary-Size-Fastest-Dimension');
  const nSlow = int('X-Binary-Size-Second-Dimension');
  const nElements = int('X-Binary-Number-of-Elements');
  if (nFast * nSlow !== nElements) {
    throw new FileFormatError(path, `CBF declares ${nElements} pixels but dimensions ${nFast}×${nSlow}`);
  }
  if (nElements > MAX_PIXELS) throw new FileFormatError(path, `CBF declares an implausible ${nElements} pixels`);
  const elementType = (mimeField(mime, 'X-Binary-Element-Type') ?? '').replace(/"/g, '');
  const conv = /conversions\s*=\s*"?([^";\s]+)/i.exec(mime);
  const conversions = conv ? conv[1] : '';
  if (conversions.toLowerCase() !== 'x-cbf_byte_offset') {
    throw new FileFormatError(path, `unsupported CBF compression '${conversions || 'none'}' (only byte_offset)`);
  }
  const dataStart = marker + 4;
  if (!opts.headerOnly && dataStart + size > bytes.length) {
    throw new FileFormatError(path, `truncated CBF: binary section declares ${size} bytes, file has ${bytes.length - dataStart}`);
  }
  return {
    path,
    headerText,
    cif: parseCif(headerText),
    binary: { dataStart, size, nFast, nSlow, nElements, elementType, conversions },
  };
}

/** Decode the whole pixel array (slow × fast, row-major). */
export function decodeCbfPixels(cbf: CbfFile, bytes: Uint8Array, out?: Int32Array): Int32Array {
  const b = cbf.binary;
  try {
    return decodeByteOffset(bytes, b.dataStart, b.dataStart + b.size, b.nElements, out);
  } catch (e) {
    if (e instanceof ByteOffsetError) throw new FileFormatError(cbf.path, `corrupt byte_offset data: ${e.message}`);
    throw e;
  }
}

/** The miniCBF `_array_data.header_contents` text (empty when absent). */
export function headerContents(cbf: CbfFile): string {
  return cbf.cif.items.get('_array_data.header_contents') ?? '';
}
