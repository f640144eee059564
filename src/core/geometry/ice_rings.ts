/**
 * Powder rings of hexagonal ice Ih (a = 4.497, c = 7.322 Å at 100 K): the rings that show up on
 * images of cryo-cooled crystals. Spot finding masks the pixels on them; integration flags the
 * reflections on them (`in_powder_ring`).
 */

/** d-spacings (Å) of the strongest rings. */
export const ICE_RING_D = [3.897, 3.669, 3.441, 2.671, 2.249, 2.072, 1.948, 1.918, 1.883, 1.721, 1.525, 1.473, 1.444, 1.372, 1.367, 1.299, 1.261, 1.224, 1.171, 1.124, 1.101, 1.083, 1.069, 1.047];

/** DIALS' default half-width of a ring in 1/d² (Å⁻²). */
export const ICE_RING_HALF_WIDTH = 0.002;

const ICE_RING_INV_D2 = ICE_RING_D.map((d) => 1 / (d * d));

/** True when 1/d² (Å⁻²) lies within `halfWidth` (in 1/d²) of an ice ring. */
export function onIceRingInvD2(invD2: number, halfWidth = ICE_RING_HALF_WIDTH): boolean {
  for (const r of ICE_RING_INV_D2) if (Math.abs(invD2 - r) < halfWidth) return true;
  return false;
}

/** True when resolution `dAng` lies within `halfWidth` (in 1/d²) of an ice ring. */
export function onIceRing(dAng: number, halfWidth = ICE_RING_HALF_WIDTH): boolean {
  return onIceRingInvD2(1 / (dAng * dAng), halfWidth);
}
