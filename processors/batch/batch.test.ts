import { describe, expect, it } from 'vitest';
import { clientInfo, metadataValues, setClientInfo } from '../../core/client.ts';
import { logRecordCount, pendingRecords, rawProto, setRawProto, spanCount } from '../../core/model.ts';
import { decodeLogsProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { scanLogsLazily, scanTracesLazily } from '../../core/otlp/lazy.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testLogger } from '../../test/helpers.ts';
import { BatchProcessor } from './batch.ts';
import { defaultBatchConfig, type BatchConfig } from './config.ts';

function make(cfg: Partial<BatchConfig>, sink = new RecordingConsumer()) {
  const config = { ...defaultBatchConfig(), ...cfg };
  const p = new BatchProcessor({ id: 'batch', config, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
  return { p, sink };
}

describe('batch processor', () => {
  it('sends once send_batch_size is reached, and settles callers only then', async () => {
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 0, timeout: 60_000 });
    let settled = false;
    const first = p.consumeLogs(sampleLogs(3)).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    await p.consumeLogs(sampleLogs(3));
    await first;
    expect(sink.logs).toHaveLength(1);
    expect(logRecordCount(sink.logs[0]!)).toBe(6);
    await p.shutdown();
  });

  it('sends a partial batch after timeout', async () => {
    const { p, sink } = make({ send_batch_size: 1000, send_batch_max_size: 0, timeout: 30 });
    await p.consumeTraces(sampleTraces(2));
    expect(sink.traces).toHaveLength(1);
    expect(spanCount(sink.traces[0]!)).toBe(2);
    await p.shutdown();
  });

  it('splits at send_batch_max_size', async () => {
    const { p, sink } = make({ send_batch_size: 4, send_batch_max_size: 4, timeout: 60_000 });
    await p.consumeLogs(sampleLogs(10));
    expect(sink.logs.map(logRecordCount)).toEqual([4, 4, 2]);
    await p.shutdown();
  });

  it('passes downstream errors back to every caller of the batch', async () => {
    const sink = new RecordingConsumer();
    sink.failWith = new Error('downstream down');
    const { p } = make({ send_batch_size: 4, send_batch_max_size: 0, timeout: 60_000 }, sink);
    const results = await Promise.allSettled([p.consumeLogs(sampleLogs(2)), p.consumeLogs(sampleLogs(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await p.shutdown();
  });
});

describe('batch processor: raw protobuf bytes', () => {
  it('a batch sent whole carries its parts\' bytes, concatenated; a split batch carries none', async () => {
    const { encodeLogsProto, decodeLogsProto } = await import('../../core/otlp/index.ts');
    const { rawProto, setRawProto } = await import('../../core/model.ts');
    const a = sampleLogs(2, 'a');
    const b = sampleLogs(3, 'b');
    setRawProto(a, [encodeLogsProto(a)]);
    setRawProto(b, [encodeLogsProto(b)]);
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 0, timeout: 60_000 });
    await Promise.all([p.consumeLogs(a), p.consumeLogs(b)]);
    const raw = rawProto(sink.logs[0]!)!;
    expect(raw).toHaveLength(2);
    // Concatenated Export requests are one request holding both parts' resources.
    expect(decodeLogsProto(Buffer.concat(raw))).toEqual(decodeLogsProto(encodeLogsProto(sink.logs[0]!)));

    const split = make({ send_batch_size: 4, send_batch_max_size: 4, timeout: 60_000 });
    const c = sampleLogs(6);
    setRawProto(c, [encodeLogsProto(c)]);
    await split.p.consumeLogs(c);
    expect(split.sink.logs.map((d) => rawProto(d))).toEqual([undefined, undefined]);

    // One part without bytes: the batch has none.
    const mixed = make({ send_batch_size: 4, send_batch_max_size: 0, timeout: 60_000 });
    const d = sampleLogs(2);
    setRawProto(d, [encodeLogsProto(d)]);
    await Promise.all([mixed.p.consumeLogs(d), mixed.p.consumeLogs(sampleLogs(2))]);
    expect(rawProto(mixed.sink.logs[0]!)).toBeUndefined();
    await Promise.all([p.shutdown(), split.p.shutdown(), mixed.p.shutdown()]);
  });

  it('payloads not decoded yet stay so: the batch is their bytes, decoded only if read or split', async () => {
    const { p, sink } = make({ send_batch_size: 5, send_batch_max_size: 8, timeout: 60_000 });
    const a = encodeLogsProto(sampleLogs(2));
    const b = encodeTracesProto(sampleTraces(3));
    const c = encodeLogsProto(sampleLogs(3));
    await Promise.all([p.consumeLogs(scanLogsLazily(a)), p.consumeLogs(scanLogsLazily(c))]);
    const out = sink.logs[0]!;
    expect(pendingRecords(out)).toBeDefined();
    expect(logRecordCount(out)).toBe(5);
    expect(rawProto(out)).toEqual([a, c]);
    expect(out.resourceLogs).toEqual([...decodeLogsProto(a).resourceLogs, ...decodeLogsProto(c).resourceLogs]);
    // A decoded payload among them: the batch is built from records (and still carries all the bytes).
    const decoded = sampleLogs(3);
    setRawProto(decoded, [c]);
    await Promise.all([p.consumeLogs(scanLogsLazily(a)), p.consumeLogs(decoded)]);
    expect(pendingRecords(sink.logs[1]!)).toBeUndefined();
    expect(rawProto(sink.logs[1]!)).toEqual([a, c]);
    // Over send_batch_max_size: split exactly, from the records.
    const big = encodeTracesProto(sampleTraces(10));
    await Promise.all([p.consumeTraces(scanTracesLazily(b)), p.consumeTraces(scanTracesLazily(big))]);
    expect(sink.traces.map(spanCount)).toEqual([8, 5]);
    expect(sink.traces.map((t) => rawProto(t))).toEqual([undefined, undefined]);
    await p.shutdown();
  });

  it('metadata_keys: one batch per combination of values, each carrying them on; the cardinality limit refuses more', async () => {
    const { p, sink } = make({ send_batch_size: 1000, timeout: 30, metadata_keys: ['X-Tenant'], metadata_cardinality_limit: 2 });
    const from = (tenant: string | null, n: number) => {
      const d = sampleLogs(n);
      setClientInfo(d, { address: '10.0.0.7', metadata: new Map(tenant ? [['x-tenant', [tenant]], ['authorization', ['secret']]] : []) });
      return d;
    };
    await Promise.all([p.consumeLogs(from('acme', 2)), p.consumeLogs(from('globex', 1)), p.consumeLogs(from('acme', 3))]);
    const got = sink.logs.map((d) => [metadataValues(clientInfo(d), 'x-tenant'), logRecordCount(d), clientInfo(d)!.address, metadataValues(clientInfo(d), 'authorization')]);
    expect(got.sort()).toEqual([[['acme'], 5, '', []], [['globex'], 1, '', []]]);
    await expect(p.consumeLogs(from(null, 1))).rejects.toThrow(/too many batcher metadata-value combinations/);
    await p.consumeLogs(from('acme', 1)); // a known combination still goes through
    await p.shutdown();
  });

  it('without metadata_keys a batch carries no client info (it is many senders\')', async () => {
    const { p, sink } = make({ send_batch_size: 2, timeout: 60_000 });
    const d = sampleLogs(2);
    setClientInfo(d, { address: '10.0.0.7', metadata: new Map([['x-tenant', ['acme']]]) });
    await p.consumeLogs(d);
    expect(clientInfo(sink.logs[0]!)).toBeUndefined();
    await p.shutdown();
  });
});
