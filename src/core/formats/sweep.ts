/**
 * From command-line inputs to sweeps: expand directories and `#` templates, open every file,
 * and group images into sweeps the way dials.import does — same template, consecutive image
 * numbers, same format and geometry, and each image's oscillation starting where the previous
 * one ended. Multi-image containers (NeXus masters) are one sweep each.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Beam, Detector, Goniometer, Scan } from '../models/types.js';
import { FileFormatError, UserError } from '../errors.js';
import { Vec3 } from '../math/vec3.js';
import { openImageFile, looksLikeImage, readSingleImage, type ImageFile } from './detect.js';
import type { PanelWindow, ScanPoint } from './header.js';
import type { ImageSource, ImportedSweep, RawImage } from './types.js';

/** A file name's image number: the last run of digits before the extension(s). */
export function splitTemplate(file: string): { template: string; number: number } | null {
  const dir = path.dirname(file);
  const base = path.basename(file);
  if (/\.(h5|nxs|hdf5?)$/i.test(base)) return null;
  const m = /^(.*?)(\d+)(\D*)$/.exec(base);
  if (!m) return null;
  return { template: path.join(dir, m[1] + '#'.repeat(m[2].length) + m[3]), number: Number(m[2]) };
}

/** The file of image `n` in a `#` template. */
export function templateFile(template: string, n: number): string {
  const m = /#+/.exec(path.basename(template));
  if (!m) return template;
  const base = path.basename(template);
  return path.join(path.dirname(template), base.slice(0, m.index) + String(n).padStart(m[0].length, '0') + base.slice(m.index + m[0].length));
}

/** Files a template names that exist, sorted by image number. */
export function filesOfTemplate(template: string): string[] {
  const dir = path.dirname(template);
  const base = path.basename(template);
  const m = /#+/.exec(base);
  if (!m) return existsSync(template) ? [template] : [];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc(base.slice(0, m.index))}(\\d{${m[0].length},})${esc(base.slice(m.index + m[0].length))}$`);
  let names: string[];
  try { names = readdirSync(dir); } catch { throw new UserError(`${template}: directory ${dir} cannot be read`); }
  return names.map((n) => ({ n, m: re.exec(n) })).filter((x) => x.m).sort((a, b) => Number(a.m![1]) - Number(b.m![1])).map((x) => path.join(dir, x.n));
}

/** Expand command-line inputs (files, directories, templates) into image files, each named once. */
export function expandInputs(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (input.includes('#') && !existsSync(input)) {
      const files = filesOfTemplate(input);
      if (files.length === 0) throw new UserError(`${input}: no files match this template`);
      out.push(...files);
      continue;
    }
    let st;
    try { st = statSync(input); } catch { throw new FileFormatError(input, 'no such file or directory'); }
    if (st.isDirectory()) {
      // Dectris data files (…_data_NNNNNN.h5) are read through their master, never on their own.
      const files = readdirSync(input).sort().filter((n) => !/_data_\d+\.h5$/i.test(n)).map((n) => path.join(input, n)).filter((p) => {
        try { return statSync(p).isFile() && looksLikeImage(p); } catch { return false; }
      });
      if (files.length === 0) throw new UserError(`${input}: directory contains no images`);
      out.push(...files);
    } else out.push(input);
  }
  return [...new Set(out)];
}

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
const nearV = (a: Vec3, b: Vec3, tol: number) => a.every((x, i) => near(x, b[i], tol));

export function sameBeam(a: Beam, b: Beam): boolean {
  return near(a.wavelength, b.wavelength, 1e-6) && nearV(a.direction, b.direction, 1e-6);
}
export function sameDetector(a: Detector, b: Detector): boolean {
  return a.panels.length === b.panels.length && a.panels.every((p, i) => {
    const q = b.panels[i];
    return nearV(p.origin, q.origin, 1e-6) && nearV(p.fastAxis, q.fastAxis, 1e-6) && nearV(p.slowAxis, q.slowAxis, 1e-6)
      && p.imageSize[0] === q.imageSize[0] && p.imageSize[1] === q.imageSize[1];
  });
}
export function sameGoniometer(a?: Goniometer, b?: Goniometer): boolean {
  if (!a || !b) return a === b;
  return nearV(a.rotationAxis, b.rotationAxis, 1e-6) && a.fixedRotation.every((x, i) => near(x, b.fixedRotation[i], 1e-6))
    && a.settingRotation.every((x, i) => near(x, b.settingRotation[i], 1e-6));
}

interface Entry { file: string; header: ImageFile; template?: string; number?: number }

/**
 * Reads images of a sweep stored one file per image. Every file of a sweep has the same detector,
 * so the panel layout is known from the first and each read is a single pass over one file.
 */
class FileSequenceSource implements ImageSource {
  private windows: PanelWindow[] | undefined | null = null;
  constructor(readonly description: string, private readonly files: string[], windows?: PanelWindow[] | null) {
    if (windows !== undefined) this.windows = windows;
  }
  get length() { return this.files.length; }
  pathOf(i: number) { return this.files[i]; }
  async read(i: number): Promise<RawImage> {
    if (!Number.isInteger(i) || i < 0 || i >= this.files.length) throw new UserError(`${this.description}: image index ${i} outside 0…${this.files.length - 1}`);
    if (this.windows === null) this.windows = (await openImageFile(this.files[0])).panelWindows;
    return readSingleImage(this.files[i], this.windows);
  }
  async close() {}
}

/** Reads a range of images from one multi-image container. */
class ContainerSource implements ImageSource {
  constructor(readonly description: string, private readonly file: ImageFile, private readonly first: number, readonly length: number) {}
  pathOf() { return this.file.path; }
  async read(i: number): Promise<RawImage> {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new UserError(`${this.description}: image index ${i} outside 0…${this.length - 1}`);
    return this.file.read(this.first + i);
  }
  close() { return this.file.close(); }
}

function scanFrom(points: ScanPoint[], firstNumber: number): Scan {
  return {
    imageRange: [firstNumber, firstNumber + points.length - 1],
    oscillation: [points[0].oscillation[0], points[0].oscillation[1]],
    exposureTimes: points.map((p) => p.exposureTime),
    epochs: points.map((p) => p.epoch),
    batchOffset: 0,
    validImageRanges: {},
  };
}

/** Open and group inputs into sweeps. */
export async function importSweeps(inputs: string[]): Promise<ImportedSweep[]> {
  const files = expandInputs(inputs);
  if (files.length === 0) throw new UserError('no input images given');
  const entries: Entry[] = [];
  for (const file of files) {
    const header = await openImageFile(file);
    const t = header.nImages === 1 ? splitTemplate(file) : null;
    entries.push({ file, header, template: t?.template, number: t?.number });
  }
  const sweeps: ImportedSweep[] = [];
  // Containers first keep their own order; single images are grouped by template.
  const singles = entries.filter((e) => e.header.nImages === 1);
  singles.sort((a, b) => (a.template ?? a.file).localeCompare(b.template ?? b.file) || (a.number ?? 0) - (b.number ?? 0));
  for (const e of entries.filter((x) => x.header.nImages !== 1)) {
    const h = e.header;
    const points = h.scanPoints ?? [];
    sweeps.push({
      format: h.format, beam: h.beam, detector: h.detector, goniometer: h.goniometer,
      scan: scanFrom(points, 1),
      imageset: { kind: 'ImageSequence', template: e.file, singleFileIndices: points.map((_, k) => k), mask: null, gain: null, pedestal: null, dx: null, dy: null },
      source: new ContainerSource(e.file, h, 0, points.length),
    });
  }
  let group: Entry[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const h = group[0].header;
    if (h.scan!.oscillation[1] === 0) {
      // A still (no rotation): DIALS makes it an ImageSet experiment without scan or goniometer.
      for (const g of group) {
        sweeps.push({
          format: g.header.format, beam: g.header.beam, detector: g.header.detector,
          imageset: { kind: 'ImageSet', images: [g.file], mask: null, gain: null, pedestal: null, dx: null, dy: null },
          source: new FileSequenceSource(g.file, [g.file], g.header.panelWindows),
        });
      }
      group = [];
      return;
    }
    const template = group[0].template ?? group[0].file;
    const scan = scanFrom(group.map((g) => g.header.scan!), group[0].number ?? 1);
    sweeps.push({
      format: h.format, beam: h.beam, detector: h.detector, goniometer: h.goniometer, scan,
      imageset: { kind: 'ImageSequence', template, mask: null, gain: null, pedestal: null, dx: null, dy: null },
      source: new FileSequenceSource(template, group.map((g) => g.file), h.panelWindows),
    });
    group = [];
  };
  for (const e of singles) {
    const prev = group[group.length - 1];
    if (prev) {
      const a = prev.header.scan!, b = e.header.scan!;
      const continues = e.template !== undefined && e.template === prev.template && e.number === (prev.number ?? NaN) + 1
        && e.header.format === prev.header.format
        && sameBeam(prev.header.beam, e.header.beam) && sameDetector(prev.header.detector, e.header.detector)
        && sameGoniometer(prev.header.goniometer, e.header.goniometer)
        && a.oscillation[1] !== 0 && near(a.oscillation[1], b.oscillation[1], 1e-6)
        && Math.abs(a.oscillation[0] + a.oscillation[1] - b.oscillation[0]) < 1e-3 * Math.abs(a.oscillation[1]);
      if (!continues) flush();
    }
    group.push(e);
  }
  flush();
  return sweeps;
}

/** Restrict a sweep to images a…b (numbers as in the scan's image range). */
export function selectImageRange(sweep: ImportedSweep, range: [number, number]): ImportedSweep {
  const scan = sweep.scan;
  // Stills have no scan; image_range applies to rotation sweeps only (as in dials.import).
  if (!scan) return sweep;
  const [a, b] = range;
  const [first, last] = scan.imageRange;
  if (!(Number.isInteger(a) && Number.isInteger(b)) || a > b || a < first || b > last) {
    throw new UserError(`image_range=${a},${b} is outside the scan's images ${first}…${last} (${sweep.imageset.template ?? ''})`);
  }
  const i0 = a - first, n = b - a + 1;
  const newScan: Scan = {
    ...scan,
    imageRange: [a, b],
    oscillation: [scan.oscillation[0] + i0 * scan.oscillation[1], scan.oscillation[1]],
    exposureTimes: scan.exposureTimes.slice(i0, i0 + n),
    epochs: scan.epochs.slice(i0, i0 + n),
  };
  const src = sweep.source;
  const source: ImageSource = {
    description: src.description,
    length: n,
    pathOf: (i) => src.pathOf(i + i0),
    read: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new UserError(`${src.description}: image index ${i} outside 0…${n - 1}`);
      return src.read(i + i0);
    },
    close: () => src.close(),
  };
  const imageset = sweep.imageset.singleFileIndices ? { ...sweep.imageset, singleFileIndices: sweep.imageset.singleFileIndices.slice(i0, i0 + n) } : sweep.imageset;
  return { ...sweep, scan: newScan, imageset, source };
}

/**
 * Open the images of an experiment read back from an .expt file: a `#` template (resolved
 * against the .expt's directory) over the scan's image range, a NeXus container, or a file list.
 */
export async function openImageSource(experiment: { imageset?: { template?: string; images?: string[]; singleFileIndices?: number[] }; scan?: Scan }, exptDir: string): Promise<ImageSource> {
  const iset = experiment.imageset;
  if (!iset) throw new UserError('experiment has no image set');
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(exptDir, p));
  if (iset.template) {
    const template = resolve(iset.template);
    if (/\.(h5|nxs|hdf5?)$/i.test(template)) {
      const f = await openImageFile(template);
      const first = iset.singleFileIndices?.[0] ?? (experiment.scan ? experiment.scan.imageRange[0] - 1 : 0);
      const n = iset.singleFileIndices?.length ?? (experiment.scan ? experiment.scan.imageRange[1] - experiment.scan.imageRange[0] + 1 : f.nImages);
      if (first < 0 || first + n > f.nImages) throw new FileFormatError(template, `holds ${f.nImages} images, the experiment needs ${first + 1}…${first + n}`);
      return new ContainerSource(template, f, first, n);
    }
    const [a, b] = experiment.scan?.imageRange ?? [1, 1];
    const files: string[] = [];
    for (let n = a; n <= b; n++) files.push(templateFile(template, n));
    const missing = files.find((f) => !existsSync(f));
    if (missing) throw new FileFormatError(missing, 'image file of the experiment is missing');
    return new FileSequenceSource(template, files);
  }
  if (iset.images && iset.images.length > 0) {
    const files = iset.images.map(resolve);
    const missing = files.find((f) => !existsSync(f));
    if (missing) throw new FileFormatError(missing, 'image file of the experiment is missing');
    return new FileSequenceSource(files[0], files);
  }
  throw new UserError('experiment image set has neither a template nor a file list');
}

/**
 * Images first … first+count−1 of a source, one at a time and in order, so a caller can stream a
 * range without holding more than one image.
 */
export async function* readRange(source: ImageSource, first: number, count: number): AsyncGenerator<RawImage> {
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > source.length) {
    throw new UserError(`${source.description}: images ${first + 1}…${first + count} are outside 1…${source.length}`);
  }
  for (let i = first; i < first + count; i++) yield await source.read(i);
}
