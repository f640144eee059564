/**
 * Rule 2: the rotation-axis direction. A wrong sense of rotation (common in 3D-ED headers) still
 * indexes, but the φ residuals are poor relative to the x/y ones. When RMSD_Z looks poor, index
 * again with the axis inverted and keep whichever solution predicts φ better.
 */
import { decision, type Decision } from './decision.js';

export interface IndexingRmsds {
  /** px */
  rmsdX: number;
  /** px */
  rmsdY: number;
  /** images */
  rmsdZ: number;
  percentIndexed: number;
}

/** RMSD_Z (images) above this fraction of RMSD_XY (px) is suspicious … */
export const Z_OVER_XY_LIMIT = 0.75;
/** … once RMSD_Z exceeds this many images (below it the φ fit is good whatever the ratio) … */
export const Z_MIN_IMAGES = 0.3;
/** … and RMSD_Z above this many images is suspicious outright. */
export const Z_ABSOLUTE_LIMIT = 1.0;

export function shouldTryInvertedAxis(r: IndexingRmsds): Decision<boolean> {
  const xy = Math.hypot(r.rmsdX, r.rmsdY) / Math.SQRT2;
  const ratio = r.rmsdZ / xy;
  const poor = (ratio > Z_OVER_XY_LIMIT && r.rmsdZ > Z_MIN_IMAGES) || r.rmsdZ > Z_ABSOLUTE_LIMIT;
  return decision('rotation_axis_check', poor,
    poor ? `RMSD_Z ${r.rmsdZ.toFixed(3)} images is poor against RMSD_XY ${xy.toFixed(3)} px (ratio ${ratio.toFixed(2)} > ${Z_OVER_XY_LIMIT}): try the inverted rotation axis`
      : `RMSD_Z ${r.rmsdZ.toFixed(3)} images is good (≤ ${Z_MIN_IMAGES} images or ratio to RMSD_XY ${xy.toFixed(3)} px ≤ ${Z_OVER_XY_LIMIT}): keep the axis`,
    { rmsd_z: r.rmsdZ, rmsd_xy: xy, ratio, limit: Z_OVER_XY_LIMIT, min_z_images: Z_MIN_IMAGES });
}

/**
 * Keep the inverted axis only when it lowers RMSD_Z clearly (by `minGain`, default 20 %) without
 * losing more than `maxIndexedLoss` percentage points of indexed spots. Equally good → keep the header's axis.
 */
export function chooseRotationAxis(original: IndexingRmsds, inverted: IndexingRmsds | null, minGain = 0.2, maxIndexedLoss = 5): Decision<'original' | 'inverted'> {
  const figures = {
    rmsd_z_original: original.rmsdZ, rmsd_z_inverted: inverted?.rmsdZ ?? null,
    indexed_original: original.percentIndexed, indexed_inverted: inverted?.percentIndexed ?? null,
  };
  if (!inverted) return decision('rotation_axis', 'original', 'indexing with the inverted axis failed: keep the axis as imported', figures);
  const better = inverted.rmsdZ < (1 - minGain) * original.rmsdZ && inverted.percentIndexed >= original.percentIndexed - maxIndexedLoss;
  return decision('rotation_axis', better ? 'inverted' : 'original',
    better ? `inverted axis: RMSD_Z ${inverted.rmsdZ.toFixed(3)} vs ${original.rmsdZ.toFixed(3)} images, ${inverted.percentIndexed.toFixed(1)} % vs ${original.percentIndexed.toFixed(1)} % indexed`
      : `axis as imported: inverting gives RMSD_Z ${inverted.rmsdZ.toFixed(3)} vs ${original.rmsdZ.toFixed(3)} images (needs < ${((1 - minGain) * original.rmsdZ).toFixed(3)}), ${inverted.percentIndexed.toFixed(1)} % vs ${original.percentIndexed.toFixed(1)} % indexed`,
    figures);
}
