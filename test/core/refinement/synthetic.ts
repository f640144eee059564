/** Synthetic rotation experiments with exact ground truth, shared by the refinement and indexing tests. */
import { Mat3 } from '../../../src/core/math/mat3.js';
import type { Experiment, Panel } from '../../../src/core/models/types.js';
import { panelPlane, predictReflections } from '../../../src/core/geometry/prediction.js';
import type { RefinementData } from '../../../src/core/refinement/target.js';
import { mulberry32 as seededRandom } from '../../../src/core/math/random.js';

export function panel(overrides: Partial<Panel> = {}): Panel {
  return {
    name: 'Panel', type: 'SENSOR_PAD', identifier: '', fastAxis: [1, 0, 0], slowAxis: [0, -1, 0], origin: [-85.6216, 87.7028, -150],
    pixelSize: [0.172, 0.172], imageSize: [981, 1043], trustedRange: [-1, 1e6], thickness: 0.001, material: 'Si', mu: 3.96,
    gain: 1, pedestal: 0, rawImageOffset: [0, 0], mask: [], pxMmStrategy: { type: 'SimplePxMmStrategy' }, ...overrides,
  };
}

/** Real-space rows of a tetragonal-ish cell rotated by U. */
export function crystalFromCell(a: number, b: number, c: number, U: Mat3) {
  // orthogonal cell: direct axes along U's columns
  const A = Mat3.mul(U, [1 / a, 0, 0, 0, 1 / b, 0, 0, 0, 1 / c]);
  const Ai = Mat3.inverse(A);
  return { realSpaceA: Mat3.row(Ai, 0), realSpaceB: Mat3.row(Ai, 1), realSpaceC: Mat3.row(Ai, 2), spaceGroupHall: ' P 1' };
}

export const U_TRUE: Mat3 = Mat3.mul(Mat3.rotation([0.3, -0.5, 0.8], 1.1), Mat3.rotation([1, 0.2, 0], 0.4));

export function makeExperiment(opts: { axis?: [number, number, number]; cell?: [number, number, number]; nImages?: number; osc?: number } = {}): Experiment {
  const [a, b, c] = opts.cell ?? [79.1, 79.1, 38.2];
  return {
    identifier: 'synthetic',
    beam: { direction: [0, 0, 1], wavelength: 0.9795, divergence: 0, sigmaDivergence: 0, polarizationNormal: [0, 1, 0], polarizationFraction: 0.999, flux: 0, transmission: 1 },
    detector: { panels: [panel()] },
    goniometer: { rotationAxis: opts.axis ?? [1, 0, 0], fixedRotation: Mat3.identity(), settingRotation: Mat3.identity() },
    scan: { imageRange: [1, opts.nImages ?? 120], oscillation: [0, opts.osc ?? 0.5], exposureTimes: [], epochs: [], batchOffset: 0 },
    crystal: crystalFromCell(a, b, c, U_TRUE),
  };
}

/** Predicted spots of `exp` to d_min with Gaussian noise (sigma in px and images). */
export function simulate(exp: Experiment, dMin: number, sigmaPx = 0.2, sigmaImages = 0.1, seed = 7): RefinementData {
  const A = Mat3.inverse(Mat3.fromRows(exp.crystal!.realSpaceA, exp.crystal!.realSpaceB, exp.crystal!.realSpaceC));
  const s0 = exp.beam!.direction.map((x) => -x / exp.beam!.wavelength) as [number, number, number];
  const g = exp.goniometer!;
  const scan = exp.scan!;
  const osc = (scan.oscillation[1] * Math.PI) / 180;
  const start = (scan.oscillation[0] * Math.PI) / 180;
  const end = start + osc * (scan.imageRange[1] - scan.imageRange[0] + 1);
  const p = predictReflections({ s0, axis: g.rotationAxis, fixedRotation: g.fixedRotation, settingRotation: g.settingRotation }, A, exp.detector!.panels.map(panelPlane), dMin, start, end);
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const n = p.phi.length;
  const px = exp.detector!.panels[0].pixelSize[0];
  const data: RefinementData = {
    experiment: new Int32Array(n), panel: Int32Array.from(p.panel), miller: Int32Array.from(p.miller),
    xObs: new Float64Array(n), yObs: new Float64Array(n), phiObs: new Float64Array(n),
    xVar: new Float64Array(n).fill((sigmaPx * px) ** 2), yVar: new Float64Array(n).fill((sigmaPx * px) ** 2), phiVar: new Float64Array(n).fill((sigmaImages * osc) ** 2),
  };
  for (let i = 0; i < n; i++) {
    data.xObs[i] = p.x[i] + gauss() * sigmaPx * px;
    data.yObs[i] = p.y[i] + gauss() * sigmaPx * px;
    data.phiObs[i] = p.phi[i] + gauss() * sigmaImages * osc;
  }
  return data;
}
