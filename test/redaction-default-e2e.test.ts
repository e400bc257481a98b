/**
 * Secrets never reach the store by default: ./pipeline.yaml itself (moved
 * onto port 0 and a temp dir, a short correlation window) receives the
 * planted-secrets corpus (test/redaction-corpus.ts) in every place of logs
 * and spans, over OTLP/HTTP protobuf and JSON, Zipkin v2 JSON and Jaeger
 * thrift over HTTP; every table of the embedded store is then read whole
 * and holds none of the secrets, and every innocent look-alike is kept.
 * Also: the default configs carry redaction before their queue, with the
 * config that keeps the bytes fast path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { builtinRegistry } from '../components.ts';
import { loadConfigFile } from '../core/config/load.ts';
import { encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto } from '../core/otlp/index.ts';
import { decidesFromBytes, type RedactionConfig } from '../processors/redaction/config.ts';
import { batchBody, type TTag } from '../receivers/jaeger/testdata/thrift-encode.ts';
import { INNOCENTS, keyedPlants, leaks, plantedLogs, plantedSpans, plants } from './redaction-corpus.ts';
import { startInTempDir, type RunningService } from './service.ts';

let running: (RunningService & { dir: string }) | undefined;
const secrets: string[] = [];

/** ./pipeline.yaml on port 0 under `dir`, otherwise as shipped. */
function defaultPipeline(dir: string): string {
  const cfg = parse(readFileSync('pipeline.yaml', 'utf8')) as Record<string, any>;
  const any = '127.0.0.1:0';
  cfg.receivers.otlp.protocols.grpc.endpoint = any;
  cfg.receivers.otlp.protocols.http.endpoint = any;
  cfg.receivers.zipkin.endpoint = any;
  for (const p of Object.values(cfg.receivers.jaeger.protocols) as Array<{ endpoint: string }>) p.endpoint = any;
  cfg.processors.correlate = { ...cfg.processors.correlate, wait: '1s' };
  // The store is configured once, on its extension; the writers name it.
  cfg.extensions.clickhouse_store = { ...cfg.extensions.clickhouse_store, path: dir, query_endpoint: any };
  cfg.extensions.health_check.endpoint = any;
  if (cfg.extensions.console) cfg.extensions.console.endpoint = any;
  cfg.extensions.file_storage.directory = `${dir}/queue`;
  cfg.service.telemetry = { metrics: { level: 'none' } };
  return stringify(cfg);
}

const receiver = (id: string) => (running!.service as unknown as { receivers: Array<{ id: string; component: any }> }).receivers.find((r) => r.id === id)!.component;

async function post(url: string, body: string | Uint8Array, type: string): Promise<void> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : Buffer.from(body) });
  expect([url, r.status < 300]).toEqual([url, true]);
}

function zipkinSpans(tag: string): unknown[] {
  const texts = (w: string, i: number) => plants(`${tag}${w}`, i).map((p) => (secrets.push(p.secret), p.text));
  const tags: Record<string, string> = {};
  texts('T', 0).forEach((t, i) => (tags[`note.${i}`] = t));
  for (const k of keyedPlants(`${tag}K`)) {
    secrets.push(k.secret);
    tags[k.key] = k.value;
  }
  INNOCENTS.forEach((s, i) => (tags[`innocent.${i}`] = s));
  tags['otel.status_code'] = 'ERROR';
  tags['otel.status_description'] = texts('M', 1).join(' ');
  return [{
    traceId: '5af7651916cd43dd8448eb211c80319c', id: 'c7ad6b7169203331', kind: 'SERVER', name: texts('N', 2).join(' '),
    timestamp: 1_700_000_000_000_000, duration: 1000, localEndpoint: { serviceName: 'zipkin-svc' }, tags,
    annotations: texts('A', 3).map((value, i) => ({ timestamp: 1_700_000_000_000_001 + i, value })),
  }];
}

function jaegerBatch(tag: string): Buffer {
  const texts = (w: string, i: number) => plants(`${tag}${w}`, i).map((p) => (secrets.push(p.secret), p.text));
  const tagsOf = (w: string, i: number): TTag[] => [
    ...texts(w, i).map((vStr, n) => ({ key: `note.${n}`, vStr })),
    ...keyedPlants(`${tag}${w}`).map((k) => (secrets.push(k.secret), { key: k.key, vStr: k.value })),
  ];
  const binary = texts('B', 4).join('\n');
  return batchBody({
    process: { serviceName: 'jaeger-svc', tags: tagsOf('P', 0) },
    spans: [{
      traceIdHigh: 0x6af7651916cd43ddn, traceIdLow: 0x8448eb211c80319cn, spanId: 0x17ad6b7169203331n, parentSpanId: 0n,
      operationName: texts('N', 1).join(' '), flags: 1, startTime: 1_700_000_000_000_000n, duration: 1000n,
      tags: [
        ...tagsOf('T', 2),
        { key: 'card.long', vLong: 4111111111111111n },
        { key: 'ratio', vDouble: 0.25 },
        { key: 'blob', vBinary: new Uint8Array(Buffer.from(binary)) },
        ...INNOCENTS.map((vStr, i) => ({ key: `innocent.${i}`, vStr })),
      ],
      logs: [{ timestamp: 1_700_000_000_000_100n, fields: [{ key: 'event', vStr: texts('E', 3).join(' ') }, ...tagsOf('F', 5)] }],
    }],
  });
}

beforeAll(async () => {
  running = await startInTempDir('th-redact-default-', defaultPipeline);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

describe('the default pipeline redacts', () => {
  it('stores none of the planted secrets, from any receiver, in any table; keeps the look-alikes', async () => {
    const http = `http://${running!.otlp.http!.address}`;
    const pl = plantedLogs('OP');
    const ps = plantedSpans('OP');
    const jl = plantedLogs('OJ');
    const js = plantedSpans('OJ');
    secrets.push(...pl.secrets, ...ps.secrets, ...jl.secrets, ...js.secrets);
    await post(`${http}/v1/logs`, encodeLogsProto(pl.data), 'application/x-protobuf');
    await post(`${http}/v1/traces`, encodeTracesProto(ps.data), 'application/x-protobuf');
    await post(`${http}/v1/logs`, encodeLogsJson(jl.data), 'application/json');
    await post(`${http}/v1/traces`, encodeTracesJson(js.data), 'application/json');
    await post(`http://${receiver('zipkin').address}/api/v2/spans`, JSON.stringify(zipkinSpans('ZK')), 'application/json');
    await post(`http://${receiver('jaeger').http.address}/api/traces`, new Uint8Array(jaegerBatch('JG')), 'application/x-thrift');

    await running!.waitRows<{ n: string }>('SELECT count() AS n FROM otel.otel_traces', (r) => Number(r[0]?.n) >= 4, 'the four spans', 60_000);
    await running!.waitRows<{ n: string }>('SELECT count() AS n FROM otel.otel_logs', (r) => Number(r[0]?.n) >= 4, 'the four log records', 60_000);

    const tables = await running!.rows<{ database: string; name: string }>(
      "SELECT database, name FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') AND engine LIKE '%MergeTree%'",
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['otel_logs', 'otel_traces']));
    let everything = '';
    for (const t of tables) {
      const r = await fetch(`${running!.queryUrl}/?query=${encodeURIComponent(`SELECT * FROM \`${t.database}\`.\`${t.name}\` FORMAT TSVRaw`)}`);
      expect(r.status).toBe(200);
      everything += `${await r.text()}\n`;
    }
    expect(secrets.length).toBeGreaterThan(500);
    expect(leaks(everything, secrets)).toEqual([]);
    for (const s of INNOCENTS) expect([s, everything.includes(s)]).toEqual([s, true]);
    // What was masked is recorded beside it (the Collector's diagnostic attributes).
    expect(everything).toContain('redaction.masked.keys');
    expect(everything).toContain('Bearer ****');
  }, 120_000);
});

describe('the default configs carry redaction before their queue, with the bytes fast path', () => {
  for (const file of ['pipeline.yaml', 'examples/gateway.yaml', 'examples/minimal.yaml']) {
    it(file, () => {
      const cfg = loadConfigFile(file, builtinRegistry(), { KAFKA_BROKERS: '127.0.0.1:9092' });
      const red = cfg.processors.get('redaction')!.config as RedactionConfig;
      expect(red).toMatchObject({ mask_credentials: true, mask_payment_cards: true, allow_all_keys: true });
      expect(decidesFromBytes(red)).toBe(true);
      const receiving = [...cfg.pipelines.values()].filter((p) => p.receivers.some((r) => r !== 'spool'));
      expect(receiving.length).toBeGreaterThanOrEqual(2);
      for (const p of receiving) {
        // Last before the exporter's queue: nothing is queued or batched before it.
        expect([p.id, p.processors.indexOf('redaction')]).toEqual([p.id, p.processors.length - 1]);
        expect(p.processors).not.toContain('batch');
      }
    });
  }
});
