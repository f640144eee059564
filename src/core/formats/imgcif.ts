/**
 * Full CBF (imgCIF) geometry: every axis of the goniometer and detector is described by the
 * `axis` category (type, equipment, depends_on chain, vector, offset), its setting for this
 * frame by `diffrn_scan_frame_axis`, the scan by `diffrn_scan_axis`, and how array indices
 * map onto detector axes by `array_structure_list` / `array_structure_list_axis`. A lab point is
 * found by walking an axis chain from the innermost axis to the base, applying each axis
 * (translation: p + v·d + offset; rotation: R(v, θ)·p + offset). The imgCIF lab frame is
 * DIALS' (x along the principal goniometer axis, z towards the source).
 */
import type { Goniometer } from '../models/types.js';
import { FileFormatError } from '../errors.js';
import { Mat3 } from '../math/mat3.js';
import { Vec3 } from '../math/vec3.js';
import type { CbfFile } from './cbf.js';
import { headerContents } from './cbf.js';
import { category, isNull } from './cif.js';
import type { ImageHeader, ScanPoint } from './header.js';
import { makeBeam, makePanel, moduleGapMask, multiAxisGoniometer, singleAxisGoniometer } from './models.js';
import { epochOf, parseMiniCbfHeader } from './pilatus.js';

interface Axis {
  id: string;
  type: 'rotation' | 'translation' | 'general';
  equipment: string;
  dependsOn: string | null;
  vector: Vec3;
  offset: Vec3;
}

export function isFullCbf(cbf: CbfFile): boolean {
  return category(cbf.cif, 'axis').length > 0 && category(cbf.cif, 'array_structure_list').length > 0;
}

function f(path: string, v: string | undefined, what: string, fallback?: number): number {
  if (isNull(v)) {
    if (fallback !== undefined) return fallback;
    throw new FileFormatError(path, `imgCIF ${what} is missing`);
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new FileFormatError(path, `imgCIF ${what} '${v}' is not a number`);
  return n;
}

function readAxes(path: string, cbf: CbfFile): Map<string, Axis> {
  const axes = new Map<string, Axis>();
  for (const r of category(cbf.cif, 'axis')) {
    const id = (r.id ?? '').toUpperCase();
    if (!id) continue;
    const vector: Vec3 = [f(path, r['vector[1]'], `axis ${id} vector`, 0), f(path, r['vector[2]'], `axis ${id} vector`, 0), f(path, r['vector[3]'], `axis ${id} vector`, 0)];
    const offset: Vec3 = [f(path, r['offset[1]'], 'offset', 0), f(path, r['offset[2]'], 'offset', 0), f(path, r['offset[3]'], 'offset', 0)];
    axes.set(id, {
      id,
      type: (r.type ?? 'general').toLowerCase() as Axis['type'],
      equipment: (r.equipment ?? '').toLowerCase(),
      dependsOn: isNull(r.depends_on) ? null : r.depends_on.toUpperCase(),
      vector,
      offset,
    });
  }
  return axes;
}

/** Per-axis setting (angle for rotations, displacement for translations) of this frame. */
function readSettings(path: string, cbf: CbfFile): { setting: Map<string, number>; increments: Map<string, number> } {
  const setting = new Map<string, number>();
  const increments = new Map<string, number>();
  for (const r of category(cbf.cif, 'diffrn_scan_axis')) {
    const id = (r.axis_id ?? '').toUpperCase();
    const angle = f(path, r.angle_start, 'angle_start', 0);
    const disp = f(path, r.displacement_start, 'displacement_start', 0);
    setting.set(id + ':angle', angle);
    setting.set(id + ':disp', disp);
    increments.set(id, f(path, r.angle_increment, 'angle_increment', 0));
  }
  for (const r of category(cbf.cif, 'diffrn_scan_frame_axis')) {
    const id = (r.axis_id ?? '').toUpperCase();
    if (!isNull(r.angle)) setting.set(id + ':angle', f(path, r.angle, 'frame angle'));
    if (!isNull(r.displacement)) setting.set(id + ':disp', f(path, r.displacement, 'frame displacement'));
  }
  return { setting, increments };
}

/** Apply an axis chain to a point (or, with translate=false, to a direction). */
function walk(path: string, axes: Map<string, Axis>, start: string, p: Vec3, value: (a: Axis) => number, translate: boolean): Vec3 {
  let id: string | null = start;
  let guard = 0;
  while (id) {
    const a = axes.get(id);
    if (!a) throw new FileFormatError(path, `imgCIF axis '${id}' is not defined`);
    if (++guard > 64) throw new FileFormatError(path, 'imgCIF axis dependencies form a loop');
    if (a.type === 'rotation') {
      p = Mat3.mulVec(Mat3.rotation(Vec3.normalize(a.vector), (value(a) * Math.PI) / 180), p);
      if (translate) p = Vec3.add(p, a.offset);
    } else if (translate) {
      p = Vec3.add(Vec3.add(p, Vec3.scale(a.vector, value(a))), a.offset);
    }
    id = a.dependsOn;
  }
  return p;
}

export function fullCbfModels(cbf: CbfFile): Omit<ImageHeader, 'path'> {
  const path = cbf.path;
  const axes = readAxes(path, cbf);
  const { setting, increments } = readSettings(path, cbf);
  const axisValue = (a: Axis) => setting.get(a.id + (a.type === 'rotation' ? ':angle' : ':disp')) ?? 0;

  // Beam
  const wl = category(cbf.cif, 'diffrn_radiation_wavelength')[0];
  const wavelength = f(path, wl?.wavelength, 'wavelength');
  if (!(wavelength > 0)) throw new FileFormatError(path, 'imgCIF wavelength must be positive');
  const source = [...axes.values()].find((a) => a.equipment === 'source');
  const beam = makeBeam(wavelength, source ? { direction: Vec3.normalize(source.vector) } : {});

  // Goniometer: order the chain innermost first by following depends_on from the leaf.
  const gonio = [...axes.values()].filter((a) => a.equipment === 'goniometer' && a.type === 'rotation');
  let goniometer: Goniometer | undefined;
  let scanAxisId: string | undefined;
  if (gonio.length > 0) {
    const dependedOn = new Set(gonio.map((a) => a.dependsOn).filter((d): d is string => d !== null));
    const leaf = gonio.find((a) => !dependedOn.has(a.id)) ?? gonio[0];
    const chain: Axis[] = [];
    for (let a: Axis | undefined = leaf; a && chain.length < 16; a = a.dependsOn ? axes.get(a.dependsOn) : undefined) {
      if (a.equipment === 'goniometer' && a.type === 'rotation') chain.push(a);
    }
    let scanIndex = chain.findIndex((a) => (increments.get(a.id) ?? 0) !== 0);
    if (scanIndex < 0) scanIndex = chain.length - 1;
    scanAxisId = chain[scanIndex].id;
    goniometer = chain.length === 1
      ? singleAxisGoniometer(chain[0].vector)
      : multiAxisGoniometer(chain.map((a) => a.vector), chain.map((a) => axisValue(a)), chain.map((a) => a.id.replace(/^GON_/, '')), scanIndex);
  }

  // Detector: array index → element axes.
  const { nFast, nSlow } = cbf.binary;
  const lists = category(cbf.cif, 'array_structure_list');
  const listAxes = category(cbf.cif, 'array_structure_list_axis');
  const byPrecedence = (p: number) => lists.find((r) => Number(r.precedence) === p);
  const elem = (p: number) => {
    const r = byPrecedence(p);
    if (!r) throw new FileFormatError(path, `imgCIF array_structure_list has no precedence ${p}`);
    const set = (r.axis_set_id ?? '').toUpperCase();
    const la = listAxes.find((x) => (x.axis_set_id ?? '').toUpperCase() === set);
    const axisId = (la?.axis_id ?? set).toUpperCase();
    const sign = (r.direction ?? 'increasing').toLowerCase() === 'decreasing' ? -1 : 1;
    return { axisId, start: f(path, la?.displacement, 'displacement', 0), step: sign * f(path, la?.displacement_increment, 'displacement_increment') };
  };
  const fastE = elem(1), slowE = elem(2);
  if (!axes.has(fastE.axisId) || !axes.has(slowE.axisId)) throw new FileFormatError(path, 'imgCIF detector element axes are not defined');
  // The innermost element axis is the one the other does not depend on through.
  const dependsChain = (from: string, target: string) => {
    for (let id: string | null = from, n = 0; id && n < 64; id = axes.get(id)?.dependsOn ?? null, n++) if (id === target) return true;
    return false;
  };
  const inner = dependsChain(fastE.axisId, slowE.axisId) ? fastE.axisId : slowE.axisId;
  const pixelPos = (i: number, j: number) => walk(path, axes, inner, [0, 0, 0], (a) => {
    if (a.id === fastE.axisId) return fastE.start + i * fastE.step;
    if (a.id === slowE.axisId) return slowE.start + j * slowE.step;
    return axisValue(a);
  }, true);
  const origin = pixelPos(0, 0);
  const dFast = Vec3.sub(pixelPos(1, 0), origin);
  const dSlow = Vec3.sub(pixelPos(0, 1), origin);
  const pxF = Vec3.length(dFast), pxS = Vec3.length(dSlow);
  if (!(pxF > 0 && pxS > 0)) throw new FileFormatError(path, 'imgCIF detector axes give a zero pixel size');

  const mini = headerContents(cbf);
  const miniHeader = /Pixel_size/.test(mini) ? parseMiniCbfHeader(path, mini) : undefined;
  const intens = category(cbf.cif, 'array_intensities')[0];
  const overload = f(path, intens?.overload, 'overload', miniHeader?.countCutoff ?? 1e6);
  const undefinedValue = f(path, intens?.undefined_value, 'undefined_value', -1);
  const panel = makePanel({
    origin, fastAxis: dFast, slowAxis: dSlow,
    pixelSizeMm: [Number(pxF.toFixed(9)), Number(pxS.toFixed(9))],
    imageSize: [nFast, nSlow],
    trustedRange: [undefinedValue, overload],
    thicknessMm: (miniHeader?.thicknessM ?? 0.00032) * 1000,
    material: miniHeader?.material ?? 'Si',
    wavelengthA: wavelength,
    parallax: true,
    mask: moduleGapMask(nFast, nSlow),
  });

  // Scan point
  const frame = category(cbf.cif, 'diffrn_scan_frame')[0];
  const exposure = f(path, frame?.integration_time, 'integration_time', f(path, frame?.exposure_time, 'exposure_time', miniHeader?.exposureTimeS ?? 0));
  const start = scanAxisId ? setting.get(scanAxisId + ':angle') ?? 0 : 0;
  const width = scanAxisId ? increments.get(scanAxisId) ?? 0 : 0;
  const scan: ScanPoint = { oscillation: [start, width], exposureTime: exposure, epoch: epochOf(frame?.date ?? miniHeader?.timestamp) };

  const serial = miniHeader?.serial ?? '';
  const format = serial === '60-0126' ? 'CBFFullPilatusDLS6MSN126' : 'CBFFullPilatus';
  return { format, beam, detector: { panels: [panel] }, goniometer, scan, nImages: 1 };
}
