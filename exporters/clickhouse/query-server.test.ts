/**
 * The read-only ClickHouse HTTP interface over the embedded engine, spoken to
 * by the ordinary @clickhouse/client, by plain fetch (curl-style) and by
 * `trailhouse query`. One chDB data directory for this file.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { newLogRecord, type LogsData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost } from '../../test/helpers.ts';
import { queryCommand } from '../../bin/commands/query.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { ClickHouseExporterComponent } from './factory.ts';
import { Payload } from '../../core/payload.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-'));
let comp: ClickHouseExporterComponent;
let base = '';
let ch: ClickHouseClient;

function logs(n: number): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: 'cart' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [
          {
            scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            logRecords: Array.from({ length: n }, (_, i) =>
              newLogRecord({ timeUnixNano: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n, severityText: i % 2 ? 'WARN' : 'INFO', body: `line ${i}`, attributes: [{ key: 'i', value: BigInt(i) }] }),
            ),
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  const d = defaultClickHouseConfig();
  const cfg: ClickHouseConfig = { ...d, path: dir, query_endpoint: '127.0.0.1:0', sending_queue: { ...d.sending_queue, enabled: false } };
  comp = new ClickHouseExporterComponent({ id: 'clickhouse', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() }, new ClickHouseExporter(cfg, silentLogger));
  await comp.start(testHost());
  await comp.consumeLogs(Payload.logs(logs(5)));
  expect(comp.queryAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  base = `http://${comp.queryAddress}`;
  ch = createClient({ url: base, log: { level: ClickHouseLogLevel.OFF } });
});

afterAll(async () => {
  await ch?.close();
  await comp?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (qs: string) => fetch(`${base}/?${qs}`);

describe('@clickhouse/client against the query interface', () => {
  it('pings and queries rows', async () => {
    expect((await ch.ping()).success).toBe(true);
    const rows = await (await ch.query({ query: 'SELECT SeverityText, count() AS n FROM otel_logs GROUP BY SeverityText ORDER BY SeverityText', format: 'JSONEachRow' })).json();
    expect(rows).toEqual([{ SeverityText: 'INFO', n: '3' }, { SeverityText: 'WARN', n: '2' }]);
  });

  it('binds query parameters and uses the database setting', async () => {
    const rs = await ch.query({
      query: 'SELECT Body FROM otel.otel_logs WHERE LogAttributes[{key:String}] = {v:String} AND ServiceName = {svc:String}',
      query_params: { key: 'i', v: '4', svc: 'cart' },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ Body: 'line 4' }]);
    const sys = createClient({ url: base, database: 'system' });
    try {
      expect(await (await sys.query({ query: 'SELECT currentDatabase() AS db', format: 'JSONEachRow' })).json()).toEqual([{ db: 'system' }]);
    } finally {
      await sys.close();
    }
  });

  it('decompresses gzip answers when the client asks for compression', async () => {
    const gz = createClient({ url: base, compression: { response: true } });
    try {
      expect(await (await gz.query({ query: 'SELECT count() AS c FROM otel_logs', format: 'JSONEachRow' })).json()).toEqual([{ c: '5' }]);
    } finally {
      await gz.close();
    }
  });

  it('surfaces ClickHouse errors with their code and type', async () => {
    const err = (await ch.query({ query: 'SELEC 1' }).catch((e: unknown) => e)) as { code?: string; type?: string };
    expect(err.code).toBe('62');
    expect(err.type).toBe('SYNTAX_ERROR');
    const missing = (await ch.query({ query: 'SELECT * FROM no_such_table' }).catch((e: unknown) => e)) as { code?: string };
    expect(missing.code).toBe('60');
  });

  it('refuses INSERT, CREATE, DROP and ALTER with READONLY (164), changing nothing', async () => {
    const attempts = [
      ch.insert({ table: 'otel.otel_logs', values: [{ Body: 'x' }], format: 'JSONEachRow' }),
      ch.command({ query: 'CREATE TABLE otel.evil (a UInt8) ENGINE = Memory' }),
      ch.command({ query: 'DROP TABLE otel.otel_logs' }),
      ch.command({ query: 'ALTER TABLE otel.otel_logs DELETE WHERE 1' }),
      ch.command({ query: 'TRUNCATE TABLE otel.otel_logs' }),
    ].map((p) => p.catch((e: unknown) => e));
    for (const a of attempts) {
      const err = (await a) as { code?: string; type?: string };
      expect(err.code).toBe('164');
      expect(err.type).toBe('READONLY');
    }
    expect(await (await ch.query({ query: 'SELECT count() AS c FROM otel.otel_logs', format: 'JSONEachRow' })).json()).toEqual([{ c: '5' }]);
    expect(await (await ch.query({ query: "SELECT count() AS n FROM system.tables WHERE database = 'otel' AND name = 'evil'", format: 'JSONEachRow' })).json()).toEqual([{ n: '0' }]);
  });
});

describe('HTTP interface (curl-style)', () => {
  it('answers /ping and / like ClickHouse', async () => {
    for (const p of ['/ping', '/']) {
      const r = await fetch(base + p);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('Ok.\n');
    }
  });

  it('runs GET ?query= as TabSeparated by default', async () => {
    const r = await get('query=' + encodeURIComponent("SELECT ServiceName, count() FROM otel_logs GROUP BY ServiceName"));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(r.headers.get('content-type')).toContain('tab-separated-values');
    expect(await r.text()).toBe('cart\t5\n');
  });

  it('runs POST bodies, ?query= prefix + body, default_format and FORMAT clauses, param_', async () => {
    let r = await fetch(base + '/', { method: 'POST', body: 'SELECT 1 AS x' });
    expect(await r.text()).toBe('1\n');
    r = await fetch(`${base}/?query=${encodeURIComponent('SELECT Body FROM otel_logs')}`, { method: 'POST', body: "WHERE Body = 'line 2'" });
    expect(await r.text()).toBe('line 2\n');
    r = await get('default_format=JSONEachRow&query=' + encodeURIComponent('SELECT 7 AS n'));
    expect(r.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(await r.json()).toEqual({ n: 7 });
    r = await get('query=' + encodeURIComponent("SELECT 'a' AS s, 2 AS n FORMAT CSVWithNames"));
    expect(r.headers.get('x-clickhouse-format')).toBe('CSVWithNames');
    expect(await r.text()).toBe('"s","n"\n"a",2\n');
    r = await get('param_n=41&query=' + encodeURIComponent('SELECT {n:UInt32} + 1'));
    expect(await r.text()).toBe('42\n');
    r = await fetch(base + '/', { method: 'POST', body: 'SELECT currentDatabase() AS db', headers: { 'X-ClickHouse-Database': 'system', 'X-ClickHouse-Format': 'JSONEachRow' } });
    expect(await r.json()).toEqual({ db: 'system' });
    // Binary formats pass through (clickhouse-go, behind Grafana's plugin over HTTP, reads Native).
    r = await get('default_format=Native&query=' + encodeURIComponent('SELECT toUInt8(7) AS n'));
    expect(r.headers.get('x-clickhouse-format')).toBe('Native');
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const native = Buffer.from(await r.arrayBuffer());
    expect(native.includes(Buffer.from('UInt8'))).toBe(true);
    expect(native.at(-1)).toBe(7);
  });

  it('maps errors to ClickHouse status codes, headers and bodies', async () => {
    let r = await get('query=' + encodeURIComponent('SELEC 1'));
    expect(r.status).toBe(400);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(await r.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\) \(version [\d.]+\)\n$/s);
    r = await get('query=' + encodeURIComponent('SELECT * FROM nope'));
    expect(r.status).toBe(404);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('60');
    r = await get('query=' + encodeURIComponent('SELECT no_such_function(1)'));
    expect(r.status).toBe(404);
    r = await get('database=missing_db&query=SELECT%201');
    expect(r.status).toBe(404);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('81');
    r = await fetch(base + '/nope');
    expect(r.status).toBe(404);
  });

  it('refuses writes, DDL, SET/USE, several statements and outside access with 403 / 164', async () => {
    const refused = [
      "INSERT INTO otel.otel_logs (Body) VALUES ('x')",
      'CREATE TABLE t (a UInt8) ENGINE = Memory',
      'DROP TABLE otel.otel_logs',
      'ALTER TABLE otel.otel_logs DROP COLUMN Body',
      'SET max_threads = 1',
      'USE system',
      'SYSTEM FLUSH LOGS',
      'SELECT 1; DROP TABLE otel.otel_logs',
      `SELECT 1 INTO OUTFILE '${dir}/out.csv'`,
      `INSERT INTO FUNCTION file('${dir}/x.csv', CSV) SELECT 1`,
      `SELECT * FROM file('/etc/passwd', LineAsString)`,
      "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')",
      "SELECT * FROM s3('http://127.0.0.1:1/b/k', CSV)",
      "SELECT * FROM remote('127.0.0.1:1', system.one)",
      'SELECT * FROM `file`(\'/etc/passwd\', LineAsString)',
    ];
    for (const sql of refused) {
      const r = await fetch(base + '/', { method: 'POST', body: sql });
      expect({ sql, status: r.status }).toEqual({ sql, status: 403 });
      expect(r.headers.get('x-clickhouse-exception-code')).toBe('164');
      expect(await r.text()).toMatch(/^Code: 164\. DB::Exception: .*\(READONLY\)/);
    }
    expect(fs.existsSync(path.join(dir, 'out.csv'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'x.csv'))).toBe(false);
    const r = await get('query=' + encodeURIComponent('SELECT count() FROM otel.otel_logs'));
    expect(await r.text()).toBe('5\n');
  });

  it('allows the read statements an SRE and Grafana use (SHOW DATABASES/TABLES, DESCRIBE of a store table); other SHOWs, EXISTS, EXPLAIN are refused', async () => {
    for (const sql of ['WITH 1 AS x SELECT x', '(SELECT 1) UNION ALL (SELECT 2)', "SELECT 'file(' AS s; ", "SELECT name, type FROM system.columns WHERE database = 'otel' AND table = 'otel_logs'"]) {
      const r = await fetch(base + '/', { method: 'POST', body: sql });
      expect({ sql, status: r.status }).toEqual({ sql, status: 200 });
    }
    for (const sql of ['SHOW TABLES', 'SHOW DATABASES', 'SHOW TABLES FROM "otel"', 'DESCRIBE TABLE otel_logs', 'DESC TABLE "otel"."otel_logs"']) {
      const r = await fetch(base + '/', { method: 'POST', body: sql });
      expect({ sql, status: r.status }).toEqual({ sql, status: 200 });
    }
    const desc = await fetch(base + '/?default_format=JSONEachRow', { method: 'POST', body: 'DESC TABLE "otel"."otel_logs"' });
    expect((await desc.text()).split('\n')[0]).toMatch(/^\{"name":"Timestamp","type":"DateTime64\(9\)"/);
    const tables = await fetch(base + '/', { method: 'POST', body: 'SHOW TABLES FROM "otel"' });
    expect(await tables.text()).toMatch(/^otel_logs\notel_traces\n/);
    for (const sql of ['EXISTS TABLE otel_logs', 'EXPLAIN SELECT 1', "SHOW SETTINGS LIKE '%'", 'SHOW PROCESSLIST', "SHOW TABLES FROM otel LIKE '%logs'", "SHOW DATABASES LIKE '%'", 'SHOW TEMPORARY TABLES', 'SHOW DICTIONARIES', 'SHOW CREATE TABLE otel_logs', "DESCRIBE TABLE file('/etc/passwd')", 'DESCRIBE (SELECT * FROM system.processes)']) {
      const r = await fetch(base + '/', { method: 'POST', body: sql });
      expect({ sql, status: r.status }).toEqual({ sql, status: 403 });
    }
  });

  it('is read-only in the engine too, below the allowlist', async () => {
    const pool = comp.store!.readonly!;
    const err = (await pool.run({ sql: "INSERT INTO otel_logs (Body) VALUES ('x')", format: 'TabSeparated', database: 'otel' }).catch((e: unknown) => e)) as { clickhouseCode?: number };
    expect(err.clickhouseCode).toBe(164);
  });
});

describe('startup', () => {
  it('fails clearly when query_endpoint is taken', async () => {
    const { acquireQueryServer } = await import('../../lib/clickhouse/query/query-server.ts');
    const err = (await acquireQueryServer({ endpoint: comp.queryAddress!, pool: comp.store!.readonly!, defaultDatabase: 'otel', logger: silentLogger }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/query_endpoint 127\.0\.0\.1:\d+: address already in use .*null/);
  });
});

// Users, roles, TLS, throttling and the access log: query-auth.test.ts.

describe('trailhouse query', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      const code = await queryCommand(argv);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('prints an aligned table', async () => {
    const r = await run(['SELECT SeverityText AS sev, count() AS n FROM otel_logs GROUP BY sev ORDER BY sev', '--endpoint', base]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('sev   n\n----  -\nINFO  3\nWARN  2\n(2 rows)\n');
  });

  it('prints raw output with --format, and errors on stderr with exit 1', async () => {
    const raw = await run(['SELECT 1 AS a, 2 AS b', '--endpoint', base, '--format', 'CSV']);
    expect(raw).toEqual({ code: 0, out: '1,2\n', err: '' });
    const bad = await run(['DROP TABLE otel.otel_logs', '--endpoint', base]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^Code: 164\./);
    const usage = await run([]);
    expect(usage.code).toBe(2);
  });
});
