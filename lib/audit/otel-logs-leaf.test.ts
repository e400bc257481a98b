/**
 * The otel_logs leaf (otel-logs-leaf.ts) as the exporter computes it while
 * it writes the Native columns: the protobuf walk (with correlate's patches)
 * and the record path give the same leaves, the body hashed is the row's
 * RowBinary, and rows of services not chosen are not told to the hook.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newLogRecord, type LogsData } from '../../core/model.ts';
import { applyLogPatch } from '../../core/payload.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { walkAll } from '../../core/yield.ts';
import { logColumnsOf } from '../clickhouse/native.ts';
import { logsColumnsWalk } from '../clickhouse/native-proto.ts';
import { OtelLogsLeaves } from './otel-logs-leaf.ts';

function data(): LogsData {
  const rec = (i: number) => {
    const r = newLogRecord();
    r.timeUnixNano = 1_700_000_000_000_000_000n + BigInt(i);
    r.severityNumber = 9;
    r.severityText = 'INFO';
    r.body = i % 2 ? `line ${i} ü` : BigInt(i);
    r.attributes = [{ key: 'n', value: BigInt(i) }, { key: 'route', value: '/pay' }];
    if (i % 3 === 0) r.traceId = '5b8efff798038103d269b633813fc60c';
    return r;
  };
  const res = (service: string, from: number) => ({
    resource: { attributes: [{ key: 'service.name', value: service }, { key: 'pod', value: `${service}-1` }], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: { name: 's', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [0, 1, 2, 3].map((k) => rec(from + k)) }],
  });
  return { resourceLogs: [res('checkout', 0), res('frontend', 10), res('payments', 20)] };
}

const services = new Set(['checkout', 'payments']);

describe('otel_logs leaves from the Native columns', () => {
  it('are the same from protobuf bytes with patches as from the patched records, and cover only the chosen services', () => {
    const patches = Array.from({ length: 12 }, (_, i) => (i % 2 ? { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', attributes: [{ key: 'route', value: '/patched' }, { key: 'k8s.ns', value: 'shop' }] } : undefined));
    const bytes = encodeLogsProto(data());
    const fromBytes = new OtelLogsLeaves(services);
    const cols = walkAll(logsColumnsWalk([bytes], 12, patches, fromBytes));
    const d = data();
    let i = 0;
    for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) if (patches[i++]) applyLogPatch(r, patches[i - 1]!);
    const fromRecords = new OtelLogsLeaves(services);
    logColumnsOf(d, fromRecords);
    expect(cols.rows).toBe(12);
    expect([...fromBytes.rows.subarray(0, fromBytes.count)]).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(fromBytes.bodyHex).toEqual(fromRecords.bodyHex);
    expect(fromBytes.leaves('o/trailhouse/otel.otel_logs', 5)).toEqual(fromRecords.leaves('o/trailhouse/otel.otel_logs', 5));
    // Another index or origin is another leaf.
    const at5 = fromBytes.leaves('o/trailhouse/otel.otel_logs', 5);
    expect(new Set([...at5, ...fromBytes.leaves('o/trailhouse/otel.otel_logs', 6), ...fromBytes.leaves('p/trailhouse/otel.otel_logs', 5)]).size).toBe(3 * 8);
  });

  it('hashes the RowBinary of the body columns (a map as its keys, then its values)', () => {
    const d: LogsData = { resourceLogs: [{ ...data().resourceLogs[0]!, scopeLogs: [{ ...data().resourceLogs[0]!.scopeLogs[0]!, logRecords: [data().resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!] }] }] };
    const h = new OtelLogsLeaves(services);
    logColumnsOf(d, h);
    const s = (t: string) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t)]);
    const t = Buffer.alloc(4);
    t.writeUInt32LE(1_700_000_000);
    const body = Buffer.concat([
      t, s(''), s(''), Buffer.from([0]), s(''),
      Buffer.from([2]), s('service.name'), s('pod'), Buffer.from([2]), s('checkout'), s('checkout-1'),
      s(''), s('s'), s('1'), Buffer.from([0]), Buffer.from([0]),
      s('line 1 ü'),
      Buffer.from([2]), s('n'), s('route'), Buffer.from([2]), s('1'), s('/pay'),
      s(''),
    ]);
    expect(h.bodyHex).toEqual([createHash('sha256').update(body).digest('hex')]);
  });
});
