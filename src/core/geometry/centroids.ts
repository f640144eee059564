/**
 * Whole-column conversions between the pixel/frame coordinates spot finding measures
 * (`xyzobs.px.*`, `xyzcal.px`) and the mm/radian coordinates indexing, refinement and
 * integration work in (`xyzobs.mm.*`, `xyzcal.mm`), as DIALS fills those columns:
 * x, y through the panel's px ↔ mm mapping (parallax included), φ = φ0 + z·Δφ in radians;
 * variances scale by pixel size² and Δφ² (DIALS does not propagate the parallax Jacobian,
 * checked on its own tables). One pass over typed arrays, no per-spot allocation.
 */
import type { Detector } from '../models/types.js';
import { Panel } from '../models/detector.js';
import { Scan } from '../models/scan.js';

const DEG = Math.PI / 180;

/** `xyzobs.px.value` (+ variance) → `xyzobs.mm.value` (+ variance). `panel` defaults to 0 for every spot. */
export function centroidsPxToMm(
  detector: Detector, scan: Scan | undefined, xyzPx: Float64Array, panel?: ArrayLike<number>, xyzPxVariance?: Float64Array,
): { xyzMm: Float64Array; xyzMmVariance?: Float64Array } {
  const n = Math.floor(xyzPx.length / 3);
  const xyzMm = new Float64Array(3 * n);
  const xyzMmVariance = xyzPxVariance ? new Float64Array(3 * n) : undefined;
  const phi0 = scan ? scan.oscillation[0] * DEG : 0, dphi = scan ? scan.oscillation[1] * DEG : 0;
  const z0 = scan ? Scan.frameOffset(scan) : 0;
  const xy = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const p = detector.panels[panel ? panel[i] : 0];
    if (p === undefined) throw new RangeError(`spot ${i}: panel ${panel![i]} is not in the detector (${detector.panels.length} panels)`);
    Panel.pixelToMmInto(p, xyzPx[3 * i], xyzPx[3 * i + 1], xy);
    xyzMm[3 * i] = xy[0];
    xyzMm[3 * i + 1] = xy[1];
    xyzMm[3 * i + 2] = phi0 + (xyzPx[3 * i + 2] - z0) * dphi;
    if (xyzMmVariance && xyzPxVariance) {
      xyzMmVariance[3 * i] = xyzPxVariance[3 * i] * p.pixelSize[0] * p.pixelSize[0];
      xyzMmVariance[3 * i + 1] = xyzPxVariance[3 * i + 1] * p.pixelSize[1] * p.pixelSize[1];
      xyzMmVariance[3 * i + 2] = xyzPxVariance[3 * i + 2] * dphi * dphi;
    }
  }
  return xyzMmVariance ? { xyzMm, xyzMmVariance } : { xyzMm };
}

/** `xyzcal.mm` → `xyzcal.px`: the inverse mapping, for predictions. Stills (no or zero-width scan) get z = 0. */
export function centroidsMmToPx(detector: Detector, scan: Scan | undefined, xyzMm: Float64Array, panel?: ArrayLike<number>): Float64Array {
  const n = Math.floor(xyzMm.length / 3);
  const out = new Float64Array(3 * n);
  const phi0 = scan ? scan.oscillation[0] * DEG : 0, dphi = scan ? scan.oscillation[1] * DEG : 0;
  const z0 = scan ? Scan.frameOffset(scan) : 0;
  const xy = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const p = detector.panels[panel ? panel[i] : 0];
    if (p === undefined) throw new RangeError(`spot ${i}: panel ${panel![i]} is not in the detector (${detector.panels.length} panels)`);
    Panel.mmToPixelInto(p, xyzMm[3 * i], xyzMm[3 * i + 1], xy);
    out[3 * i] = xy[0];
    out[3 * i + 1] = xy[1];
    out[3 * i + 2] = dphi === 0 ? 0 : z0 + (xyzMm[3 * i + 2] - phi0) / dphi;
  }
  return out;
}
