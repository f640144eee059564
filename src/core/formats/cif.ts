/**
 * A small CIF (STAR) reader for the text part of CBF files: data items, `loop_` tables,
 * quoted values and `;`-delimited text fields. Enough for imgCIF geometry categories; the
 * binary section is handled separately (cbf.ts).
 */

export interface CifBlock {
  /** Lower-cased item name (with leading '_') → value, for items outside loops. */
  items: Map<string, string>;
  loops: { names: string[]; rows: string[][] }[];
}

/** Values CIF uses for "unknown" / "not applicable". */
export function isNull(v: string | undefined): boolean {
  return v === undefined || v === '.' || v === '?';
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln];
    if (line.startsWith(';')) {
      const parts = [line.slice(1)];
      ln++;
      while (ln < lines.length && !lines[ln].startsWith(';')) parts.push(lines[ln++]);
      tokens.push(parts.join('\n').replace(/^\n/, ''));
      continue;
    }
    let i = 0;
    const n = line.length;
    while (i < n) {
      const c = line[i];
      if (c === ' ' || c === '\t') { i++; continue; }
      if (c === '#') break;
      if (c === "'" || c === '"') {
        // A quote closes only when followed by whitespace or end of line.
        let j = i + 1;
        while (j < n && !(line[j] === c && (j + 1 === n || line[j + 1] === ' ' || line[j + 1] === '\t'))) j++;
        tokens.push(line.slice(i + 1, j));
        i = j + 1;
        continue;
      }
      let j = i;
      while (j < n && line[j] !== ' ' && line[j] !== '\t') j++;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** Parse the text of one data block (anything before/after `data_` lines is tolerated). */
export function parseCif(text: string): CifBlock {
  const tokens = tokenize(text);
  const items = new Map<string, string>();
  const loops: CifBlock['loops'] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    const low = t.toLowerCase();
    if (low.startsWith('data_') || low.startsWith('save_')) { i++; continue; }
    if (low === 'loop_') {
      i++;
      const names: string[] = [];
      while (i < tokens.length && tokens[i].startsWith('_')) names.push(tokens[i++].toLowerCase());
      const values: string[] = [];
      while (i < tokens.length && !tokens[i].startsWith('_') && tokens[i].toLowerCase() !== 'loop_' && !tokens[i].toLowerCase().startsWith('data_')) {
        values.push(tokens[i++]);
      }
      const rows: string[][] = [];
      if (names.length > 0) for (let r = 0; r + names.length <= values.length; r += names.length) rows.push(values.slice(r, r + names.length));
      loops.push({ names, rows });
      continue;
    }
    if (t.startsWith('_')) {
      const v = tokens[i + 1];
      if (v !== undefined && !v.startsWith('_') && v.toLowerCase() !== 'loop_') { items.set(low, v); i += 2; }
      else { items.set(low, ''); i++; }
      continue;
    }
    i++;
  }
  return { items, loops };
}

/**
 * Rows of a category (e.g. 'axis') as objects keyed by attribute name ('id', 'vector[1]' …),
 * whether the category is written as a loop or as single items.
 */
export function category(block: CifBlock, name: string): Record<string, string>[] {
  const prefix = `_${name.toLowerCase()}.`;
  for (const loop of block.loops) {
    if (loop.names.length > 0 && loop.names.every((n) => n.startsWith(prefix))) {
      return loop.rows.map((row) => Object.fromEntries(loop.names.map((n, k) => [n.slice(prefix.length), row[k]])));
    }
  }
  const single: Record<string, string> = {};
  let found = false;
  for (const [k, v] of block.items) {
    if (k.startsWith(prefix)) { single[k.slice(prefix.length)] = v; found = true; }
  }
  return found ? [single] : [];
}
