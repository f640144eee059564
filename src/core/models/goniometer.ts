/**
 * Goniometer functions. DIALS models any goniometer by three quantities: a fixed rotation F
 * (everything that moves with the crystal inside the scanning axis), the scanning axis, and a
 * setting rotation S (axes outside the scanning axis, which carry the scanning axis with them).
 * A crystal vector v at scan angle φ is at S·R(axis, φ)·F·v in the lab.
 *
 * A multi-axis goniometer (ω/χ/φ, kappa, SmarGon) lists its axes from the innermost (nearest the
 * sample, e.g. φ) to the outermost (e.g. ω), each at its datum (all angles zero) position, with
 * the angles they are set to and the index of the axis that scans. F is then the product of the
 * inner axes' rotations, S that of the outer ones, and `rotationAxis` the scanning axis datum.
 * Checked against DIALS' own single-axis models of the L-cysteine sweeps (ω scans with φ at
 * 120°/240° give F = R(φ axis, 120°/240°); a φ scan at ω = 0 gives the φ axis).
 */
import { Vec3 } from '../math/vec3.js';
import { Mat3 } from '../math/mat3.js';
import type { Goniometer as GoniometerModel } from './types.js';

export type Goniometer = GoniometerModel;

const DEG = Math.PI / 180;

export namespace Goniometer {
  /** A single-axis goniometer (default: rotation about +x, no fixed or setting rotation). */
  export function create(o: { rotationAxis?: Vec3; fixedRotation?: Mat3; settingRotation?: Mat3 } = {}): Goniometer {
    return {
      rotationAxis: Vec3.normalize(o.rotationAxis ?? [1, 0, 0]),
      fixedRotation: o.fixedRotation ? Mat3.clone(o.fixedRotation) : Mat3.identity(),
      settingRotation: o.settingRotation ? Mat3.clone(o.settingRotation) : Mat3.identity(),
    };
  }

  /**
   * A multi-axis goniometer from its axis stack, innermost axis first; angles in degrees.
   * The scan axis' own angle does not enter F or S (the scan supplies it).
   */
  export function fromMultiAxis(axes: Vec3[], anglesDeg: number[], names: string[], scanAxis: number): Goniometer {
    const n = axes.length;
    if (n === 0) throw new RangeError('a multi-axis goniometer needs at least one axis');
    if (anglesDeg.length !== n || names.length !== n) {
      throw new RangeError(`multi-axis goniometer: ${n} axes but ${anglesDeg.length} angles and ${names.length} names`);
    }
    if (!Number.isInteger(scanAxis) || scanAxis < 0 || scanAxis >= n) throw new RangeError(`scan axis ${scanAxis} is not an axis index`);
    const unit = axes.map((a) => Vec3.normalize(a));
    const g: Goniometer = {
      rotationAxis: unit[scanAxis],
      fixedRotation: Mat3.identity(),
      settingRotation: Mat3.identity(),
      axes: unit,
      angles: [...anglesDeg],
      names: [...names],
      scanAxis,
    };
    return withDerivedRotations(g);
  }

  /** Recomputes F, S and the rotation axis from the axis stack (after changing an angle). */
  export function withDerivedRotations(g: Goniometer): Goniometer {
    if (!g.axes || !g.angles || g.scanAxis === undefined) return g;
    // Outer axes act after inner ones: F = R_{k-1}···R_0, S = R_{n-1}···R_{k+1}.
    let fixed = Mat3.identity();
    for (let i = 0; i < g.scanAxis; i++) fixed = Mat3.mul(Mat3.rotation(g.axes[i], g.angles[i] * DEG), fixed);
    let setting = Mat3.identity();
    for (let i = g.scanAxis + 1; i < g.axes.length; i++) setting = Mat3.mul(Mat3.rotation(g.axes[i], g.angles[i] * DEG), setting);
    return { ...g, rotationAxis: Vec3.clone(g.axes[g.scanAxis]), fixedRotation: fixed, settingRotation: setting };
  }

  /** Whether the model carries a multi-axis stack. */
  export function isMultiAxis(g: Goniometer): boolean {
    return g.axes !== undefined && g.axes.length > 0;
  }

  /** The scanning axis in the lab frame, S·axis (DIALS' "rotation axis"; `rotationAxis` is its datum). */
  export function labRotationAxis(g: Goniometer): Vec3 {
    return Vec3.normalize(Mat3.mulVec(g.settingRotation, g.rotationAxis));
  }

  /** The full rotation S·R(axis, φ)·F taking crystal-frame vectors to the lab at φ (degrees). */
  export function rotationAt(g: Goniometer, phiDeg: number): Mat3 {
    const r = Mat3.rotation(g.rotationAxis, phiDeg * DEG);
    return Mat3.mul(g.settingRotation, Mat3.mul(r, g.fixedRotation));
  }

  /** Rotates the lab vector v (already including F) about the scanning axis: S·R(axis, φ)·S⁻¹·v. */
  export function rotateLab(g: Goniometer, v: Vec3, phiDeg: number): Vec3 {
    return Vec3.rotateAround(v, labRotationAxis(g), phiDeg * DEG);
  }
}
