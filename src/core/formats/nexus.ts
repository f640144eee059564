/**
 * HDF5 images: Eiger master files (Dectris' "nearly NeXus" layout and NXmx) whose
 * /entry/data/data_NNNNNN external links point at data files, and bare Dectris data files
 * (/entry/data/data, frames × slow × fast) read frame by frame. Pixels go through h5wasm with the
 * bitshuffle-LZ4 / LZ4 filter plugins from h5wasm-plugins. Unsigned 32-bit counts become int32
 * with wrap-around (0xFFFFFFFF → −1), as DIALS reads them.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type * as H5Types from 'h5wasm/node';
import type { Goniometer } from '../models/types.js';
import { FileFormatError } from '../errors.js';
import type { ImageHeader, ScanPoint } from './header.js';
import { flatPanelFromBeamCentre, makeBeam, makePanel, moduleGapMask, multiAxisGoniometer, singleAxisGoniometer } from './models.js';
import { NxmxReader, findNxmxModule, nxmxGoniometer, nxmxPanel } from './nxmx.js';
import type { RawImage } from './types.js';
import type { ImageFile } from './detect.js';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5Signature(head: Uint8Array): boolean {
  return head.length >= 8 && SIGNATURE.every((b, i) => head[i] === b);
}

type H5Lib = typeof H5Types;
let ready: Promise<void> | undefined;
let lib: H5Lib | undefined;

/**
 * Load the HDF5 WebAssembly module once, on first use (it costs ~0.3 s, which CBF/SMV work and
 * worker processes should not pay), with the filter plugins and exceptions instead of printed
 * error stacks.
 */
export function hdf5Ready(): Promise<void> {
  ready ??= (async () => {
    const m = (await import('h5wasm/node')) as H5Lib;
    const Module = await m.default.ready;
    const { install_local_plugins } = await import('h5wasm-plugins');
    install_local_plugins(Module);
    const withErrors = Module as unknown as { activate_throwing_error_handler?: () => void };
    withErrors.activate_throwing_error_handler?.();
    lib = m;
  })();
  return ready;
}

/** The loaded h5wasm library (after hdf5Ready). */
export function h5(): H5Lib {
  if (!lib) throw new Error('HDF5 library used before hdf5Ready()');
  return lib;
}

type H5File = H5Types.File;
type H5Dataset = H5Types.Dataset;
type H5Group = H5Types.Group;

/**
 * One line from an error message. HDF5's error stacks ("HDF5-DIAG: … #000 … #006 …") are reduced
 * to the innermost reason, e.g. "truncated file: eof = 3000, …".
 */
export function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (m.startsWith('HDF5-DIAG')) {
    const reasons = [...m.matchAll(/#\d+:.*?\(\):\s*(.*)$/gm)].map((x) => x[1].trim()).filter((x) => x);
    if (reasons.length) return reasons[reasons.length - 1];
  }
  return m.split('\n').map((s) => s.trim()).find((s) => s.length > 0) ?? 'HDF5 error';
}

function openH5(file: string): H5File {
  if (!existsSync(file)) throw new FileFormatError(file, 'no such file');
  try {
    return new (h5().File)(path.resolve(file), 'r');
  } catch (e) {
    throw new FileFormatError(file, `cannot open as HDF5 (${oneLine(e)})`);
  }
}

function getEntity(f: H5Group, p: string): unknown {
  try {
    return f.get(p);
  } catch {
    return null;
  }
}

function dataset(f: H5Group, p: string): H5Dataset | null {
  const d = getEntity(f, p);
  return d instanceof h5().Dataset ? d : null;
}

function scalar(f: H5Group, p: string): number | undefined {
  const d = dataset(f, p);
  if (!d) return undefined;
  try {
    const v = d.value as unknown;
    const x = ArrayBuffer.isView(v) ? Number((v as unknown as ArrayLike<number | bigint>)[0]) : typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? Number(v[0]) : Number(v);
    return Number.isFinite(x) ? x : undefined;
  } catch {
    return undefined;
  }
}

function array(f: H5Group, p: string): number[] | undefined {
  const d = dataset(f, p);
  if (!d) return undefined;
  try {
    const v = d.value as unknown;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
    if (Array.isArray(v)) return v.map(Number);
    return [Number(v)];
  } catch {
    return undefined;
  }
}

function attrOf(f: H5Group, p: string, name: string): unknown {
  const d = dataset(f, p);
  try {
    return d?.attrs[name]?.value ?? undefined;
  } catch {
    return undefined;
  }
}

/** Convert one decoded frame to int32 (DIALS' raw data type). */
export function toInt32(v: unknown): Int32Array {
  if (v instanceof Int32Array) return v;
  if (v instanceof Uint32Array) return new Int32Array(v.buffer, v.byteOffset, v.length);
  if (v instanceof Uint16Array || v instanceof Uint8Array || v instanceof Int16Array || v instanceof Int8Array) return Int32Array.from(v);
  if (v instanceof Float32Array || v instanceof Float64Array) return Int32Array.from(v, (x) => Math.trunc(x));
  throw new Error('unsupported HDF5 pixel type');
}

/** A 3-D (frames × slow × fast) or 2-D dataset read one frame at a time. */
export interface Hdf5Frames {
  file: string;
  dataset: string;
  shape: number[];
  dtype: string;
  nFrames: number;
  /** Frame i in the dataset's own type (typed array), or the whole 2-D array. */
  readNative(i: number): ArrayBufferView;
  read(i: number): Int32Array;
  close(): void;
}

function frameReader(file: string, f: H5File, ds: H5Dataset, name: string): Hdf5Frames {
  const shape = ds.shape ?? [];
  if (shape.length < 1 || shape.length > 3) throw new FileFormatError(file, `${name} has ${shape.length} dimensions, expected 2 or 3`);
  const nFrames = shape.length === 3 ? shape[0] : 1;
  const readNative = (i: number): ArrayBufferView => {
    if (!Number.isInteger(i) || i < 0 || i >= nFrames) throw new FileFormatError(file, `frame ${i + 1} is outside ${name} (${nFrames} frames)`);
    try {
      const v = shape.length === 3 ? ds.slice([[i, i + 1], [], []]) : ds.value;
      if (!ArrayBuffer.isView(v)) throw new Error('not a numeric array');
      return v;
    } catch (e) {
      if (e instanceof FileFormatError) throw e;
      throw new FileFormatError(file, `cannot read frame ${i + 1} of ${name} (${oneLine(e)})`);
    }
  };
  return {
    file, dataset: name, shape, dtype: String(typeof ds.dtype === 'string' ? ds.dtype : JSON.stringify(ds.dtype)), nFrames,
    readNative,
    read: (i) => toInt32(readNative(i)),
    close: () => { try { f.close(); } catch { /* already closed */ } },
  };
}

/** Open a dataset of an HDF5 file for frame-wise reading (bare Dectris data files: /entry/data/data). */
export async function openHdf5Frames(file: string, datasetPath = '/entry/data/data'): Promise<Hdf5Frames> {
  await hdf5Ready();
  const f = openH5(file);
  const ds = dataset(f, datasetPath);
  if (!ds) {
    try { f.close(); } catch { /* ignore */ }
    throw new FileFormatError(file, `HDF5 dataset ${datasetPath} not found`);
  }
  return frameReader(file, f, ds, datasetPath);
}

/** Where image k lives: which linked data file/dataset and which frame in it. */
interface DataBlock { name: string; target: string; first: number; count: number; reader?: Hdf5Frames }

const GONIO_AXES: { name: string; axis: [number, number, number] }[] = [
  { name: 'omega', axis: [1, 0, 0] },
  { name: 'phi', axis: [1, 0, 0] },
  { name: 'chi', axis: [0, 0, 1] },
  { name: 'kappa', axis: [1, 0, 0] },
];

/** Open an Eiger master file as a sweep of images. */
export async function openNexus(file: string): Promise<ImageFile> {
  await hdf5Ready();
  const f = openH5(file);
  try {
    return openNexusFile(file, f);
  } catch (e) {
    try { f.close(); } catch { /* already closed */ }
    throw e;
  }
}

function openNexusFile(file: string, f: H5File): ImageFile {
  const fail = (detail: string): never => {
    try { f.close(); } catch { /* ignore */ }
    throw new FileFormatError(file, detail);
  };
  const det = '/entry/instrument/detector';
  const dataGroup = getEntity(f, '/entry/data');
  if (!(dataGroup instanceof h5().Group)) fail('HDF5 file has no /entry/data group (not an Eiger/NeXus file)');
  const group = dataGroup as H5Group;
  const names = group.keys().filter((k) => /^data(_\d+)?$/.test(k)).sort();
  if (names.length === 0) fail('HDF5 file has no /entry/data/data_NNNNNN datasets');
  const wavelength = scalar(f, '/entry/instrument/beam/incident_wavelength') ?? scalar(f, '/entry/instrument/monochromator/wavelength');
  if (names.length === 1 && names[0] === 'data' && wavelength === undefined) {
    fail('is an Eiger data file without metadata; import its master file (…_master.h5) instead');
  }
  if (wavelength === undefined || !(wavelength > 0)) fail('NeXus master has no valid /entry/instrument/beam/incident_wavelength');

  // Linked data blocks. A missing external file is reported here, at import, naming that file.
  const blocks: DataBlock[] = [];
  let total = 0;
  for (const n of names) {
    const ent = getEntity(group, n);
    if (ent instanceof h5().ExternalLink) {
      const target = path.join(path.dirname(file), ent.filename);
      fail(`data file ${ent.filename} linked as /entry/data/${n} is missing (expected ${target})`);
    }
    if (!(ent instanceof h5().Dataset)) fail(`/entry/data/${n} is not a dataset`);
    const shape = (ent as H5Dataset).shape ?? [];
    if (shape.length !== 3) fail(`/entry/data/${n} has shape [${shape.join(', ')}], expected frames × slow × fast`);
    blocks.push({ name: `/entry/data/${n}`, target: n, first: total, count: shape[0] });
    total += shape[0];
  }
  const firstShape = (dataset(f, blocks[0].name)?.shape ?? [0, 0, 0]) as number[];
  const nx = new NxmxReader(file, f);
  const nxModule = findNxmxModule(nx);
  const detPath = nxModule?.detector ?? det;
  const nSlow = scalar(f, `${detPath}/detectorSpecific/y_pixels_in_detector`) ?? firstShape[1];
  const nFast = scalar(f, `${detPath}/detectorSpecific/x_pixels_in_detector`) ?? firstShape[2];
  if (nFast !== firstShape[2] || nSlow !== firstShape[1]) fail(`image size ${nFast}×${nSlow} disagrees with the data (${firstShape[2]}×${firstShape[1]})`);
  const thickness = scalar(f, `${detPath}/sensor_thickness`) ?? 0.00045;
  const thicknessUnits = String(attrOf(f, `${detPath}/sensor_thickness`, 'units') ?? 'm');
  const cutoff = scalar(f, `${detPath}/detectorSpecific/countrate_correction_count_cutoff`) ?? scalar(f, `${detPath}/saturation_value`);
  const countTime = scalar(f, `${detPath}/count_time`) ?? 0;
  const common = {
    imageSize: [nFast, nSlow] as [number, number],
    trustedRange: [-1, cutoff ?? 65535] as [number, number],
    thicknessMm: thicknessUnits.trim().toLowerCase() === 'mm' ? thickness : thickness * 1000,
    wavelengthA: wavelength!,
    parallax: true,
    mask: moduleGapMask(nFast, nSlow),
  };
  let panel;
  let gonio: Goniometer;
  let start = 0, width = 0;
  if (nxModule) {
    // NXmx: geometry from the NXtransformations chains.
    const g = nxmxPanel(nx, nxModule.module);
    panel = makePanel({ ...common, origin: g.origin, fastAxis: g.fastAxis, slowAxis: g.slowAxis, pixelSizeMm: g.pixelSizeMm });
    const sc = nxmxGoniometer(nx, '/entry/sample', total);
    gonio = sc.goniometer;
    start = sc.start;
    width = sc.width;
  } else {
    // Dectris' own master layout: beam centre, distance and pixel sizes as plain datasets.
    const pxX = scalar(f, `${det}/x_pixel_size`), pxY = scalar(f, `${det}/y_pixel_size`);
    const distance = scalar(f, `${det}/detector_distance`);
    const bx = scalar(f, `${det}/beam_center_x`), by = scalar(f, `${det}/beam_center_y`);
    if (pxX === undefined || pxY === undefined || distance === undefined || bx === undefined || by === undefined) {
      fail('NeXus master lacks pixel size, detector distance or beam centre');
    }
    const px: [number, number] = [pxX! * 1000, pxY! * 1000];
    panel = flatPanelFromBeamCentre({ ...common, beamCentreMm: [bx! * px[0], by! * px[1]], distanceMm: distance! * 1000, pixelSizeMm: px });
    // Scan: the goniometer axis that moves.
    const gp = '/entry/sample/goniometer';
    let scanName = 'omega';
    for (const a of GONIO_AXES) {
      const inc = scalar(f, `${gp}/${a.name}_range_average`) ?? scalar(f, `${gp}/${a.name}_increment`) ?? 0;
      if (inc !== 0) { scanName = a.name; width = inc; start = array(f, `${gp}/${a.name}`)?.[0] ?? scalar(f, `${gp}/${a.name}_start`) ?? 0; break; }
    }
    if (width === 0) start = array(f, `${gp}/omega`)?.[0] ?? 0;
    const chi = scalar(f, `${gp}/chi`) ?? 0;
    gonio = chi !== 0 && scanName === 'omega'
      ? multiAxisGoniometer([[1, 0, 0], [0, 0, 1], [1, 0, 0]], [array(f, `${gp}/phi`)?.[0] ?? 0, chi, start], ['PHI', 'CHI', 'OMEGA'], 2)
      : singleAxisGoniometer(GONIO_AXES.find((a) => a.name === scanName)!.axis);
  }
  const scanPoints: ScanPoint[] = Array.from({ length: total }, (_, k) => ({ oscillation: [start + k * width, width], exposureTime: countTime, epoch: 0 }));

  const header: ImageHeader = {
    path: file,
    format: nxModule ? 'NexusNXmx' : 'HDF5EigerNearlyNexus',
    beam: makeBeam(wavelength!),
    detector: { panels: [panel] },
    goniometer: gonio,
    scanPoints,
    nImages: total,
  };
  return {
    ...header,
    async read(index: number): Promise<RawImage> {
      const b = blocks.find((x) => index >= x.first && index < x.first + x.count);
      if (!b) throw new FileFormatError(file, `image ${index + 1} is outside the ${total} images of this file`);
      const ds = dataset(f, b.name);
      if (!ds) throw new FileFormatError(file, `${b.name} cannot be read`);
      b.reader ??= frameReader(file, f, ds, b.name);
      return { panels: [b.reader.read(index - b.first)] };
    },
    async close() {
      try { f.close(); } catch { /* already closed */ }
    },
  };
}
