import { describe, expect, it } from 'vitest';
import { metadataValues } from '../../core/client.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { decodeLogsProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testLogger } from '../../test/helpers.ts';
import { BatchProcessor } from './batch.ts';
import { defaultBatchConfig, type BatchConfig } from './config.ts';
import { Payload } from '../../core/payload.ts';

function make(cfg: Partial<BatchConfig>, sink = new RecordingConsumer()) {
  const config = { ...defaultBatchConfig(), ...cfg };
  const p = new BatchProcessor({ id: 'batch', config, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
  return { p, sink };
}

describe('batch processor', () => {
  it('sends once send_batch_size is reached, and settles callers only then', async () => {
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 0, timeout: 60_000 });
    let settled = false;
    const first = p.consumeLogs(Payload.logs(sampleLogs(3))).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    await p.consumeLogs(Payload.logs(sampleLogs(3)));
    await first;
    expect(sink.logPayloads).toHaveLength(1);
    expect(sink.logPayloads[0]!.count).toBe(6);
    await p.shutdown();
  });

  it('sends a partial batch after timeout', async () => {
    const { p, sink } = make({ send_batch_size: 1000, send_batch_max_size: 0, timeout: 30 });
    await p.consumeTraces(Payload.traces(sampleTraces(2)));
    expect(sink.tracePayloads).toHaveLength(1);
    expect(sink.tracePayloads[0]!.count).toBe(2);
    await p.shutdown();
  });

  it('splits at send_batch_max_size', async () => {
    const { p, sink } = make({ send_batch_size: 4, send_batch_max_size: 4, timeout: 60_000 });
    await p.consumeLogs(Payload.logs(sampleLogs(10)));
    expect(sink.logs.map(logRecordCount)).toEqual([4, 4, 2]);
    await p.shutdown();
  });

  it('passes downstream errors back to every caller of the batch', async () => {
    const sink = new RecordingConsumer();
    sink.failWith = new Error('downstream down');
    const { p } = make({ send_batch_size: 4, send_batch_max_size: 0, timeout: 60_000 }, sink);
    const results = await Promise.allSettled([p.consumeLogs(Payload.logs(sampleLogs(2))), p.consumeLogs(Payload.logs(sampleLogs(2)))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await p.shutdown();
  });
});

describe('batch processor: protobuf bytes', () => {
  it('a batch sent whole carries its parts\' bytes, concatenated; a split batch carries none', async () => {
    const { encodeLogsProto, decodeLogsProto } = await import('../../core/otlp/index.ts');
    const withBytes = (d: ReturnType<typeof sampleLogs>) => Payload.ofRecords('logs', d, undefined, [encodeLogsProto(d)]);
    const a = sampleLogs(2, 'a');
    const b = sampleLogs(3, 'b');
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 0, timeout: 60_000 });
    await Promise.all([p.consumeLogs(withBytes(a)), p.consumeLogs(withBytes(b))]);
    const raw = sink.logPayloads[0]!.bytes()!;
    expect(raw).toHaveLength(2);
    // Concatenated Export requests are one request holding both parts' resources.
    expect(decodeLogsProto(Buffer.concat(raw))).toEqual(decodeLogsProto(encodeLogsProto(sink.logs[0]!)));

    const split = make({ send_batch_size: 4, send_batch_max_size: 4, timeout: 60_000 });
    await split.p.consumeLogs(withBytes(sampleLogs(6)));
    expect(split.sink.logPayloads.map((d) => d.bytes())).toEqual([undefined, undefined]);

    // One part without bytes: the batch has none.
    const mixed = make({ send_batch_size: 4, send_batch_max_size: 0, timeout: 60_000 });
    await Promise.all([mixed.p.consumeLogs(withBytes(sampleLogs(2))), mixed.p.consumeLogs(Payload.logs(sampleLogs(2)))]);
    expect(mixed.sink.logPayloads[0]!.bytes()).toBeUndefined();
    await Promise.all([p.shutdown(), split.p.shutdown(), mixed.p.shutdown()]);
  });

  it('payloads not decoded yet stay so: the batch is their bytes, decoded only if read or split', async () => {
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 8, timeout: 60_000 });
    const a = encodeLogsProto(sampleLogs(2));
    const b = encodeTracesProto(sampleTraces(3));
    const c = encodeLogsProto(sampleLogs(3));
    await Promise.all([p.consumeLogs(Payload.scan('logs', a)), p.consumeLogs(Payload.scan('logs', c))]);
    const out = sink.logPayloads[0]!;
    expect(out.content.kind).toBe('bytes');
    expect(out.count).toBe(5);
    expect(out.bytes()).toEqual([a, c]);
    expect(out.records().resourceLogs).toEqual([...decodeLogsProto(a).resourceLogs, ...decodeLogsProto(c).resourceLogs]);
    // A decoded payload among them: the batch is built from records (and still carries all the bytes).
    await Promise.all([p.consumeLogs(Payload.scan('logs', a)), p.consumeLogs(Payload.fromProto('logs', c, false))]);
    expect(sink.logPayloads[1]!.content.kind).toBe('records');
    expect(sink.logPayloads[1]!.bytes()).toEqual([a, c]);
    // Over send_batch_max_size: split exactly, from the records.
    const big = encodeTracesProto(sampleTraces(10));
    await Promise.all([p.consumeTraces(Payload.scan('traces', b)), p.consumeTraces(Payload.scan('traces', big))]);
    expect(sink.traces.map(spanCount)).toEqual([8, 5]);
    expect(sink.tracePayloads.map((t) => t.bytes())).toEqual([undefined, undefined]);
    await p.shutdown();
  });

  it('metadata_keys: one batch per combination of values, each carrying them on; the cardinality limit refuses more', async () => {
    const { p, sink } = make({ send_batch_size: 1000, timeout: 30, metadata_keys: ['X-Tenant'], metadata_cardinality_limit: 2 });
    const from = (tenant: string | null, n: number) => {
      return Payload.logs(sampleLogs(n), { address: '10.0.0.7', metadata: new Map(tenant ? [['x-tenant', [tenant]], ['authorization', ['secret']]] : []) });
    };
    await Promise.all([p.consumeLogs((from('acme', 2))), p.consumeLogs((from('globex', 1))), p.consumeLogs((from('acme', 3)))]);
    const got = sink.logPayloads.map((d) => [metadataValues(d.client, 'x-tenant'), d.count, d.client!.address, metadataValues(d.client, 'authorization')]);
    expect(got.sort()).toEqual([[['acme'], 5, '', []], [['globex'], 1, '', []]]);
    await expect(p.consumeLogs((from(null, 1)))).rejects.toThrow(/too many batcher metadata-value combinations/);
    await p.consumeLogs((from('acme', 1))); // a known combination still goes through
    await p.shutdown();
  });

  it('without metadata_keys a batch carries no client info (it is many senders\')', async () => {
    const { p, sink } = make({ send_batch_size: 2, timeout: 60_000 });
    await p.consumeLogs(Payload.logs(sampleLogs(2), { address: '10.0.0.7', metadata: new Map([['x-tenant', ['acme']]]) }));
    expect(sink.logPayloads[0]!.client).toBeUndefined();
    await p.shutdown();
  });
});
