/**
 * A synthetic rotation sweep with known answers, for integration tests: a small flat detector, a
 * cubic crystal, and every reflection drawn as a 3D Gaussian of widths σ_b (ε1, ε2) and σ_m (ε3) in
 * the Kabsch frame with a known intensity, over a constant background, with Poisson noise from a
 * seeded generator. Pixels are integrated by sub-sampling (3 × 3 per pixel, 5 per frame), so the
 * counts are the expected photons of a pixel, not a point sample. The ε coordinates are computed
 * here from plain vector algebra, independently of src/core/integration/kabsch.ts.
 */
import { Beam } from '../../../src/core/models/beam.js';
import { Crystal } from '../../../src/core/models/crystal.js';
import { Panel } from '../../../src/core/models/detector.js';
import { Scan } from '../../../src/core/models/scan.js';
import { Mat3 } from '../../../src/core/math/mat3.js';
import type { Experiment } from '../../../src/core/models/types.js';
import type { ImageSource, RawImage } from '../../../src/core/formats/types.js';
import { predictScan, type Predictions } from '../../../src/core/integration/predict.js';
import { ReflectionTable } from '../../../src/core/reflections/table.js';
import { Flags } from '../../../src/core/reflections/flags.js';

import { mulberry32 } from '../../../src/core/math/random.js';
export { mulberry32 };

export function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    const u = Math.max(rand(), 1e-12), v = rand();
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * g));
  }
  const L = Math.exp(-lambda);
  let k = 0, p = 1;
  do { k++; p *= rand(); } while (p > L);
  return k - 1;
}

export interface SyntheticSweep {
  experiment: Experiment;
  images: Int32Array[];
  predictions: Predictions;
  /** true intensity per prediction row */
  intensity: Float64Array;
  sigmaBDeg: number;
  sigmaMDeg: number;
  background: number;
  source: (failAt?: number) => ImageSource;
}

export interface SyntheticOptions {
  nImages?: number;
  oscDeg?: number;
  sigmaBDeg?: number;
  sigmaMDeg?: number;
  background?: number;
  seed?: number;
  size?: number;
}

export function syntheticSweep(o: SyntheticOptions = {}): SyntheticSweep {
  const nImages = o.nImages ?? 16, osc = o.oscDeg ?? 0.5, sigmaBDeg = o.sigmaBDeg ?? 0.06, sigmaMDeg = o.sigmaMDeg ?? 0.2;
  const background = o.background ?? 3, size = o.size ?? 256;
  const rand = mulberry32(o.seed ?? 7);
  const px = 0.172, dist = 100;
  const panel = Panel.create({ origin: [-(size / 2) * px, (size / 2) * px, -dist], pixelSize: [px, px], imageSize: [size, size], trustedRange: [-1, 1e6], thickness: 0.45, mu: 3.96, material: 'Si' });
  const beam = Beam.create({ wavelength: 1.0 });
  const U = Mat3.mul(Mat3.rotation([0, 0, 1], 0.4), Mat3.rotation([0, 1, 0], 0.7));
  const crystal = Crystal.fromCell([70, 70, 70, 90, 90, 90], ' P 1', U);
  const experiment: Experiment = {
    identifier: 'synthetic-0', beam, detector: { panels: [panel] },
    goniometer: { rotationAxis: [1, 0, 0], fixedRotation: Mat3.identity(), settingRotation: Mat3.identity() },
    scan: Scan.create({ imageRange: [1, nImages], oscillation: [0, osc] }),
    crystal, imageset: { kind: 'ImageSequence', template: 'synthetic_####.cbf' },
  };
  const predictions = predictScan(experiment, 3.5, 3);
  const intensity = new Float64Array(predictions.n);
  const s0 = Beam.s0(beam);
  const sb = (sigmaBDeg * Math.PI) / 180, sm = (sigmaMDeg * Math.PI) / 180;
  const expected = Array.from({ length: nImages }, () => new Float64Array(size * size).fill(background));
  const dphi = (osc * Math.PI) / 180;
  const SUB = 3, SUBZ = 5;
  for (let i = 0; i < predictions.n; i++) {
    // a Wilson-like spread of intensities: mostly weak, some strong
    const I = 20 + 20000 * Math.pow(rand(), 3);
    intensity[i] = I;
    const s1 = [predictions.s1[3 * i], predictions.s1[3 * i + 1], predictions.s1[3 * i + 2]];
    const L = Math.hypot(s1[0], s1[1], s1[2]);
    const c1 = [s1[1] * s0[2] - s1[2] * s0[1], s1[2] * s0[0] - s1[0] * s0[2], s1[0] * s0[1] - s1[1] * s0[0]];
    const l1 = Math.hypot(c1[0], c1[1], c1[2]);
    const e1 = c1.map((v) => v / l1);
    const c2 = [s1[1] * e1[2] - s1[2] * e1[1], s1[2] * e1[0] - s1[0] * e1[2], s1[0] * e1[1] - s1[1] * e1[0]];
    const l2 = Math.hypot(c2[0], c2[1], c2[2]);
    const e2 = c2.map((v) => v / l2);
    const zeta = e1[0]; // rotation axis (1, 0, 0)
    const phiC = predictions.xyzMm[3 * i + 2];
    const xc = predictions.xyzPx[3 * i], yc = predictions.xyzPx[3 * i + 1], zc = predictions.xyzPx[3 * i + 2];
    const halfPx = Math.ceil((5 * sb * dist) / px / 0.8) + 2;
    const halfZ = (5 * sm) / Math.abs(zeta) / dphi;
    for (let z = Math.max(0, Math.floor(zc - halfZ)); z < Math.min(nImages, Math.ceil(zc + halfZ)); z++) {
      const img = expected[z];
      for (let y = Math.max(0, Math.floor(yc) - halfPx); y < Math.min(size, Math.floor(yc) + halfPx); y++) {
        for (let x = Math.max(0, Math.floor(xc) - halfPx); x < Math.min(size, Math.floor(xc) + halfPx); x++) {
          let acc = 0;
          for (let sy = 0; sy < SUB; sy++) for (let sx = 0; sx < SUB; sx++) {
            const xm = (x + (sx + 0.5) / SUB) * px, ym = (y + (sy + 0.5) / SUB) * px;
            const lab = [panel.origin[0] + xm, panel.origin[1] - ym, panel.origin[2]];
            const r = Math.hypot(lab[0], lab[1], lab[2]);
            const u = lab.map((v) => v / r);
            const a1 = e1[0] * u[0] + e1[1] * u[1] + e1[2] * u[2];
            const a2 = e2[0] * u[0] + e2[1] * u[1] + e2[2] * u[2];
            // solid angle of the sub-pixel: area · cos(angle to the normal) / r²
            const omega = ((px / SUB) * (px / SUB) * (dist / r)) / (r * r);
            const g12 = Math.exp(-(a1 * a1 + a2 * a2) / (2 * sb * sb)) / (2 * Math.PI * sb * sb);
            for (let sz = 0; sz < SUBZ; sz++) {
              const phi = (z + (sz + 0.5) / SUBZ) * dphi;
              const a3 = zeta * (phi - phiC);
              const g3 = Math.exp(-(a3 * a3) / (2 * sm * sm)) / (Math.sqrt(2 * Math.PI) * sm);
              acc += g12 * g3 * omega * Math.abs(zeta) * (dphi / SUBZ);
            }
          }
          img[y * size + x] += I * acc;
        }
      }
    }
    void L;
  }
  const images = expected.map((img) => Int32Array.from(img, (v) => poisson(rand, v)));
  const source = (failAt?: number): ImageSource => ({
    description: 'synthetic sweep', length: nImages,
    pathOf: (i) => `synthetic_${String(i + 1).padStart(4, '0')}.cbf`,
    async read(i): Promise<RawImage> {
      if (i === failAt) throw new Error(`synthetic_${String(i + 1).padStart(4, '0')}.cbf: truncated binary section`);
      return { panels: [images[i].slice()] };
    },
    async close() {},
  });
  return { experiment, images, predictions, intensity, sigmaBDeg, sigmaMDeg, background, source };
}

/**
 * "Strong spots" as refinement would hand them to integration: the strongest reflections, indexed,
 * with their calculated positions and a spot-finder-like bbox (±2σ around the centre).
 */
export function strongTable(s: SyntheticSweep, minIntensity = 2000): ReflectionTable {
  const p = s.predictions, rows: number[] = [];
  for (let i = 0; i < p.n; i++) {
    const z = p.xyzPx[3 * i + 2];
    if (s.intensity[i] >= minIntensity && z > 1 && z < s.images.length - 1) rows.push(i);
  }
  const n = rows.length;
  const t = ReflectionTable.empty(n);
  const hkl = new Int32Array(3 * n), flags = new Float64Array(n), id = new Int32Array(n), panel = new Float64Array(n), ent = new Uint8Array(n);
  const s1 = new Float64Array(3 * n), mm = new Float64Array(3 * n), obs = new Float64Array(3 * n), bbox = new Int32Array(6 * n);
  rows.forEach((i, k) => {
    hkl.set(p.miller.subarray(3 * i, 3 * i + 3), 3 * k);
    flags[k] = Flags.indexed | Flags.strong | Flags.used_in_refinement;
    ent[k] = p.entering[i];
    s1.set(p.s1.subarray(3 * i, 3 * i + 3), 3 * k);
    mm.set(p.xyzMm.subarray(3 * i, 3 * i + 3), 3 * k);
    obs.set(p.xyzPx.subarray(3 * i, 3 * i + 3), 3 * k);
    const [x, y, z] = [p.xyzPx[3 * i], p.xyzPx[3 * i + 1], p.xyzPx[3 * i + 2]];
    bbox.set([Math.floor(x) - 2, Math.floor(x) + 3, Math.floor(y) - 2, Math.floor(y) + 3, Math.max(0, Math.floor(z) - 1), Math.min(s.images.length, Math.floor(z) + 2)], 6 * k);
  });
  t.setMiller('miller_index', hkl).setSizeT('flags', flags).setInt('id', id).setSizeT('panel', panel).setBool('entering', ent)
    .setVec3('s1', s1).setVec3('xyzcal.mm', mm).setVec3('xyzobs.px.value', obs).setInt6('bbox', bbox);
  return t;
}
