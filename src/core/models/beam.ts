/**
 * Beam functions. DIALS stores the direction towards the source; everything downstream wants the
 * wavevector s0 = −direction/λ, so that the diffraction condition reads |s0 + r| = |s0|.
 */
import { Vec3 } from '../math/vec3.js';
import type { Beam as BeamModel } from './types.js';

export type Beam = BeamModel;

/** hc in keV·Å, for photon energy ↔ wavelength (CODATA 2018). */
const HC_KEV_ANGSTROM = 12.398419843320026;

export namespace Beam {
  export interface CreateOptions {
    wavelength: number;
    /** Unit vector from sample to source; default along +z (beam travelling along −z). */
    direction?: Vec3;
    polarizationNormal?: Vec3;
    polarizationFraction?: number;
    divergence?: number;
    sigmaDivergence?: number;
    flux?: number;
    transmission?: number;
    probe?: string;
  }

  export function create(o: CreateOptions): Beam {
    if (!(o.wavelength > 0)) throw new RangeError(`wavelength must be positive, got ${o.wavelength}`);
    const b: Beam = {
      direction: Vec3.normalize(o.direction ?? [0, 0, 1]),
      wavelength: o.wavelength,
      divergence: o.divergence ?? 0,
      sigmaDivergence: o.sigmaDivergence ?? 0,
      polarizationNormal: o.polarizationNormal ?? [0, 1, 0],
      polarizationFraction: o.polarizationFraction ?? 0.999,
      flux: o.flux ?? 0,
      transmission: o.transmission ?? 1,
    };
    if (o.probe !== undefined) b.probe = o.probe;
    return b;
  }

  /** Incident wavevector s0 (1/Å), pointing along the beam's travel, |s0| = 1/λ. */
  export function s0(b: Beam): Vec3 {
    return Vec3.scale(Vec3.normalize(b.direction), -1 / b.wavelength);
  }

  /** Unit vector along the beam's travel (s0/|s0|). */
  export function unitS0(b: Beam): Vec3 {
    return Vec3.neg(Vec3.normalize(b.direction));
  }

  /** A beam with the given s0 (direction and wavelength from it), other properties from `like`. */
  export function withS0(like: Beam, s0: Vec3): Beam {
    const len = Vec3.length(s0);
    return { ...like, direction: Vec3.scale(s0, -1 / len), wavelength: 1 / len };
  }

  /** Photon energy in keV (X-rays only). */
  export function energyKeV(b: Beam): number {
    return HC_KEV_ANGSTROM / b.wavelength;
  }

  export function wavelengthFromEnergyKeV(keV: number): number {
    return HC_KEV_ANGSTROM / keV;
  }
}
