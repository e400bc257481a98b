import { describe, expect, it } from 'vitest';
import { spoolExporterFactory } from '../../exporters/spool/spool.ts';
import { spoolReceiverFactory } from '../../receivers/spool/spool.ts';
import type { WithDedupToken } from '../../core/exporter-helper.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
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
});
