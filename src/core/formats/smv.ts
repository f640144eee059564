/**
 * SMV (ADSC-style) images: a `{ KEY=value; … }` text header padded to HEADER_BYTES, then a raw
 * 2-byte (or 4-byte) array. Timepix detectors of Stockholm University (3D electron diffraction)
 * come as 516×516 images (the 2×2 chips with their wide central pixels expanded to three
 * ordinary pixels) or as raw 512×512 images, which DIALS splits into the four chips, dropping the
 * outer ring of each 256×256 chip (the wide/edge pixels): panels of 254×254.
 */
import type { Goniometer, Panel } from '../models/types.js';
import { FileFormatError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { latin1 } from './bytes.js';
import type { ImageHeader, PanelWindow, ScanPoint } from './header.js';
import { makeBeam, makePanel, singleAxisGoniometer } from './models.js';

const MAX_HEADER_BYTES = 1 << 20;

export function isSmv(head: Uint8Array): boolean {
  const t = latin1(head, 0, Math.min(head.length, 64));
  return /^\{\s*\n?\s*HEADER_BYTES\s*=\s*\d+/.test(t);
}

export interface SmvHeader {
  headerBytes: number;
  fields: Map<string, string>;
}

export function parseSmvHeader(path: string, bytes: Uint8Array): SmvHeader {
  const m = /HEADER_BYTES\s*=\s*(\d+)/.exec(latin1(bytes, 0, Math.min(bytes.length, 64)));
  const headerBytes = m ? Number(m[1]) : NaN;
  if (!(headerBytes > 0) || headerBytes > MAX_HEADER_BYTES) throw new FileFormatError(path, 'SMV header has no valid HEADER_BYTES');
  if (bytes.length < headerBytes) throw new FileFormatError(path, `truncated SMV header (${bytes.length} of ${headerBytes} bytes)`);
  const text = latin1(bytes, 0, headerBytes);
  const close = text.indexOf('}');
  const body = text.slice(text.indexOf('{') + 1, close < 0 ? text.length : close);
  const fields = new Map<string, string>();
  for (const item of body.split(';')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    fields.set(item.slice(0, eq).trim().toUpperCase(), item.slice(eq + 1).trim());
  }
  return { headerBytes, fields };
}

function num(path: string, h: SmvHeader, key: string, fallback?: number): number {
  const v = h.fields.get(key);
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isFinite(n)) {
    if (fallback !== undefined) return fallback;
    throw new FileFormatError(path, `SMV header has no valid ${key}`);
  }
  return n;
}

export interface SmvLayout {
  nFast: number;
  nSlow: number;
  bytesPerPixel: 2 | 4;
  littleEndian: boolean;
  signed: boolean;
}

export function smvLayout(path: string, h: SmvHeader): SmvLayout {
  const nFast = num(path, h, 'SIZE1');
  const nSlow = num(path, h, 'SIZE2');
  if (!Number.isInteger(nFast) || !Number.isInteger(nSlow) || nFast <= 0 || nSlow <= 0 || nFast * nSlow > 64 * 1024 * 1024) {
    throw new FileFormatError(path, `SMV image size ${nFast}×${nSlow} is not valid`);
  }
  const type = (h.fields.get('TYPE') ?? 'unsigned_short').toLowerCase();
  const order = (h.fields.get('BYTE_ORDER') ?? 'little_endian').toLowerCase();
  let bytesPerPixel: 2 | 4;
  if (type === 'unsigned_short' || type === 'short') bytesPerPixel = 2;
  else if (type === 'unsigned_int' || type === 'int' || type === 'unsigned_long' || type === 'long') bytesPerPixel = 4;
  else throw new FileFormatError(path, `SMV pixel TYPE '${type}' is not supported`);
  return { nFast, nSlow, bytesPerPixel, littleEndian: order !== 'big_endian', signed: !type.startsWith('unsigned') };
}

/** Decode the raw array after the header into int32 (slow × fast). */
export function decodeSmvPixels(path: string, bytes: Uint8Array, h: SmvHeader, out?: Int32Array): Int32Array {
  const L = smvLayout(path, h);
  const n = L.nFast * L.nSlow;
  const need = h.headerBytes + n * L.bytesPerPixel;
  if (bytes.length < need) throw new FileFormatError(path, `truncated SMV data (${bytes.length} of ${need} bytes)`);
  const dst = out ?? new Int32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + h.headerBytes, n * L.bytesPerPixel);
  if (L.bytesPerPixel === 2) {
    if (L.signed) for (let i = 0; i < n; i++) dst[i] = dv.getInt16(2 * i, L.littleEndian);
    else for (let i = 0; i < n; i++) dst[i] = dv.getUint16(2 * i, L.littleEndian);
  } else {
    // DIALS reads 4-byte counts into int32; values above 2^31−1 wrap exactly as they do there.
    for (let i = 0; i < n; i++) dst[i] = dv.getInt32(4 * i, L.littleEndian);
  }
  return dst;
}

/** The Stockholm Timepix goniometer axis as DIALS sets it for these images (the header has none). */
const TIMEPIX_SU_AXIS: [number, number, number] = [0.7825634081905295, -0.6225708892658111, 0];
const TIMEPIX_CHIP = 256;
/** Each wide pixel between chips spans three ordinary pixels, i.e. two extra per chip edge. */
const TIMEPIX_EXTRA = 2;

function timepix512Panels(path: string, h: SmvHeader, common: Omit<Parameters<typeof makePanel>[0], 'origin' | 'fastAxis' | 'slowAxis' | 'imageSize'>): { panels: Panel[]; windows: PanelWindow[] } {
  const px = common.pixelSizeMm[0];
  const d = num(path, h, 'DISTANCE');
  const bx = num(path, h, 'BEAM_CENTER_X'), by = num(path, h, 'BEAM_CENTER_Y');
  const panels: Panel[] = [];
  const windows: PanelWindow[] = [];
  for (const cy of [0, 1]) {
    for (const cx of [0, 1]) {
      // Position of the window's first pixel in the 516-pixel (wide pixels expanded) frame of the beam centre.
      const fast0 = cx === 0 ? 1 : TIMEPIX_CHIP + TIMEPIX_EXTRA + 3;
      const slow0 = cy === 0 ? 1 : TIMEPIX_CHIP + TIMEPIX_EXTRA + 3;
      panels.push(makePanel({
        ...common,
        name: `Panel${panels.length}`,
        origin: [-(bx - fast0) * px, (by - slow0) * px, -d],
        fastAxis: [1, 0, 0], slowAxis: [0, -1, 0],
        imageSize: [254, 254],
      }));
      windows.push({ x0: cx * TIMEPIX_CHIP + 1, y0: cy * TIMEPIX_CHIP + 1, nFast: 254, nSlow: 254 });
    }
  }
  return { panels, windows };
}

export function smvModels(path: string, bytes: Uint8Array): Omit<ImageHeader, 'path'> & { smv: SmvHeader } {
  const h = parseSmvHeader(path, bytes);
  const L = smvLayout(path, h);
  const wavelength = num(path, h, 'WAVELENGTH');
  if (!(wavelength > 0)) throw new FileFormatError(path, 'SMV WAVELENGTH must be positive');
  const px = num(path, h, 'PIXEL_SIZE');
  if (!(px > 0)) throw new FileFormatError(path, 'SMV PIXEL_SIZE must be positive');
  const distance = num(path, h, 'DISTANCE');
  const beamline = (h.fields.get('BEAMLINE') ?? '').toUpperCase();
  const timepix = beamline === 'TIMEPIX_SU';
  const jhsim = beamline === 'FAKE' && h.fields.has('DIALS_ORIGIN');
  const trusted: [number, number] = [-1, L.bytesPerPixel === 2 ? 65535 : 2147483647];
  const beam = makeBeam(wavelength);
  const common = { pixelSizeMm: [px, px] as [number, number], trustedRange: trusted, thicknessMm: timepix ? 0.3 : 0, wavelengthA: wavelength, parallax: false };
  let format = 'SMVADSC';
  let panels: Panel[];
  let panelWindows: PanelWindow[] | undefined;
  let goniometer: Goniometer = singleAxisGoniometer([1, 0, 0]);
  if (timepix && L.nFast === 512 && L.nSlow === 512) {
    format = 'SMVTimePix_SU_512x512';
    const t = timepix512Panels(path, h, common);
    panels = t.panels;
    panelWindows = t.windows;
    goniometer = singleAxisGoniometer(TIMEPIX_SU_AXIS);
  } else {
    let bc: [number, number];
    if (timepix) {
      // Stockholm's Timepix headers give the beam centre in pixels (fast, slow).
      format = L.nFast === 516 ? 'SMVTimePix_SU_516x516' : 'SMVTimePix_SU';
      bc = [num(path, h, 'BEAM_CENTER_X') * px, num(path, h, 'BEAM_CENTER_Y') * px];
      goniometer = singleAxisGoniometer(TIMEPIX_SU_AXIS);
    } else if (jhsim) {
      // simtbx's simulated SMV: DIALS places the beam one pixel further along both axes than BEAM_CENTER.
      format = 'SMVJHSim';
      bc = [num(path, h, 'BEAM_CENTER_X') + px, num(path, h, 'BEAM_CENTER_Y') + px];
    } else {
      // ADSC: BEAM_CENTER_X runs along the slow direction, BEAM_CENTER_Y along the fast one (mm).
      bc = [num(path, h, 'BEAM_CENTER_Y'), num(path, h, 'BEAM_CENTER_X')];
    }
    panels = [makePanel({ ...common, origin: [-bc[0], bc[1], -distance], fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], imageSize: [L.nFast, L.nSlow] })];
  }
  const twoTheta = num(path, h, 'TWOTHETA', 0);
  if (twoTheta !== 0) {
    // The detector swings about the horizontal (x) axis through the sample.
    const r = Mat3.rotation([1, 0, 0], (twoTheta * Math.PI) / 180);
    for (const p of panels) { p.origin = Mat3.mulVec(r, p.origin); p.fastAxis = Mat3.mulVec(r, p.fastAxis); p.slowAxis = Mat3.mulVec(r, p.slowAxis); }
  }
  const date = h.fields.get('DATE');
  const parsed = date && !timepix ? Date.parse(date + ' UTC') : NaN;
  const scan: ScanPoint = {
    oscillation: [num(path, h, 'OSC_START', 0), num(path, h, 'OSC_RANGE', 0)],
    // simtbx writes a nominal TIME; DIALS reports its own 1 s default for these simulated images.
    exposureTime: jhsim ? 1 : num(path, h, 'TIME', 0),
    epoch: Number.isFinite(parsed) ? parsed / 1000 : 0,
  };
  return { format, beam, detector: { panels }, goniometer, scan, nImages: 1, panelWindows, smv: h };
}
