/**
 * The allowlist in front of the read-only query interface. The engine itself
 * refuses writes (the sessions run with `readonly=2`), but chDB runs
 * clickhouse-local, where `INSERT INTO FUNCTION file(...)`, `INTO OUTFILE`
 * and table functions reaching the network or the filesystem still work
 * under readonly, and where a `SET`/`USE` would outlive the request on the
 * shared session. So every statement is also checked here, on tokens (string
 * literals, quoted identifiers and comments are skipped, never matched):
 *
 * - exactly one statement (one trailing `;` allowed);
 * - it starts with SELECT, WITH, SHOW, DESCRIBE, DESC, EXISTS, EXPLAIN or `(`;
 * - no `INTO OUTFILE`;
 * - no call of a function that touches the outside (file, url, s3, remote,
 *   mysql, postgresql, executable, … see DENIED_FUNCTIONS).
 */

export class GuardError extends Error {
  override readonly name = 'GuardError';
  constructor(
    message: string,
    readonly code: number,
    readonly type: string,
    /** The statement starts with a word that is no read statement: it may just be a typo, let the parser say. */
    readonly unknownStatement = false,
  ) {
    super(message);
  }
}

const ALLOWED_FIRST = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN']);

/** Statements we know and refuse outright (anything else unknown is first given to the parser, for its syntax error). */
const WRITE_STATEMENTS = new Set([
  'INSERT', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'RENAME', 'DELETE', 'UPDATE', 'OPTIMIZE', 'SYSTEM', 'KILL', 'SET', 'USE',
  'GRANT', 'REVOKE', 'ATTACH', 'DETACH', 'EXCHANGE', 'UNDROP', 'BACKUP', 'RESTORE', 'MOVE', 'REPLACE', 'BEGIN', 'COMMIT', 'ROLLBACK',
]);

const DENIED_FUNCTIONS = new Set([
  'file', 'filecluster', 'url', 'urlcluster', 'gcs', 'oss', 'cosn', 'cluster', 'clusterallreplicas', 'input', 'jdbc', 'odbc',
  'sqlite', 'redis', 'arrowflight', 'ytsaurus', 'hive', 'dictionary', 'azureblobstorage', 'azureblobstoragecluster',
]);
const DENIED_PREFIXES = ['s3', 'hdfs', 'remote', 'mysql', 'postgres', 'mongo', 'executable', 'iceberg', 'deltalake', 'hudi', 'paimon', 'azure'];

interface Token {
  kind: 'word' | 'punct' | 'string' | 'quoted';
  text: string;
  /** Offset just past the token in the SQL. */
  end: number;
}

/** Splits SQL into tokens; comments and whitespace are dropped. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const unterminated = (what: string) => new GuardError(`Syntax error: unterminated ${what}`, 62, 'SYNTAX_ERROR');
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '#') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      // ClickHouse comments nest.
      let depth = 0;
      do {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else {
          i++;
        }
      } while (depth > 0 && i < n);
      if (depth > 0) throw unterminated('comment');
    } else if (c === "'" || c === '"' || c === '`') {
      const start = i++;
      for (;;) {
        if (i >= n) throw unterminated(c === "'" ? 'string literal' : 'quoted identifier');
        const d = sql[i]!;
        if (d === '\\') i += 2;
        else if (d === c && sql[i + 1] === c) i += 2;
        else if (d === c) break;
        else i++;
      }
      i++;
      out.push({ kind: c === "'" ? 'string' : 'quoted', text: sql.slice(start, i), end: i });
    } else if (c === '$' && /^\$[A-Za-z0-9_]*\$/.test(sql.slice(i, i + 64))) {
      // Heredoc string: $tag$ ... $tag$
      const tag = /^\$[A-Za-z0-9_]*\$/.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      if (end < 0) throw unterminated('heredoc');
      const start = i;
      i = end + tag.length;
      out.push({ kind: 'string', text: sql.slice(start, i), end: i });
    } else if (/[A-Za-z_0-9]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z_0-9]/.test(sql[i]!)) i++;
      out.push({ kind: 'word', text: sql.slice(start, i), end: i });
    } else {
      i++;
      out.push({ kind: 'punct', text: c, end: i });
    }
  }
  return out;
}

function isDenied(name: string): boolean {
  const l = name.toLowerCase();
  return DENIED_FUNCTIONS.has(l) || DENIED_PREFIXES.some((p) => l.startsWith(p));
}

export interface CheckedQuery {
  /** The statement without its trailing `;`. */
  sql: string;
  /** The output format named by a FORMAT clause, if any. */
  format: string | null;
}

/** Throws GuardError (READONLY, or SYNTAX_ERROR for an empty query) unless the query may run. */
export function checkReadOnly(sql: string): CheckedQuery {
  const tokens = tokenize(sql);
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]!.kind === 'punct' && tokens[end - 1]!.text === ';') end--;
  if (end === 0) throw new GuardError('Empty query', 62, 'SYNTAX_ERROR');
  const refuse = (what: string, unknownStatement = false) =>
    new GuardError(`Cannot execute query in readonly mode: ${what} is not allowed on the read-only query interface`, 164, 'READONLY', unknownStatement);
  for (let i = 0; i < end; i++) {
    if (tokens[i]!.kind === 'punct' && tokens[i]!.text === ';') throw refuse('more than one statement');
  }
  const first = tokens[0]!;
  if (!(first.kind === 'punct' && first.text === '(') && !(first.kind === 'word' && ALLOWED_FIRST.has(first.text.toUpperCase()))) {
    throw refuse(first.kind === 'word' ? first.text.toUpperCase() : `a statement starting with ${first.text}`, !WRITE_STATEMENTS.has(first.text.toUpperCase()));
  }
  let format: string | null = null;
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word') continue;
    const upper = t.text.toUpperCase();
    const next = tokens[i + 1];
    if (upper === 'INTO' && next?.kind === 'word' && next.text.toUpperCase() === 'OUTFILE') throw refuse('INTO OUTFILE');
    if (next?.kind === 'punct' && next.text === '(' && isDenied(t.text)) throw refuse(`the function ${t.text}()`);
    if (upper === 'FORMAT' && next?.kind === 'word') format = next.text;
  }
  // Also catch a quoted function name: `file`(...)
  for (let i = 0; i + 1 < end; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1]!;
    if (t.kind === 'quoted' && next.kind === 'punct' && next.text === '(' && isDenied(t.text.slice(1, -1))) {
      throw refuse(`the function ${t.text}()`);
    }
  }
  return { sql: end === tokens.length ? sql : sql.slice(0, tokens[end - 1]!.end), format };
}
