/**
 * With acknowledgements given once a request is queued (no batch processor
 * in front, ./pipeline.yaml), errors still travel back to the sender: a
 * request the spool's queue cannot take is refused with 429 + Retry-After
 * (gRPC RESOURCE_EXHAUSTED), a malformed one gets 400 (INVALID_ARGUMENT),
 * and everything answered 200 before is stored.
 *
 * The queue is made to fill: one consumer, whose push correlate holds for
 * its window, one request per group, and room for three requests.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-ackerr-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('the default pipeline refuses what it cannot queue', () => {
  it('429 + Retry-After (RESOURCE_EXHAUSTED) once the queue is full, 400 for malformed data, and every 200 is stored', async () => {
    const p = await defaultPipelineOnFreePorts();
    expect(p.cfg.service.pipelines['logs/ingest'].processors).not.toContain('batch');
    p.cfg.processors.correlate.wait = '4s';
    Object.assign(p.cfg.exporters.spool.sending_queue, { queue_size: 3, num_consumers: 1, batch: { flush_timeout: '1s', min_size: 1, max_size: 0 } });
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());
    const url = `http://127.0.0.1:${p.http}/v1/logs`;
    const post = (body: Uint8Array) => fetch(url, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'application/x-protobuf' } });

    // Malformed: refused as such, nothing queued.
    const bad = await post(new Uint8Array([0x0a, 0x05, 1]));
    expect(bad.status).toBe(400);

    let acked = 0;
    let refused: Response | undefined;
    const body = (i: number) => encodeLogsProto(makeBatch(5, i).logs);
    // One in the consumer (held by correlate), one complete group waiting for it, three in the queue.
    for (let i = 0; i < 8 && !refused; i++) {
      const r = await post(body(i));
      if (r.status === 200) acked += 10;
      else refused = r;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(await refused?.text()).toMatch(/queue is full/);
    expect(acked).toBeGreaterThanOrEqual(30);

    // gRPC: the same refusal as RESOURCE_EXHAUSTED.
    const client = new grpc.Client(`127.0.0.1:${p.grpc}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body(100), (e) => resolve(e)),
    );
    client.close();
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);

    // Nothing answered 200 is lost: once the windows close, all of it is stored, and the refused requests are not.
    await waitFor(async () => {
      running!.assertRunning();
      return (await count(p.query, 'SELECT count() FROM otel.otel_logs')) >= acked;
    }, 60_000, `${acked} acknowledged log records stored`);
    expect(await count(p.query, 'SELECT count() FROM otel.otel_logs')).toBe(acked);
  }, 120_000);
});
