/**
 * Server mode (`endpoint: http://…`) without a ClickHouse server: an
 * unreachable endpoint fails the push as retryable; a stand-in HTTP server on
 * loopback shows what the exporter sends (query, settings, body) and how
 * ClickHouse's error answers are classified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { PermanentError } from '../../core/errors.ts';
import { newLogRecord } from '../../core/model.ts';
import { Payload, type LogsPayload } from '../../core/payload.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost } from '../../test/helpers.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { ClickHouseExporterComponent } from './factory.ts';

const comps: ClickHouseExporterComponent[] = [];

async function start(over: Partial<ClickHouseConfig>): Promise<ClickHouseExporterComponent> {
  const d = defaultClickHouseConfig();
  const cfg: ClickHouseConfig = {
    ...d,
    create_schema: false,
    sending_queue: { ...d.sending_queue, enabled: false },
    retry_on_failure: { ...d.retry_on_failure, enabled: false },
    ...over,
  };
  const c = new ClickHouseExporterComponent({ id: 'clickhouse', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() }, new ClickHouseExporter(cfg, silentLogger));
  await c.start(testHost());
  comps.push(c);
  return c;
}

const batch = (): LogsPayload => Object.assign(Payload.logs({
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: 'svc' }], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [newLogRecord({ timeUnixNano: 1_000_000_000n, body: 'hi' })] }],
    },
  ],
}), { dedupToken: 'tok-1' });

interface Seen {
  url: URL;
  body: string;
  encoding: string | undefined;
}
let seen: Seen[] = [];
let answer: { status: number; body: string; code?: string } = { status: 200, body: '' };
let fake: http.Server;
let fakeUrl = '';

beforeAll(async () => {
  fake = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      seen.push({ url: new URL(req.url!, 'http://x'), body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString(), encoding });
      if (answer.code) res.setHeader('X-ClickHouse-Exception-Code', answer.code);
      res.statusCode = answer.status;
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of comps) await c.shutdown();
  await new Promise<void>((r) => fake.close(() => r()));
});

describe('server mode', () => {
  it('fails a push to an unreachable endpoint as retryable, not permanent', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = await start({ endpoint: `http://127.0.0.1:${port}` });
    const err = await c.consumeLogs(batch()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(String((err as Error).message)).toMatch(/ECONNREFUSED|connect/i);
  });

  it('sends one INSERT with the dedup token and async_insert settings, the rows as the body', async () => {
    seen = [];
    answer = { status: 200, body: '' };
    const c = await start({ endpoint: fakeUrl, username: 'writer', password: 'pw' });
    await c.consumeLogs(batch());
    expect(seen).toHaveLength(1);
    const { url, body } = seen[0]!;
    const query = url.searchParams.get('query') ?? body.split('\n')[0];
    expect(query).toMatch(/^INSERT INTO otel\.otel_logs \(Timestamp, TimestampTime, .*EventName\) FORMAT JSONCompactEachRow$/);
    expect(url.searchParams.get('insert_deduplication_token')).toBe('tok-1:otel.otel_logs');
    expect(url.searchParams.get('async_insert')).toBe('1');
    expect(url.searchParams.get('wait_for_async_insert')).toBe('1');
    expect(body).toContain('[1000000000,1,"","",0,"",0,"svc"');
  });

  it('connection_params go with every query; compress: gzip compresses the insert body', async () => {
    seen = [];
    answer = { status: 200, body: '' };
    const c = await start({ endpoint: fakeUrl, username: 'tuned', compress: 'gzip', connection_params: { max_execution_time: '60', insert_quorum: '2' } });
    await c.consumeLogs(batch());
    expect(seen).toHaveLength(1);
    const { url, body, encoding } = seen[0]!;
    expect(encoding).toBe('gzip');
    expect(url.searchParams.get('max_execution_time')).toBe('60');
    expect(url.searchParams.get('insert_quorum')).toBe('2');
    expect(url.searchParams.get('insert_deduplication_token')).toBe('tok-1:otel.otel_logs');
    expect(body).toContain('[1000000000,1,"","",0,"",0,"svc"');
  });

  it('classifies ClickHouse parse errors as permanent and overload as retryable', async () => {
    const c = await start({ endpoint: fakeUrl, async_insert: false });
    answer = { status: 400, code: '27', body: 'Code: 27. DB::Exception: Cannot parse input: expected \'[\' before: \'x\': (at row 1). (CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 24.8.1.1)\n' };
    const perm = await c.consumeLogs(batch()).catch((e: unknown) => e);
    expect(perm).toBeInstanceOf(PermanentError);
    expect((perm as Error).message).toContain('code 27');
    answer = { status: 500, code: '241', body: 'Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED) (version 24.8.1.1)\n' };
    const retry = await c.consumeLogs(batch()).catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(Error);
    expect(retry).not.toBeInstanceOf(PermanentError);
    expect(seen.at(-1)!.url.searchParams.get('async_insert')).toBeNull();
  });
});
