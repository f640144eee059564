/**
 * max_cell from nearest-neighbour separations of reciprocal-lattice points. Most rlps have a
 * neighbour one shortest reciprocal-lattice step away, and that step is 1/d of the widest lattice
 * plane spacing, which bounds the longest real-space axis that indexing must be able to see.
 * The lower quartile of the neighbour distances gives that step; ×1.3 leaves margin for oblique
 * cells and noise.
 */
import { UserError } from '../errors.js';

/** Nearest-neighbour distance of every point (3-vectors interleaved), by a uniform hash grid. */
export function nearestNeighbourDistances(points: Float64Array): Float64Array {
  const n = points.length / 3;
  const out = new Float64Array(n).fill(Infinity);
  if (n < 2) return out;
  let minX = Infinity, minY = Infinity, minZ = Infinity, maxX = -Infinity, maxY = -Infinity, maxZ = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2];
    if (x < minX) minX = x; if (x > maxX) maxX = x;
    if (y < minY) minY = y; if (y > maxY) maxY = y;
    if (z < minZ) minZ = z; if (z > maxZ) maxZ = z;
  }
  // cell edge so that there are ~2 points per occupied cell on average in a full volume
  const vol = Math.max((maxX - minX) * (maxY - minY) * (maxZ - minZ), 1e-30);
  const h = Math.max(Math.cbrt((2 * vol) / n), 1e-9);
  const nx = Math.floor((maxX - minX) / h) + 1, ny = Math.floor((maxY - minY) / h) + 1, nz = Math.floor((maxZ - minZ) / h) + 1;
  const cellOf = (i: number) => {
    const cx = Math.floor((points[3 * i] - minX) / h), cy = Math.floor((points[3 * i + 1] - minY) / h), cz = Math.floor((points[3 * i + 2] - minZ) / h);
    return (cz * ny + cy) * nx + cx;
  };
  // counting sort of points by cell (Map: the grid may be large and sparse)
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = cellOf(i);
    const b = buckets.get(c);
    if (b) b.push(i); else buckets.set(c, [i]);
  }
  for (let i = 0; i < n; i++) {
    const x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2];
    const cx = Math.floor((x - minX) / h), cy = Math.floor((y - minY) / h), cz = Math.floor((z - minZ) / h);
    let best = Infinity;
    // expand shells until the shell's inner distance exceeds the best found
    for (let r = 0; r < Math.max(nx, ny, nz); r++) {
      if (best < (r - 1) * h) break;
      for (let dz = -r; dz <= r; dz++) {
        const zz = cz + dz; if (zz < 0 || zz >= nz) continue;
        for (let dy = -r; dy <= r; dy++) {
          const yy = cy + dy; if (yy < 0 || yy >= ny) continue;
          for (let dx = -r; dx <= r; dx++) {
            if (Math.max(Math.abs(dx), Math.abs(dy), Math.abs(dz)) !== r) continue;
            const xx = cx + dx; if (xx < 0 || xx >= nx) continue;
            const b = buckets.get((zz * ny + yy) * nx + xx);
            if (!b) continue;
            for (const j of b) {
              if (j === i) continue;
              const d = Math.hypot(points[3 * j] - x, points[3 * j + 1] - y, points[3 * j + 2] - z);
              if (d < best) best = d;
            }
          }
        }
      }
    }
    out[i] = best;
  }
  return out;
}

/** Estimated maximum cell dimension (Å) from rlps (Å⁻¹). */
export function estimateMaxCell(rlp: Float64Array, opts: { multiplier?: number; percentile?: number } = {}): number {
  const nn = Float64Array.from(nearestNeighbourDistances(rlp)).filter(Number.isFinite).sort();
  if (nn.length < 10) throw new UserError(`too few spots (${rlp.length / 3}) to estimate max_cell; give max_cell=`, 'too_few_spots');
  // A lower quartile rather than the minimum: split spots, overlaps and noise give separations
  // far below the lattice step, and most rlps have a neighbour one step away.
  const q = nn[Math.floor((opts.percentile ?? 0.25) * (nn.length - 1))];
  return (opts.multiplier ?? 1.3) / q;
}
