/**
 * Admission of a query to the read-only interface, by the engine's own
 * parser: a query runs only if ClickHouse itself reads it as ONE SELECT over
 * the store's tables (sql-rules.ts says what that allows).
 *
 * 1. `SELECT formatQuery('<text>')`: the engine parses the text (the user's
 *    text only ever reaches the engine inside a string literal) and returns
 *    its canonical form; a second statement is a syntax error there. From
 *    here on only the canonical text is used, and it is what runs: what was
 *    checked is exactly what executes.
 * 2. Identifiers with control characters are refused, `{name:Type}`
 *    parameters are substituted as literals and the result is formatted
 *    again (sql-canonical.ts).
 * 3. `EXPLAIN AST <canonical>` (parses, never executes) gives the tree, which
 *    is walked with allowlists against the store's catalog, read from the
 *    engine for this request.
 *
 * Refusals are AdmissionError: READONLY (164) or ACCESS_DENIED (497); syntax
 * errors keep the engine's own message and code.
 */
import { parseAstDump, type AstNode } from './sql-ast.ts';
import { asStringLiteral, checkIdentifiers, substituteParams } from './sql-canonical.ts';
import { accessDenied, AdmissionError, readonlyRefusal } from '../errors.ts';
import { admitTree, SYSTEM_TABLE_COLUMNS, type Catalog, type QueryRole } from './sql-rules.ts';

export type { QueryRole } from './sql-rules.ts';

/** What admission needs of an engine session: run a statement, get its text (TabSeparatedRaw). */
export interface AdmissionSession {
  text(sql: string): Promise<string>;
  /** Names the engine (its data directory): the catalog is cached per engine; none = not cached. */
  readonly engineKey?: string;
}

export interface AdmissionOptions {
  /** `param_<name>` values, as text. */
  params?: Record<string, string>;
  /** Table names the auditor role may read. Default: audit_events and its log's tables (leaves, checkpoints), the retention ledger and policy, audit_alerts, and pipeline_stats (the pipeline's own counters: refusals, drops). */
  auditTables?: readonly string[];
}

export interface AdmittedQuery {
  /** The canonical text to run (parameters substituted). */
  sql: string;
  /** The FORMAT clause's format, if any (already checked against the allowlist). */
  format: string | null;
  /** False for a DESCRIBE: chDB streams SELECTs only. */
  streamable: boolean;
}

const NOT_STORE = new Set(['system', 'INFORMATION_SCHEMA', 'information_schema', 'default']);
const STORE_ENGINES = new Set(['Atomic', 'Ordinary', 'Replicated']);

async function formatQuery(session: AdmissionSession, text: string): Promise<string> {
  try {
    return (await session.text(`SELECT formatQuery(${asStringLiteral(text)})`)).replace(/\n$/, '');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Multi-statements are not allowed/.test(message)) throw readonlyRefusal('more than one statement');
    // The engine's own error, without our wrapper (`In scope SELECT formatQuery('…')`).
    if (err instanceof Error) err.message = message.replace(/^Query failed: /, '').replace(/: In scope SELECT formatQuery\([\s\S]*\)\. \(/, '. (');
    throw err;
  }
}

/**
 * `SHOW DATABASES` and `SHOW TABLES [FROM db]` (what Grafana's ClickHouse
 * plugin sends to list them), as the SELECT over system tables they mean,
 * which is then admitted like any query. The tree does not tell SHOW TABLES
 * from SHOW SETTINGS, so the canonical text must be exactly one of these.
 */
function showAsSelect(sql: string, tree: AstNode, database: string): string {
  const m = /^SHOW (DATABASES|TABLES)( FROM (?:`(?:[^`\\]|\\.)*`|[A-Za-z_][A-Za-z0-9_]*))?( FORMAT [A-Za-z0-9]+)?$/.exec(sql);
  if (!m) throw readonlyRefusal('this SHOW statement (SHOW DATABASES and SHOW TABLES [FROM db] are)');
  const format = m[3] ?? '';
  if (m[1] === 'DATABASES') return `SELECT name FROM system.databases ORDER BY name${format}`;
  const from = m[2] ? tree.children.find((c) => c.type === 'Identifier')?.text : database;
  if (from === undefined) throw readonlyRefusal('this SHOW statement');
  return `SELECT name FROM system.tables WHERE database = ${asStringLiteral(from)} ORDER BY name${format}`;
}

/** EXPLAIN AST parses only; it fails only on a SETTINGS clause it cannot apply (readonly, unknown setting). */
async function explainAst(session: AdmissionSession, sql: string): Promise<string> {
  try {
    return await session.text(`EXPLAIN AST ${sql}`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/\((READONLY|UNKNOWN_SETTING)\)/.test(message)) throw readonlyRefusal('a SETTINGS clause');
    throw err;
  }
}

/** The store's databases and tables, and the columns of the restricted system tables, as the engine has them now. */
export async function loadCatalog(session: AdmissionSession, auditTables: readonly string[]): Promise<CatalogWithAll> {
  const restricted = [...SYSTEM_TABLE_COLUMNS].filter(([, c]) => c !== 'all').map(([t]) => `'${t}'`).join(', ');
  const rows = (await session.text(
    `SELECT 'd', name, engine FROM system.databases
     UNION ALL SELECT 't', database, name FROM system.tables WHERE database IN (SELECT name FROM system.databases WHERE engine IN ('Atomic', 'Ordinary', 'Replicated'))
     UNION ALL SELECT 'c', table, name FROM system.columns WHERE database = 'system' AND table IN (${restricted})
     FORMAT JSONCompactEachRow`,
  )).split('\n').filter(Boolean).map((l) => JSON.parse(l) as [string, string, string]);
  const databases = new Set<string>();
  const allDatabases = new Set<string>();
  const tables = new Set<string>();
  const systemColumns = new Map<string, string[]>();
  for (const [kind, a, b] of rows) {
    if (kind === 'd') {
      allDatabases.add(a);
      if (!NOT_STORE.has(a) && STORE_ENGINES.has(b)) databases.add(a);
    } else if (kind === 'c') {
      systemColumns.set(a, [...(systemColumns.get(a) ?? []), b]);
    }
  }
  for (const [kind, a, b] of rows) if (kind === 't' && databases.has(a)) tables.add(`${a}.${b}`);
  return { databases, allDatabases, tables, auditTables: new Set(auditTables), systemColumns };
}

/**
 * Admits `text` for `role` with `database` as the current database, or throws
 * an AdmissionError (or the engine's error for a query it cannot parse).
 * `session` is the request's own read-only session.
 */
export async function admitQuery(session: AdmissionSession, text: string, database: string, role: QueryRole, options: AdmissionOptions = {}): Promise<AdmittedQuery> {
  if (!text.trim()) throw new AdmissionError('Empty query', 62, 'SYNTAX_ERROR');
  if (role !== 'reader' && role !== 'auditor') throw accessDenied(`unknown role ${String(role)}`);
  // The same request admitted a moment ago on the same engine: the same
  // answer (see admitted below). Refusals are never remembered.
  const memo = session.engineKey === undefined ? undefined : admissionKey(session.engineKey, text, database, role, options);
  const hit = memo === undefined ? undefined : admitted.get(memo);
  if (hit && Date.now() - hit.at < CATALOG_TTL_MS) return hit.query;
  const query = await admitFresh(session, text, database, role, options);
  if (memo !== undefined) {
    if (admitted.size >= ADMITTED_MAX) admitted.delete(admitted.keys().next().value!);
    admitted.set(memo, { at: Date.now(), query });
  }
  return query;
}

/**
 * Admitted requests, remembered for as long as the catalog they were decided
 * on: dashboards and pollers send the same SQL again and again, and each
 * fresh admission costs two or three engine round trips. The key is the
 * whole request (text, database, role, parameters, audit tables, engine),
 * so only an identical request reuses a decision; the catalog can only grow
 * meanwhile (the interface creates nothing), which cannot turn an admitted
 * query into one reaching outside the store.
 */
const ADMITTED_MAX = 512;
const admitted = new Map<string, { at: number; query: AdmittedQuery }>();

function admissionKey(engine: string, text: string, database: string, role: QueryRole, o: AdmissionOptions): string {
  const params = Object.entries(o.params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([engine, text, database, role, params, o.auditTables ?? null]);
}

async function admitFresh(session: AdmissionSession, text: string, database: string, role: QueryRole, options: AdmissionOptions): Promise<AdmittedQuery> {
  let sql = await formatQuery(session, text);
  checkIdentifiers(sql);
  const substituted = substituteParams(sql, options.params ?? {});
  if (substituted !== null) {
    sql = await formatQuery(session, substituted);
    checkIdentifiers(sql);
  }
  const tree = parseAstDump(await explainAst(session, sql));
  if (tree.type === 'ShowTables') return admitFresh(session, showAsSelect(sql, tree, database), database, role, options);
  const auditTables = options.auditTables ?? ['audit_events', 'audit_events_log_leaves', 'audit_events_checkpoints', 'retention_ledger', 'retention_policy', 'audit_alerts', 'pipeline_stats'];
  const check = (catalog: CatalogWithAll) => {
    if (database !== 'system' && !catalog.databases.has(database)) {
      if (!catalog.allDatabases.has(database)) throw new AdmissionError(`Database ${database} does not exist`, 81, 'UNKNOWN_DATABASE');
      throw accessDenied(`the database ${database} is outside the store (databases: ${[...catalog.databases].join(', ')})`);
    }
    return admitTree(tree, database, role, catalog);
  };
  const key = session.engineKey === undefined ? undefined : `${session.engineKey}\0${auditTables.join('\0')}`;
  if (key !== undefined && cached?.key === key && Date.now() - cached.at < CATALOG_TTL_MS) {
    try {
      return { sql, ...check(cached.catalog) };
    } catch (err) {
      // A table or database created since: decide on a fresh catalog.
      if (!(err instanceof AdmissionError) || ![60, 81, 497].includes(err.code)) throw err;
    }
  }
  const catalog = await loadCatalog(session, auditTables);
  if (key !== undefined) cached = { key, at: Date.now(), catalog };
  return { sql, ...check(catalog) };
}

type CatalogWithAll = Catalog & { allDatabases: Set<string> };

/**
 * The catalog is read once per few seconds, not per query: one engine has one
 * catalog per process, and the store only ever adds tables (the interface
 * cannot create any). A refusal on a cached catalog is decided again on a
 * fresh one, so a table created a moment ago is found.
 */
const CATALOG_TTL_MS = 5_000;
let cached: { key: string; at: number; catalog: CatalogWithAll } | undefined;
