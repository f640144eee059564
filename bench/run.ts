/**
 * `npm run bench`: runs every benchmark module in bench/ (each exports an async `bench*` function
 * returning rows of plain values), prints one table per module and writes them all to
 * bench-results.md. Benchmarks read ../shared/data when present; figures are medians of repeats.
 * `npm run bench -- find_spots` runs only the modules whose name contains an argument.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../src/core/io/atomic.js';
import { formatTable } from '../src/core/table.js';

type Row = Record<string, string | number | boolean | null>;

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && path.basename(f, ext) !== 'run' && !f.startsWith('_'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();

const out: string[] = [`# xtalflow benchmarks`, '', `${new Date().toISOString()}, node ${process.version}`, ''];
let failures = 0;
for (const f of modules) {
  const mod = (await import(pathToFileURL(path.join(here, f)).href)) as Record<string, unknown>;
  const fns = Object.entries(mod).filter(([k, v]) => k.startsWith('bench') && typeof v === 'function') as [string, () => Promise<Row[]>][];
  for (const [name, fn] of fns) {
    process.stderr.write(`running ${f}:${name} …\n`);
    try {
      const rows = await fn();
      if (!rows.length) continue;
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const text = formatTable(cols, rows.map((r) => cols.map((c) => (r[c] === undefined || r[c] === null ? '-' : typeof r[c] === 'number' ? Number((r[c] as number).toPrecision(4)) : String(r[c])))));
      out.push(`## ${path.basename(f, ext)} (${name})`, '', '```', text, '```', '');
      process.stdout.write(`\n${name}\n${text}\n`);
    } catch (e) {
      failures++;
      out.push(`## ${path.basename(f, ext)} (${name})`, '', `failed: ${(e as Error).message}`, '');
      process.stderr.write(`${name} failed: ${(e as Error).message}\n`);
    }
  }
}
await writeFileAtomic('bench-results.md', out.join('\n'));
process.stdout.write('\nwritten to bench-results.md\n');
process.exitCode = failures ? 1 : 0;
