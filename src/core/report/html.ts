/**
 * HTML reports: Handlebars templates from `templates/`, inline SVG plots, inline CSS and the run's
 * data as embedded JSON — one file that works offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { renderSvg, type PlotData } from './plot.js';

/** The package root (where templates/ lives), found from this module's location in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'templates'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the xtalflow templates/ folder');
}

const cache = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    const dir = path.join(packageRoot(), 'templates');
    const hb = Handlebars.create();
    hb.registerHelper('svg', (p: PlotData) => new Handlebars.SafeString(renderSvg(p)));
    hb.registerHelper('json', (v: unknown) => new Handlebars.SafeString(JSON.stringify(v).replace(/</g, '\\u003c')));
    hb.registerHelper('fmt', (v: unknown) => {
      if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
      if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? Number(x.toPrecision(4)) : x)).join(', ');
      if (v === null || v === undefined) return '–';
      if (typeof v === 'object') return JSON.stringify(v);
      return String(v);
    });
    hb.registerPartial('style', readFileSync(path.join(dir, 'style.css'), 'utf8'));
    t = hb.compile(readFileSync(path.join(dir, `${name}.hbs`), 'utf8'), { strict: false });
    cache.set(name, t);
  }
  return t;
}

export function renderHtml(name: string, data: Record<string, unknown>): string {
  return template(name)(data);
}
