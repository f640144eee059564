/** Plain-text tables in the style DIALS prints (`+---+---+` borders). */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[], opts: { align?: ('l' | 'r')[] } = {}): string {
  const cells = [header.map(String), ...rows.map((r) => r.map(String))];
  const n = header.length;
  const width = Array.from({ length: n }, (_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const rule = '+' + width.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (r: string[], isHeader: boolean) =>
    '|' + r.map((s, c) => {
      const a = isHeader ? 'l' : opts.align?.[c] ?? (c === 0 ? 'l' : 'r');
      return ' ' + (a === 'l' ? s.padEnd(width[c]) : s.padStart(width[c])) + ' ';
    }).join('|') + '|';
  return [rule, line(cells[0], true), rule, ...cells.slice(1).map((r) => line(r, false)), rule].join('\n');
}

/** Fixed-point number for tables; '-' for missing values. */
export function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
}
