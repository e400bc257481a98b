/**
 * The exporter's log over otel_logs against the real embedded engine:
 * config refused where it cannot work, a redelivered batch adds no leaf, an
 * insert reported failed that landed anyway keeps its range (its retry adds
 * nothing twice), and records and protobuf bytes both become leaves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newLogRecord, type LogsData } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { defaultLogsIntegrity } from './integrity.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-chlog-'));
let exp: ClickHouseExporter;

function config(over: Partial<ClickHouseConfig> = {}): ClickHouseConfig {
  return { ...defaultClickHouseConfig(), path: dir, query_endpoint: null, integrity: { ...defaultLogsIntegrity(), enabled: true, services: ['checkout'], checkpoint_interval: 0 }, ...over };
}

function logs(service: string, n: number, tag: string): LogsData {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: service }], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{
        scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        logRecords: Array.from({ length: n }, (_, i) => {
          const r = newLogRecord();
          r.timeUnixNano = 1_700_000_000_000_000_000n + BigInt(i);
          r.body = `${tag} ${i}`;
          return r;
        }),
      }],
    }],
  };
}

const ctx = (token: string) => ({ dedupToken: token, attempt: 1, signal: new AbortController().signal });
const rows = async () =>
  (await exp.store!.queryRows<{ i: string; b: string }>(`SELECT toString(LogIndex) AS i, Body AS b FROM otel.otel_logs WHERE LogOrigin != '' ORDER BY LogIndex`)).map((r) => `${r.i}:${r.b}`);
const leaves = async () => (await exp.store!.queryRows<{ i: string }>('SELECT toString(LogIndex) AS i FROM otel.otel_logs_log_leaves ORDER BY LogIndex')).map((r) => Number(r.i));

beforeAll(async () => {
  exp = new ClickHouseExporter(config(), silentLogger, new MetricsRegistry());
  await exp.start({} as never);
});

afterAll(async () => {
  await exp.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('clickhouse exporter integrity', () => {
  it('is refused with the reason where it cannot work', () => {
    const paths = (c: ClickHouseConfig) => validateClickHouse(c).map((e) => `${e.path}: ${e.message}`);
    expect(paths(config({ integrity: { ...defaultLogsIntegrity(), enabled: true } }))).toEqual([expect.stringMatching(/^integrity\.services: name the services/)]);
    expect(paths(config({ endpoint: 'http://127.0.0.1:8123' })).some((m) => /^integrity: .*embedded store/.test(m))).toBe(true);
    expect(paths(config({ cluster_name: 'prod' })).some((m) => /^integrity: .*cluster_name/.test(m))).toBe(true);
    expect(paths(config({ integrity: { ...defaultLogsIntegrity(), enabled: true, services: ['a'], witnesses: { file: null, http: null, kafka: null } } }))).toEqual([expect.stringMatching(/^integrity\.witnesses: at least one witness/)]);
    expect(paths(config({ integrity: defaultLogsIntegrity() }))).toEqual([]);
  });

  it('records and protobuf bytes both become leaves; a redelivered batch adds none; other services none', async () => {
    await exp.pushLogs(Payload.logs(logs('checkout', 3, 'a')), ctx('t1'));
    await exp.pushLogs(Payload.logs(logs('checkout', 3, 'a')), ctx('t1'));
    const bytes = encodeLogsProto(logs('checkout', 2, 'b'));
    await exp.pushLogs(Payload.ofBytes('logs', [bytes], 2), ctx('t2'));
    await exp.pushLogs(Payload.ofBytes('logs', [bytes], 2), ctx('t2'));
    await exp.pushLogs(Payload.logs(logs('frontend', 4, 'c')), ctx('t3'));
    expect(await rows()).toEqual(['0:a 0', '1:a 1', '2:a 2', '3:b 0', '4:b 1']);
    expect(await leaves()).toEqual([0, 1, 2, 3, 4]);
    expect(await exp.store!.queryRows('SELECT Body FROM otel.otel_logs WHERE ServiceName = \'frontend\' AND LogOrigin = \'\'')).toHaveLength(4);
  });

  it('an insert reported failed that landed keeps its range: the retry stores it once, the next batch follows', async () => {
    const e = exp as unknown as { insertLogBlock: (...a: unknown[]) => Promise<void> };
    const real = e.insertLogBlock.bind(exp);
    let failNext = true;
    e.insertLogBlock = async (...a: unknown[]) => {
      await real(...a);
      if (failNext) {
        failNext = false;
        throw new Error('timed out (but landed)');
      }
    };
    await expect(exp.pushLogs(Payload.logs(logs('checkout', 2, 'd')), ctx('t4'))).rejects.toThrow(/landed/);
    await exp.pushLogs(Payload.logs(logs('checkout', 2, 'd')), ctx('t4')); // the exporter helper's retry
    await exp.pushLogs(Payload.logs(logs('checkout', 1, 'e')), ctx('t5'));
    e.insertLogBlock = real;
    expect((await rows()).slice(5)).toEqual(['5:d 0', '6:d 1', '7:e 0']);
    expect(await leaves()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
