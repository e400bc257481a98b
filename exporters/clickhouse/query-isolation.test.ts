/**
 * The query interface tried as an attacker would (issue 15 §1), through the
 * real HTTP interface over a real embedded store: nothing outside the store's
 * tables is read, written or reached, nothing one request does is seen by the
 * next, no audit row can be altered or hidden, and the ordinary queries
 * (Grafana's metadata queries, joins, CTEs, parameters) still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost } from '../../test/helpers.ts';
import { auditTableSql } from '../../lib/audit/schema.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { ClickHouseExporterComponent } from './factory.ts';
import { admitQuery } from '../../lib/clickhouse/query/sql-admission.ts';
import { onSecurityEvent, type SecurityEvent } from '../../core/security-events.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-iso-'));
const sentinel = path.join(dir, 'sentinel.txt');
let comp: ClickHouseExporterComponent;
let base = '';

beforeAll(async () => {
  const d = defaultClickHouseConfig();
  const cfg: ClickHouseConfig = { ...d, path: dir, query_endpoint: '127.0.0.1:0', query_log: false, sending_queue: { ...d.sending_queue, enabled: false } };
  comp = new ClickHouseExporterComponent({ id: 'clickhouse', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() }, new ClickHouseExporter(cfg, silentLogger));
  await comp.start(testHost());
  const store = comp.store!;
  await store.command(auditTableSql({ database: 'otel', table: 'audit_events', ttlMs: 0 }));
  await store.command("INSERT INTO otel.audit_events (Timestamp, Category, Action, Outcome, Principal) VALUES (now64(9), 'access', 'read', 'denied', 'mallory')");
  await store.command('CREATE VIEW IF NOT EXISTS otel.trace_summary AS SELECT 1 AS TraceCount');
  await store.command("INSERT INTO otel.otel_logs (Timestamp, ServiceName, Body, TraceId) VALUES (now64(9), 'cart', 'hello', 'abc')");
  await store.command("INSERT INTO otel.otel_traces (Timestamp, ServiceName, SpanName, TraceId) VALUES (now64(9), 'cart', 'GET /', 'abc')");
  fs.writeFileSync(sentinel, 'untouched\n');
  base = `http://${comp.queryAddress}`;
});

afterAll(async () => {
  await comp?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Answer { status: number; code: string | null; text: string }

async function q(sql: string, qs = '', headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(`${base}/${qs ? '?' + qs : ''}`, { method: 'POST', body: sql, headers });
  return { status: r.status, code: r.headers.get('x-clickhouse-exception-code'), text: await r.text() };
}

/** Refused (403, 164 or 497) and nothing of the host in the answer. */
async function refused(sql: string, qs = '', headers: Record<string, string> = {}): Promise<void> {
  const a = await q(sql, qs, headers);
  expect({ sql, status: a.status, code: a.code }).toMatchObject({ sql, status: 403, code: expect.stringMatching(/^(164|497)$/) });
  expect(a.text).not.toMatch(/root:|untouched|\/metadata\/|\/store\//);
}

const auditRows = async () => (await q("SELECT Principal, Outcome FROM otel.audit_events ORDER BY Timestamp FORMAT JSONEachRow")).text;

describe('settings and formats that touch files', () => {
  it('refuses SETTINGS clauses and file-reading formats, and no host file changes', async () => {
    for (const sql of [
      `SELECT 1 FORMAT Template SETTINGS format_template_resultset = '${sentinel}'`,
      `SELECT 1 FORMAT Template SETTINGS format_template_row = '/etc/passwd'`,
      `SELECT 1 SETTINGS format_template_resultset = '${sentinel}', format_template_row = '${sentinel}' FORMAT Template`,
      `SELECT 1 AS x FORMAT Protobuf SETTINGS format_schema = '/etc/passwd:Message'`,
      `SELECT 1 AS x FORMAT CapnProto SETTINGS format_schema = '${sentinel}:Message'`,
      `SELECT 1 FORMAT CustomSeparated SETTINGS format_custom_result_before_delimiter = 'x'`,
      `SELECT 1 SETTINGS schema_inference_cache_path = '${dir}'`,
      'SELECT 1 FORMAT Template',
      'SELECT 1 FORMAT Regexp',
      'SELECT 1 FORMAT Avro',
    ]) await refused(sql);
    for (const f of ['Template', 'Protobuf', 'CapnProto', 'CustomSeparated', 'ProtobufSingle']) {
      await refused('SELECT 1', `default_format=${f}`);
    }
    expect(fs.readFileSync(sentinel, 'utf8')).toBe('untouched\n');
  });

  it('refuses a query that lifts its own caps, and the engine refuses it too', async () => {
    for (const sql of ['SELECT 1 SETTINGS max_execution_time = 100000', 'SELECT 1 SETTINGS readonly = 0', 'SELECT 1 SETTINGS max_result_bytes = 0, max_memory_usage = 0', 'SELECT number FROM numbers(10) SETTINGS max_threads = 64']) {
      await refused(sql);
    }
    const pool = comp.store!.readonly!;
    const err = (await pool.run({ sql: 'SELECT 1 SETTINGS max_execution_time = 100000' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/READONLY|readonly/);
    const caps = await pool.run({ sql: "SELECT getSetting('readonly'), getSetting('max_execution_time'), getSetting('max_threads'), getSetting('result_overflow_mode')" });
    expect(caps.text()).toBe('1\t60\t1\tthrow\n');
  });
});

describe('lexer differentials: the engine parses, not a word list', () => {
  it('refuses outside access hidden between x$a$ identifiers, heredocs, comments and odd quotes', async () => {
    for (const sql of [
      "SELECT 1 AS x$a$, file('/etc/passwd') AS y, 2 AS z$a$",
      "SELECT 1 AS x$a$ FROM file('/etc/passwd', LineAsString) AS t$a$",
      "SELECT $$x$$ AS a, file('/etc/passwd')",
      "SELECT ‘'’ AS a, file('/etc/passwd') AS b, ‘'’ AS c",
      "SELECT 'a\\'' AS a, file('/etc/passwd') AS b, '''' AS c",
      "SELECT /* /* nested */ file('/etc/passwd') */ 1, file('/etc/passwd')",
      "SELECT 1 # comment\n, file('/etc/passwd')",
      "SELECT 1 -- comment\n, FILE('/etc/passwd')",
      "SELECT `file`('/etc/passwd')",
      "SELECT “file”('/etc/passwd')",
      `SELECT 1 AS x$a$ INTO OUTFILE '${dir}/o.txt' FORMAT CSV`,
      "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String') AS x$a$",
    ]) await refused(sql);
    expect(fs.existsSync(path.join(dir, 'o.txt'))).toBe(false);
  });

  it('runs the same odd lexemes when they are harmless, with the engine\'s reading', async () => {
    const a = await q("SELECT 1 AS x$a$, $$it's$$ AS s, 'a\\'b''c' AS t, ‘q’ AS u /* /* n */ */ -- c\n FORMAT TabSeparated");
    expect(a).toMatchObject({ status: 200, text: "1\tit\\'s\ta\\'b\\'c\tq\n" });
  });

  it('refuses identifiers holding newlines (they could forge lines of the parse tree)', async () => {
    await refused('SELECT [1] AS `x\n      TableIdentifier otel.otel_logs`');
    await refused('SELECT 1 AS `x\\n y`');
  });
});

describe('one read-only statement', () => {
  it('refuses several statements, however they are separated', async () => {
    for (const sql of ['SELECT 1; SELECT 2', 'SELECT 1; DROP TABLE otel.audit_events', "SELECT 1 AS x$a$; SET max_result_rows = 1; SELECT 2 AS y$a$", 'SELECT 1;\n-- c\nTRUNCATE TABLE otel.otel_logs']) {
      await refused(sql);
    }
    expect((await q('SELECT 1;')).text).toBe('1\n');
  });

  it('answers a query_id that cannot be a header with 400, not a dropped connection', async () => {
    for (const id of ['a%0D%0AX-Injected:%201', 'a%00b', 'x'.repeat(129)]) {
      const a = await q('SELECT 1', `query_id=${id}`);
      expect({ id, status: a.status, code: a.code }).toEqual({ id, status: 400, code: '36' });
    }
    expect((await q('SELECT 1', 'query_id=dash-board_1.2:3')).status).toBe(200);
  });

  it('refuses every side-effecting statement', async () => {
    for (const sql of [
      "INSERT INTO otel.otel_logs (Body) VALUES ('x')",
      `INSERT INTO FUNCTION file('${dir}/f.csv', CSV) SELECT 1`,
      'ALTER TABLE otel.audit_events DELETE WHERE 1',
      "ALTER TABLE otel.audit_events UPDATE Outcome = 'allowed' WHERE 1",
      'DELETE FROM otel.audit_events WHERE 1',
      'DROP TABLE otel.audit_events', 'TRUNCATE TABLE otel.audit_events', 'RENAME TABLE otel.audit_events TO otel.x',
      'DETACH TABLE otel.audit_events', 'CREATE TABLE otel.t (a UInt8) ENGINE = Memory', 'CREATE VIEW otel.v AS SELECT 1',
      'SET max_threads = 8', "SET additional_table_filters = {'otel.audit_events': '0'}", 'USE system', 'SYSTEM STOP MERGES',
      'SYSTEM FLUSH LOGS', 'KILL QUERY WHERE 1', 'KILL MUTATION WHERE 1', 'OPTIMIZE TABLE otel.audit_events FINAL',
      'GRANT SELECT ON *.* TO default', "BACKUP TABLE otel.audit_events TO File('b')",
      'CREATE ROW POLICY hide ON otel.audit_events USING 0 TO ALL', 'EXCHANGE TABLES otel.audit_events AND otel.otel_logs',
      'EXPLAIN SELECT 1', 'EXPLAIN AST SELECT 1', 'DESCRIBE TABLE file(\'/etc/passwd\')', 'SHOW CREATE TABLE otel.audit_events',
      'BEGIN TRANSACTION', 'UNDROP TABLE otel.x', 'CHECK TABLE otel.audit_events', 'WATCH otel.x',
    ]) await refused(sql);
    expect(fs.existsSync(path.join(dir, 'f.csv'))).toBe(false);
  });

  it('refuses table functions and scalar functions that reach outside the store', async () => {
    for (const sql of [
      "SELECT * FROM file('/etc/passwd', LineAsString)", "SELECT file('/etc/passwd')", "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')",
      "SELECT * FROM s3('http://127.0.0.1:1/b/k', CSV)", "SELECT * FROM remote('127.0.0.1:1', system.one)",
      "SELECT * FROM mysql('127.0.0.1:1', 'd', 't', 'u', 'p')", "SELECT * FROM postgresql('127.0.0.1:1', 'd', 't', 'u', 'p')",
      "SELECT * FROM executable('id', TSV, 'a String')", "SELECT * FROM input('a String')", "SELECT * FROM merge('system', '^processes$')",
      "SELECT * FROM cluster('default', system.one)", "SELECT * FROM dictionary('d')", 'SELECT * FROM view(SELECT * FROM system.processes)',
      "SELECT * FROM jdbc('x', 'y')", "SELECT * FROM generateRandom('a String')", "SELECT dictGet('d', 'a', 1)", "SELECT joinGet('otel.x', 'a', 1)",
      "SELECT getServerSetting('path')", "SELECT getSetting('max_threads')", "SELECT hasColumnInTable('127.0.0.1', 'system', 'one', 'dummy')",
      "SELECT * FROM default.`/etc/passwd`", 'SELECT 1 WHERE 1 IN system.processes', 'SELECT * APPLY(file) FROM otel.otel_logs',
      "SELECT * FROM numbers((SELECT count() FROM system.processes))",
      // The IN family's IgnoreSet variants read the table on their right too (inIgnoreSet(1, system.zeros) runs to the time limit).
      'SELECT inIgnoreSet(1, system.processes)', 'SELECT 1 WHERE notNullInIgnoreSet(1, system.processes)', 'SELECT globalNotInIgnoreSet(1, system.settings)',
      // The host and process: names, kernel, ports; and a write to the engine's log.
      'SELECT hostName()', 'SELECT FQDN()', 'SELECT getOSKernelVersion()', 'SELECT displayName()', 'SELECT tcpPort()', 'SELECT serverUUID()', "SELECT logTrace('x')",
    ]) await refused(sql);
  });
});

describe('databases and system tables', () => {
  it('lists databases, tables and columns the way Grafana asks, without host paths', async () => {
    expect((await q("SELECT name FROM system.databases WHERE name = 'otel'")).text).toBe('otel\n');
    expect((await q("SELECT name FROM system.tables WHERE database = 'otel' AND name = 'audit_events'")).text).toBe('audit_events\n');
    const cols = await q("SELECT name, type FROM system.columns WHERE database = 'otel' AND table = 'audit_events' ORDER BY position LIMIT 2 FORMAT JSONEachRow");
    expect(cols.text).toBe('{"name":"Timestamp","type":"DateTime64(9)"}\n{"name":"Category","type":"LowCardinality(String)"}\n');
    expect((await q("SELECT * FROM system.columns WHERE database = 'otel' AND table = 'audit_events' LIMIT 1")).status).toBe(200);
    expect((await q('SELECT name FROM tables WHERE database = {d:String}', 'database=system&param_d=otel')).status).toBe(200);
    // What an SRE watches: parts and merges in flight, counted, without part names or paths.
    expect((await q("SELECT count() > 0 FROM system.parts WHERE database = 'otel' AND active")).text).toBe('1\n');
    expect((await q("SELECT count() FROM system.merges WHERE database = 'otel'")).status).toBe(200);
  });

  it('refuses path columns, * over tables with them, other users\' queries and process settings', async () => {
    for (const sql of [
      'SELECT data_paths FROM system.tables', 'SELECT metadata_path FROM system.tables', 'SELECT data_path FROM system.databases',
      'SELECT tables.data_paths FROM system.tables', 'SELECT t.metadata_path FROM system.tables AS t', 'SELECT create_table_query FROM system.tables',
      'SELECT * FROM system.tables', 'SELECT * EXCEPT (name) FROM system.databases', "SELECT COLUMNS('path') FROM system.tables",
      'SELECT t.* FROM system.tables AS t', 'SELECT t FROM system.tables AS t', 'SELECT name FROM (SELECT * FROM system.tables)',
      'SELECT query FROM system.processes', 'SELECT query FROM system.query_log', 'SELECT * FROM system.settings', 'SELECT * FROM system.server_settings',
      'SELECT * FROM system.disks', 'SELECT * FROM system.parts', 'SELECT path FROM system.parts', 'SELECT name FROM system.parts',
      'SELECT result_part_path FROM system.merges', 'SELECT source_part_paths FROM system.merges', 'SELECT * FROM system.merges', 'SELECT * FROM information_schema.tables', 'SELECT * FROM INFORMATION_SCHEMA.COLUMNS',
    ]) await refused(sql);
    await refused('SELECT query FROM processes', 'database=system');
    await refused('SELECT 1', 'database=default');
    await refused('SELECT 1', '', { 'X-ClickHouse-Database': 'information_schema' });
    expect((await q('SELECT 1', 'database=nope')).code).toBe('81');
  });
});

describe('nothing one request does is seen by the next', () => {
  it('a SET, USE or hidden statement leaves later requests as they were', async () => {
    for (const sql of ["SELECT 1 AS x$a$; SET additional_table_filters = {'otel.audit_events': '0'}; SELECT 2 AS y$a$", 'USE system', "SET max_result_rows = 1"]) {
      await refused(sql);
    }
    for (let i = 0; i < 4; i++) {
      expect((await q('SELECT currentDatabase(), count() FROM audit_events')).text).toBe('otel\t1\n');
      expect((await q('SELECT count() FROM numbers(10)')).text).toBe('10\n');
    }
  });

  it('every request runs on a fresh session', async () => {
    const pool = comp.store!.readonly!;
    await pool.withSession((s) => s.use('system'));
    expect((await pool.run({ sql: 'SELECT currentDatabase()' })).text()).toBe('default\n');
  });
});

describe('audit rows cannot be altered or hidden', () => {
  it('the audit row is there, unchanged, after every attempt', async () => {
    const before = await auditRows();
    expect(before).toBe('{"Principal":"mallory","Outcome":"denied"}\n');
    for (const sql of [
      'ALTER TABLE otel.audit_events DELETE WHERE 1', "ALTER TABLE audit_events UPDATE Outcome = 'allowed' WHERE 1", 'DELETE FROM audit_events WHERE 1',
      "INSERT INTO audit_events (Principal) VALUES ('x')", 'TRUNCATE audit_events', 'SELECT 1 AS x$a$; DELETE FROM audit_events WHERE 1; SELECT $a$',
      "SELECT count() FROM audit_events SETTINGS additional_table_filters = {'otel.audit_events': '0'}", 'CREATE ROW POLICY p ON audit_events USING 0 TO ALL',
      'ALTER TABLE audit_events MODIFY TTL toDateTime(Timestamp) + INTERVAL 1 SECOND', 'ALTER TABLE audit_events DROP PARTITION tuple()',
      'OPTIMIZE TABLE audit_events FINAL', 'SYSTEM STOP MERGES',
    ]) await refused(sql);
    expect(await auditRows()).toBe(before);
  });
});

describe('the access record holds what ran', () => {
  it('a query padded past the audit record\'s cut (a long comment before the FROM) is recorded whole', async () => {
    const seen: SecurityEvent[] = [];
    const off = onSecurityEvent((e) => seen.push(e));
    try {
      const pad = `/* ${'x'.repeat(20_000)} */`;
      expect((await q(`SELECT ${pad} 'marker-pad', Principal FROM audit_events`)).status).toBe(200);
      const ev = seen.find((e) => e.category === 'data_access' && e.details.sql?.includes(pad));
      expect(ev?.details.sql?.endsWith("'marker-pad', Principal FROM audit_events")).toBe(true);
    } finally {
      off();
    }
  });

  it('a table named by a query parameter is in the record (the SQL alone says {t:Identifier})', async () => {
    const seen: SecurityEvent[] = [];
    const off = onSecurityEvent((e) => seen.push(e));
    try {
      expect((await q("SELECT 'marker-param', count() FROM {t:Identifier}", 'param_t=audit_events')).status).toBe(200);
      const ev = seen.find((e) => e.category === 'data_access' && e.details.sql?.includes('marker-param'));
      expect(ev?.details.executed_sql).toMatch(/FROM `?audit_events`?$/);
    } finally {
      off();
    }
  });
});

describe('ordinary queries still work', () => {
  it('joins, CTEs, UNION ALL, subqueries, parameters and formats', async () => {
    const join = await q("SELECT l.Body, t.SpanName FROM otel_logs AS l INNER JOIN otel.otel_traces AS t ON l.TraceId = t.TraceId WHERE l.TraceId = 'abc'");
    expect(join).toMatchObject({ status: 200, text: 'hello\tGET /\n' });
    const cte = await q('WITH recent AS (SELECT Principal FROM audit_events) SELECT count() FROM recent');
    expect(cte.text).toBe('1\n');
    expect((await q('SELECT 1 UNION ALL SELECT 2 ORDER BY 1')).text).toBe('1\n2\n');
    expect((await q("SELECT domain('https://a.example/x?y=1'), URLHierarchy('https://a.example/x')[1]")).text).toBe('a.example\thttps://a.example/\n');
    expect((await q("SELECT count() FROM otel_logs WHERE TraceId IN (SELECT TraceId FROM otel_traces)")).text).toBe('1\n');
    expect((await q('SELECT {s:String} AS s, {n:UInt8} + 1 AS n, {a:Array(String)} AS a FORMAT JSONEachRow', "param_s=it's%20%7Bx:String%7D&param_n=41&param_a=['a','b']")).text)
      .toBe('{"s":"it\'s {x:String}","n":42,"a":["a","b"]}\n');
    expect((await q('SELECT count() FROM {t:Identifier}', 'param_t=audit_events')).text).toBe('1\n');
    await refused('SELECT count() FROM system.{t:Identifier}', 'param_t=processes');
    await refused('SELECT count() FROM {t:Identifier}', 'param_t=system.processes');
    await refused('SELECT count() FROM {t:Identifier}', 'param_t=otel_logs', { 'X-ClickHouse-Database': 'system' });
    expect((await q('SELECT {x:String}')).status).toBe(400);
    const json = JSON.parse((await q("SELECT Principal FROM audit_events FORMAT JSON")).text) as { data: unknown[]; rows: number };
    expect(json).toMatchObject({ data: [{ Principal: 'mallory' }], rows: 1 });
    expect((await q('SELECT count() FROM nope')).status).toBe(404);
    // A table the store creates later is found at once (the catalog is cached for a few seconds).
    await comp.store!.command('CREATE TABLE otel.late (a UInt8) ENGINE = MergeTree ORDER BY a');
    expect((await q('SELECT count() FROM late')).text).toBe('0\n');
    expect((await q('SELEC 1')).code).toBe('62');
  });
});

describe('roles', () => {
  it('the auditor reads the audit tables and metadata, nothing else; the reader every store table', async () => {
    const pool = comp.store!.readonly!;
    const admit = (sql: string, role: 'reader' | 'auditor') => pool.withSession((s) => admitQuery(s, sql, 'otel', role));
    await expect(admit('SELECT count() FROM audit_events', 'auditor')).resolves.toMatchObject({ format: null });
    await expect(admit("SELECT name FROM system.tables WHERE database = 'otel'", 'auditor')).resolves.toMatchObject({ format: null });
    for (const sql of [
      'SELECT * FROM otel_logs', 'SELECT * FROM otel.trace_summary', 'WITH x AS (SELECT 1) SELECT * FROM otel_traces', 'SELECT 1 WHERE 1 IN otel_logs',
      'SELECT * FROM audit_events WHERE TraceId IN (SELECT TraceId FROM otel_traces)', 'SELECT * FROM audit_events AS a JOIN otel.otel_logs AS l ON a.TraceId = l.TraceId',
      'SELECT count() FROM audit_events WHERE inIgnoreSet(TraceId, otel_traces)', 'SELECT nullInIgnoreSet(1, otel.otel_logs)',
    ]) {
      await expect(admit(sql, 'auditor')).rejects.toMatchObject({ code: 497 });
      await expect(admit(sql, 'reader')).resolves.toMatchObject({ format: null });
    }
  });
});
