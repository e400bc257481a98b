/**
 * The Native encoder against the JSON one, through the real embedded engine:
 * the same batches inserted both ways must give identical rows, column by
 * column, for every value shape the mapping knows (unicode, long and empty
 * strings, every AnyValue type, events and links, the timestamp fallbacks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvList, newLogRecord, newSpan, type KeyValue, type LogsData, type TracesData } from '../../core/model.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { encodeLogsNative, encodeTracesNative } from '../../lib/clickhouse/native.ts';
import { NativeSpool, nativeInsertSql } from '../../lib/clickhouse/native-spool.ts';
import type { Store } from '../../lib/clickhouse/store.ts';
import { Payload } from '../../core/payload.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-native-'));
const exporters: ClickHouseExporter[] = [];
let store: Store;

function cfg(table: string, over: Partial<ClickHouseConfig> = {}): ClickHouseConfig {
  const c = defaultClickHouseConfig();
  return { ...c, path: dir, query_endpoint: null, logs_table_name: `${table}_logs`, traces_table_name: `${table}_traces`, ...over };
}

async function exporter(table: string, native: boolean): Promise<ClickHouseExporter> {
  const e = new ClickHouseExporter(cfg(table), silentLogger);
  e.nativeEnabled = native;
  await e.start({ getExtension: () => undefined } as never);
  exporters.push(e);
  return e;
}

let viaJson: ClickHouseExporter;
let viaNative: ClickHouseExporter;

beforeAll(async () => {
  viaJson = await exporter('json', false);
  viaNative = await exporter('native', true);
  store = viaNative.store!;
});

afterAll(async () => {
  for (const e of exporters) await e.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const long = 'x'.repeat(300) + 'é' + '😀'.repeat(50);
const tricky = ['', 'plain', 'tab\tnew\nline "quoted" \\ back', 'ü'.repeat(42), 'ü'.repeat(43), 'ascii'.repeat(30), long, 'lone \ud800 surrogate', '\u0000nul'];

function attrs(i: number): KeyValue[] {
  return [
    { key: 'str', value: tricky[i % tricky.length]! },
    { key: 'int', value: BigInt(i) * -12345678901234n },
    { key: 'double', value: i + 0.5 },
    { key: 'bool', value: i % 2 === 0 },
    { key: 'bytes', value: new Uint8Array([i, 255, 0]) },
    { key: 'map', value: new KvList([{ key: 'b', value: 1n }, { key: 'a', value: ['x', 2.5] }]) },
    { key: 'arr', value: [1n, 'two', true] },
    { key: 'ключ', value: 'значение' },
  ];
}

function logsBatch(n: number): LogsData {
  const resourceLogs: LogsData['resourceLogs'] = [];
  for (let r = 0; r < 3; r++) {
    const records = [];
    for (let i = 0; i < n; i++) {
      const k = r * n + i;
      records.push(
        newLogRecord({
          timeUnixNano: k % 5 === 0 ? 0n : 1_700_000_000_123_456_789n + BigInt(k),
          observedTimeUnixNano: 1_700_000_001_000_000_000n + BigInt(k),
          severityNumber: k % 25,
          severityText: k % 2 ? 'INFO' : 'ÉRREUR',
          traceId: k % 7 === 0 ? '' : k.toString(16).padStart(32, '0'),
          spanId: k % 7 === 0 ? '' : k.toString(16).padStart(16, '0'),
          flags: 257 + k,
          body: k % 4 === 0 ? tricky[k % tricky.length]! : k % 4 === 1 ? BigInt(k) : k % 4 === 2 ? new KvList(attrs(k).slice(0, 3)) : undefined,
          attributes: k % 9 === 0 ? [] : attrs(k),
          eventName: k % 3 === 0 ? 'device.app.lifecycle' : '',
        }),
      );
    }
    resourceLogs.push({
      resource: { attributes: r === 2 ? [] : [{ key: 'service.name', value: r ? `svc-${r}` : 42n }, { key: 'k8s.pod.name', value: `pod-${r}` }], droppedAttributesCount: 0 },
      schemaUrl: r ? 'https://opentelemetry.io/schemas/1.4.0' : '',
      scopeLogs: [
        {
          scope: { name: `scope-${r}`, version: r ? '1.2' : '', attributes: r === 1 ? [{ key: 'scope.k', value: 'v' }] : [], droppedAttributesCount: 0 },
          schemaUrl: '',
          logRecords: records,
        },
      ],
    });
  }
  return resourceLogs.length ? { resourceLogs } : { resourceLogs: [] };
}

function tracesBatch(n: number): TracesData {
  const spans = [];
  for (let k = 0; k < n; k++) {
    spans.push(
      newSpan({
        traceId: k.toString(16).padStart(32, 'a'),
        spanId: k.toString(16).padStart(16, 'b'),
        parentSpanId: k % 3 ? (k - 1).toString(16).padStart(16, 'b') : '',
        traceState: k % 4 ? '' : 'vendor=x',
        name: tricky[k % tricky.length]! || 'GET /',
        kind: k % 7,
        startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(k) * 1000n,
        endTimeUnixNano: k % 11 === 0 ? 1_600_000_000_000_000_000n : 1_700_000_000_000_000_000n + BigInt(k) * 2000n,
        attributes: attrs(k),
        status: { code: k % 4, message: k % 4 === 2 ? 'boom ✗' : '' },
        events:
          k % 3 === 0
            ? []
            : Array.from({ length: k % 3 }, (_, e) => ({ timeUnixNano: 1_700_000_000_000_000_000n + BigInt(e), name: `ev-${e}`, attributes: e ? attrs(k + e) : [], droppedAttributesCount: 0 })),
        links: k % 5 === 0 ? [{ traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceState: 'a=b', attributes: attrs(k), droppedAttributesCount: 0, flags: 0 }] : [],
      }),
    );
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: 'frontend' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [{ scope: { name: 'io.opentelemetry', version: '2.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
      },
    ],
  };
}

const ctx = (token: string) => ({ dedupToken: token, signal: new AbortController().signal }) as never;

async function table(name: string, order: string): Promise<Record<string, unknown>[]> {
  return store.queryRows(`SELECT * FROM otel.${name} ORDER BY ${order}`);
}

describe('Native block encoding', () => {
  it('writes the header ClickHouse expects: column count, row count, then name and type per column', () => {
    const b = encodeLogsNative(logsBatch(100));
    const head = Buffer.from(b.chunks[0]!);
    expect(head[0]).toBe(17); // columns
    expect(head.readUInt16LE(1) & 0x7f7f).toBe((300 & 0x7f) | ((300 >> 7) << 8)); // varint 300 = ac 02
    expect(head.subarray(3).toString('latin1')).toBe('\tTimestamp\rDateTime64(9)');
    expect(b.rows).toBe(300);
    expect(b.bytes).toBe(b.chunks.reduce((n, c) => n + c.length, 0));
    expect(b.structure.startsWith('`Timestamp` DateTime64(9), `TimestampTime` DateTime, `TraceId` String')).toBe(true);
  });

  it('stores the same log rows as the JSON encoding, column by column', async () => {
    const data = logsBatch(60);
    await viaJson.pushLogs(Payload.logs(data), ctx('logs-1'));
    await viaNative.pushLogs(Payload.logs(data), ctx('logs-1'));
    const order = 'Timestamp, Body, SpanId';
    const [a, b] = [await table('json_logs', order), await table('native_logs', order)];
    expect(b).toHaveLength(180);
    expect(b).toEqual(a);
    // Spot checks that the comparison compares something real.
    expect(new Set(b.map((r) => r.ServiceName))).toEqual(new Set(['42', 'svc-1', '']));
    expect(b.some((r) => r.Body === long)).toBe(true);
    expect(b.some((r) => r.Body === 'lone \ufffd surrogate')).toBe(true);
  });

  it('stores the same span rows (events, links, the lookup view) as the JSON encoding', async () => {
    const data = tracesBatch(90);
    await viaJson.pushTraces(Payload.traces(data), ctx('spans-1'));
    await viaNative.pushTraces(Payload.traces(data), ctx('spans-1'));
    const order = 'Timestamp, SpanId';
    const [a, b] = [await table('json_traces', order), await table('native_traces', order)];
    expect(b).toHaveLength(90);
    expect(b).toEqual(a);
    expect(b.filter((r) => (r['Events.Name'] as string[]).length === 2)).toHaveLength(30);
    expect(b.filter((r) => (r['Links.TraceId'] as string[]).length === 1)).toHaveLength(18);
    expect(b.filter((r) => r.Duration === '0')).toHaveLength(9);
    const ids = await store.queryRows<{ c: string }>('SELECT count() AS c FROM otel.native_traces_trace_id_ts');
    expect(Number(ids[0]!.c)).toBeGreaterThan(0);
  });

  it('deduplicates a retried Native batch by its token', async () => {
    const data = logsBatch(5);
    const count = async () => Number((await store.queryRows<{ c: string }>('SELECT count() AS c FROM otel.native_logs'))[0]!.c);
    const before = await count();
    await viaNative.pushLogs(Payload.logs(data), ctx('logs-2'));
    await viaNative.pushLogs(Payload.logs(data), ctx('logs-2'));
    expect(await count()).toBe(before + 15);
  });

  it('encodes an empty batch as no rows and inserts nothing', async () => {
    expect(encodeLogsNative({ resourceLogs: [] }).rows).toBe(0);
    expect(encodeTracesNative({ resourceSpans: [] }).rows).toBe(0);
  });
});

describe('NativeSpool', () => {
  it('quotes the file, structure and settings in the INSERT', () => {
    const sql = nativeInsertSql('otel.t', ['A', 'Events.Name'], "/tmp/it's", '`A` String', { insert_deduplication_token: "t'1", async_insert: 0 });
    expect(sql).toBe(
      "INSERT INTO otel.t (`A`, `Events.Name`) SELECT * FROM file('/tmp/it\\'s', 'Native', '`A` String') SETTINGS insert_deduplication_token = 't\\'1', async_insert = 0",
    );
  });

  it('removes each file after its insert, sweeps directories of dead processes, and its own on close', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'th-spool-'));
    const stale = path.join(root, 'trailhouse-native-999999999');
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, '1.native'), 'left over');
    const spool = new NativeSpool([root]);
    const seen: string[] = [];
    await spool.insert({ table: 't', columns: ['A'], block: encodeLogsNative(logsBatch(1)), settings: {} }, async (sql) => {
      const file = /file\('([^']+)'/.exec(sql)![1]!;
      seen.push(fs.readFileSync(file).subarray(0, 1).toString('hex'));
    });
    expect(seen).toEqual(['11']);
    expect(fs.existsSync(stale)).toBe(false);
    const own = path.join(root, `trailhouse-native-${process.pid}`);
    expect(fs.readdirSync(own)).toEqual([]);
    await expect(spool.insert({ table: 't', columns: ['A'], block: encodeLogsNative(logsBatch(1)), settings: {} }, () => Promise.reject(new Error('refused')))).rejects.toThrow(
      'refused',
    );
    expect(fs.readdirSync(own)).toEqual([]);
    spool.close();
    expect(fs.existsSync(own)).toBe(false);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('gives up a scratch directory that cannot take a file for the next one, keeping files of inserts in flight', async () => {
    const good = fs.mkdtempSync(path.join(os.tmpdir(), 'th-spool-'));
    const full = fs.mkdtempSync(path.join(os.tmpdir(), 'th-spool-'));
    const spool = new NativeSpool([full, good]);
    const block = () => encodeLogsNative(logsBatch(1));
    // An insert whose file is in the first directory stays in flight while that directory stops taking files.
    let inFlight = '';
    let entered!: () => void;
    let release!: () => void;
    const inRun = new Promise<void>((r) => (entered = r));
    const hold = new Promise<void>((r) => (release = r));
    const slow = spool.insert({ table: 't', columns: ['A'], block: block(), settings: {} }, async (sql) => {
      inFlight = /file\('([^']+)'/.exec(sql)![1]!;
      fs.mkdirSync(path.join(path.dirname(inFlight), '2.native')); // the next file name cannot be created
      entered();
      await hold;
    });
    await inRun;
    const files: string[] = [];
    for (let i = 0; i < 2; i++) {
      await spool.insert({ table: 't', columns: ['A'], block: block(), settings: {} }, async (sql) => void files.push(/file\('([^']+)'/.exec(sql)![1]!));
    }
    expect(files.every((f) => f.startsWith(good))).toBe(true);
    expect(spool.current).toBe(good);
    expect(inFlight.startsWith(full)).toBe(true);
    expect(fs.existsSync(inFlight)).toBe(true);
    release();
    await slow;
    expect(fs.existsSync(inFlight)).toBe(false);
    await expect(new NativeSpool(['/dev/null/nowhere']).insert({ table: 't', columns: ['A'], block: block(), settings: {} }, async () => undefined)).rejects.toThrow(
      /ENOTDIR|EEXIST|ENOENT/,
    );
    spool.close();
    expect(fs.readdirSync(full)).toEqual([]);
    expect(fs.readdirSync(good)).toEqual([]);
    fs.rmSync(good, { recursive: true, force: true });
    fs.rmSync(full, { recursive: true, force: true });
  });
});
