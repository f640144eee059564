/**
 * DIALS ExperimentList JSON (`.expt`) reader and writer.
 *
 * The file keeps one list per model kind (`beam`, `detector`, …, `imageset`, `profile`,
 * `scaling_model`) and experiments refer to models by index, so two experiments sharing a
 * detector point at the same entry. In memory that sharing is object identity: reading gives
 * experiments that hold the very same `Detector` object, and writing numbers the distinct objects
 * in order of first use. Fields we do not interpret are kept in each model's `extra` and written
 * back, so reading then writing reproduces every value of the original file. Fields that old
 * files omit (panel `material`, beam `flux`, goniometer `setting_rotation` …) are filled with
 * DIALS' defaults and then written, as DIALS itself does on rewrite. Models that no experiment
 * uses are not written. JSON has no −0, so a `-0.0` in the file comes back as `0`.
 *
 * Paths: `.expt` files from `dials.import` may hold relative image templates (relative to the
 * file's directory). Reading resolves template, image list, mask, gain, pedestal, dx and dy
 * against the directory of the `.expt`, so stages can open images wherever the process runs; the
 * strings as written are kept in `ImageSetRef.pathsAsRead` and written back unchanged while the
 * resolved path still names the same file from the output's directory. A changed path is
 * written as it is held in memory (absolute).
 *
 * Experiments without an identifier (files from before DIALS 2.0) get a fresh UUID v4, as
 * DIALS assigns one on load.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { FileFormatError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { Goniometer as GoniometerFns } from '../models/goniometer.js';
import type {
  Beam, Crystal, Detector, Experiment, ExperimentList, Goniometer, ImageSetRef, Panel, PxMmStrategy, Scan,
} from '../models/types.js';
import type { Vec3 } from '../math/vec3.js';
import type { Mat3 } from '../math/mat3.js';

type Json = Record<string, unknown>;

/** Reads a `.expt` file; every problem becomes a FileFormatError naming the file (and the key). */
export async function readExperiments(file: string): Promise<ExperimentList> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileFormatError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return experimentsFromJson(json, { source: file, dir: path.dirname(path.resolve(file)) });
}

/** Writes `list` as a DIALS ExperimentList JSON file, atomically. */
export async function writeExperiments(file: string, list: ExperimentList): Promise<void> {
  const json = experimentsToJson(list, { dir: path.dirname(path.resolve(file)) });
  await writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Reading

class Reader {
  constructor(readonly source: string) {}

  fail(key: string, detail: string): never {
    throw new FileFormatError(this.source, `${key}: ${detail}`);
  }

  obj(v: unknown, key: string): Json {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'expected a JSON object');
    return v as Json;
  }

  /** A required field (missing → error naming the key). */
  req(o: Json, k: string, where: string): unknown {
    if (!(k in o) || o[k] === undefined) this.fail(`${where}.${k}`, 'missing');
    return o[k];
  }

  num(v: unknown, key: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `expected a number, got ${JSON.stringify(v)}`);
    return v;
  }

  numOr(o: Json, k: string, where: string, dflt: number): number {
    return k in o && o[k] !== null ? this.num(o[k], `${where}.${k}`) : dflt;
  }

  str(v: unknown, key: string): string {
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }

  nums(v: unknown, key: string, n?: number): number[] {
    if (!Array.isArray(v)) this.fail(key, 'expected a list of numbers');
    if (n !== undefined && v.length !== n) this.fail(key, `expected ${n} numbers, got ${v.length}`);
    return v.map((x, i) => this.num(x, `${key}[${i}]`));
  }

  vec3(v: unknown, key: string): Vec3 { return this.nums(v, key, 3) as Vec3; }
  mat3(v: unknown, key: string): Mat3 { return this.nums(v, key, 9) as Mat3; }
  pair(v: unknown, key: string): [number, number] { return this.nums(v, key, 2) as [number, number]; }

  list(v: unknown, key: string): unknown[] {
    if (!Array.isArray(v)) this.fail(key, 'expected a list');
    return v;
  }
}

/** Keys of `o` that are not in `known`, copied (values are plain JSON, shared is harmless). */
function extraOf(o: Json, known: readonly string[]): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    (extra ??= {})[k] = o[k];
  }
  return extra;
}

const BEAM_KEYS = ['direction', 'wavelength', 'divergence', 'sigma_divergence', 'polarization_normal',
  'polarization_fraction', 'flux', 'transmission', 'probe'] as const;

function readBeam(r: Reader, o: Json, where: string): Beam {
  const b: Beam = {
    direction: r.vec3(r.req(o, 'direction', where), `${where}.direction`),
    wavelength: r.num(r.req(o, 'wavelength', where), `${where}.wavelength`),
    divergence: r.numOr(o, 'divergence', where, 0),
    sigmaDivergence: r.numOr(o, 'sigma_divergence', where, 0),
    polarizationNormal: 'polarization_normal' in o ? r.vec3(o.polarization_normal, `${where}.polarization_normal`) : [0, 1, 0],
    polarizationFraction: r.numOr(o, 'polarization_fraction', where, 0.999),
    flux: r.numOr(o, 'flux', where, 0),
    transmission: r.numOr(o, 'transmission', where, 1),
  };
  if ('probe' in o) b.probe = r.str(o.probe, `${where}.probe`);
  const extra = extraOf(o, BEAM_KEYS);
  if (extra) b.extra = extra;
  return b;
}

const PANEL_KEYS = ['name', 'type', 'identifier', 'fast_axis', 'slow_axis', 'origin', 'pixel_size', 'image_size',
  'trusted_range', 'thickness', 'material', 'mu', 'gain', 'pedestal', 'raw_image_offset', 'mask', 'px_mm_strategy'] as const;

function readPxMm(r: Reader, v: unknown, where: string): PxMmStrategy {
  if (v === undefined) return { type: 'SimplePxMmStrategy' };
  const o = r.obj(v, where);
  const type = r.str(r.req(o, 'type', where), `${where}.type`);
  if (type === 'ParallaxCorrectedPxMmStrategy') {
    const s: PxMmStrategy = { type };
    if ('mu' in o) s.mu = r.num(o.mu, `${where}.mu`);
    if ('t0' in o) s.t0 = r.num(o.t0, `${where}.t0`);
    return s;
  }
  if (type === 'SimplePxMmStrategy') return { type };
  // An unknown strategy cannot be applied correctly; refusing beats silently ignoring it.
  return r.fail(`${where}.type`, `unsupported pixel-to-mm strategy '${type}'`);
}

function readPanel(r: Reader, o: Json, where: string): Panel {
  const mask = 'mask' in o ? r.list(o.mask, `${where}.mask`).map((m, i) =>
    r.nums(m, `${where}.mask[${i}]`, 4) as [number, number, number, number]) : [];
  const p: Panel = {
    name: 'name' in o ? r.str(o.name, `${where}.name`) : '',
    type: 'type' in o ? r.str(o.type, `${where}.type`) : '',
    identifier: 'identifier' in o ? r.str(o.identifier, `${where}.identifier`) : '',
    fastAxis: r.vec3(r.req(o, 'fast_axis', where), `${where}.fast_axis`),
    slowAxis: r.vec3(r.req(o, 'slow_axis', where), `${where}.slow_axis`),
    origin: r.vec3(r.req(o, 'origin', where), `${where}.origin`),
    pixelSize: r.pair(r.req(o, 'pixel_size', where), `${where}.pixel_size`),
    imageSize: r.pair(r.req(o, 'image_size', where), `${where}.image_size`),
    trustedRange: 'trusted_range' in o ? r.pair(o.trusted_range, `${where}.trusted_range`) : [0, 0],
    thickness: r.numOr(o, 'thickness', where, 0),
    material: 'material' in o ? r.str(o.material, `${where}.material`) : '',
    mu: r.numOr(o, 'mu', where, 0),
    gain: r.numOr(o, 'gain', where, 1),
    pedestal: r.numOr(o, 'pedestal', where, 0),
    rawImageOffset: 'raw_image_offset' in o ? r.pair(o.raw_image_offset, `${where}.raw_image_offset`) : [0, 0],
    mask,
    pxMmStrategy: readPxMm(r, o.px_mm_strategy, `${where}.px_mm_strategy`),
  };
  const extra = extraOf(o, PANEL_KEYS);
  if (extra) p.extra = extra;
  return p;
}

function readDetector(r: Reader, o: Json, where: string): Detector {
  const panels = r.list(r.req(o, 'panels', where), `${where}.panels`);
  if (panels.length === 0) r.fail(`${where}.panels`, 'a detector needs at least one panel');
  const d: Detector = { panels: panels.map((p, i) => readPanel(r, r.obj(p, `${where}.panels[${i}]`), `${where}.panels[${i}]`)) };
  if ('hierarchy' in o) d.hierarchy = o.hierarchy;
  const extra = extraOf(o, ['panels', 'hierarchy']);
  if (extra) d.extra = extra;
  return d;
}

const GONIO_KEYS = ['rotation_axis', 'fixed_rotation', 'setting_rotation', 'axes', 'angles', 'names', 'scan_axis'] as const;
const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function readGoniometer(r: Reader, o: Json, where: string): Goniometer {
  // DIALS writes a MultiAxisGoniometer either with its derived rotation_axis/fixed/setting
  // rotations or with the axis stack alone; in the latter case they are derived from the stack.
  const stackOnly = 'axes' in o && !('rotation_axis' in o);
  const g: Goniometer = {
    rotationAxis: stackOnly ? [1, 0, 0] : r.vec3(r.req(o, 'rotation_axis', where), `${where}.rotation_axis`),
    fixedRotation: 'fixed_rotation' in o ? r.mat3(o.fixed_rotation, `${where}.fixed_rotation`) : [...IDENTITY] as Mat3,
    settingRotation: 'setting_rotation' in o ? r.mat3(o.setting_rotation, `${where}.setting_rotation`) : [...IDENTITY] as Mat3,
  };
  if ('axes' in o) {
    const axes = r.list(o.axes, `${where}.axes`);
    // DIALS writes the axes either as a list of 3-vectors or flattened.
    g.axes = axes.length > 0 && Array.isArray(axes[0])
      ? axes.map((a, i) => r.vec3(a, `${where}.axes[${i}]`))
      : chunk3(r.nums(axes, `${where}.axes`));
    g.angles = r.nums(r.req(o, 'angles', where), `${where}.angles`, g.axes.length);
    g.names = r.list(r.req(o, 'names', where), `${where}.names`).map((n, i) => r.str(n, `${where}.names[${i}]`));
    if (g.names.length !== g.axes.length) r.fail(`${where}.names`, `expected ${g.axes.length} names`);
    g.scanAxis = r.num(r.req(o, 'scan_axis', where), `${where}.scan_axis`);
    if (!Number.isInteger(g.scanAxis) || g.scanAxis < 0 || g.scanAxis >= g.axes.length) {
      r.fail(`${where}.scan_axis`, `${g.scanAxis} is not an axis index`);
    }
  }
  const extra = extraOf(o, GONIO_KEYS);
  if (extra) g.extra = extra;
  return stackOnly ? GoniometerFns.withDerivedRotations(g) : g;
}

/**
 * DIALS (cctbx) writes Hall symbols with a leading space unless they start with '-'
 * (' P 4 2', '-P 4 2'); without it a reader may take 'P 4 2' for the Hermann–Mauguin P 42.
 */
function dialsHall(hall: string): string {
  const h = hall.trim();
  return h.startsWith('-') ? h : ` ${h}`;
}

function chunk3(v: number[]): Vec3[] {
  const out: Vec3[] = [];
  for (let i = 0; i + 2 < v.length; i += 3) out.push([v[i], v[i + 1], v[i + 2]]);
  return out;
}

const SCAN_KEYS = ['image_range', 'oscillation', 'exposure_time', 'epochs', 'batch_offset', 'valid_image_ranges'] as const;

function readScan(r: Reader, o: Json, where: string): Scan {
  const imageRange = r.pair(r.req(o, 'image_range', where), `${where}.image_range`);
  if (!Number.isInteger(imageRange[0]) || !Number.isInteger(imageRange[1]) || imageRange[1] < imageRange[0]) {
    r.fail(`${where}.image_range`, `invalid range [${imageRange.join(', ')}]`);
  }
  const s: Scan = {
    imageRange,
    oscillation: r.pair(r.req(o, 'oscillation', where), `${where}.oscillation`),
    exposureTimes: 'exposure_time' in o ? r.nums(o.exposure_time, `${where}.exposure_time`) : [],
    epochs: 'epochs' in o ? r.nums(o.epochs, `${where}.epochs`) : [],
    batchOffset: r.numOr(o, 'batch_offset', where, 0),
  };
  if ('valid_image_ranges' in o) {
    const v = r.obj(o.valid_image_ranges, `${where}.valid_image_ranges`);
    s.validImageRanges = {};
    for (const [id, ranges] of Object.entries(v)) {
      s.validImageRanges[id] = r.list(ranges, `${where}.valid_image_ranges.${id}`)
        .map((x, i) => r.pair(x, `${where}.valid_image_ranges.${id}[${i}]`));
    }
  }
  const extra = extraOf(o, SCAN_KEYS);
  if (extra) s.extra = extra;
  return s;
}

const CRYSTAL_KEYS = ['real_space_a', 'real_space_b', 'real_space_c', 'space_group_hall_symbol', 'mosaicity',
  'A_at_scan_points', 'B_covariance'] as const;

function readCrystal(r: Reader, o: Json, where: string): Crystal {
  const c: Crystal = {
    realSpaceA: r.vec3(r.req(o, 'real_space_a', where), `${where}.real_space_a`),
    realSpaceB: r.vec3(r.req(o, 'real_space_b', where), `${where}.real_space_b`),
    realSpaceC: r.vec3(r.req(o, 'real_space_c', where), `${where}.real_space_c`),
    spaceGroupHall: r.str(r.req(o, 'space_group_hall_symbol', where), `${where}.space_group_hall_symbol`),
  };
  if ('mosaicity' in o) c.mosaicity = r.num(o.mosaicity, `${where}.mosaicity`);
  if ('A_at_scan_points' in o) {
    c.AAtScanPoints = r.list(o.A_at_scan_points, `${where}.A_at_scan_points`)
      .map((m, i) => r.mat3(m, `${where}.A_at_scan_points[${i}]`));
  }
  if ('B_covariance' in o) c.BCovariance = r.nums(o.B_covariance, `${where}.B_covariance`);
  const extra = extraOf(o, CRYSTAL_KEYS);
  if (extra) c.extra = extra;
  return c;
}

const PATH_FIELDS = ['template', 'mask', 'gain', 'pedestal', 'dx', 'dy'] as const;
const IMAGESET_KEYS = ['__id__', 'template', 'images', 'single_file_indices', 'mask', 'gain', 'pedestal', 'dx', 'dy', 'params'] as const;

function resolveIn(dir: string | undefined, p: string): string {
  return dir && p !== '' && !path.isAbsolute(p) ? path.resolve(dir, p) : p;
}

function readImageSet(r: Reader, o: Json, where: string, dir: string | undefined): ImageSetRef {
  const s: ImageSetRef = { kind: '__id__' in o ? r.str(o.__id__, `${where}.__id__`) : 'ImageSequence' };
  const asRead: Record<string, string | string[]> = {};
  for (const k of PATH_FIELDS) {
    if (!(k in o)) continue;
    const v = o[k];
    if (v === null) { if (k !== 'template') s[k] = null; continue; }
    const p = r.str(v, `${where}.${k}`);
    asRead[k] = p;
    s[k] = resolveIn(dir, p);
  }
  if ('images' in o) {
    const imgs = r.list(o.images, `${where}.images`).map((x, i) => r.str(x, `${where}.images[${i}]`));
    asRead.images = imgs;
    s.images = imgs.map((p) => resolveIn(dir, p));
  }
  if ('single_file_indices' in o) s.singleFileIndices = r.nums(o.single_file_indices, `${where}.single_file_indices`);
  if ('params' in o) s.params = r.obj(o.params, `${where}.params`);
  const extra = extraOf(o, IMAGESET_KEYS);
  if (extra) s.extra = extra;
  if (dir !== undefined && Object.keys(asRead).length > 0) s.pathsAsRead = { dir, fields: asRead };
  return s;
}

const EXPERIMENT_KEYS = ['__id__', 'identifier', 'beam', 'detector', 'goniometer', 'scan', 'crystal', 'profile',
  'imageset', 'scaling_model'] as const;

/**
 * Builds experiments from parsed `.expt` JSON. `source` names the file in messages; `dir`
 * (the file's directory) resolves relative image paths — omit it to keep paths as written.
 */
export function experimentsFromJson(json: unknown, opts: { source: string; dir?: string }): ExperimentList {
  const r = new Reader(opts.source);
  const top = r.obj(json, 'top level');
  if ('__id__' in top && top.__id__ !== 'ExperimentList') {
    r.fail('__id__', `expected 'ExperimentList', got ${JSON.stringify(top.__id__)}`);
  }
  const exps = r.list(r.req(top, 'experiment', 'ExperimentList'), 'experiment');

  /** Models of one kind are parsed lazily, once each, so sharing by index becomes sharing by identity. */
  function table<T>(kind: string, parse: (o: Json, where: string) => T): (idx: unknown, key: string) => T {
    const raw = kind in top && top[kind] !== null ? r.list(top[kind], kind) : [];
    const cache = new Map<number, T>();
    return (idx, key) => {
      const i = r.num(idx, key);
      if (!Number.isInteger(i) || i < 0 || i >= raw.length) {
        r.fail(key, `refers to ${kind}[${i}] but the file has ${raw.length} ${kind} entr${raw.length === 1 ? 'y' : 'ies'}`);
      }
      let m = cache.get(i);
      if (m === undefined) {
        m = parse(r.obj(raw[i], `${kind}[${i}]`), `${kind}[${i}]`);
        cache.set(i, m);
      }
      return m;
    };
  }
  const beams = table('beam', (o, w) => readBeam(r, o, w));
  const detectors = table('detector', (o, w) => readDetector(r, o, w));
  const goniometers = table('goniometer', (o, w) => readGoniometer(r, o, w));
  const scans = table('scan', (o, w) => readScan(r, o, w));
  const crystals = table('crystal', (o, w) => readCrystal(r, o, w));
  const imagesets = table('imageset', (o, w) => readImageSet(r, o, w, opts.dir));
  const profiles = table('profile', (o) => o);
  const scalingModels = table('scaling_model', (o) => o);

  return exps.map((e, i) => {
    const where = `experiment[${i}]`;
    const o = r.obj(e, where);
    const has = (k: string) => k in o && o[k] !== null && o[k] !== undefined;
    const x: Experiment = {
      identifier: has('identifier') ? r.str(o.identifier, `${where}.identifier`) : randomUUID(),
    };
    if (has('beam')) x.beam = beams(o.beam, `${where}.beam`);
    if (has('detector')) x.detector = detectors(o.detector, `${where}.detector`);
    if (has('goniometer')) x.goniometer = goniometers(o.goniometer, `${where}.goniometer`);
    if (has('scan')) x.scan = scans(o.scan, `${where}.scan`);
    if (has('crystal')) x.crystal = crystals(o.crystal, `${where}.crystal`);
    if (has('imageset')) x.imageset = imagesets(o.imageset, `${where}.imageset`);
    if (has('profile')) x.profile = profiles(o.profile, `${where}.profile`);
    if (has('scaling_model')) x.scalingModel = scalingModels(o.scaling_model, `${where}.scaling_model`);
    const extra = extraOf(o, EXPERIMENT_KEYS);
    if (extra) x.extra = extra;
    return x;
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

function beamJson(b: Beam): Json {
  const o: Json = {
    direction: [...b.direction],
    wavelength: b.wavelength,
    divergence: b.divergence,
    sigma_divergence: b.sigmaDivergence,
    polarization_normal: [...b.polarizationNormal],
    polarization_fraction: b.polarizationFraction,
    flux: b.flux,
    transmission: b.transmission,
  };
  if (b.probe !== undefined) o.probe = b.probe;
  return { ...o, ...b.extra };
}

function panelJson(p: Panel): Json {
  const pxmm: Json = { type: p.pxMmStrategy.type };
  if (p.pxMmStrategy.type === 'ParallaxCorrectedPxMmStrategy') {
    if (p.pxMmStrategy.mu !== undefined) pxmm.mu = p.pxMmStrategy.mu;
    if (p.pxMmStrategy.t0 !== undefined) pxmm.t0 = p.pxMmStrategy.t0;
  }
  return {
    name: p.name,
    type: p.type,
    fast_axis: [...p.fastAxis],
    slow_axis: [...p.slowAxis],
    origin: [...p.origin],
    raw_image_offset: [...p.rawImageOffset],
    image_size: [...p.imageSize],
    pixel_size: [...p.pixelSize],
    trusted_range: [...p.trustedRange],
    thickness: p.thickness,
    material: p.material,
    mu: p.mu,
    identifier: p.identifier,
    mask: p.mask.map((m) => [...m]),
    gain: p.gain,
    pedestal: p.pedestal,
    px_mm_strategy: pxmm,
    ...p.extra,
  };
}

function detectorJson(d: Detector): Json {
  const o: Json = { panels: d.panels.map(panelJson) };
  if (d.hierarchy !== undefined) o.hierarchy = d.hierarchy;
  return { ...o, ...d.extra };
}

function goniometerJson(g: Goniometer): Json {
  const o: Json = {
    rotation_axis: [...g.rotationAxis],
    fixed_rotation: [...g.fixedRotation],
    setting_rotation: [...g.settingRotation],
  };
  if (g.axes) {
    o.axes = g.axes.map((a) => [...a]);
    o.angles = [...(g.angles ?? [])];
    o.names = [...(g.names ?? [])];
    o.scan_axis = g.scanAxis ?? 0;
  }
  return { ...o, ...g.extra };
}

function scanJson(s: Scan): Json {
  const o: Json = {
    image_range: [...s.imageRange],
    batch_offset: s.batchOffset,
    oscillation: [...s.oscillation],
    exposure_time: [...s.exposureTimes],
    epochs: [...s.epochs],
  };
  if (s.validImageRanges) {
    o.valid_image_ranges = Object.fromEntries(Object.entries(s.validImageRanges).map(([k, v]) => [k, v.map((x) => [...x])]));
  }
  return { ...o, ...s.extra };
}

function crystalJson(c: Crystal): Json {
  const o: Json = {
    __id__: 'crystal',
    real_space_a: [...c.realSpaceA],
    real_space_b: [...c.realSpaceB],
    real_space_c: [...c.realSpaceC],
    space_group_hall_symbol: dialsHall(c.spaceGroupHall),
  };
  if (c.mosaicity !== undefined) o.mosaicity = c.mosaicity;
  if (c.AAtScanPoints) o.A_at_scan_points = c.AAtScanPoints.map((m) => [...m]);
  if (c.BCovariance) o.B_covariance = [...c.BCovariance];
  return { ...o, ...c.extra };
}

/** The string to write for a path field: the original spelling while it still names the same file. */
function pathOut(s: ImageSetRef, field: string, value: string, outDir: string | undefined): string {
  const asRead = s.pathsAsRead?.fields[field];
  if (typeof asRead !== 'string' || resolveIn(s.pathsAsRead!.dir, asRead) !== value) return value;
  if (path.isAbsolute(asRead) || outDir === undefined || path.resolve(outDir) === path.resolve(s.pathsAsRead!.dir)) return asRead;
  return value;
}

function imagesetJson(s: ImageSetRef, outDir: string | undefined): Json {
  const o: Json = { __id__: s.kind };
  if (s.template !== undefined) o.template = pathOut(s, 'template', s.template, outDir);
  if (s.images !== undefined) {
    const asRead = s.pathsAsRead?.fields.images;
    const same = Array.isArray(asRead) && asRead.length === s.images.length &&
      asRead.every((p, i) => resolveIn(s.pathsAsRead!.dir, p) === s.images![i]);
    const keep = same && (outDir === undefined || path.resolve(outDir) === path.resolve(s.pathsAsRead!.dir));
    o.images = keep ? [...(asRead as string[])] : [...s.images];
  }
  if (s.singleFileIndices !== undefined) o.single_file_indices = [...s.singleFileIndices];
  for (const k of ['mask', 'gain', 'pedestal', 'dx', 'dy'] as const) {
    const v = s[k];
    if (v === undefined) continue;
    o[k] = v === null ? null : pathOut(s, k, v, outDir);
  }
  if (s.params !== undefined) o.params = s.params;
  return { ...o, ...s.extra };
}

/**
 * The DIALS JSON object for `list`. Distinct model objects are numbered in order of first use;
 * `dir` is the directory the JSON will be written to (decides whether relative paths as read can
 * be kept; omit for in-memory use, which keeps them).
 */
export function experimentsToJson(list: ExperimentList, opts: { dir?: string } = {}): Json {
  const kinds = ['beam', 'detector', 'goniometer', 'scan', 'crystal', 'profile', 'imageset', 'scaling_model'] as const;
  type Kind = typeof kinds[number];
  const index = new Map<Kind, Map<object, number>>(kinds.map((k) => [k, new Map()]));
  const out: Record<Kind, Json[]> = {
    beam: [], detector: [], goniometer: [], scan: [], crystal: [], profile: [], imageset: [], scaling_model: [],
  };
  const ref = <T extends object>(kind: Kind, m: T | undefined, toJson: (m: T) => Json): number | undefined => {
    if (m === undefined) return undefined;
    const idx = index.get(kind)!;
    let i = idx.get(m);
    if (i === undefined) {
      i = out[kind].length;
      idx.set(m, i);
      out[kind].push(toJson(m));
    }
    return i;
  };
  const experiment = list.map((e) => {
    const o: Json = { __id__: 'Experiment', identifier: e.identifier };
    const refs: [Kind, number | undefined][] = [
      ['beam', ref('beam', e.beam, beamJson)],
      ['detector', ref('detector', e.detector, detectorJson)],
      ['goniometer', ref('goniometer', e.goniometer, goniometerJson)],
      ['scan', ref('scan', e.scan, scanJson)],
      ['crystal', ref('crystal', e.crystal, crystalJson)],
      ['profile', ref('profile', e.profile, (p) => p)],
      ['imageset', ref('imageset', e.imageset, (s) => imagesetJson(s, opts.dir))],
      ['scaling_model', ref('scaling_model', e.scalingModel, (s) => s)],
    ];
    for (const [k, i] of refs) if (i !== undefined) o[k] = i;
    return { ...o, ...e.extra };
  });
  // Some DIALS versions also name the models an imageset was read with, by index; keep those
  // indices pointing at the same models after renumbering.
  list.forEach((e, i) => {
    const k = experiment[i].imageset;
    if (typeof k !== 'number') return;
    const set = out.imageset[k];
    for (const kind of ['beam', 'detector', 'goniometer', 'scan'] as const) {
      if (typeof set[kind] === 'number' && typeof experiment[i][kind] === 'number') set[kind] = experiment[i][kind];
    }
  });
  const json: Json = { __id__: 'ExperimentList', experiment };
  for (const k of ['imageset', 'beam', 'detector', 'goniometer', 'scan', 'crystal', 'profile', 'scaling_model'] as const) {
    json[k] = out[k];
  }
  return json;
}
