/**
 * DIALS-style parameters: definitions (full dotted name, type, default, help), parsing of
 * `key=value` words (a key may be any unique dotted suffix of a full name, as DIALS allows:
 * `gain=2` for `spotfinder.threshold.dispersion.gain`), `--key value` options and PHIL files
 * (`refinement { parameterisation { … values=99.06,31.01 } }`).
 */
import { readFileSync } from 'node:fs';
import { ParameterError, UserError } from '../errors.js';

export type ParamType = 'int' | 'float' | 'bool' | 'str' | 'choice' | 'ints' | 'floats' | 'strs' | 'path';
export type ParamValue = number | boolean | string | number[] | string[] | null;

export interface ParamDef {
  /** Full dotted name, e.g. `spotfinder.threshold.dispersion.gain`. */
  name: string;
  type: ParamType;
  default: ParamValue;
  help: string;
  /** For `choice`: allowed words. */
  choices?: string[];
  /** For `choice`: other words accepted for a choice (DIALS' names), e.g. { profile: 'prf' }. */
  valueAliases?: Record<string, string>;
  /** For `ints`/`floats`: required number of values. */
  length?: number;
  /** Other full names accepted for this parameter (DIALS' old names). */
  aliases?: string[];
  /** May be given several times; the value is then the list of all given values (ParamValue[]). */
  multiple?: boolean;
  min?: number;
  max?: number;
  /** `None` / `Auto` are accepted and stored as null. */
  allowNone?: boolean;
}

/** Resolved parameter values keyed by full name. Multiple-valued parameters hold arrays of values. */
export type Params = Record<string, any>;

export function defaults(defs: readonly ParamDef[]): Params {
  const p: Params = {};
  for (const d of defs) p[d.name] = d.multiple ? [] : clone(d.default);
  return p;
}

function clone(v: ParamValue): ParamValue {
  return Array.isArray(v) ? (v.slice() as ParamValue) : v;
}

/** Find the definition a user's key names: exact, alias, or unique dotted suffix. */
export function resolveName(defs: readonly ParamDef[], key: string): ParamDef {
  const exact = defs.find((d) => d.name === key || d.aliases?.includes(key));
  if (exact) return exact;
  const matches = defs.filter(
    (d) => d.name.endsWith('.' + key) || (d.aliases ?? []).some((a) => a.endsWith('.' + key)),
  );
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new ParameterError(`ambiguous parameter '${key}': could be ${matches.map((m) => m.name).join(', ')}`);
  }
  throw new ParameterError(`unknown parameter '${key}'`);
}

const NONE_WORDS = new Set(['none', 'auto']);

/** Convert the text of a value to the definition's type, or throw a ParameterError naming it. */
export function convertValue(def: ParamDef, raw: string): ParamValue {
  const text = raw.trim().replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1');
  const bad = (why: string) => new ParameterError(`${def.name}=${raw}: ${why}`);
  if (NONE_WORDS.has(text.toLowerCase()) && (def.allowNone || def.default === null)) return null;
  const num = (s: string, int: boolean): number => {
    const v = Number(s);
    if (s === '' || !Number.isFinite(v)) throw bad(`'${s}' is not a number`);
    if (int && !Number.isInteger(v)) throw bad(`'${s}' is not an integer`);
    if (def.min !== undefined && v < def.min) throw bad(`must be ≥ ${def.min}`);
    if (def.max !== undefined && v > def.max) throw bad(`must be ≤ ${def.max}`);
    return v;
  };
  // DIALS joins the choices of a multi-choice parameter with '+' (profile+sum) as well as spaces/commas.
  const words = () => text.split(def.type === 'strs' ? /[\s,+]+/ : /[\s,]+/).filter((w) => w.length > 0);
  switch (def.type) {
    case 'int': return num(text, true);
    case 'float': return num(text, false);
    case 'bool': {
      const t = text.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(t)) return true;
      if (['false', 'no', '0', 'off'].includes(t)) return false;
      throw bad('expected True or False');
    }
    case 'str':
    case 'path':
      return text;
    case 'choice': {
      const given = text.replace(/^\*/, '');
      const w = def.valueAliases?.[given] ?? given;
      if (!def.choices?.includes(w)) throw bad(`expected one of ${def.choices?.join(', ')}`);
      return w;
    }
    case 'ints':
    case 'floats': {
      const vals = words().map((w) => num(w, def.type === 'ints'));
      if (def.length !== undefined && vals.length !== def.length) throw bad(`expected ${def.length} values`);
      return vals;
    }
    case 'strs':
      return words();
  }
}

export interface Assignment { key: string; value: string; source: string }

/** Parse PHIL text into flat assignments with full dotted keys as written (scopes joined). */
export function parsePhil(text: string, source = 'phil'): Assignment[] {
  const out: Assignment[] = [];
  const scope: string[] = [];
  // Tokenise: braces are tokens, '#' starts a comment, a value runs to end of line or a brace.
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    let line = lines[ln];
    const hash = line.search(/#(?![^"]*"[^"]*$)/);
    if (hash >= 0) line = line.slice(0, hash);
    let rest = line.trim();
    while (rest.length > 0) {
      if (rest.startsWith('}')) {
        if (scope.length === 0) throw new UserError(`${source}:${ln + 1}: unbalanced '}'`);
        scope.pop();
        rest = rest.slice(1).trim();
        continue;
      }
      const m = /^([A-Za-z_][\w.]*)\s*(\{|=)\s*/.exec(rest);
      if (!m) throw new UserError(`${source}:${ln + 1}: cannot parse '${rest}'`);
      if (m[2] === '{') {
        scope.push(m[1]);
        rest = rest.slice(m[0].length).trim();
        continue;
      }
      let valueEnd = rest.length;
      const after = rest.slice(m[0].length);
      const brace = after.search(/[{}]/);
      if (brace >= 0) valueEnd = m[0].length + brace;
      const value = rest.slice(m[0].length, valueEnd).trim();
      out.push({ key: [...scope, m[1]].join('.'), value, source: `${source}:${ln + 1}` });
      rest = rest.slice(valueEnd).trim();
    }
  }
  if (scope.length > 0) throw new UserError(`${source}: scope '${scope.join('.')}' is not closed`);
  return out;
}

/** Resolve a possibly scoped key: try the whole key, then ever shorter dotted suffixes. */
function resolveScoped(defs: readonly ParamDef[], key: string): ParamDef {
  const parts = key.split('.');
  let firstError: unknown;
  for (let i = 0; i < parts.length; i++) {
    try {
      return resolveName(defs, parts.slice(i).join('.'));
    } catch (e) {
      firstError ??= e;
      if (e instanceof ParameterError && e.message.startsWith('ambiguous')) throw e;
    }
  }
  throw firstError;
}

/** Whether a (possibly scoped) key names a parameter of these definitions. */
export function knowsParameter(defs: readonly ParamDef[], key: string): boolean {
  try {
    resolveScoped(defs, key);
    return true;
  } catch {
    return false;
  }
}

/** Apply assignments in order onto params (later ones win; multiple parameters accumulate). */
export function applyAssignments(defs: readonly ParamDef[], params: Params, assignments: readonly Assignment[]): Params {
  for (const a of assignments) {
    const def = resolveScoped(defs, a.key);
    const v = convertValue(def, a.value);
    if (def.multiple) (params[def.name] as ParamValue[]).push(v);
    else params[def.name] = v;
  }
  return params;
}

export interface ParsedCommandLine {
  files: string[];
  params: Params;
  assignments: Assignment[];
}

const PHIL_SUFFIXES = ['.phil', '.params', '.eff', '.def'];

/**
 * Split command-line words into input files and parameters. `key=value`, `--key value`,
 * `--key=value` and PHIL files are parameters; every other word is an input file.
 */
export function parseCommandLine(defs: readonly ParamDef[], words: readonly string[]): ParsedCommandLine {
  const files: string[] = [];
  const assignments: Assignment[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const opt = /^--([A-Za-z_][\w.\-]*)(?:=(.*))?$/s.exec(w);
    if (opt) {
      const key = opt[1].replace(/-/g, '_');
      if (opt[2] !== undefined) assignments.push({ key, value: opt[2], source: 'command line' });
      else if (i + 1 < words.length && !words[i + 1].startsWith('--')) assignments.push({ key, value: words[++i], source: 'command line' });
      else assignments.push({ key, value: 'true', source: 'command line' });
      continue;
    }
    const kv = /^([A-Za-z_][\w.]*)=(.*)$/s.exec(w);
    if (kv) {
      assignments.push({ key: kv[1], value: kv[2], source: 'command line' });
      continue;
    }
    if (PHIL_SUFFIXES.some((s) => w.endsWith(s))) {
      let text: string;
      try {
        text = readFileSync(w, 'utf8');
      } catch {
        throw new UserError(`${w}: cannot read parameter file`);
      }
      assignments.push(...parsePhil(text, w));
      continue;
    }
    files.push(w);
  }
  const params = applyAssignments(defs, defaults(defs), assignments);
  return { files, params, assignments };
}

function formatValue(v: ParamValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return v.length ? v.join(',') : 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** Text of every parameter with its default and help, nested by scope as DIALS' `-c` prints. */
export function describe(defs: readonly ParamDef[], showHelp = true): string {
  const lines: string[] = [];
  let open: string[] = [];
  const sorted = [...defs].sort((a, b) => a.name.localeCompare(b.name));
  for (const d of sorted) {
    const parts = d.name.split('.');
    const scope = parts.slice(0, -1);
    let common = 0;
    while (common < open.length && common < scope.length && open[common] === scope[common]) common++;
    for (let i = open.length - 1; i >= common; i--) lines.push(`${'  '.repeat(i)}}`);
    for (let i = common; i < scope.length; i++) lines.push(`${'  '.repeat(i)}${scope[i]} {`);
    open = scope;
    const ind = '  '.repeat(scope.length);
    const value = d.type === 'choice'
      ? (d.choices ?? []).map((c) => (c === d.default ? `*${c}` : c)).join(' ')
      : formatValue(d.default);
    lines.push(`${ind}${parts[parts.length - 1]} = ${value}`);
    if (showHelp && d.help) lines.push(`${ind}  # ${d.help}${d.multiple ? ' (may be repeated)' : ''}`);
  }
  for (let i = open.length - 1; i >= 0; i--) lines.push(`${'  '.repeat(i)}}`);
  return lines.join('\n');
}

/** Parameters every program accepts. */
export const COMMON_PARAMS: ParamDef[] = [
  { name: 'output.log', type: 'path', default: null, allowNone: true, help: 'Log file (default xtalflow.<program>.log)' },
  { name: 'nproc', type: 'int', default: null, allowNone: true, min: 1, help: 'Worker processes (default: all cores)' },
];
