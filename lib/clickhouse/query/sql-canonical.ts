/**
 * Reading the engine's canonical SQL (what ClickHouse's `formatQuery()`
 * returns), never the user's text. The canonical form has a small, fixed
 * lexical shape: no comments, no heredocs (`$$…$$` became '…'), strings in
 * single quotes and identifiers in backquotes, both with backslash escapes,
 * and query parameters as `{name:Type}`. So this scanner cannot disagree with
 * the engine's lexer the way a scanner of user text can (the `x$a$` class of
 * bypass): it only ever reads text the engine itself wrote.
 *
 * Two uses:
 * - identifiers with control characters are refused: `EXPLAIN AST` prints
 *   names raw, and a name holding a newline could forge lines of the tree
 *   that admission reads;
 * - query parameters are substituted here, as literals, so the text that is
 *   admitted and run has no parameters left (the engine's binder is not
 *   needed, and a `{t:Identifier}` is checked like any written name).
 */
import { AdmissionError } from '../errors.ts';

/** Offset just past the quoted token starting at `i` (quote char at `i`). */
function skipQuoted(sql: string, i: number): number {
  const q = sql[i]!;
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (c === '\\') j += 2;
    else if (c === q && sql[j + 1] === q) j += 2;
    else if (c === q) return j + 1;
    else j++;
  }
  throw new AdmissionError(`unterminated ${q === "'" ? 'string' : 'identifier'} in the canonical query`, 62, 'SYNTAX_ERROR');
}

const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;
const ESCAPED_CONTROL = /\\[0abfnrtv]|\\x[01][0-9a-f]|\\x7f/i;

/**
 * Refuses backquoted/double-quoted identifiers holding control characters
 * (raw or escaped): the parse tree is read line by line.
 */
export function checkIdentifiers(sql: string): void {
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'") {
      i = skipQuoted(sql, i) - 1;
    } else if (c === '`' || c === '"') {
      const end = skipQuoted(sql, i);
      const body = sql.slice(i + 1, end - 1);
      if (CONTROL.test(body) || ESCAPED_CONTROL.test(body)) {
        throw new AdmissionError('an identifier holding control characters (newline, tab, …) is not allowed on the read-only query interface', 164, 'READONLY');
      }
      i = end - 1;
    }
  }
}

/** A value as ClickHouse's HTTP `param_` takes it: TSV-escaped text. */
function unescapeParam(v: string): string {
  const map: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0' };
  return v.replace(/\\(.)/gs, (_, ch: string) => map[ch] ?? ch);
}

function stringLiteral(v: string): string {
  return "'" + v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0') + "'";
}

function backquote(v: string): string {
  return '`' + v.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/**
 * Replaces every `{name:Type}` of the canonical text with the parameter's
 * value: `CAST('value', 'Type')` (the engine parses the text as the type, as
 * its binder does), or quoted names for `Identifier` (`db.table` is two). Throws
 * UNKNOWN_QUERY_PARAMETER (456) for a parameter without a value. Returns null
 * when the text has no parameter.
 */
export function substituteParams(sql: string, params: Record<string, string>): string | null {
  let out = '';
  let last = 0;
  let found = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '`' || c === '"') {
      i = skipQuoted(sql, i) - 1;
      continue;
    }
    if (c !== '{') continue;
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*):/.exec(sql.slice(i, i + 300));
    if (!m) continue; // a map literal {'k': v}
    // The type runs to the matching }, skipping strings (Enum8('a' = 1)).
    let j = i + m[0].length;
    let depth = 0;
    for (; j < sql.length; j++) {
      const d = sql[j]!;
      if (d === "'" || d === '`' || d === '"') j = skipQuoted(sql, j) - 1;
      else if (d === '(') depth++;
      else if (d === ')') depth--;
      else if (d === '}' && depth === 0) break;
    }
    if (j >= sql.length) throw new AdmissionError('unterminated query parameter', 62, 'SYNTAX_ERROR');
    const name = m[1]!;
    const type = sql.slice(i + m[0].length, j).trim();
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      throw new AdmissionError(`Substitution \`${name}\` is not set`, 456, 'UNKNOWN_QUERY_PARAMETER');
    }
    const value = unescapeParam(params[name]!);
    out += sql.slice(last, i) + (type === 'Identifier' ? value.split('.').map(backquote).join('.') : `CAST(${stringLiteral(value)}, ${stringLiteral(type)})`);
    last = j + 1;
    i = j;
    found = true;
  }
  return found ? out + sql.slice(last) : null;
}

/** A query's text inside a string literal, to hand it to formatQuery() without any binder. */
export function asStringLiteral(text: string): string {
  return stringLiteral(text);
}
