import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelBlock, mergeBlocks, type StrongPixelBlock } from '../../../src/stages/find_spots/components.js';
import { rng } from './synthetic.js';

/** Strong pixels given as (image, panel, x, y) → blocks cut at `cuts` (first images of blocks). */
function makeBlocks(pixels: [number, number, number, number][], nImages: number, panels: [number, number][], cuts: number[]): StrongPixelBlock[] {
  const starts = [0, ...cuts, nImages];
  const blocks: StrongPixelBlock[] = [];
  for (let b = 0; b + 1 < starts.length; b++) {
    const first = starts[b], count = starts[b + 1] - first;
    const offsets = new Int32Array(count * panels.length + 1);
    const index: number[] = [], value: number[] = [];
    for (let im = 0; im < count; im++) {
      for (let p = 0; p < panels.length; p++) {
        offsets[im * panels.length + p] = index.length;
        const here = pixels.filter(([z, pp]) => z === first + im && pp === p).map(([, , x, y]) => y * panels[p][0] + x).sort((a, c) => a - c);
        for (const i of new Set(here)) { index.push(i); value.push(1 + (i % 7)); }
      }
    }
    offsets[count * panels.length] = index.length;
    const block: StrongPixelBlock = {
      firstImage: first, nImages: count, nPanels: panels.length, offsets,
      index: Int32Array.from(index), value: Int32Array.from(value), label: new Int32Array(index.length), nLabels: 0,
    };
    labelBlock(block, panels);
    blocks.push(block);
  }
  return blocks;
}

/** Spot number of every pixel in (image, panel, index) order, from the merged labelling. */
function spotNumbers(pixels: [number, number, number, number][], nImages: number, panels: [number, number][], cuts: number[]) {
  const merged = mergeBlocks(makeBlocks(pixels, nImages, panels, cuts));
  const out: string[] = [];
  merged.blocks.forEach((b, bi) => {
    for (let im = 0; im < b.nImages; im++) for (let p = 0; p < b.nPanels; p++) {
      for (let k = b.offsets[im * b.nPanels + p]; k < b.offsets[im * b.nPanels + p + 1]; k++) out.push(`${b.firstImage + im}/${p}/${b.index[k]}:${merged.spotOf[bi][k]}`);
    }
  });
  return { nSpots: merged.nSpots, labels: out.sort() };
}

test('6-connectivity: edge neighbours and the same pixel on the next image join; diagonals do not', () => {
  const panels: [number, number][] = [[10, 10]];
  // A: (1,1)+(2,1) on image 0 and (2,1) on image 1 → one spot. B: (5,5) and diagonal (6,6) → two spots.
  // C: (8,8) on image 0 and (8,8) on image 2 (gap at image 1) → two spots.
  const px: [number, number, number, number][] = [[0, 0, 1, 1], [0, 0, 2, 1], [1, 0, 2, 1], [0, 0, 5, 5], [0, 0, 6, 6], [0, 0, 8, 8], [2, 0, 8, 8]];
  assert.equal(spotNumbers(px, 3, panels, []).nSpots, 5);
  // Pixels at the end of one row and the start of the next are not neighbours.
  assert.equal(spotNumbers([[0, 0, 9, 3], [0, 0, 0, 4]], 1, panels, []).nSpots, 2);
  // The same coordinates on different panels are different spots.
  assert.equal(spotNumbers([[0, 0, 3, 3], [0, 1, 3, 3]], 1, [[10, 10], [10, 10]], []).nSpots, 2);
});

test('spot numbering is identical wherever the sweep is cut into blocks', () => {
  const r = rng(7);
  const panels: [number, number][] = [[23, 17], [11, 9]];
  const nImages = 12;
  const px: [number, number, number, number][] = [];
  for (let k = 0; k < 900; k++) {
    const p = r() < 0.7 ? 0 : 1;
    px.push([Math.floor(r() * nImages), p, Math.floor(r() * panels[p][0]), Math.floor(r() * panels[p][1])]);
  }
  const whole = spotNumbers(px, nImages, panels, []);
  assert.ok(whole.nSpots > 20 && whole.nSpots < 900, `${whole.nSpots} spots`);
  for (const cuts of [[6], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 5, 11], [4, 8]]) {
    assert.deepEqual(spotNumbers(px, nImages, panels, cuts), whole, `cuts ${cuts}`);
  }
});
