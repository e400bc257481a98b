import { describe, expect, it } from 'vitest';
import { spoolExporterFactory } from '../../exporters/spool/spool.ts';
import { spoolReceiverFactory } from '../../receivers/spool/spool.ts';
import type { WithDedupToken } from '../../core/exporter-helper.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { emptyScope, newLogRecord, type LogsData } from '../../core/model.ts';
import { CorrelateProcessor } from '../../processors/correlate/correlate.ts';
import { defaultCorrelateConfig } from '../../processors/correlate/config.ts';
import { RecordingConsumer, sampleLogs, testHost, testLogger, waitFor } from '../helpers.ts';

describe('spool exporter → spool receiver', () => {
  it('hands batches across with a dedup token, even when the receiver starts after the exporter', async () => {
    const metrics = new MetricsRegistry();
    const sink = new RecordingConsumer();
    const exp = spoolExporterFactory.create({ id: 'spool', config: { ...spoolExporterFactory.defaultConfig(), name: 't1' }, logger: testLogger(), metrics });
    const rcv = spoolReceiverFactory.create({ id: 'spool', config: { name: 't1' }, logger: testLogger(), metrics }, { logs: sink });
    await exp.start(testHost());
    await exp.consumeLogs!(sampleLogs(2)); // queued: the receiver is not up yet
    expect(sink.logs).toHaveLength(0);
    await rcv.start(testHost());
    await waitFor(() => sink.logs.length === 1, 5000, 'the spooled batch');
    expect((sink.logs[0] as WithDedupToken).dedupToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(metrics.read('otelcol_receiver_accepted_log_records', { receiver: 'spool', transport: 'spool' })).toBe(2);
    await rcv.shutdown();
    await exp.shutdown();
  });

  it('joins queued batches with sending_queue.batch, and refuses at once after the receiver shut down', async () => {
    const metrics = new MetricsRegistry();
    const sink = new RecordingConsumer();
    const defaults = spoolExporterFactory.defaultConfig();
    const config = {
      ...defaults,
      name: 't2',
      retry_on_failure: { ...defaults.retry_on_failure, initial_interval: 10, max_interval: 20 },
      sending_queue: { ...defaults.sending_queue, batch: { flush_timeout: 60_000, min_size: 5, max_size: 0, sizer: 'items' as const } },
    };
    const exp = spoolExporterFactory.create({ id: 'spool', config, logger: testLogger(), metrics });
    const rcv = spoolReceiverFactory.create({ id: 'spool', config: { name: 't2' }, logger: testLogger(), metrics }, { logs: sink });
    await exp.start(testHost());
    await rcv.start(testHost());
    // 2 + 3 records reach min_size 5: one payload, one token.
    await exp.consumeLogs!(sampleLogs(2));
    expect(sink.logs).toHaveLength(0);
    await exp.consumeLogs!(sampleLogs(3));
    await waitFor(() => sink.logs.length === 1, 5000, 'the joined batch');
    expect(sink.logs[0]!.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)).map((r) => r.body)).toEqual(['request 0', 'request 1', 'request 0', 'request 1', 'request 2']);
    expect((sink.logs[0] as WithDedupToken).dedupToken).toMatch(/^batch:[0-9a-f-]{36}$/);
    // The receiver is gone: a batch sent now is refused as shutting down, not left to time out.
    await rcv.shutdown();
    const failed = () => metrics.read('otelcol_exporter_send_failed_log_records', { exporter: 'spool' }) ?? 0;
    await exp.consumeLogs!(sampleLogs(5));
    await waitFor(() => failed() >= 5, 5000, 'a refused send');
    expect(sink.logs).toHaveLength(1);
    // A new receiver of the same name takes over the channel.
    const sink2 = new RecordingConsumer();
    const rcv2 = spoolReceiverFactory.create({ id: 'spool', config: { name: 't2' }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink2 });
    await rcv2.start(testHost());
    await waitFor(() => sink2.logs.length === 1, 5000, 'the retried batch');
    await rcv2.shutdown();
    await exp.shutdown();
  });

  it('correlate refusing while its backlog is full: the spool keeps the batches and retries, and every record arrives once', async () => {
    const metrics = new MetricsRegistry();
    const got: string[] = [];
    // A slow store: 15 ms per payload.
    const sink = {
      consumeLogs: async (d: LogsData) => {
        await new Promise((r) => setTimeout(r, 15));
        for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) got.push(r.body as string);
      },
    };
    const correlate = new CorrelateProcessor({ id: 'correlate', config: { ...defaultCorrelateConfig(), summary: false, wait: 10, max_items: 10 }, logger: testLogger(), metrics }, { logs: sink });
    await correlate.start({} as never);
    const defaults = spoolExporterFactory.defaultConfig();
    const config = { ...defaults, name: 't3', retry_on_failure: { ...defaults.retry_on_failure, initial_interval: 10, max_interval: 20 } };
    const exp = spoolExporterFactory.create({ id: 'spool', config, logger: testLogger(), metrics });
    const rcv = spoolReceiverFactory.create({ id: 'spool', config: { name: 't3' }, logger: testLogger(), metrics }, { logs: correlate });
    await exp.start(testHost());
    await rcv.start(testHost());
    const want: string[] = [];
    for (let b = 0; b < 30; b++) {
      const records = Array.from({ length: 5 }, (_, k) => newLogRecord({ body: `b${b}-${k}`, traceId: (b + 1).toString(16).padStart(32, '0'), spanId: 'ab'.repeat(8) }));
      want.push(...records.map((r) => r.body as string));
      await exp.consumeLogs!({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }] }] });
    }
    await waitFor(() => got.length >= want.length, 20_000, 'every record');
    expect(metrics.read('trailhouse_processor_refused_items', { processor: 'correlate', otel_signal: 'logs' })).toBeGreaterThan(0);
    expect([...got].sort()).toEqual([...want].sort());
    await rcv.shutdown();
    await exp.shutdown();
    await correlate.shutdown();
  });
});
