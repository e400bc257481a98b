/**
 * The embedded default survives a crash: ./pipeline.yaml itself (moved onto
 * free ports and a temp dir) is killed with SIGKILL while a sender streams
 * logs; after a restart every record that was acknowledged with 200 is stored
 * exactly once (the spool's file queue replays what was not yet stored, with
 * the same dedup tokens). Then a clean SIGTERM stop loses nothing either.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { Trailhouse } from './process.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-crash-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

async function defaultPipeline(): Promise<{ yaml: string; http: number; query: number }> {
  const p = await defaultPipelineOnFreePorts();
  // A short correlation window keeps the test quick; the queue is the point.
  p.cfg.processors.correlate.wait = '1s';
  return { yaml: p.yaml(), http: p.http, query: p.query };
}

describe('embedded default: crash and restart', () => {
  it('stores every acknowledged record exactly once across kill -9 and a clean stop', async () => {
    const { yaml, http, query } = await defaultPipeline();
    running = await Trailhouse.start(dir, 'pipeline', yaml);

    // Stream batches; kill -9 while requests are in flight.
    let acked = 0;
    let stop = false;
    const bodies = Array.from({ length: 40 }, (_, i) => makeBatch(100, i).logs);
    const sender = (async () => {
      for (let i = 0; !stop && i < bodies.length; i++) {
        const body = Buffer.from(encodeLogsProto(bodies[i]!));
        try {
          const r = await fetch(`http://127.0.0.1:${http}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
          if (r.status === 200) acked += 200; // makeBatch(100) = 200 log records
        } catch {
          // connection reset by the kill: not acknowledged
        }
      }
    })();
    await waitFor(() => acked >= 2000, 30_000, 'some acknowledged batches');
    await running.kill9();
    stop = true;
    await sender;
    expect(acked).toBeGreaterThanOrEqual(2000);

    // Restart on the same data directory: the queue replays.
    running = await Trailhouse.start(dir, 'pipeline', yaml);
    await waitFor(async () => (await count(query, 'SELECT count() FROM otel.otel_logs')) >= acked, 60_000, 'replayed records');
    const distinct = await count(query, 'SELECT uniqExact(TraceId, SpanId) FROM otel.otel_logs');
    const rows = await count(query, 'SELECT count() FROM otel.otel_logs');
    // Records sent but not acknowledged (in flight at the kill) may be stored too: never fewer.
    expect(distinct).toBeGreaterThanOrEqual(acked);
    expect(rows).toBe(distinct);

    // A clean stop right after more data was acknowledged loses nothing.
    const before = rows;
    const extra = Buffer.from(encodeLogsProto(makeBatch(100, 999).logs));
    const r = await fetch(`http://127.0.0.1:${http}/v1/logs`, { method: 'POST', body: extra, headers: { 'content-type': 'application/x-protobuf' } });
    expect(r.status).toBe(200);
    expect(await running.stop()).toBe(0);
    running = await Trailhouse.start(dir, 'pipeline', yaml);
    await waitFor(async () => (await count(query, 'SELECT count() FROM otel.otel_logs')) === before + 200, 60_000, 'the batch acknowledged before the clean stop');
    expect(await count(query, 'SELECT count() - uniqExact(TraceId, SpanId) FROM otel.otel_logs')).toBe(0);
  });
});
