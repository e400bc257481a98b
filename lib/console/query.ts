/**
 * Every query the console makes, admitted exactly as the query interface
 * admits a query of the same user (sql-admission.ts, with the role's read
 * rules: an auditor reads the audit tables only), so no console page or
 * JSON endpoint can read more than the query interface lets that user.
 *
 * Embedded store: a fresh read-only session of the query interface's pool
 * (readonly=1, its limits and concurrency bound), admission on it, then the
 * admitted canonical text runs there. ClickHouse server: admission on the
 * server's own parser through the ordinary client, then the admitted text.
 * Values reach the SQL only as `{name:Type}` parameters, which admission
 * substitutes as literals. Each query is a `data_access` SecurityEvent on
 * the surface `console` (who, role, what, how it ended), as on the query
 * interface.
 */
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Store } from '../clickhouse/store.ts';
import { clickhouseCode, readonlyRefusal } from '../clickhouse/errors.ts';
import { admissionRole, type Role } from '../clickhouse/query/query-users.ts';
import { admitQuery, type AdmissionSession } from '../clickhouse/query/sql-admission.ts';
import { CONSOLE_SURFACE } from './auth.ts';

export type Row = Record<string, unknown>;

export interface Caller {
  user: string;
  role: Role;
  remote: string;
  /** False on a console without users (the anonymous loopback reader). */
  authenticated: boolean;
}

/** A refused or failed query: the ClickHouse code (497/164 refused by the role's rules, 60/81 missing). */
export class ConsoleQueryError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
  get refused(): boolean {
    return this.code === 497 || this.code === 164;
  }
  get missing(): boolean {
    return this.code === 60 || this.code === 81;
  }
}

export class ConsoleQuery {
  /**
   * `serverClient`: on a ClickHouse server, a client whose default database
   * is `database` (the admitted text names tables as the user wrote them,
   * unqualified); default the store's own client (no default database).
   */
  constructor(private readonly store: Store, readonly database: string, private readonly serverClient?: ClickHouseClient) {}

  /** Rows of one SELECT as `caller` may run it; throws ConsoleQueryError. */
  async select(caller: Caller, sql: string, params: Record<string, string> = {}): Promise<Row[]> {
    const began = process.hrtime.bigint();
    let ran = '';
    try {
      const rows = await this.run(caller, sql, params, (s) => (ran = s));
      this.record(caller, sql, ran, 'allowed', rows.length, began);
      return rows;
    } catch (err) {
      const code = clickhouseCode(err) ?? Number((err as { code?: unknown }).code ?? NaN);
      const e = new ConsoleQueryError((err as Error).message.replace(/\s*\(version [^)]*\)\s*$/, ''), Number.isFinite(code) ? code : 1000);
      this.record(caller, sql, ran, e.refused ? 'denied' : 'failed', 0, began, e.code);
      throw e;
    }
  }

  private async run(caller: Caller, sql: string, raw: Record<string, string>, admitted: (sql: string) => void): Promise<Row[]> {
    // Parameter values are read in ClickHouse's escaped form (as `param_x` on
    // the HTTP interface): a backslash the user typed must stay a backslash.
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) params[k] = v.replace(/\\/g, '\\\\');
    const role = admissionRole(caller.role);
    const pool = this.store.readonly;
    if (pool) {
      return pool.withSession(async (s) => {
        const a = await admitQuery(s, sql, this.database, role, { params });
        admitted(a.sql);
        await s.use(this.database);
        return parseRows((await s.run(a.sql, 'JSONEachRow')).text());
      });
    }
    const client = this.serverClient ?? this.store.client;
    const session = clientAdmissionSession(client);
    const a = await admitQuery(session, sql, this.database, role, { params });
    admitted(a.sql);
    const rs = await client.query({ query: a.sql, format: 'JSONEachRow', clickhouse_settings: { max_execution_time: 30, output_format_json_quote_64bit_integers: 1 } });
    return rs.json<Row>();
  }

  private record(c: Caller, sql: string, ran: string, outcome: 'allowed' | 'denied' | 'failed', rows: number, began: bigint, code?: number): void {
    emitSecurityEvent({
      time: nowNanos(),
      category: 'data_access',
      action: 'query',
      outcome,
      subject: c.user,
      source: c.remote,
      surface: CONSOLE_SURFACE,
      reason: code !== undefined ? `code ${code}` : '',
      details: {
        sql: sql.length > 16_384 ? `${sql.slice(0, 16_384)}…` : sql,
        ...(ran && ran !== sql ? { executed_sql: ran } : {}),
        role: c.role,
        database: this.database,
        result_rows: String(rows),
        duration_ms: String(Number((process.hrtime.bigint() - began) / 1_000_000n)),
        ...(code !== undefined ? { code: String(code) } : {}),
      },
    });
  }
}

/**
 * Admission's statements through the ordinary client (a ClickHouse server):
 * the client appends its own FORMAT, which EXPLAIN would read as part of the
 * statement explained, so every statement is asked as a SELECT answered in
 * JSON, and admission gets the raw text it reads from a session:
 * `EXPLAIN AST q` as `SELECT explain FROM (EXPLAIN AST q)`, a statement that
 * names its own FORMAT (the catalog's JSONCompactEachRow) in that format,
 * anything else as its first column's values, one per line.
 */
export function clientAdmissionSession(client: ClickHouseClient): AdmissionSession {
  return {
    text: async (sql) => {
      const own = /\s+FORMAT\s+(JSONCompactEachRow)\s*$/i.exec(sql);
      if (own) return (await client.query({ query: sql.slice(0, own.index), format: 'JSONCompactEachRow' })).text();
      const explain = /^EXPLAIN AST /.test(sql);
      const query = explain ? `SELECT explain FROM (${sql})` : sql;
      let rows: unknown[][];
      try {
        rows = await (await client.query({ query, format: 'JSONCompactEachRow' })).json<unknown[]>();
      } catch (err) {
        // The engine explains only SELECTs as a subquery: anything else is refused as admission refuses it.
        if (explain && /EXPLAIN inside subquery supports only SELECT/.test(String((err as Error).message))) throw readonlyRefusal('a statement other than SELECT');
        throw err;
      }
      return rows.map((r) => `${String(r[0])}\n`).join('');
    },
  };
}

function parseRows(text: string): Row[] {
  const out: Row[] = [];
  for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as Row);
  return out;
}
