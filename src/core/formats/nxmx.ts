/**
 * NXmx (NeXus for macromolecular crystallography) geometry. Every axis is an
 * NXtransformations dataset: its value (per image, or one), attributes `transformation_type`
 * (rotation | translation), `vector`, `offset`, `units`/`offset_units` and `depends_on` (the next
 * axis towards the laboratory, "." at the end). A detector pixel's position is its fast/slow
 * index times the pixel-direction vectors, carried through the module's chain; the sample's
 * chain gives the goniometer. NeXus uses the McStas frame (z along the beam, y up); DIALS' frame
 * is that frame turned half a turn about y, so x and z change sign.
 */
import type * as H5Types from 'h5wasm/node';
import type { Goniometer } from '../models/types.js';
import { FileFormatError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { Vec3 } from '../math/vec3.js';
import { multiAxisGoniometer, singleAxisGoniometer } from './models.js';
import { h5 } from './nexus.js';

type H5Group = H5Types.Group;
type H5Dataset = H5Types.Dataset;

export interface NxAxis {
  path: string;
  name: string;
  type: 'rotation' | 'translation';
  vector: Vec3;
  /** mm */
  offset: Vec3;
  /** Values per image (mm for translations, degrees for rotations); one value if not scanned. */
  values: number[];
  dependsOn: string | null;
}

const MCSTAS_TO_DIALS = (v: Vec3): Vec3 => [-v[0], v[1], -v[2]];

function attr(d: H5Dataset | H5Group, name: string): unknown {
  try {
    const a = d.attrs[name];
    if (!a) return undefined;
    const v = a.value as unknown;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
    return typeof v === 'bigint' ? Number(v) : v;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

function vec(v: unknown): Vec3 | undefined {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(Number(x)))) return [Number(v[0]), Number(v[1]), Number(v[2])];
  return undefined;
}

/** Scale factor from a unit name to mm (lengths) or degrees (angles). */
function unitScale(units: string | undefined, kind: 'length' | 'angle'): number {
  const u = (units ?? '').trim().toLowerCase();
  if (kind === 'angle') return u.startsWith('rad') ? 180 / Math.PI : 1;
  if (u === 'm' || u === 'metre' || u === 'meter' || u === 'meters') return 1000;
  if (u === 'cm') return 10;
  if (u === 'um' || u === 'micron' || u === 'microns' || u === 'µm') return 1e-3;
  if (u === 'nm') return 1e-6;
  return 1; // mm, or absent (NXmx files from DIALS' world use mm)
}

function resolvePath(from: string, target: string): string {
  if (target.startsWith('/')) return target;
  const dir = from.slice(0, from.lastIndexOf('/'));
  const parts = `${dir}/${target}`.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

export class NxmxReader {
  constructor(private readonly file: string, private readonly root: H5Group) {}

  dataset(p: string): H5Dataset | null {
    try {
      const d = this.root.get(p);
      return d instanceof h5().Dataset ? d : null;
    } catch {
      return null;
    }
  }

  group(p: string): H5Group | null {
    try {
      const d = this.root.get(p);
      return d instanceof h5().Group ? d : null;
    } catch {
      return null;
    }
  }

  numbers(d: H5Dataset): number[] {
    const v = d.value as unknown;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
    if (Array.isArray(v)) return v.map(Number);
    return [Number(v)];
  }

  /** The path a `depends_on` dataset or attribute names, resolved; null at the end of a chain. */
  dependsOf(owner: string): string | null {
    const d = this.dataset(`${owner}/depends_on`);
    let target: string | undefined;
    if (d) target = str(d.value);
    if (!target) {
      const g = this.group(owner);
      if (g) target = str(attr(g, 'depends_on'));
    }
    if (!target || target === '.') return null;
    return resolvePath(`${owner}/x`, target);
  }

  axis(p: string): NxAxis {
    const d = this.dataset(p);
    if (!d) throw new FileFormatError(this.file, `NXmx axis ${p} not found`);
    const type = str(attr(d, 'transformation_type'));
    if (type !== 'rotation' && type !== 'translation') throw new FileFormatError(this.file, `NXmx axis ${p} has no valid transformation_type`);
    const vector = vec(attr(d, 'vector'));
    if (!vector || Vec3.length(vector) === 0) throw new FileFormatError(this.file, `NXmx axis ${p} has no valid vector`);
    const scale = unitScale(str(attr(d, 'units')), type === 'rotation' ? 'angle' : 'length');
    const offset = vec(attr(d, 'offset')) ?? [0, 0, 0];
    const offScale = unitScale(str(attr(d, 'offset_units')) ?? (type === 'translation' ? str(attr(d, 'units')) : undefined), 'length');
    const dep = str(attr(d, 'depends_on'));
    return {
      path: p,
      name: p.slice(p.lastIndexOf('/') + 1),
      type,
      vector: Vec3.normalize(vector),
      offset: Vec3.scale(offset, offScale),
      values: this.numbers(d).map((x) => x * scale),
      dependsOn: !dep || dep === '.' ? null : resolvePath(p, dep),
    };
  }

  chain(start: string | null): NxAxis[] {
    const out: NxAxis[] = [];
    for (let p = start; p; p = out[out.length - 1].dependsOn) {
      if (out.length > 32) throw new FileFormatError(this.file, 'NXmx depends_on chain is too long (a loop?)');
      out.push(this.axis(p));
    }
    return out;
  }
}

/** Carry a point (or with translate=false a direction) through a chain, innermost axis first, at image `k`. */
export function applyChain(chain: NxAxis[], p: Vec3, k: number, translate: boolean): Vec3 {
  for (const a of chain) {
    const v = a.values[Math.min(k, a.values.length - 1)] ?? 0;
    if (a.type === 'rotation') {
      p = Mat3.mulVec(Mat3.rotation(a.vector, (v * Math.PI) / 180), p);
      if (translate) p = Vec3.add(p, a.offset);
    } else if (translate) {
      p = Vec3.add(Vec3.add(p, Vec3.scale(a.vector, v)), a.offset);
    }
  }
  return p;
}

export interface NxmxDetectorGeometry { origin: Vec3; fastAxis: Vec3; slowAxis: Vec3; pixelSizeMm: [number, number] }

/** Panel geometry (DIALS frame) of the detector module's fast/slow pixel directions at image 0. */
export function nxmxPanel(r: NxmxReader, modulePath: string): NxmxDetectorGeometry {
  const fast = r.axis(`${modulePath}/fast_pixel_direction`);
  const slow = r.axis(`${modulePath}/slow_pixel_direction`);
  const fastChain = r.chain(fast.dependsOn);
  const slowChain = r.chain(slow.dependsOn);
  const fastPx = fast.values[0], slowPx = slow.values[0];
  if (!(fastPx > 0) || !(slowPx > 0)) throw new FileFormatError(modulePath, 'NXmx pixel directions need positive pixel sizes');
  const origin = applyChain(fastChain, fast.offset, 0, true);
  const slowOrigin = applyChain(slowChain, slow.offset, 0, true);
  if (Vec3.distance(origin, slowOrigin) > 1e-6) throw new FileFormatError(modulePath, 'NXmx fast and slow pixel directions start at different points');
  return {
    origin: MCSTAS_TO_DIALS(origin),
    fastAxis: MCSTAS_TO_DIALS(applyChain(fastChain, fast.vector, 0, false)),
    slowAxis: MCSTAS_TO_DIALS(applyChain(slowChain, slow.vector, 0, false)),
    pixelSizeMm: [fastPx, slowPx],
  };
}

export interface NxmxScan { goniometer: Goniometer; start: number; width: number }

/** Goniometer (DIALS frame) from the sample's chain; the scan axis is the rotation whose value changes between images. */
export function nxmxGoniometer(r: NxmxReader, samplePath: string, nImages: number): NxmxScan {
  const chain = r.chain(r.dependsOf(samplePath)).filter((a) => a.type === 'rotation');
  if (chain.length === 0) return { goniometer: singleAxisGoniometer([1, 0, 0]), start: 0, width: 0 };
  let scan = chain.findIndex((a) => a.values.length > 1 && a.values[1] !== a.values[0]);
  if (scan < 0) scan = chain.findIndex((a) => a.values.length === nImages && nImages > 1);
  if (scan < 0) scan = 0;
  const s = chain[scan];
  const width = s.values.length > 1 ? s.values[1] - s.values[0] : 0;
  const axes = chain.map((a) => MCSTAS_TO_DIALS(a.vector));
  const angles = chain.map((a) => a.values[0]);
  const goniometer = chain.length === 1 ? singleAxisGoniometer(axes[0]) : multiAxisGoniometer(axes, angles, chain.map((a) => a.name.toUpperCase()), scan);
  return { goniometer, start: s.values[0], width };
}

/** The detector module group holding fast/slow pixel directions, if the file is NXmx. */
export function findNxmxModule(r: NxmxReader): { detector: string; module: string } | null {
  const inst = r.group('/entry/instrument');
  if (!inst) return null;
  for (const d of inst.keys()) {
    const det = r.group(`/entry/instrument/${d}`);
    if (!det) continue;
    for (const m of det.keys()) {
      const p = `/entry/instrument/${d}/${m}`;
      if (r.dataset(`${p}/fast_pixel_direction`) && r.dataset(`${p}/slow_pixel_direction`)) return { detector: `/entry/instrument/${d}`, module: p };
    }
  }
  return null;
}
