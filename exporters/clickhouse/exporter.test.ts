/**
 * The exporter against the real embedded engine (chDB): schema, rows field by
 * field, deduplication of a retried batch, permanent errors not retried.
 * One chDB data directory for this whole file (one per process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '../../core/errors.ts';
import { KvList, newLogRecord, newSpan, type LogsData, type TracesData } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost } from '../../test/helpers.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporterComponent } from './factory.ts';
import { ClickHouseExporter } from './exporter.ts';
import { openStore, storeOptionsFor, type Store } from '../../lib/clickhouse/store.ts';
import { Payload, type LogsPayload } from '../../core/payload.ts';
import { TimeSlice } from '../../core/yield.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-'));
const started: ClickHouseExporterComponent[] = [];

function config(over: Partial<ClickHouseConfig> = {}): ClickHouseConfig {
  const c = defaultClickHouseConfig();
  return {
    ...c,
    path: dir,
    query_endpoint: null,
    sending_queue: { ...c.sending_queue, enabled: false },
    retry_on_failure: { ...c.retry_on_failure, initial_interval: 20, max_interval: 50, max_elapsed_time: 2_000 },
    ...over,
  };
}

async function startExporter(over: Partial<ClickHouseConfig> = {}): Promise<ClickHouseExporterComponent> {
  const cfg = config(over);
  const comp = new ClickHouseExporterComponent(
    { id: 'clickhouse', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() },
    new ClickHouseExporter(cfg, silentLogger),
  );
  await comp.start(testHost());
  started.push(comp);
  return comp;
}

let exp: ClickHouseExporterComponent;
let store: Store;

beforeAll(async () => {
  exp = await startExporter();
  store = exp.store!;
});

afterAll(async () => {
  for (const c of started) await c.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const q = <T = Record<string, unknown>>(sql: string) => store.queryRows<T>(sql);

function logs(records: ReturnType<typeof newLogRecord>[], service = 'checkout'): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: service }, { key: 'k8s.pod.name', value: 'pod-1' }], droppedAttributesCount: 0 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
        scopeLogs: [
          {
            scope: { name: 'envoy.access', version: '1.31', attributes: [{ key: 'scope.attr', value: 3n }], droppedAttributesCount: 0 },
            schemaUrl: 'https://opentelemetry.io/schemas/1.7.0',
            logRecords: records,
          },
        ],
      },
    ],
  };
}

function logsPayload(records: ReturnType<typeof newLogRecord>[], service = 'checkout', token?: string): LogsPayload {
  const p = Payload.logs(logs(records, service));
  p.dedupToken = token;
  return p;
}

describe('schema', () => {
  it("creates the Collector's tables with its column names and types", async () => {
    const cols = async (table: string) =>
      (await q<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = 'otel' AND table = '${table}' ORDER BY position`)).map(
        (c) => `${c.name} ${c.type}`,
      );
    expect(await cols('otel_logs')).toEqual([
      'Timestamp DateTime64(9)', 'TimestampTime DateTime', 'TraceId String', 'SpanId String', 'TraceFlags UInt8',
      'SeverityText LowCardinality(String)', 'SeverityNumber UInt8', 'ServiceName LowCardinality(String)', 'Body String',
      'ResourceSchemaUrl LowCardinality(String)', 'ResourceAttributes Map(LowCardinality(String), String)',
      'ScopeSchemaUrl LowCardinality(String)', 'ScopeName String', 'ScopeVersion LowCardinality(String)',
      'ScopeAttributes Map(LowCardinality(String), String)', 'LogAttributes Map(LowCardinality(String), String)', 'EventName String',
    ]);
    expect(await cols('otel_traces')).toEqual([
      'Timestamp DateTime64(9)', 'TraceId String', 'SpanId String', 'ParentSpanId String', 'TraceState String',
      'SpanName LowCardinality(String)', 'SpanKind LowCardinality(String)', 'ServiceName LowCardinality(String)',
      'ResourceAttributes Map(LowCardinality(String), String)', 'ScopeName String', 'ScopeVersion String',
      'SpanAttributes Map(LowCardinality(String), String)', 'Duration UInt64', 'StatusCode LowCardinality(String)', 'StatusMessage String',
      'Events.Timestamp Array(DateTime64(9))', 'Events.Name Array(LowCardinality(String))', 'Events.Attributes Array(Map(LowCardinality(String), String))',
      'Links.TraceId Array(String)', 'Links.SpanId Array(String)', 'Links.TraceState Array(String)', 'Links.Attributes Array(Map(LowCardinality(String), String))',
    ]);
    expect(await cols('otel_traces_trace_id_ts')).toEqual(['TraceId String', 'Start DateTime', 'End DateTime']);
    const tables = await q<{ name: string; engine: string; sorting_key: string; partition_key: string }>(
      "SELECT name, engine, sorting_key, partition_key FROM system.tables WHERE database = 'otel' ORDER BY name",
    );
    expect(tables).toEqual([
      { name: 'otel_logs', engine: 'MergeTree', sorting_key: 'ServiceName, TimestampTime, Timestamp', partition_key: 'toDate(TimestampTime)' },
      { name: 'otel_traces', engine: 'MergeTree', sorting_key: 'ServiceName, SpanName, toDateTime(Timestamp)', partition_key: 'toDate(Timestamp)' },
      { name: 'otel_traces_trace_id_ts', engine: 'MergeTree', sorting_key: 'TraceId, Start', partition_key: 'toDate(Start)' },
      { name: 'otel_traces_trace_id_ts_mv', engine: 'MaterializedView', sorting_key: '', partition_key: '' },
    ]);
    const idx = await q<{ name: string }>("SELECT name FROM system.data_skipping_indices WHERE database = 'otel' AND table = 'otel_logs' ORDER BY name");
    expect(idx.map((i) => i.name)).toContain('idx_trace_id');
    expect(idx.map((i) => i.name)).toContain('idx_body');
  });

  it('is idempotent (a second exporter on the same engine starts cleanly and shares the store)', async () => {
    const second = await startExporter();
    expect(second.store).toBe(store);
  });

  it('lets other components insert JSONEachRow rows without a column list, deduplicated by token', async () => {
    const body = Buffer.from('{"ServiceName":"raw-svc","Body":"one"}\n{"ServiceName":"raw-svc","Body":"two"}');
    for (let i = 0; i < 2; i++) {
      await store.insert({ table: 'otel.otel_logs', format: 'JSONEachRow', body, settings: { insert_deduplication_token: 'raw-1' } });
    }
    expect(await q("SELECT Body FROM otel.otel_logs WHERE ServiceName = 'raw-svc' ORDER BY Body")).toEqual([{ Body: 'one' }, { Body: 'two' }]);
  });

  it('shares the engine with a component naming it embedded://<engine dir>', async () => {
    const lease = openStore(storeOptionsFor(`embedded://${path.join(dir, 'clickhouse')}`));
    try {
      expect(lease.store).toBe(store);
    } finally {
      await lease.release();
    }
    expect(Number((await q<{ c: string }>('SELECT count() AS c FROM otel.otel_logs'))[0]!.c)).toBeGreaterThanOrEqual(0);
  });

  it('refuses a second embedded data directory in the same process', () => {
    expect(() => openStore({ endpoint: null, path: path.join(dir, 'other'), username: '', password: '' })).toThrow(/one data directory per process/);
  });
});

describe('log rows', () => {
  it('stores every field as the Collector does, for every value type', async () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    await exp.consumeLogs(
      Payload.logs(logs([
        newLogRecord({
          timeUnixNano: 1_700_000_000_123_456_789n,
          observedTimeUnixNano: 1_700_000_005_000_000_000n,
          severityNumber: 13,
          severityText: 'WARN',
          body: new KvList([{ key: 'method', value: 'POST' }, { key: 'code', value: 403n }]),
          attributes: [
            { key: 'str', value: 'v' },
            { key: 'int', value: -42n },
            { key: 'dbl', value: 0.5 },
            { key: 'bool', value: true },
            { key: 'bytes', value: new Uint8Array([1, 2, 3]) },
            { key: 'arr', value: ['a', 2n, 1.5] },
            { key: 'map', value: new KvList([{ key: 'z', value: 1n }, { key: 'a', value: 'x' }]) },
            { key: 'empty', value: undefined },
            { key: 'quote', value: 'he said "hi"\n<ok>' },
          ],
          flags: 1,
          traceId,
          spanId: 'eee19b7ec3c1b174',
          eventName: 'access',
        }),
        newLogRecord({ observedTimeUnixNano: 1_700_000_009_000_000_001n, body: 'no timestamp', traceId }),
      ])),
    );
    const rows = await q(
      `SELECT *, toString(toUnixTimestamp64Nano(Timestamp)) AS ns FROM otel.otel_logs WHERE TraceId = '${traceId}' ORDER BY Timestamp`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      Timestamp: '2023-11-14 22:13:20.123456789',
      TimestampTime: '2023-11-14 22:13:20',
      TraceId: traceId,
      SpanId: 'eee19b7ec3c1b174',
      TraceFlags: 1,
      SeverityText: 'WARN',
      SeverityNumber: 13,
      ServiceName: 'checkout',
      Body: '{"code":403,"method":"POST"}',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
      ResourceAttributes: { 'service.name': 'checkout', 'k8s.pod.name': 'pod-1' },
      ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.7.0',
      ScopeName: 'envoy.access',
      ScopeVersion: '1.31',
      ScopeAttributes: { 'scope.attr': '3' },
      LogAttributes: {
        str: 'v', int: '-42', dbl: '0.5', bool: 'true', bytes: 'AQID', arr: '["a",2,1.5]', map: '{"a":"x","z":1}', empty: '', quote: 'he said "hi"\n<ok>',
      },
      EventName: 'access',
      ns: '1700000000123456789',
    });
    expect(rows[1]).toMatchObject({ ns: '1700000009000000001', TimestampTime: '2023-11-14 22:13:29', Body: 'no timestamp', SeverityText: '', SpanId: '' });
  });
});

describe('bad strings', () => {
  it('stores a record with a lone surrogate (from OTLP/JSON) instead of failing its batch', async () => {
    await exp.consumeLogs(Payload.logs(logs([newLogRecord({ timeUnixNano: 2n, body: 'half \ud83d pair', attributes: [{ key: 'k', value: '\udc00' }] })], 'surrogate-svc')));
    expect(await q("SELECT Body, LogAttributes['k'] AS k FROM otel.otel_logs WHERE ServiceName = 'surrogate-svc'")).toEqual([{ Body: 'half \ufffd pair', k: '\ufffd' }]);
  });
});

describe('span rows', () => {
  it('stores spans with events and links, and fills the trace-id lookup table', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const data: TracesData = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: 'frontend' }], droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [
            {
              scope: { name: 'http', version: '2.0', attributes: [], droppedAttributesCount: 0 },
              schemaUrl: '',
              spans: [
                newSpan({
                  traceId, spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7', traceState: 'rojo=00f067aa0ba902b7', name: 'GET /cart', kind: 2,
                  startTimeUnixNano: 1_700_000_000_000_000_000n, endTimeUnixNano: 1_700_000_001_500_000_000n,
                  attributes: [{ key: 'http.status_code', value: 503n }, { key: 'retry', value: false }],
                  status: { code: 2, message: 'upstream down' },
                  events: [
                    { timeUnixNano: 1_700_000_000_250_000_000n, name: 'retry', attributes: [{ key: 'attempt', value: 1n }], droppedAttributesCount: 0 },
                    { timeUnixNano: 1_700_000_001_000_000_000n, name: 'give up', attributes: [], droppedAttributesCount: 0 },
                  ],
                  links: [{ traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceState: 'a=b', attributes: [{ key: 'kind', value: 'follows' }], droppedAttributesCount: 0, flags: 0 }],
                }),
                newSpan({ traceId, spanId: '00f067aa0ba902b7', name: 'root', kind: 3, startTimeUnixNano: 1_699_999_999_000_000_000n, endTimeUnixNano: 1_700_000_002_000_000_000n, status: { code: 1, message: '' } }),
              ],
            },
          ],
        },
      ],
    };
    await exp.consumeTraces(Payload.traces(data));
    const rows = await q(`SELECT * FROM otel.otel_traces WHERE TraceId = '${traceId}' ORDER BY Timestamp DESC`);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      Timestamp: '2023-11-14 22:13:20.000000000',
      TraceId: traceId,
      SpanId: 'b7ad6b7169203331',
      ParentSpanId: '00f067aa0ba902b7',
      TraceState: 'rojo=00f067aa0ba902b7',
      SpanName: 'GET /cart',
      SpanKind: 'Server',
      ServiceName: 'frontend',
      ResourceAttributes: { 'service.name': 'frontend' },
      ScopeName: 'http',
      ScopeVersion: '2.0',
      SpanAttributes: { 'http.status_code': '503', retry: 'false' },
      Duration: '1500000000',
      StatusCode: 'Error',
      StatusMessage: 'upstream down',
      'Events.Timestamp': ['2023-11-14 22:13:20.250000000', '2023-11-14 22:13:21.000000000'],
      'Events.Name': ['retry', 'give up'],
      'Events.Attributes': [{ attempt: '1' }, {}],
      'Links.TraceId': ['11111111111111111111111111111111'],
      'Links.SpanId': ['2222222222222222'],
      'Links.TraceState': ['a=b'],
      'Links.Attributes': [{ kind: 'follows' }],
    });
    expect(rows[1]).toMatchObject({ SpanName: 'root', SpanKind: 'Client', StatusCode: 'Ok', ParentSpanId: '', Duration: '3000000000', 'Events.Name': [] });
    const lookup = await q(`SELECT TraceId, min(Start) AS Start, max(End) AS End FROM otel.otel_traces_trace_id_ts WHERE TraceId = '${traceId}' GROUP BY TraceId`);
    expect(lookup).toEqual([{ TraceId: traceId, Start: '2023-11-14 22:13:19', End: '2023-11-14 22:13:20' }]);
  });
});

describe('delivery', () => {
  it('stores a retried batch once (same dedup token), a new batch again', async () => {
    const rec = () => [newLogRecord({ timeUnixNano: 1_700_000_100_000_000_000n, body: 'dup' })];
    await exp.consumeLogs(logsPayload(rec(), 'dedup-svc', 'batch-1'));
    await exp.consumeLogs(logsPayload(rec(), 'dedup-svc', 'batch-1'));
    const count = async () => Number((await q<{ c: string }>("SELECT count() AS c FROM otel.otel_logs WHERE ServiceName = 'dedup-svc'"))[0]!.c);
    expect(await count()).toBe(1);
    await exp.consumeLogs(logsPayload(rec(), 'dedup-svc', 'batch-2'));
    expect(await count()).toBe(2);
  });

  it('stores a payload not decoded yet, and lets its records go once encoded', async () => {
    const data = logs([newLogRecord({ timeUnixNano: 1_700_000_200_000_000_000n, body: 'lazy' }), newLogRecord({ timeUnixNano: 1_700_000_200_000_000_001n, body: 'lazy' })], 'lazy-svc');
    const pending = Object.assign(Payload.scan('logs', encodeLogsProto(data)), { dedupToken: 'lazy-1' });
    await exp.consumeLogs(pending);
    expect(pending.content.kind).toBe('bytes'); // encoded straight from the bytes: never decoded
    const rows = await q<{ c: string }>("SELECT count() AS c FROM otel.otel_logs WHERE ServiceName = 'lazy-svc' AND Body = 'lazy'");
    expect(rows[0]!.c).toBe('2');
  });

  it('stores a payload of many parts encoded part by part (yielding between parts) as one insert under its token: a retry is recognised whole', async () => {
    const part = (k: number) => encodeLogsProto(logs([newLogRecord({ timeUnixNano: 1_700_000_250_000_000_000n + BigInt(k), body: `part ${k}` }), newLogRecord({ timeUnixNano: 1_700_000_250_000_000_100n + BigInt(k), body: `part ${k}` })], 'parts-svc'));
    const parts = [0, 1, 2, 3].map(part);
    const ms = TimeSlice.ms;
    TimeSlice.ms = 0;
    try {
      await exp.consumeLogs(Object.assign(Payload.ofBytes('logs', parts, 8), { dedupToken: 'parts-1' }));
      // A retry of the same group: one insert with one token, so it is recognised whole.
      await exp.consumeLogs(Object.assign(Payload.ofBytes('logs', parts, 8), { dedupToken: 'parts-1' }));
    } finally {
      TimeSlice.ms = ms;
    }
    const rows = await q<{ c: string; b: string }>("SELECT count() AS c, arrayStringConcat(arraySort(groupUniqArray(Body)), ',') AS b FROM otel.otel_logs WHERE ServiceName = 'parts-svc'");
    expect(rows[0]).toEqual({ c: '8', b: 'part 0,part 1,part 2,part 3' });
  });

  it('lets go of records decoded before it once they are encoded, while their bytes still describe them', async () => {
    const data = logs([newLogRecord({ timeUnixNano: 1_700_000_300_000_000_000n, body: 'released' })], 'release-svc');
    const decoded = Payload.fromProto('logs', encodeLogsProto(data), false);
    expect(decoded.content.kind).toBe('records');
    await exp.consumeLogs(decoded);
    expect(decoded.content.kind).toBe('bytes'); // the records went; the bytes stay for a retry
    const changed = Payload.fromProto('logs', encodeLogsProto(logs([newLogRecord({ timeUnixNano: 1_700_000_300_000_000_001n, body: 'changed' })], 'release-svc')), false);
    changed.recordsToChange();
    await exp.consumeLogs(changed);
    expect(changed.content.kind).toBe('records'); // no bytes describe them: kept
    const rows = await q<{ c: string }>("SELECT count() AS c FROM otel.otel_logs WHERE ServiceName = 'release-svc'");
    expect(rows[0]!.c).toBe('2');
  });

  it('writes a batch larger than ClickHouse\'s default wide-part threshold (10 MiB) as one Compact part', async () => {
    // Compact: one data file per part instead of ~100 (a file per column,
    // Map substream and skip index); docs/benchmarks-log.md has what it saves.
    const body = 'x'.repeat(1024);
    const recs = Array.from({ length: 12_000 }, (_, i) => newLogRecord({ timeUnixNano: 1_700_000_200_000_000_000n + BigInt(i), body: `${i}:${body}` }));
    await exp.consumeLogs(logsPayload(recs, 'compact-svc', 'compact-1'));
    const parts = await q<{ part_type: string; rows: string; bytes: string }>(
      "SELECT part_type, rows, data_uncompressed_bytes AS bytes FROM system.parts WHERE database = 'otel' AND table = 'otel_logs' AND active AND rows = 12000",
    );
    expect(parts).toHaveLength(1);
    expect(Number(parts[0]!.bytes)).toBeGreaterThan(10 * 1024 * 1024);
    expect(parts[0]!.part_type).toBe('Compact');
  });

  it('fails a batch ClickHouse rejects as permanent, without retrying it', async () => {
    await store.command('CREATE TABLE otel.bad_logs (Timestamp UInt8) ENGINE = MergeTree ORDER BY tuple()');
    const cfg = config({ logs_table_name: 'bad_logs', create_schema: false });
    const inner = new ClickHouseExporter(cfg, silentLogger);
    let attempts = 0;
    const push = inner.pushLogs.bind(inner);
    inner.pushLogs = async (d, ctx) => {
      attempts++;
      return push(d, ctx);
    };
    const comp = new ClickHouseExporterComponent({ id: 'clickhouse/bad', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() }, inner);
    await comp.start(testHost());
    started.push(comp);
    const err = await comp.consumeLogs(Payload.logs(logs([newLogRecord({ timeUnixNano: 1n, body: 'x' })]))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/otel\.bad_logs.*code \d+/);
    expect(attempts).toBe(1);
  });

  it('fails an insert into a missing table as permanent (UNKNOWN_TABLE)', async () => {
    const comp = await startExporter({ logs_table_name: 'no_such_table', create_schema: false });
    const err = await comp.consumeLogs(Payload.logs(logs([newLogRecord({ timeUnixNano: 1n })]))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain('code 60');
  });
});
