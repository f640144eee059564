/**
 * Which pixels spot finding may use. Static per panel (same for every image): panel gap
 * rectangles, resolution limits, ice rings, a user mask file. Per image: values outside the
 * trusted range (gaps and dead pixels carry negative values, overloads sit at the top).
 *
 * User mask files: DIALS' mask pickles cannot be read (Python pickle of flex arrays). We read our
 * own small JSON format instead, which lists the regions to exclude:
 *   { "format": "xtalflow-mask", "version": 1,
 *     "panels": [ { "panel": 0, "rectangles": [[x0, y0, x1, y1], …],   // half-open, pixels
 *                   "circles": [[xc, yc, r], …], "pixels": [[x, y], …] } ] }
 */
import { readFileSync } from 'node:fs';
import { FileFormatError, ParameterError } from '../../core/errors.js';
import { Panel } from '../../core/models/detector.js';
import type { Beam, Detector } from '../../core/models/types.js';
import { onIceRingInvD2 } from '../../core/geometry/ice_rings.js';

export interface MaskParams {
  dMin: number | null;
  dMax: number | null;
  iceRings: boolean;
  /** Half-width of an ice ring in 1/d² (Å⁻²), DIALS' ice_rings.width. */
  iceRingWidth: number;
  /** Path of a user mask file, or null. */
  maskFile: string | null;
}

export function checkMaskParams(p: MaskParams): void {
  if (p.dMin !== null && !(p.dMin > 0)) throw new ParameterError(`d_min=${p.dMin}: must be > 0`);
  if (p.dMax !== null && !(p.dMax > 0)) throw new ParameterError(`d_max=${p.dMax}: must be > 0`);
  if (p.dMin !== null && p.dMax !== null && p.dMin > p.dMax) {
    throw new ParameterError(`d_min=${p.dMin} is larger than d_max=${p.dMax}: no pixel could pass`);
  }
  if (!(p.iceRingWidth > 0)) throw new ParameterError(`ice_rings.width=${p.iceRingWidth}: must be > 0`);
}

interface UserMaskPanel { panel: number; rectangles?: number[][]; circles?: number[][]; pixels?: number[][] }

/** Parse our JSON mask format; reject DIALS pickles with a clear message. */
export function readUserMask(path: string): UserMaskPanel[] {
  let bytes: Buffer;
  try { bytes = readFileSync(path); } catch (e) {
    throw new FileFormatError(path, `cannot read mask file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new FileFormatError(path, 'DIALS mask pickles cannot be read; write the masked regions as an xtalflow-mask JSON file (see `xtalflow find_spots --help`)');
  }
  let json: unknown;
  try { json = JSON.parse(bytes.toString('utf8')); } catch {
    throw new FileFormatError(path, 'not an xtalflow-mask JSON file');
  }
  const o = json as { format?: unknown; panels?: unknown };
  if (o?.format !== 'xtalflow-mask' || !Array.isArray(o.panels)) {
    throw new FileFormatError(path, 'expected {"format": "xtalflow-mask", "panels": [...]}');
  }
  const isNums = (a: unknown, n: number) => Array.isArray(a) && a.every((r) => Array.isArray(r) && r.length === n && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  for (const p of o.panels as UserMaskPanel[]) {
    if (!Number.isInteger(p?.panel) || p.panel < 0) throw new FileFormatError(path, 'every panel entry needs an integer "panel"');
    if (p.rectangles !== undefined && !isNums(p.rectangles, 4)) throw new FileFormatError(path, `panel ${p.panel}: rectangles must be [x0, y0, x1, y1] lists`);
    if (p.circles !== undefined && !isNums(p.circles, 3)) throw new FileFormatError(path, `panel ${p.panel}: circles must be [xc, yc, r] lists`);
    if (p.pixels !== undefined && !isNums(p.pixels, 2)) throw new FileFormatError(path, `panel ${p.panel}: pixels must be [x, y] lists`);
  }
  return o.panels as UserMaskPanel[];
}

function clearRect(mask: Uint8Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number): void {
  const xa = Math.max(0, Math.floor(x0)), xb = Math.min(w, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0)), yb = Math.min(h, Math.ceil(y1));
  for (let y = ya; y < yb; y++) mask.fill(0, y * w + xa, y * w + xb);
}

/**
 * Static masks, one Uint8Array per panel (1 = usable). Resolution is taken at each pixel centre,
 * with the panel's px→mm (parallax) mapping.
 */
export function staticMasks(detector: Detector, beam: Beam | undefined, p: MaskParams): Uint8Array[] {
  checkMaskParams(p);
  const user = p.maskFile ? readUserMask(p.maskFile) : [];
  const needD = p.dMin !== null || p.dMax !== null || p.iceRings;
  if (needD && !beam) throw new ParameterError('d_min/d_max/ice_rings need a beam model in the experiment');
  return detector.panels.map((panel, pi) => {
    const [w, h] = panel.imageSize;
    const mask = new Uint8Array(w * h).fill(1);
    for (const [x0, y0, x1, y1] of panel.mask) clearRect(mask, w, h, x0, y0, x1, y1);
    for (const u of user) {
      if (u.panel !== pi) continue;
      for (const [x0, y0, x1, y1] of u.rectangles ?? []) clearRect(mask, w, h, x0, y0, x1, y1);
      for (const [xc, yc, r] of u.circles ?? []) {
        for (let y = Math.max(0, Math.floor(yc - r)); y < Math.min(h, Math.ceil(yc + r) + 1); y++) {
          for (let x = Math.max(0, Math.floor(xc - r)); x < Math.min(w, Math.ceil(xc + r) + 1); x++) {
            const dx = x + 0.5 - xc, dy = y + 0.5 - yc;
            if (dx * dx + dy * dy <= r * r) mask[y * w + x] = 0;
          }
        }
      }
      for (const [x, y] of u.pixels ?? []) if (x >= 0 && x < w && y >= 0 && y < h) mask[y * w + x] = 0;
    }
    if (needD && beam) maskResolution(mask, panel, beam, p);
    return mask;
  });
}

function maskResolution(mask: Uint8Array, panel: Panel, beam: Beam, p: MaskParams): void {
  const [w, h] = panel.imageSize;
  const lambda = beam.wavelength;
  // Unit vector of s0 (beam travels along −direction).
  const dn = Math.hypot(...beam.direction);
  const ux = -beam.direction[0] / dn, uy = -beam.direction[1] / dn, uz = -beam.direction[2] / dn;
  const { origin: o, fastAxis: f, slowAxis: s } = panel;
  const mm = new Float64Array(2);
  const invD2Max = p.dMin !== null ? 1 / (p.dMin * p.dMin) : Infinity; // high-resolution limit
  const invD2Min = p.dMax !== null ? 1 / (p.dMax * p.dMax) : 0;
  const halfWidth = p.iceRingWidth;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (mask[i] === 0) continue;
      Panel.pixelToMmInto(panel, x + 0.5, y + 0.5, mm);
      const lx = o[0] + mm[0] * f[0] + mm[1] * s[0];
      const ly = o[1] + mm[0] * f[1] + mm[1] * s[1];
      const lz = o[2] + mm[0] * f[2] + mm[1] * s[2];
      const r = Math.hypot(lx, ly, lz);
      // |s1 − s0| = |û1 − û0| / λ = 1/d
      const qx = lx / r - ux, qy = ly / r - uy, qz = lz / r - uz;
      const invD2 = (qx * qx + qy * qy + qz * qz) / (lambda * lambda);
      if (invD2 > invD2Max || invD2 < invD2Min) { mask[i] = 0; continue; }
      if (p.iceRings && onIceRingInvD2(invD2, halfWidth)) mask[i] = 0;
    }
  }
}

/**
 * Combine the static mask with the image's own values: usable when trustedMin < v < trustedMax.
 * Writes into `out`; returns the number of usable pixels.
 */
export function imageMask(values: Int32Array, staticMask: Uint8Array, trustedRange: readonly [number, number], out: Uint8Array): number {
  const lo = trustedRange[0], hi = trustedRange[1];
  const n = values.length;
  let usable = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const ok = staticMask[i] !== 0 && v > lo && v < hi ? 1 : 0;
    out[i] = ok;
    usable += ok;
  }
  return usable;
}
