/**
 * What the read-only query interface admits, decided on the engine's own
 * parse tree (sql-ast.ts) with allowlists: of node types, of table sources
 * (the store's tables, a few system tables, pure table functions) and of
 * output formats. Anything not listed is refused, including node types a
 * later ClickHouse version may add.
 */
import type { AstNode } from './sql-ast.ts';
import { accessDenied, AdmissionError, readonlyRefusal } from '../errors.ts';

export type QueryRole = 'reader' | 'auditor';

/** The store's tables, as the engine lists them for this request. */
export interface Catalog {
  /** Databases the store created (not system, information_schema, default). */
  databases: ReadonlySet<string>;
  /** `db.table` of every table and view in those databases. */
  tables: ReadonlySet<string>;
  /** Table names (in any store database) the auditor role may read. */
  auditTables: ReadonlySet<string>;
  /** Every column of the restricted system tables (system.databases, system.tables), from the engine. */
  systemColumns: ReadonlyMap<string, readonly string[]>;
}

/** Table functions that read nothing but their arguments. */
export const PURE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateseries', 'values']);

/** System tables without anything of the process in them. */
const PURE_SYSTEM_TABLES: ReadonlySet<string> = new Set(['one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt']);

/**
 * Metadata tables (Grafana's ClickHouse plugin lists databases, tables and
 * columns from them), with the columns that may be named. Columns not listed
 * (data_path, metadata_path, data_paths, engine_full, create_table_query, …:
 * host paths and full DDL) are refused by name, and so are `*` and COLUMNS()
 * in a query that reads a table with such columns.
 */
export const SYSTEM_TABLE_COLUMNS: ReadonlyMap<string, ReadonlySet<string> | 'all'> = new Map<string, ReadonlySet<string> | 'all'>([
  ['databases', new Set(['name', 'engine', 'uuid', 'comment', 'database'])],
  ['tables', new Set(['database', 'name', 'uuid', 'engine', 'is_temporary', 'metadata_modification_time', 'partition_key', 'sorting_key',
    'primary_key', 'sampling_key', 'total_rows', 'total_bytes', 'total_bytes_uncompressed', 'parts', 'active_parts', 'total_marks',
    'lifetime_rows', 'lifetime_bytes', 'comment', 'has_own_data', 'as_select'])],
  // What an SRE watches (part counts, merges in flight), without part names or paths.
  ['parts', new Set(['database', 'table', 'partition', 'active', 'rows', 'bytes_on_disk', 'data_compressed_bytes', 'data_uncompressed_bytes',
    'marks', 'modification_time', 'min_time', 'max_time', 'level', 'part_type'])],
  ['merges', new Set(['database', 'table', 'elapsed', 'progress', 'num_parts', 'is_mutation', 'total_size_bytes_compressed',
    'total_size_bytes_uncompressed', 'rows_read', 'rows_written', 'memory_usage', 'merge_type', 'merge_algorithm'])],
  ['columns', 'all'],
  ['functions', 'all'],
  ['data_type_families', 'all'],
]);

/** Output formats that write only the result: none reads or writes schema or template files. */
const FORMATS: ReadonlySet<string> = new Set([
  'tabseparated', 'tsv', 'tabseparatedraw', 'tsvraw', 'raw', 'tabseparatedwithnames', 'tsvwithnames', 'tabseparatedwithnamesandtypes',
  'tsvwithnamesandtypes', 'tabseparatedrawwithnames', 'tsvrawwithnames', 'tabseparatedrawwithnamesandtypes', 'tsvrawwithnamesandtypes',
  'csv', 'csvwithnames', 'csvwithnamesandtypes', 'json', 'jsonstrings', 'jsoncompact', 'jsoncompactstrings', 'jsoncolumns',
  'jsoncompactcolumns', 'jsoneachrow', 'jsonlines', 'ndjson', 'jsonstringseachrow', 'jsoncompacteachrow', 'jsoncompactstringseachrow',
  'jsoncompacteachrowwithnames', 'jsoncompacteachrowwithnamesandtypes', 'jsoncompactstringseachrowwithnames',
  'jsoncompactstringseachrowwithnamesandtypes', 'jsonobjecteachrow', 'jsoneachrowwithprogress', 'jsonstringseachrowwithprogress',
  'native', 'rowbinary', 'rowbinarywithnames', 'rowbinarywithnamesandtypes', 'parquet', 'arrow', 'arrowstream', 'orc', 'values',
  'vertical', 'pretty', 'prettycompact', 'prettycompactmonoblock', 'prettynoescapes', 'prettycompactnoescapes', 'prettyspace',
  'prettyspacenoescapes', 'prettymonoblock', 'markdown', 'md', 'xml', 'tskv', 'null', 'lineasstring', 'rawblob', 'sqlinsert',
]);

export function checkFormat(format: string): void {
  if (!FORMATS.has(format.toLowerCase())) throw readonlyRefusal(`the output format ${format}`);
}

/**
 * Scalar functions that reach outside the store or into the process: the
 * engine's read-only mode does not stop them (a file read, a dictionary or
 * Join table named by a string, a remote host, the process's settings and
 * paths, loaded models, introspection). Matched on the lowercased name, as
 * prefixes, so case and suffixed variants (dictGetString…) are covered.
 */
const DENIED_FUNCTION_PREFIXES = [
  'file', 'dict', 'joinget', 'hascolumnintable', 'getsetting', 'getserversetting', 'getmergetreesetting', 'getmacro', 'catboost',
  'evalmlmethod', 'naivebayes', 'filesystem', 'addressto', 'demangle', 'getclienthttpheader', 'globalvariable', '__', 'getscalar',
  'currentprofiles', 'currentroles', 'enabledroles', 'defaultroles', 'enabledprofiles', 'defaultprofiles',
  // The host and process, and a write to the engine's own log.
  'hostname', 'fqdn', 'getoskernelversion', 'displayname', 'tcpport', 'serveruuid', 'logtrace',
];

/** The engine's IN family (isNameOfInFunction): each reads a bare name on its right as a table, the IgnoreSet variants too. */
const IN_FUNCTIONS: ReadonlySet<string> = new Set(['in', 'notin', 'globalin', 'globalnotin', 'nullin', 'notnullin', 'globalnullin', 'globalnotnullin']
  .flatMap((n) => [n, `${n}ignoreset`]));

/** Node types of an expression, walked generically (their children are expressions too). */
const EXPRESSION_NODES: ReadonlySet<string> = new Set([
  'ExpressionList', 'Identifier', 'Literal', 'Function', 'Subquery', 'OrderByElement', 'WindowDefinition', 'WindowListElement',
  'InterpolateElement', 'WithElement', 'Asterisk', 'QualifiedAsterisk', 'ColumnsRegexpMatcher', 'ColumnsListMatcher',
  'QualifiedColumnsRegexpMatcher', 'QualifiedColumnsListMatcher', 'ColumnsTransformerList', 'ColumnsExceptTransformer',
  'ColumnsReplaceTransformer', 'ColumnsReplaceTransformer::Replacement', 'SampleRatio', 'SelectWithUnionQuery',
  'SelectIntersectExceptQuery', 'SelectQuery', 'TablesInSelectQuery', 'TablesInSelectQueryElement', 'TableExpression', 'TableJoin',
  'ArrayJoin',
]);

const STAR_NODES: ReadonlySet<string> = new Set(['Asterisk', 'QualifiedAsterisk', 'ColumnsRegexpMatcher', 'ColumnsListMatcher', 'QualifiedColumnsRegexpMatcher', 'QualifiedColumnsListMatcher']);

const STATEMENTS: Record<string, string> = {
  InsertQuery: 'INSERT', Set: 'SET', UseQuery: 'USE', SYSTEM: 'SYSTEM', KillQueryQuery: 'KILL', GrantQuery: 'GRANT', BackupQuery: 'BACKUP',
  AlterQuery: 'ALTER', DropQuery: 'DROP', CreateQuery: 'CREATE', OptimizeQuery: 'OPTIMIZE', RenameQuery: 'RENAME', Explain: 'EXPLAIN',
  ShowTables: 'this SHOW', DeleteQuery: 'DELETE', UndropQuery: 'UNDROP', CheckQuery: 'CHECK',
};

export interface Admitted {
  /** The FORMAT clause's format, if any. */
  format: string | null;
  /** chDB streams SELECTs only; a DESCRIBE answers whole (it is small). */
  streamable: boolean;
}

interface Walk {
  database: string;
  role: QueryRole;
  catalog: Catalog;
  /** A WITH element exists: an unknown unqualified name may be a CTE. */
  hasCte: boolean;
  /** Restricted system tables read by the query. */
  restricted: string[];
  starred: boolean;
  identifiers: string[];
  tableAliases: string[];
}

/** Checks a whole parse tree; returns the FORMAT clause's format. */
export function admitTree(root: AstNode, database: string, role: QueryRole, catalog: Catalog): Admitted {
  if (root.type !== 'SelectWithUnionQuery' && root.type !== 'DescribeQuery') throw readonlyRefusal(STATEMENTS[root.type] ?? `a ${root.type} statement`);
  const w: Walk = { database, role, catalog, hasCte: hasType(root, 'WithElement'), restricted: [], starred: false, identifiers: [], tableAliases: [] };
  let format: string | null = null;
  root.children.forEach((c, i) => {
    // SELECT …, or DESCRIBE TABLE <table expression> (Grafana's column list): the table is checked as in FROM.
    if (i === 0 && c.type === (root.type === 'DescribeQuery' ? 'TableExpression' : 'ExpressionList')) return expression(c, w);
    if (c.type === 'Identifier' && format === null) {
      checkFormat(c.text);
      format = c.text;
    } else if (c.type === 'Literal') throw readonlyRefusal('INTO OUTFILE');
    else if (c.type === 'Set') throw readonlyRefusal('a SETTINGS clause');
    else throw readonlyRefusal(`the clause ${c.type}`);
  });
  if (w.restricted.length > 0) systemColumns(w);
  return { format, streamable: root.type === 'SelectWithUnionQuery' };
}

function hasType(n: AstNode, type: string): boolean {
  return n.type === type || n.children.some((c) => hasType(c, type));
}

function expression(n: AstNode, w: Walk): void {
  if (n.type === 'Set') throw readonlyRefusal('a SETTINGS clause');
  if (n.type === 'ColumnsApplyTransformer') throw readonlyRefusal('APPLY');
  if (n.type === 'QueryParameter') throw readonlyRefusal('an unbound query parameter');
  if (!EXPRESSION_NODES.has(n.type)) throw readonlyRefusal(`the expression ${n.type}`);
  if (STAR_NODES.has(n.type)) w.starred = true;
  if (n.type === 'TableIdentifier') throw readonlyRefusal('a table outside FROM');
  if (n.type === 'Identifier') w.identifiers.push(n.text);
  if (n.type === 'TableExpression') return tableExpression(n, w);
  if (n.type === 'Function') {
    const name = n.text.toLowerCase();
    if (DENIED_FUNCTION_PREFIXES.some((p) => name.startsWith(p))) throw readonlyRefusal(`the function ${n.text}()`);
    // `x IN t`: a bare name on the right of IN is a table.
    const args = n.children[0];
    const right = args?.type === 'ExpressionList' ? args.children[1] : undefined;
    if (IN_FUNCTIONS.has(name) && right?.type === 'Identifier') table(right.text, w);
  }
  for (const c of n.children) expression(c, w);
}

function tableExpression(n: AstNode, w: Walk): void {
  for (const c of n.children) {
    if (c.type === 'TableIdentifier') {
      table(c.text, w);
      if (c.alias) w.tableAliases.push(c.alias);
    }
    else if (c.type === 'Function') {
      if (!PURE_TABLE_FUNCTIONS.has(c.text.toLowerCase())) throw readonlyRefusal(`the table function ${c.text}()`);
      for (const a of c.children) expression(a, w);
    } else expression(c, w);
  }
}

/**
 * A table reference as the tree prints it: `db.table` or `table`. Printed
 * names are not quoted, so `a.b` may also be one name with a dot; either
 * reading must be allowed, and the engine resolves to exactly one of them.
 */
function table(printed: string, w: Walk): void {
  const dot = printed.indexOf('.');
  if (dot >= 0) {
    const db = printed.slice(0, dot);
    const name = printed.slice(dot + 1);
    if (db === 'system' && allowSystem(name, w)) return;
    if (w.catalog.databases.has(db) && allowStoreTable(db, name, w)) return;
    // The other reading: one name with a dot, in the current database; it
    // exists nowhere the store creates tables, so it can only fail.
    if (db !== 'system' && !w.catalog.databases.has(db)) throw accessDenied(`the table ${printed} is outside the store (databases: ${[...w.catalog.databases].join(', ')})`);
    throw accessDenied(`the table ${printed} is not readable on this interface`);
  }
  if (w.database === 'system') {
    if (allowSystem(printed, w)) return;
    throw accessDenied(`the table system.${printed} is not readable on this interface`);
  }
  if (allowStoreTable(w.database, printed, w)) return;
  // Not a table of the store: a CTE name, or a table that does not exist.
  if (!w.catalog.tables.has(`${w.database}.${printed}`) && w.hasCte) return;
  throw accessDenied(`the table ${w.database}.${printed} is not readable with the ${w.role} role`);
}

function allowStoreTable(db: string, name: string, w: Walk): boolean {
  const full = `${db}.${name}`;
  if (!w.catalog.tables.has(full)) {
    // Unknown: let the engine answer UNKNOWN_TABLE (60) for a typo, unless a
    // WITH could make it a CTE, which is checked by the caller.
    if (!w.hasCte) throw new AdmissionError(`Unknown table expression identifier '${full}'`, 60, 'UNKNOWN_TABLE');
    return false;
  }
  if (w.role === 'auditor' && !w.catalog.auditTables.has(name)) throw accessDenied(`the auditor role reads the audit tables only (${[...w.catalog.auditTables].join(', ')}), not ${full}`);
  return true;
}

function allowSystem(name: string, w: Walk): boolean {
  if (PURE_SYSTEM_TABLES.has(name)) return true;
  const cols = SYSTEM_TABLE_COLUMNS.get(name);
  if (!cols) return false;
  if (cols !== 'all') w.restricted.push(name);
  return true;
}

/** Only allowlisted columns may be named in a query reading system.databases/tables, and no `*`. */
function systemColumns(w: Walk): void {
  if (w.starred) throw readonlyRefusal(`* or COLUMNS() over system.${w.restricted[0]} (it has columns with host paths; name the columns)`);
  // Denied = what the engine has minus the allowlist: a column a later
  // version adds is denied until someone allows it.
  const denied = new Set<string>();
  for (const t of w.restricted) {
    const allowed = SYSTEM_TABLE_COLUMNS.get(t);
    const all = w.catalog.systemColumns.get(t);
    if (!all || all.length === 0) throw readonlyRefusal(`system.${t} (its columns are unknown)`);
    for (const c of all) if (allowed !== 'all' && !allowed?.has(c)) denied.add(c);
  }
  for (const id of w.identifiers) {
    for (const part of id.split('.')) {
      if (denied.has(part)) throw accessDenied(`the column ${part} (host paths and DDL stay private) is not readable on this interface`);
      // `SELECT t FROM system.tables AS t` would be the whole row.
      if (part === id && (w.restricted.includes(part) || w.tableAliases.includes(part))) throw readonlyRefusal(`a table as a value (${part})`);
    }
  }
}
