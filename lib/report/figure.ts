/**
 * A report figure: one SQL statement, its parameters (bound server-side as
 * `{name:Type}`), and the rows it gave, or why its data is not available.
 * The report keeps all three so every number in it can be re-run.
 */

/** What the report reads through: the query interface (or a ClickHouse server), read-only. */
export interface ReportQuery {
  /** Rows of a SELECT (JSONEachRow objects); throws an Error with a numeric `code` (ClickHouse's error code) when refused. */
  select(sql: string, params: Record<string, string>): Promise<Record<string, unknown>[]>;
}

export type Row = Record<string, unknown>;

export interface Figure {
  id: string;
  title: string;
  sql: string;
  params: Record<string, string>;
  /** The rows, when the data was available. */
  rows?: Row[];
  /** Why not (a table missing, or the user's role cannot read it). */
  unavailable?: string;
  /** Anything a reader must know to read the rows right (a LIMIT, a definition). */
  note?: string;
}

/** UNKNOWN_TABLE, UNKNOWN_DATABASE: that part of the store does not exist. */
const MISSING = new Set([60, 81]);
/** ACCESS_DENIED, NOT_ENOUGH_PRIVILEGES-style refusals: the user's role may not read it. */
const DENIED = new Set([497, 164]);

function codeOf(err: unknown): number {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'number' ? c : Number(c ?? NaN);
}

/**
 * Runs a figure's SQL. A missing table or a refusal by role makes the figure
 * "not available" with the reason; any other failure is thrown (fail closed:
 * a report with a silently missing figure would misstate the evidence).
 */
export async function runFigure(q: ReportQuery, f: Omit<Figure, 'rows' | 'unavailable'>, missing?: string): Promise<Figure> {
  try {
    return { ...f, rows: await q.select(f.sql, f.params) };
  } catch (err) {
    const code = codeOf(err);
    const msg = (err as Error).message;
    if (MISSING.has(code)) return { ...f, unavailable: missing ?? `not available: a table it reads does not exist in this store (${msg})` };
    if (DENIED.has(code)) return { ...f, unavailable: `not available to this user: ${msg}` };
    throw new Error(`${f.title}: ${msg}`, { cause: err });
  }
}

/** The period's bounds as the SQL sees them: `{from:Int64}` / `{to:Int64}` nanoseconds, half-open [from, to). */
export const IN_PERIOD = 'Timestamp >= fromUnixTimestamp64Nano({from:Int64}) AND Timestamp < fromUnixTimestamp64Nano({to:Int64})';
