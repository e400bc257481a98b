/**
 * The query interface's bounds, over a real embedded store: fixed engine
 * limits, bounded concurrency with 503 + Retry-After beyond it, a client that
 * goes away frees its slot, and a large answer is streamed, not held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost } from '../../test/helpers.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { ClickHouseExporterComponent } from './factory.ts';
import { acquireQueryServer, type QueryServerLease } from '../../lib/clickhouse/query/query-server.ts';
import { DEFAULT_QUERY_LIMITS, ReadonlyPool, type QueryLimits } from '../../lib/clickhouse/query/readonly-pool.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-lim-'));
let comp: ClickHouseExporterComponent;
const leases: QueryServerLease[] = [];

beforeAll(async () => {
  const d = defaultClickHouseConfig();
  const cfg: ClickHouseConfig = { ...d, path: dir, query_endpoint: '127.0.0.1:0', query_log: false, sending_queue: { ...d.sending_queue, enabled: false } };
  comp = new ClickHouseExporterComponent({ id: 'clickhouse', config: cfg, logger: silentLogger, metrics: new MetricsRegistry() }, new ClickHouseExporter(cfg, silentLogger));
  await comp.start(testHost());
});

afterAll(async () => {
  for (const l of leases) await l.release();
  await comp?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A query server over its own pool with these limits. */
async function server(limits: Partial<QueryLimits>): Promise<string> {
  const pool = new ReadonlyPool(comp.store!.dataDir!, async () => ({ Session: (await import('chdb')).Session }), { ...DEFAULT_QUERY_LIMITS, ...limits });
  const lease = await acquireQueryServer({ endpoint: '127.0.0.1:0', pool, defaultDatabase: 'otel', logger: silentLogger, queryLog: false });
  leases.push(lease);
  return lease.server.url;
}

const post = (url: string, sql: string, signal?: AbortSignal) => fetch(url + '/', { method: 'POST', body: sql, signal });
// Computes until the time limit stops it (no chunk before that).
const HEAVY = 'SELECT sum(cityHash64(number)) FROM numbers(100000000000)';

describe('concurrency', () => {
  it('two abandoned heavy queries hold their slots no longer than the time limit; beyond running + queued: 503 + Retry-After', async () => {
    const url = await server({ maxExecutionSeconds: 2, running: 2, queued: 1 });
    const clients = [new AbortController(), new AbortController()];
    const heavy = clients.map((c) => post(url, HEAVY, c.signal).catch(() => undefined));
    await sleep(300);
    const waiting = post(url, 'SELECT 1');
    await sleep(200);
    const busy = await post(url, 'SELECT 2');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(busy.headers.get('x-clickhouse-exception-code')).toBe('202');
    expect(await busy.text()).toMatch(/TOO_MANY_SIMULTANEOUS_QUERIES/);
    for (const c of clients) c.abort();
    const began = Date.now();
    const w = await waiting;
    expect(await w.text()).toBe('1\n');
    expect(Date.now() - began).toBeLessThan(4_000);
    await Promise.all(heavy);
  });

  it('a heavy query is stopped by the time limit, with ClickHouse\'s TIMEOUT_EXCEEDED', async () => {
    const url = await server({ maxExecutionSeconds: 1 });
    const r = await post(url, HEAVY);
    expect(r.status).toBe(408);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('159');
  });

  it('a client that goes away mid-stream frees its slot at the next chunk', async () => {
    const url = await server({ maxExecutionSeconds: 60, running: 1, queued: 1 });
    const c = new AbortController();
    const r = await post(url, 'SELECT number FROM system.numbers', c.signal);
    const reader = r.body!.getReader();
    await reader.read();
    c.abort();
    const began = Date.now();
    expect(await (await post(url, 'SELECT 1')).text()).toBe('1\n');
    expect(Date.now() - began).toBeLessThan(2_000);
  });
  it('a client that stops reading holds its slot no longer than the time limit', async () => {
    const url = await server({ maxExecutionSeconds: 1, running: 1, queued: 1 });
    const c = new AbortController();
    const r = await post(url, 'SELECT number, toString(number) FROM system.numbers', c.signal);
    expect(r.status).toBe(200); // and never read
    const began = Date.now();
    expect(await (await post(url, 'SELECT 1')).text()).toBe('1\n');
    expect(Date.now() - began).toBeLessThan(4_500);
    c.abort();
  });
});

describe('results', () => {
  it('a result over the cap is an error, not a truncated answer', async () => {
    const url = await server({ maxResultRows: 1000 });
    const r = await post(url, 'SELECT number FROM numbers(1000000)');
    expect(r.status).toBe(500);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('396');
  });

  it('a cap reached after rows were sent ends the answer with the error and a cut connection', async () => {
    const url = await server({ maxResultRows: 300_000 });
    const r = await post(url, 'SELECT number FROM system.numbers');
    expect(r.status).toBe(200);
    let text = '';
    const err = await (async () => {
      for await (const chunk of r.body!) text += Buffer.from(chunk as Uint8Array).toString();
    })().catch((e: unknown) => e);
    expect(text).toMatch(/Code: 396\. DB::Exception: .*TOO_MANY_ROWS_OR_BYTES/);
    expect(err).toBeInstanceOf(Error);
  });

  it('a large answer streams without being held in memory', async () => {
    const rss = () => process.memoryUsage().rss;
    const baseline = rss();
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 20);
    let bytes = 0;
    try {
      const r = await post(`http://${comp.queryAddress}`, 'SELECT number, toString(number) FROM system.numbers LIMIT 12000000');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-length')).toBeNull();
      for await (const chunk of r.body!) bytes += (chunk as Uint8Array).byteLength;
    } finally {
      clearInterval(timer);
    }
    expect(bytes).toBeGreaterThan(180_000_000);
    expect(peak - baseline).toBeLessThan(120_000_000);
  }, 60_000);
});
