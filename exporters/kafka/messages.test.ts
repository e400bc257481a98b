import { describe, expect, it } from 'vitest';
import { logRecordCount, newLogRecord, spanCount, type LogsData } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesJson } from '../../core/otlp/index.ts';
import { sampleLogs, sampleTraces } from '../../test/helpers.ts';
import { buildMessages, groupLogsByTrace, groupTracesByTrace, logsCodec, tracesCodec } from './messages.ts';

describe('kafka exporter messages', () => {
  it('one unkeyed message per payload when not partitioning', () => {
    const built = buildMessages(logsCodec('otlp_proto'), sampleLogs(5), null, 1_000_000);
    expect(built.messages).toHaveLength(1);
    expect(built.messages[0]!.key).toBeNull();
    expect(logRecordCount(decodeLogsProto(built.messages[0]!.value))).toBe(5);
  });

  it('splits per trace id, keyed by 32-char hex, keeping resource and scope', () => {
    const data = sampleLogs(4);
    // Two records share a trace id, one has none.
    const recs = data.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[1]!.traceId = recs[0]!.traceId;
    recs[3]!.traceId = '';
    const groups = groupLogsByTrace(data);
    expect([...groups.keys()].sort()).toEqual(['', recs[0]!.traceId, recs[2]!.traceId].sort());
    const built = buildMessages(logsCodec('otlp_proto'), data, groupLogsByTrace, 1_000_000);
    expect(built.messages).toHaveLength(3);
    for (const m of built.messages) {
      const d = decodeLogsProto(m.value);
      expect(d.resourceLogs[0]!.resource.attributes).toEqual(data.resourceLogs[0]!.resource.attributes);
      expect(d.resourceLogs[0]!.scopeLogs[0]!.scope.name).toBe('envoy');
      for (const r of d.resourceLogs[0]!.scopeLogs[0]!.logRecords) expect(r.traceId).toBe(m.key ?? '');
      if (m.key) expect(m.key).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(built.messages.find((m) => m.key === recs[0]!.traceId)!.value.length).toBeGreaterThan(0);
  });

  it('traces: json encoding, per-trace grouping', () => {
    const data = sampleTraces(3);
    const built = buildMessages(tracesCodec('otlp_json'), data, groupTracesByTrace, 1_000_000);
    expect(built.messages).toHaveLength(3);
    const total = built.messages.reduce((n, m) => n + spanCount(decodeTracesJson(m.value)), 0);
    expect(total).toBe(3);
  });

  it('splits an oversized request until each piece fits', () => {
    const data = sampleLogs(200);
    const whole = buildMessages(logsCodec('otlp_proto'), data, null, 10_000_000).messages[0]!.value.length;
    const max = Math.floor(whole / 5);
    const built = buildMessages(logsCodec('otlp_proto'), data, null, max);
    expect(built.messages.length).toBeGreaterThanOrEqual(5);
    expect(built.tooLarge).toBe(0);
    for (const m of built.messages) expect(m.value.length).toBeLessThanOrEqual(max);
    expect(built.messages.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(200);
  });

  it('reports a single record that can never fit, sending the rest', () => {
    const data: LogsData = sampleLogs(3);
    data.resourceLogs[0]!.scopeLogs[0]!.logRecords.push(newLogRecord({ body: 'x'.repeat(5000) }));
    const built = buildMessages(logsCodec('otlp_proto'), data, null, 2048);
    expect(built.tooLarge).toBe(1);
    expect(built.largestBytes).toBeGreaterThan(5000);
    expect(built.messages.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(3);
  });
});
