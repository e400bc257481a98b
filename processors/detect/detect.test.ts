// The processor around the detectors: it refuses to start on a reference it
// cannot resolve, passes every payload on untouched whatever detection does,
// and counts a redelivered payload once.
import { describe, expect, it } from 'vitest';
import type { LogsPayload } from '../../core/payload.ts';
import { Payload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { testHost } from '../../test/helpers.ts';
import { CART, denied, logsOf } from '../../test/mesh-traffic.ts';
import { defaultDetectConfig, type DetectConfig } from './config.ts';
import { DetectProcessor } from './detect.ts';
import { Clock, RecordingSink } from './testdata/rows.ts';

function make(over: Partial<DetectConfig>, next: (p: LogsPayload) => Promise<void>, opts: ConstructorParameters<typeof DetectProcessor>[2] = {}) {
  const metrics = new MetricsRegistry();
  const config = { ...defaultDetectConfig(), rules_from: '', learning_period: 0, ...over };
  return { metrics, p: new DetectProcessor({ id: 'detect', config, logger: silentLogger, metrics }, { logs: { consumeLogs: next } }, opts) };
}

const probe = () => Payload.logs(logsOf(Array.from({ length: 25 }, (_, i) => denied(CART, 'payments:8080', `/p${i}`))));

describe('detect processor', () => {
  it('refuses to start without the audit processor or alerts extension it names', async () => {
    await expect(make({ rules_from: 'audit' }, async () => {}).p.start(testHost())).rejects.toThrow(/rules_from: no started audit processor "audit"/);
    await expect(make({ alerts: 'alerts' }, async () => {}).p.start(testHost())).rejects.toThrow(/alerts: no started extension "alerts"/);
    await expect(make({ alerts: 'alerts' }, async () => {}).p.start(testHost({ alerts: { start: async () => {} } }))).rejects.toThrow(/not an alerts extension/);
  });

  it('passes the payload on as it came, with a dedup token, and detects beside it', async () => {
    const seen: LogsPayload[] = [];
    const sink = new RecordingSink();
    const { p } = make({}, async (d) => void seen.push(d), { sink, now: new Clock().now });
    await p.start(testHost());
    const payload = probe();
    const bytesBefore = payload.count;
    await p.consumeLogs(payload);
    await p.shutdown();
    expect(seen).toEqual([payload]);
    expect(payload.count).toBe(bytesBefore);
    expect(payload.dedupToken).toMatch(/^local-/);
    expect(sink.keys()).toContain(`deny_surge|principal|${CART}`);
  });

  it('a failing detector never fails the payload: counted and logged', async () => {
    let delivered = 0;
    const throwing = { raise: () => { throw new Error('sink broke'); } };
    const { p, metrics } = make({}, async () => void delivered++, { sink: throwing, now: new Clock().now });
    await p.start(testHost());
    await p.consumeLogs(probe());
    await p.shutdown();
    expect(delivered).toBe(1);
    expect(metrics.counter('trailhouse_detect_errors', '', { processor: 'detect' }).value).toBe(1);
  });

  it('the next stage’s refusal travels back; a redelivery (same dedup token) is not counted again', async () => {
    let fail = true;
    const sink = new RecordingSink();
    const { p } = make({}, async () => { if (fail) throw new Error('queue full'); }, { sink, now: new Clock().now });
    await p.start(testHost());
    const first = probe();
    first.dedupToken = 'kafka/g/logs/0/1-25';
    await expect(p.consumeLogs(first)).rejects.toThrow('queue full');
    const raised = sink.signals.length;
    fail = false;
    const again = probe();
    again.dedupToken = 'kafka/g/logs/0/1-25';
    await p.consumeLogs(again);
    await p.shutdown();
    expect(raised).toBeGreaterThan(0);
    expect(sink.signals.length).toBe(raised);
  });
});
