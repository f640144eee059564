/**
 * The per-column min / max / mean summary that `dials.show` prints for a reflection table, for
 * `xtalflow show` and logs. Layout and number formats were matched to dials.show 3.12 output on
 * real and purpose-made tables (regression-data/refl/dials_show/): known columns have a fixed
 * precision, integer bookkeeping columns print truncated means, unknown scalar columns print
 * Python's shortest float repr, unknown vector columns two decimals; bool, int6, vec2, mat3 and
 * opaque columns are not listed; a shoebox column adds summed foreground intensity and pixel counts.
 */
import type { ReflectionTable, ShoeboxColumn, NumericArray } from './table.js';

type Format = { kind: 'fixed'; digits: number } | { kind: 'exp'; digits: number } | { kind: 'int' } | { kind: 'repr' };

const FIXED = (digits: number): Format => ({ kind: 'fixed', digits });
const INT: Format = { kind: 'int' };

/** Formats of the columns dials.show knows by name. */
const KNOWN: Record<string, Format> = {
  'flags': INT, 'id': INT, 'imageset_id': INT, 'panel': INT, 'partial_id': INT, 'miller_index': INT,
  'num_pixels.background': INT, 'num_pixels.background_used': INT, 'num_pixels.foreground': INT, 'num_pixels.valid': INT,
  'Ih_values': FIXED(1),
  'd': FIXED(2), 'xyzcal.mm': FIXED(2), 'xyzcal.px': FIXED(2), 'xyzobs.mm.value': FIXED(2), 'xyzobs.px.value': FIXED(2),
  'dqe': FIXED(3), 'lp': FIXED(3), 'qe': FIXED(3), 'zeta': FIXED(3), 'profile.correlation': FIXED(3), 'profile.rmsd': FIXED(3),
  'inverse_scale_factor': FIXED(3), 'inverse_scale_factor_variance': FIXED(3), 'delpsical.rad': FIXED(3),
  'x_resid': FIXED(3), 'y_resid': FIXED(3),
  'partiality': FIXED(4), 'rlp': FIXED(4), 's1': FIXED(4), 'xyzobs.px.variance': FIXED(4),
  'xyzobs.mm.variance': { kind: 'exp', digits: 4 },
};

function formatOf(name: string, type: string): Format | null {
  const known = KNOWN[name];
  if (known) return known;
  // every intensity.<method>.value/variance and background.<x> column prints with one decimal
  if (/^intensity\.[^.]+\.(value|variance)$/.test(name) || /^background\./.test(name)) return FIXED(1);
  switch (type) {
    case 'int': case 'double': case 'std::size_t': return { kind: 'repr' };
    case 'vec3<double>': case 'cctbx::miller::index<>': return FIXED(2);
    default: return null; // bool, int6, vec2, mat3, shoebox handled apart, opaque types
  }
}

/**
 * x with `digits` decimals, rounding exact ties to even as Python's '%.nf' does (JS toFixed
 * rounds them away from zero: 0.125 → "0.13" where Python gives "0.12"). Works on the exact
 * decimal expansion, which toFixed gives for up to 100 places.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const neg = x < 0 || Object.is(x, -0);
  if (Math.abs(x) >= 1e21) { // toFixed switches to exponent form here; such doubles are integers
    return (neg ? '-' : '') + BigInt(Math.abs(x)).toString() + (digits > 0 ? '.' + '0'.repeat(digits) : '');
  }
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const dot = exact.indexOf('.');
  const intPart = exact.slice(0, dot), frac = exact.slice(dot + 1);
  const kept = (intPart + frac.slice(0, digits)).split('').map(Number);
  const rest = frac.slice(digits);
  const beyondHalf = /[1-9]/.test(rest.slice(1));
  const up = rest[0] > '5' || (rest[0] === '5' && (beyondHalf || kept[kept.length - 1] % 2 === 1));
  if (up) {
    let k = kept.length - 1;
    while (k >= 0 && kept[k] === 9) kept[k--] = 0;
    if (k >= 0) kept[k]++;
    else kept.unshift(1);
  }
  const ip = kept.slice(0, kept.length - digits).join('') || '0';
  const fp = kept.slice(kept.length - digits).join('');
  return (neg ? '-' : '') + ip + (digits > 0 ? '.' + fp : '');
}

/** Python's repr(float): shortest round-trip digits, '.0' on integers, exponent outside 1e-4..1e16. */
export function pyRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax >= 1e16 || ax < 1e-4) {
    const [m, e] = x.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : s + '.0';
}

function pyExp(x: number, digits: number): string {
  const [m, e] = x.toExponential(digits).split('e');
  const exp = Number(e);
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function fmt(x: number, f: Format, isMean: boolean): string {
  switch (f.kind) {
    case 'int': return String(isMean ? Math.trunc(x) || 0 : x);
    case 'fixed': return pyFixed(x, f.digits);
    case 'exp': return pyExp(x, f.digits);
    case 'repr': return pyRepr(x);
  }
}

export interface ColumnStats { min: number[]; max: number[]; mean: number[] }

/** Per-component min, max and mean of a numeric column (a NaN row makes the mean NaN). */
export function columnStats(data: NumericArray, stride: number): ColumnStats {
  const n = stride > 0 ? data.length / stride : 0;
  const min = new Array<number>(stride).fill(Infinity), max = new Array<number>(stride).fill(-Infinity), sum = new Array<number>(stride).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < stride; c++) {
      const v = data[i * stride + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
      sum[c] += v;
    }
  }
  // sum × (1/n), not sum / n: the two differ in the last bit, and dials.show prints full repr
  const inv = 1 / n;
  return { min, max, mean: sum.map((s) => s * inv) };
}

/** Summed foreground intensity, pixel count and valid-foreground pixel count per shoebox. */
export function shoeboxStats(sb: ShoeboxColumn): { summedI: Float64Array; nPixels: Float64Array; nValidForeground: Float64Array } {
  const n = sb.panel.length;
  const summedI = new Float64Array(n), nPixels = new Float64Array(n), nValidForeground = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = 6 * i;
    nPixels[i] = (sb.bbox[o + 1] - sb.bbox[o]) * (sb.bbox[o + 3] - sb.bbox[o + 2]) * (sb.bbox[o + 5] - sb.bbox[o + 4]);
    let s = 0, k = 0;
    for (let p = sb.offset[i]; p < sb.offset[i + 1]; p++) {
      if ((sb.mask[p] & 5) === 5) { s += sb.data[p] - sb.background[p]; k++; } // valid (1) and foreground (4)
    }
    summedI[i] = s;
    nValidForeground[i] = k;
  }
  return { summedI, nPixels, nValidForeground };
}

export interface SummaryRow { column: string; min: string; max: string; mean: string }

/** The rows dials.show prints for a table, in its order (column names sorted bytewise). */
export function reflectionSummaryRows(table: ReflectionTable): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const names = table.columnNames().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const join = (xs: number[], f: Format, isMean: boolean) => xs.map((x) => fmt(x, f, isMean)).join(', ');
  for (const name of names) {
    const type = table.typeOf(name);
    if (type === 'Shoebox<>') {
      const st = shoeboxStats(table.shoebox(name));
      rows.push({ column: name, min: '', max: '', mean: '' });
      for (const [label, v] of [['summed I', st.summedI], ['N pix', st.nPixels], ['N valid foreground pix', st.nValidForeground]] as const) {
        const s = columnStats(v, 1);
        rows.push({ column: label, min: join(s.min, FIXED(1), false), max: join(s.max, FIXED(1), false), mean: join(s.mean, FIXED(1), true) });
      }
      continue;
    }
    const f = formatOf(name, type);
    if (!f) continue;
    const s = columnStats(table.get(name) as NumericArray, table.strideOf(name));
    rows.push({ column: name, min: join(s.min, f, false), max: join(s.max, f, false), mean: join(s.mean, f, true) });
  }
  return rows;
}

/** "Reflection list contains N reflections" and the column table, as dials.show prints them. */
export function formatReflectionSummary(table: ReflectionTable): string {
  const header = ['Column', 'min', 'max', 'mean'];
  const cells = reflectionSummaryRows(table).map((r) => [r.column, r.min, r.max, r.mean]);
  // as dials.show's table: every column at least its header plus two
  const width = header.map((h, c) => Math.max(h.length + 2, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) => '|' + r.map((s, c) => ' ' + s.padEnd(width[c]) + ' ').join('|') + '|';
  const rule = (edge: string, fill: string) => edge + width.map((w) => fill.repeat(w + 2)).join('+') + edge;
  return [
    `Reflection list contains ${table.nrows} reflections`,
    rule('+', '-'), line(header), rule('|', '-'), ...cells.map(line), rule('+', '-'),
  ].join('\n');
}
