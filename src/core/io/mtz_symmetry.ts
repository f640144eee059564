/** MTZ symmetry records (SYMINF/SYMM) from a space group of the symmetry library. */
import { Op } from '../symmetry/op.js';
import { centringType, type SpaceGroup } from '../symmetry/spacegroup.js';
import type { MtzSymmetry } from './mtz.js';

/** Point-group symbol as MTZ files carry it: the HM symbol without lattice letter, screws or glides ("P 43 21 2" → "422"). */
export function mtzPointGroup(hm: string): string {
  let parts = hm.replace(/:.*$/, '').trim().split(/\s+/).slice(1)
    .map((p) => p.replace(/\/.*$/, '/m').replace(/^(-?[2346])[1-5]$/, '$1').replace(/^[abcdenm]$/, 'm'));
  // monoclinic full symbols ("1 2 1") name the point group by their one non-trivial axis
  if (parts.length === 3 && parts.filter((p) => p === '1').length === 2) parts = parts.filter((p) => p !== '1');
  return parts.join('');
}

export function mtzSymmetry(sg: SpaceGroup): MtzSymmetry {
  const ops: string[] = [];
  // Primitive operators first, then the same operators plus each centring translation.
  for (const c of sg.centring) {
    for (const o of sg.symOps) ops.push(Op.toXyz(Op.wrapped({ rot: o.rot, tran: [o.tran[0] + c[0], o.tran[1] + c[1], o.tran[2] + c[2]] })));
  }
  let lattice = centringType(sg);
  if (/:H$/.test(sg.hm.trim())) lattice = 'H';
  return { number: sg.number, hm: sg.hm.replace(/\s*:[HR12]$/, ''), lattice: lattice === '?' ? 'P' : lattice, pointGroup: mtzPointGroup(sg.hm), ops, nPrimitive: sg.symOps.length };
}
