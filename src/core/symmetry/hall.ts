/**
 * Hall symbols (S. R. Hall, Acta Cryst. A37 (1981) 517; International Tables B, 1.4): an explicit
 * generator notation, so any setting of any space group can be written, e.g. ` P 4nw 2abw` as DIALS
 * stores `space_group_hall_symbol`, `-R 3 2"c`, `P 31 2c (0 0 1)` (origin shift in twelfths) or
 * `C 2y (x,y,-x+z)` (change of basis in the x,y,z form).
 *
 * Grammar: [-]L  N^A_T ... [V]. L lattice (P A B C I R S T F; leading '-' adds a centre of
 * inversion at the origin). Each N: [-]order(1,2,3,4,6)[screw digit][axis x y z ' " *][translations
 * a b c n u v w d]. Default axes: the first rotation is along c; a following 2-fold is along a when
 * preceded by a 2- or 4-fold and along a−b (') when preceded by a 3- or 6-fold; a 3-fold in third
 * place is along a+b+c (*). ' and " are face diagonals relative to the preceding axis.
 */
import { ParameterError } from '../errors.js';
import { CbOp } from './cbop.js';
import { Op, TDEN, type IntMat3, type IntVec3 } from './op.js';

export interface HallParse {
  /** Lattice translations (TDEN units), the zero vector first. */
  centring: IntVec3[];
  /** Generators in symbol order (identity not included), already transformed by the change of basis. */
  generators: Op[];
  /** Centrosymmetric with the inversion among the generators. */
  centrosymmetric: boolean;
  /** The change of basis applied to the symbol (identity if none). */
  cb: CbOp;
}

const H = TDEN / 2, T3 = TDEN / 3, Q = TDEN / 4;
export const LATTICE_TRANSLATIONS: Record<string, IntVec3[]> = {
  P: [],
  A: [[0, H, H]],
  B: [[H, 0, H]],
  C: [[H, H, 0]],
  I: [[H, H, H]],
  R: [[2 * T3, T3, T3], [T3, 2 * T3, 2 * T3]],
  S: [[T3, T3, 2 * T3], [2 * T3, 2 * T3, T3]],
  T: [[T3, 2 * T3, T3], [2 * T3, T3, 2 * T3]],
  F: [[0, H, H], [H, 0, H], [H, H, 0]],
};

const TRANSLATION_SYMBOLS: Record<string, IntVec3> = {
  a: [H, 0, 0], b: [0, H, 0], c: [0, 0, H], n: [H, H, H],
  u: [Q, 0, 0], v: [0, Q, 0], w: [0, 0, Q], d: [Q, Q, Q],
};

type Axis = 'x' | 'y' | 'z';

/** Proper rotations along the principal axes (Hall's table, matrices act on fractional coordinates). */
const PRINCIPAL: Record<Axis, Record<number, IntMat3>> = {
  x: {
    1: [1, 0, 0, 0, 1, 0, 0, 0, 1], 2: [1, 0, 0, 0, -1, 0, 0, 0, -1], 3: [1, 0, 0, 0, 0, -1, 0, 1, -1],
    4: [1, 0, 0, 0, 0, -1, 0, 1, 0], 6: [1, 0, 0, 0, 1, -1, 0, 1, 0],
  },
  y: {
    1: [1, 0, 0, 0, 1, 0, 0, 0, 1], 2: [-1, 0, 0, 0, 1, 0, 0, 0, -1], 3: [-1, 0, 1, 0, 1, 0, -1, 0, 0],
    4: [0, 0, 1, 0, 1, 0, -1, 0, 0], 6: [0, 0, 1, 0, 1, 0, -1, 0, 1],
  },
  z: {
    1: [1, 0, 0, 0, 1, 0, 0, 0, 1], 2: [-1, 0, 0, 0, -1, 0, 0, 0, 1], 3: [0, -1, 0, 1, -1, 0, 0, 0, 1],
    4: [0, -1, 0, 1, 0, 0, 0, 0, 1], 6: [1, -1, 0, 1, 0, 0, 0, 0, 1],
  },
};
/** Two-folds along face diagonals, keyed by the preceding (reference) axis. */
const PRIME: Record<Axis, IntMat3> = {
  x: [-1, 0, 0, 0, 0, -1, 0, -1, 0],
  y: [0, 0, -1, 0, -1, 0, -1, 0, 0],
  z: [0, -1, 0, -1, 0, 0, 0, 0, -1],
};
const DOUBLE_PRIME: Record<Axis, IntMat3> = {
  x: [-1, 0, 0, 0, 0, 1, 0, 1, 0],
  y: [0, 0, 1, 0, -1, 0, 1, 0, 0],
  z: [0, 1, 0, 1, 0, 0, 0, 0, -1],
};
const THREE_STAR: IntMat3 = [0, 0, 1, 1, 0, 0, 0, 1, 0];
const AXIS_INDEX: Record<Axis, number> = { x: 0, y: 1, z: 2 };

function bad(symbol: string, why: string): never {
  throw new ParameterError(`Hall symbol '${symbol.trim()}': ${why}`);
}

/** Parse the change-of-basis / origin-shift part in parentheses. */
function parseV(symbol: string, text: string): CbOp {
  const inner = text.trim();
  if (inner.includes(',')) {
    if (/[abc]/i.test(inner)) return CbOp.parse(inner);
    return CbOp.parse(inner.replace(/[hkl]/gi, (c) => ({ h: 'x', k: 'y', l: 'z' } as Record<string, string>)[c.toLowerCase()]));
  }
  // Hall's origin shift: three integers in twelfths; the ops become {R | t + (I−R)·v}.
  const parts = inner.split(/\s+/).filter(Boolean);
  if (parts.length !== 3 || parts.some((p) => !/^[+-]?\d+$/.test(p))) bad(symbol, `cannot read origin shift '(${inner})'`);
  const v = parts.map((p) => Number(p) / 12) as [number, number, number];
  return { m: [1, 0, 0, 0, 1, 0, 0, 0, 1], v };
}

export function parseHall(symbol: string): HallParse {
  let s = symbol.trim();
  let cb = CbOp.identity();
  const paren = s.indexOf('(');
  if (paren >= 0) {
    const close = s.lastIndexOf(')');
    if (close < paren) bad(symbol, 'unbalanced parentheses');
    if (s.slice(close + 1).trim()) bad(symbol, 'text after the change of basis');
    cb = parseV(symbol, s.slice(paren + 1, close));
    s = s.slice(0, paren).trim();
  }
  const tokens = s.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) bad(symbol, 'empty');
  let lat = tokens[0];
  let centrosymmetric = false;
  if (lat.startsWith('-')) { centrosymmetric = true; lat = lat.slice(1); }
  lat = lat.toUpperCase();
  if (!(lat in LATTICE_TRANSLATIONS)) bad(symbol, `unknown lattice symbol '${lat}'`);
  const rawGenerators: Op[] = [];
  let prevOrder = 0;
  let prevAxis: Axis = 'z';
  const matrices = tokens.slice(1);
  if (matrices.length === 0) bad(symbol, 'no rotation symbol');
  matrices.forEach((tok, pos) => {
    const m = /^(-?)([12346])(.*)$/.exec(tok);
    if (!m) bad(symbol, `cannot read '${tok}'`);
    const improper = m[1] === '-';
    const order = Number(m[2]);
    let axisSym = '';
    let screw = 0;
    const tran: IntVec3 = [0, 0, 0];
    for (const ch of m[3]) {
      if ('xyz\'"*'.includes(ch)) {
        if (axisSym) bad(symbol, `two axis symbols in '${tok}'`);
        axisSym = ch;
      } else if (ch in TRANSLATION_SYMBOLS) {
        const t = TRANSLATION_SYMBOLS[ch];
        tran[0] += t[0]; tran[1] += t[1]; tran[2] += t[2];
      } else if (/[1-5]/.test(ch)) {
        if (screw || Number(ch) >= order) bad(symbol, `bad screw component in '${tok}'`);
        screw = Number(ch);
      } else bad(symbol, `unexpected '${ch}' in '${tok}'`);
    }
    if (!axisSym) {
      if (order === 1) axisSym = 'z';
      else if (pos === 0) axisSym = 'z';
      else if (pos === 1 && order === 2) axisSym = prevOrder === 2 || prevOrder === 4 ? 'x' : '\'';
      else if (order === 3) axisSym = '*';
      else bad(symbol, `axis of '${tok}' must be given`);
    }
    let rot: IntMat3;
    let axis: Axis | null = null;
    if (axisSym === 'x' || axisSym === 'y' || axisSym === 'z') {
      axis = axisSym;
      rot = PRINCIPAL[axis][order];
    } else if (axisSym === '\'' || axisSym === '"') {
      if (order !== 2) bad(symbol, `face-diagonal axis needs a 2-fold in '${tok}'`);
      rot = (axisSym === '\'' ? PRIME : DOUBLE_PRIME)[prevAxis];
    } else {
      if (order !== 3) bad(symbol, `body-diagonal axis needs a 3-fold in '${tok}'`);
      rot = THREE_STAR;
    }
    if (screw) {
      if (!axis) bad(symbol, `screw component needs a principal axis in '${tok}'`);
      tran[AXIS_INDEX[axis]] += (screw * TDEN) / order;
    }
    if (improper) rot = rot.map((x) => -x) as IntMat3;
    rawGenerators.push({ rot: rot.slice() as IntMat3, tran });
    if (order !== 1) prevOrder = order;
    if (axis) prevAxis = axis;
  });
  if (centrosymmetric) rawGenerators.push({ rot: [-1, 0, 0, 0, -1, 0, 0, 0, -1], tran: [0, 0, 0] });
  const identityCb = CbOp.isIdentity(cb);
  const generators = rawGenerators
    .filter((g) => !(Op.isIdentityRot(g.rot) && g.tran.every((t) => t === 0)))
    .map((g) => Op.wrapped(identityCb ? g : CbOp.applyToOp(cb, g)));
  let centring: IntVec3[] = [[0, 0, 0], ...LATTICE_TRANSLATIONS[lat].map((t) => t.slice() as IntVec3)];
  if (!identityCb) centring = transformCentring(symbol, cb, centring);
  return { centring, generators, centrosymmetric, cb };
}

/**
 * Lattice translations in the new basis: transform the given ones and also add the integral
 * lattice vectors of the old cell that become fractional in the new one (a supercell), closing
 * the set under addition.
 */
export function transformCentring(symbol: string, cb: CbOp, centring: IntVec3[]): IntVec3[] {
  const out = new Map<string, IntVec3>();
  const add = (t: number[]) => {
    const w = t.map((x) => {
      const n = Math.round(x * TDEN);
      if (Math.abs(x * TDEN - n) > 1e-6) bad(symbol, 'change of basis gives lattice translations outside 1/24 steps');
      return Op.wrapT(n);
    }) as IntVec3;
    out.set(w.join(','), w);
  };
  const m = cb.m;
  const seeds: number[][] = centring.map((t) => t.map((x) => x / TDEN));
  for (const e of [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) seeds.push(e);
  for (const t of seeds) add([m[0] * t[0] + m[1] * t[1] + m[2] * t[2], m[3] * t[0] + m[4] * t[1] + m[5] * t[2], m[6] * t[0] + m[7] * t[1] + m[8] * t[2]]);
  // close under addition
  let grew = true;
  while (grew) {
    grew = false;
    const cur = [...out.values()];
    for (const a of cur) for (const b of cur) {
      const s = [Op.wrapT(a[0] + b[0]), Op.wrapT(a[1] + b[1]), Op.wrapT(a[2] + b[2])] as IntVec3;
      const k = s.join(',');
      if (!out.has(k)) { out.set(k, s); grew = true; }
      if (out.size > 64) bad(symbol, 'change of basis gives an implausibly large centring');
    }
  }
  const list = [...out.values()].filter((t) => t.some((x) => x !== 0));
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return [[0, 0, 0], ...list];
}
