import { describe, expect, it } from 'vitest';
import { logRecordCount, newLogRecord, spanCount, type LogsData } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesJson } from '../../core/otlp/index.ts';
import { sampleLogs, sampleTraces } from '../../test/helpers.ts';
import { buildMessages, buildRawMessages, groupLogsByTrace, groupTracesByTrace, logsCodec, nameMessages, PartitionKeys, tracesCodec, type Built } from './messages.ts';
import { decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { TRACE_ID_FIELD } from '../../core/otlp/slice.ts';
import type { TracesData } from '../../core/model.ts';
import { randomBytes } from 'node:crypto';
import { fnv1a32, hashPartitioner, kafkajsPartitioner } from '../../exporters/kafka/partitions.ts';

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

  it('groups by target partition: one message per partition, key = its first trace id, records without one unkeyed', () => {
    const data = sampleLogs(50);
    const recs = data.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[7]!.traceId = '';
    const hash = hashPartitioner(3);
    const keys = new PartitionKeys(3, hash);
    const built = buildMessages(logsCodec('otlp_proto'), data, groupLogsByTrace, 1_000_000, keys);
    expect(built.messages).toHaveLength(4);
    const unkeyed = built.messages.filter((m) => m.key === null);
    expect(unkeyed).toHaveLength(1);
    expect(unkeyed[0]!.partition).toBeUndefined();
    expect(logRecordCount(decodeLogsProto(unkeyed[0]!.value))).toBe(1);
    const keyed = built.messages.filter((m) => m.key !== null);
    expect(keyed.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
    for (const m of keyed) {
      const ids = decodeLogsProto(m.value).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.traceId)));
      expect(ids[0]).toBe(m.key);
      for (const id of ids) expect(hash(id)).toBe(m.partition);
    }
    expect(built.messages.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(50);
    // Ids name the partition count: a replay after the topic grew never reuses one for other content.
    nameMessages(built.messages, 'tok', 3);
    expect(built.messages.map((m) => m.id)).toEqual(['tok/0@3', 'tok/1@3', 'tok/2@3', 'tok/3@3']);
  });

  it('a partition group over the size limit is split, every piece to the same partition', () => {
    const data = sampleLogs(200);
    const keys = () => new PartitionKeys(2, hashPartitioner(2));
    const whole = buildMessages(logsCodec('otlp_proto'), data, groupLogsByTrace, 10_000_000, keys());
    const max = Math.floor(Math.max(...whole.messages.map((m) => m.value.length)) / 3);
    const built = buildMessages(logsCodec('otlp_proto'), data, groupLogsByTrace, max, keys());
    expect(built.messages.length).toBeGreaterThan(whole.messages.length);
    const hash = hashPartitioner(2);
    for (const m of built.messages) {
      expect(m.value.length).toBeLessThanOrEqual(max);
      for (const r of decodeLogsProto(m.value).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))) expect(hash(r.traceId)).toBe(m.partition);
    }
    expect(built.messages.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(200);
  });

  it('murmur2: the trace-id hash is kafkajs\' default partitioner (the Java client\'s), for every length and many keys', () => {
    for (const count of [1, 3, 8, 12, 64]) {
      const ours = hashPartitioner(count, 'murmur2');
      const theirs = kafkajsPartitioner(count);
      for (let i = 0; i < 2000; i++) {
        const key = i < 40 ? 'ab01'.repeat(10).slice(0, i) : randomBytes(16).toString('hex');
        expect(ours(key)).toBe(theirs(key));
      }
      expect(ours('héllo wörld')).toBe(theirs('héllo wörld'));
    }
  });

  it('sarama_compat (the default): FNV-1a 32 as Sarama\'s HashPartitioner and the Collector place a key', () => {
    // FNV-1a 32 reference values (the FNV specification's test vectors).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // [partitions, key, partition] from github.com/IBM/sarama v1.61.1's NewHashPartitioner
    // (a one-off Go program calling it; franz-go's SaramaCompatHasher, the Collector's default, agrees).
    const sarama: Array<[number, string, number]> = [
  [1, "", 0],
  [1, "a", 0],
  [1, "0af7651916cd43dd8448eb211c80319c", 0],
  [1, "4bf92f3577b34da6a3ce929d0e0e4736", 0],
  [1, "00000000000000000000000000000001", 0],
  [1, "ffffffffffffffffffffffffffffffff", 0],
  [1, "5b8efff798038103d269b633813fc60c", 0],
  [1, "héllo wörld", 0],
  [3, "", 0],
  [3, "a", 0],
  [3, "0af7651916cd43dd8448eb211c80319c", 1],
  [3, "4bf92f3577b34da6a3ce929d0e0e4736", 0],
  [3, "00000000000000000000000000000001", 0],
  [3, "ffffffffffffffffffffffffffffffff", 0],
  [3, "5b8efff798038103d269b633813fc60c", 2],
  [3, "héllo wörld", 0],
  [8, "", 3],
  [8, "a", 4],
  [8, "0af7651916cd43dd8448eb211c80319c", 3],
  [8, "4bf92f3577b34da6a3ce929d0e0e4736", 6],
  [8, "00000000000000000000000000000001", 6],
  [8, "ffffffffffffffffffffffffffffffff", 3],
  [8, "5b8efff798038103d269b633813fc60c", 1],
  [8, "héllo wörld", 6],
  [12, "", 3],
  [12, "a", 0],
  [12, "0af7651916cd43dd8448eb211c80319c", 7],
  [12, "4bf92f3577b34da6a3ce929d0e0e4736", 6],
  [12, "00000000000000000000000000000001", 6],
  [12, "ffffffffffffffffffffffffffffffff", 3],
  [12, "5b8efff798038103d269b633813fc60c", 5],
  [12, "héllo wörld", 6],
  [64, "", 59],
  [64, "a", 20],
  [64, "0af7651916cd43dd8448eb211c80319c", 59],
  [64, "4bf92f3577b34da6a3ce929d0e0e4736", 46],
  [64, "00000000000000000000000000000001", 14],
  [64, "ffffffffffffffffffffffffffffffff", 59],
  [64, "5b8efff798038103d269b633813fc60c", 25],
  [64, "héllo wörld", 30],
    ];
    for (const [count, key, partition] of sarama) expect([count, key, hashPartitioner(count)(key)]).toEqual([count, key, partition]);
    expect(hashPartitioner(8, 'sarama_compat')('0af7651916cd43dd8448eb211c80319c')).toBe(hashPartitioner(8)('0af7651916cd43dd8448eb211c80319c'));
  });

  describe('from the received bytes (no decode, no re-encode)', () => {
    /** Three resources, two scopes each, trace ids repeating across them, some records without one. */
    function mixedLogs(): LogsData {
      const ids = Array.from({ length: 9 }, () => randomBytes(16).toString('hex'));
      const base = sampleLogs(1).resourceLogs[0]!;
      return {
        resourceLogs: [0, 1, 2].map((r) => ({
          resource: { attributes: [{ key: 'service.name', value: `svc-${r}` }, { key: 'n', value: BigInt(r) }], droppedAttributesCount: 0 },
          schemaUrl: r ? 'https://opentelemetry.io/schemas/1.4.0' : '',
          scopeLogs: [0, 1].map((sc) => ({
            scope: { ...base.scopeLogs[0]!.scope, name: `scope-${sc}` },
            schemaUrl: '',
            logRecords: Array.from({ length: 7 }, (_, i) => newLogRecord({ traceId: (r + sc + i) % 5 === 0 ? '' : ids[(r * 3 + i) % 9]!, spanId: 'ab'.repeat(8), body: `r${r} s${sc} i${i} ` + 'x'.repeat(i * 40), timeUnixNano: BigInt(i + 1) })),
          })),
        })),
      };
    }

    function mixedTraces(): TracesData {
      const ids = Array.from({ length: 6 }, () => randomBytes(16).toString('hex'));
      const base = sampleTraces(1).resourceSpans[0]!;
      return {
        resourceSpans: [0, 1].map((r) => ({
          resource: { attributes: [{ key: 'service.name', value: `svc-${r}` }], droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [{ scope: base.scopeSpans[0]!.scope, schemaUrl: 'u', spans: Array.from({ length: 10 }, (_, i) => ({ ...base.scopeSpans[0]!.spans[0]!, traceId: ids[(r + i) % 6]!, spanId: i.toString(16).padStart(16, '0'), name: `op-${r}-${i}` })) }],
        })),
      };
    }

    /** The records of a LogsData split into two requests, as a batch of two received requests keeps them. */
    function twoRequests<T extends LogsData | TracesData>(data: T, encode: (d: T) => Uint8Array, key: 'resourceLogs' | 'resourceSpans'): Uint8Array[] {
      const all = (data as unknown as Record<string, unknown[]>)[key]!;
      return [encode({ [key]: all.slice(0, 1) } as unknown as T), encode({ [key]: all.slice(1) } as unknown as T)];
    }

    function same(a: Built, b: Built, decode: (v: Buffer) => unknown): void {
      expect(b.messages.map((m) => [m.key, m.partition])).toEqual(a.messages.map((m) => [m.key, m.partition]));
      expect(b.messages.map((m) => decode(m.value))).toEqual(a.messages.map((m) => decode(m.value)));
      expect([b.tooLarge, b.messages.length]).toEqual([a.tooLarge, a.messages.length]);
    }

    it('logs: the same messages as decoding and re-encoding, by partition, by trace, whole, and split to fit', () => {
      const data = mixedLogs();
      const raw = twoRequests(data, encodeLogsProto, 'resourceLogs');
      const keys = () => new PartitionKeys(4, hashPartitioner(4));
      const codec = logsCodec('otlp_proto');
      same(buildMessages(codec, data, groupLogsByTrace, 1_000_000, keys()), buildRawMessages(raw, TRACE_ID_FIELD.logs, true, 1_000_000, keys()), decodeLogsProto);
      same(buildMessages(codec, data, groupLogsByTrace, 1_000_000), buildRawMessages(raw, TRACE_ID_FIELD.logs, true, 1_000_000), decodeLogsProto);
      same(buildMessages(codec, data, null, 1_000_000), buildRawMessages(raw, TRACE_ID_FIELD.logs, false, 1_000_000), decodeLogsProto);
      const split = buildRawMessages(raw, TRACE_ID_FIELD.logs, true, 700, keys());
      expect(split.messages.length).toBeGreaterThan(4);
      for (const m of split.messages) expect(m.value.length).toBeLessThanOrEqual(700);
      same(buildMessages(codec, data, groupLogsByTrace, 700, keys()), split, decodeLogsProto);
      const total = (b: Built) => b.messages.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0);
      expect(total(split) + split.tooLarge).toBe(42);
    });

    it('logs: a record that can never fit is counted, the rest sent', () => {
      const data = sampleLogs(3);
      data.resourceLogs[0]!.scopeLogs[0]!.logRecords.push(newLogRecord({ body: 'x'.repeat(5000) }));
      const built = buildRawMessages([encodeLogsProto(data)], TRACE_ID_FIELD.logs, false, 2048);
      expect(built.tooLarge).toBe(1);
      expect(built.largestBytes).toBeGreaterThan(5000);
      same(buildMessages(logsCodec('otlp_proto'), data, null, 2048), built, decodeLogsProto);
    });

    it('traces: the same messages as decoding and re-encoding', () => {
      const data = mixedTraces();
      const raw = twoRequests(data, encodeTracesProto, 'resourceSpans');
      const keys = () => new PartitionKeys(3, hashPartitioner(3));
      const codec = tracesCodec('otlp_proto');
      same(buildMessages(codec, data, groupTracesByTrace, 1_000_000, keys()), buildRawMessages(raw, TRACE_ID_FIELD.traces, true, 1_000_000, keys()), decodeTracesProto);
      same(buildMessages(codec, data, groupTracesByTrace, 900, keys()), buildRawMessages(raw, TRACE_ID_FIELD.traces, true, 900, keys()), decodeTracesProto);
    });

    it('an all-zero trace id is no trace id, as when decoded: such records go unkeyed', () => {
      const data = sampleLogs(2);
      const recs = data.resourceLogs[0]!.scopeLogs[0]!.logRecords;
      recs[0]!.traceId = '0'.repeat(32);
      recs[1]!.traceId = 'ab'.repeat(16);
      const bytes = encodeLogsProto(data);
      const keys = () => new PartitionKeys(4, hashPartitioner(4));
      const built = buildRawMessages([bytes], TRACE_ID_FIELD.logs, true, 1_000_000, keys());
      same(buildMessages(logsCodec('otlp_proto'), decodeLogsProto(bytes), groupLogsByTrace, 1_000_000, keys()), built, decodeLogsProto);
      expect(built.messages.map((m) => m.key).sort()).toEqual(['ab'.repeat(16), null].sort());
    });

    it('refuses bytes that are not a well-formed request', () => {
      const good = encodeLogsProto(sampleLogs(2));
      expect(() => buildRawMessages([good.subarray(0, good.length - 3)], TRACE_ID_FIELD.logs, true, 1_000_000)).toThrow(/past the end|truncated/);
    });
  });
});
