/**
 * Plot data as stages return it (`figures.plots`), and its rendering to inline SVG so the HTML
 * report is one self-contained file that works offline. Plots are data first: the same objects
 * go into the report's JSON for anyone who wants to replot them.
 */
export interface Series {
  label: string;
  y: number[];
  /** Per-series x when it differs from the plot's x. */
  x?: number[];
}

export interface PlotData {
  title: string;
  xLabel: string;
  yLabel: string;
  kind: 'line' | 'scatter' | 'bar';
  x: number[];
  series: Series[];
  /** Vertical markers (e.g. the resolution cut). */
  markers?: { x: number; label: string }[];
  /** Tick labels for x given as a function of x, e.g. 'd_from_s2' shows d = 1/√s² for 1/d² axes. */
  xTickFormat?: 'plain' | 'd_from_s2';
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" tick positions covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) { hi = lo + 1; lo -= 1; }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function fmtTick(v: number, mode: PlotData['xTickFormat'] = 'plain'): string {
  if (mode === 'd_from_s2') return v > 0 ? (1 / Math.sqrt(v)).toFixed(2) : '∞';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function renderSvg(p: PlotData, width = 640, height = 300): string {
  const m = { l: 64, r: 16, t: 28, b: 44 };
  const w = width - m.l - m.r, h = height - m.t - m.b;
  const xs: number[] = [], ys: number[] = [];
  for (const s of p.series) {
    const sx = s.x ?? p.x;
    for (let i = 0; i < s.y.length; i++) {
      if (Number.isFinite(s.y[i]) && Number.isFinite(sx[i])) { xs.push(sx[i]); ys.push(s.y[i]); }
    }
  }
  for (const mk of p.markers ?? []) xs.push(mk.x);
  const xlo = xs.length ? Math.min(...xs) : 0, xhi = xs.length ? Math.max(...xs) : 1;
  let ylo = ys.length ? Math.min(...ys) : 0, yhi = ys.length ? Math.max(...ys) : 1;
  if (p.kind === 'bar' || ylo > 0) ylo = Math.min(0, ylo);
  if (yhi === ylo) yhi = ylo + 1;
  const xt = niceTicks(xlo, xhi), yt = niceTicks(ylo, yhi);
  const x0 = Math.min(xlo, xt[0] ?? xlo), x1 = Math.max(xhi, xt[xt.length - 1] ?? xhi);
  const y0 = Math.min(ylo, yt[0] ?? ylo), y1 = Math.max(yhi, yt[yt.length - 1] ?? yhi);
  const X = (v: number) => m.l + ((v - x0) / (x1 - x0 || 1)) * w;
  const Y = (v: number) => m.t + h - ((v - y0) / (y1 - y0 || 1)) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="${esc(p.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`);
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" class="plot-title">${esc(p.title)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const t of xt) parts.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${m.t + h}" y2="${m.t + h + 4}" stroke="#666"/><text x="${X(t).toFixed(1)}" y="${m.t + h + 16}" text-anchor="middle" class="tick">${esc(fmtTick(t, p.xTickFormat))}</text>`);
  for (const t of yt) parts.push(`<line x1="${m.l - 4}" x2="${m.l + w}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#eee"/><text x="${m.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(fmtTick(t))}</text>`);
  parts.push(`<text x="${m.l + w / 2}" y="${height - 6}" text-anchor="middle" class="axis-label">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.t + h / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length];
    const sx = s.x ?? p.x;
    const pts: string[] = [];
    for (let i = 0; i < s.y.length; i++) if (Number.isFinite(s.y[i]) && Number.isFinite(sx[i])) pts.push(`${X(sx[i]).toFixed(1)},${Y(s.y[i]).toFixed(1)}`);
    if (p.kind === 'line') parts.push(`<polyline class="series" data-series="${esc(s.label)}" fill="none" stroke="${c}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    else if (p.kind === 'scatter') parts.push(`<g class="series" data-series="${esc(s.label)}" fill="${c}">${pts.map((q) => { const [a, b] = q.split(','); return `<circle cx="${a}" cy="${b}" r="2.5"/>`; }).join('')}</g>`);
    else {
      const bw = Math.max(1, (w / Math.max(1, s.y.length)) * 0.8 / p.series.length);
      parts.push(`<g class="series" data-series="${esc(s.label)}" fill="${c}">${s.y.map((v, i) => Number.isFinite(v) ? `<rect x="${(X(sx[i]) - bw / 2 + k * bw).toFixed(1)}" y="${Math.min(Y(v), Y(0)).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(Y(0) - Y(v)).toFixed(1)}"/>` : '').join('')}</g>`);
    }
    parts.push(`<rect x="${m.l + w - 150}" y="${m.t + 6 + 14 * k}" width="10" height="10" fill="${c}"/><text x="${m.l + w - 136}" y="${m.t + 15 + 14 * k}" class="legend">${esc(s.label)}</text>`);
  });
  for (const mk of p.markers ?? []) {
    parts.push(`<line class="marker" x1="${X(mk.x).toFixed(1)}" x2="${X(mk.x).toFixed(1)}" y1="${m.t}" y2="${m.t + h}" stroke="#000" stroke-dasharray="4 3"/><text x="${(X(mk.x) + 4).toFixed(1)}" y="${m.t + 12}" class="legend">${esc(mk.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
