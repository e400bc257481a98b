/**
 * The Native block built straight from OTLP protobuf against the one built
 * from the decoded records (native.test.ts checks that one against the engine):
 * byte for byte the same, for random payloads with every value shape, for the
 * Zipkin and Jaeger translations, and for wire layouts an encoder may produce
 * that ours does not (fields out of order, repeated messages merged).
 */
import { describe, expect, it } from 'vitest';
import { meshAccessLogs, meshSpans, randomLogs, randomTraces, randomValue, Rng } from '../../core/otlp/fixtures.ts';
import { decodeLogsProto, encodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { decodeTracesProto, encodeTracesProto } from '../../core/otlp/traces-proto.ts';
import { Writer } from '../../core/otlp/protowire.ts';
import { logRecordCount, spanCount, type LogPatch } from '../../core/model.ts';
import { applyLogPatch } from '../../core/payload.ts';
import { encodeLogsNative, encodeTracesNative, type NativeBlock } from './native.ts';
import { encodeLogsNativeProto, encodeTracesNativeProto, logsNativeWalk, tracesNativeWalk } from './native-proto.ts';
import { TimeSlice, walkSliced } from '../../core/yield.ts';
import { zipkinV2ToProto } from '../../receivers/zipkin/v2-translate.ts';
import { decodeV2Json } from '../../receivers/zipkin/v2-json.ts';

const bytesOf = (b: NativeBlock) => Buffer.concat(b.chunks);

function expectSame(parts: Uint8Array[]): void {
  const records = { resourceSpans: parts.flatMap((p) => decodeTracesProto(p).resourceSpans) };
  const rows = spanCount(records);
  expectBlocks(encodeTracesNativeProto(parts, rows), encodeTracesNative(records), rows);
}

/** The block from the bytes is the record path's, byte for byte. */
function expectBlocks(got: NativeBlock, want: NativeBlock, rows: number): void {
  expect(got.rows).toBe(rows);
  expect(got.structure).toBe(want.structure);
  expect(bytesOf(got).equals(bytesOf(want))).toBe(true);
}

describe('encodeTracesNativeProto', () => {
  it('matches the record path on random payloads (every AnyValue shape, events, links)', () => {
    for (let seed = 1; seed <= 200; seed++) expectSame([encodeTracesProto(randomTraces(seed))]);
  });

  it('matches on several parts (a joined batch) and on mesh spans', () => {
    expectSame([encodeTracesProto(meshSpans(50)), encodeTracesProto(randomTraces(7)), encodeTracesProto(meshSpans(3, 9))]);
  });

  it('matches on a Zipkin translation', () => {
    const spans = [
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b7', name: 'get', kind: 'SERVER', timestamp: 1_700_000_000_000_000, duration: 10,
        localEndpoint: { serviceName: 'web', ipv4: '10.0.0.1', port: 80 }, annotations: [{ timestamp: 1_700_000_000_000_001, value: 'x' }],
        tags: { 'http.status_code': '500', error: 'boom', 'otel.library.name': 'l' } },
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b8', parentId: '00f067aa0ba902b7', name: 'q', timestamp: 1_700_000_000_000_002, duration: 1 },
    ];
    expectSame([zipkinV2ToProto(decodeV2Json(Buffer.from(JSON.stringify(spans))), { parseStringTags: true })]);
  });

  it('reads the resource and scope after their spans, merges repeated fields, and stores a span that ends before it starts with duration 0', () => {
    const w = new Writer();
    const rs = w.startMessage(1);
    const ss = w.startMessage(2);
    const sp = w.startMessage(2);
    w.bytes(1, Buffer.alloc(16, 0xab));
    w.bytes(2, Buffer.alloc(8, 1));
    w.bytes(4, Buffer.alloc(8, 0)); // an all-zero parent: no parent
    w.string(5, 'first');
    w.string(5, 'second'); // the last value wins
    w.tag(7, 1);
    w.fixed64(2_000n);
    w.tag(8, 1);
    w.fixed64(1_000n);
    // A KeyValue with its value before its key, and an int value.
    const kv = w.startMessage(9);
    const v = w.startMessage(2);
    w.tag(3, 0);
    w.int64(-42n);
    w.endMessage(v);
    w.string(1, 'n');
    w.endMessage(kv);
    let st = w.startMessage(15);
    w.string(2, 'why');
    w.endMessage(st);
    st = w.startMessage(15);
    w.tag(3, 0);
    w.uint32(2);
    w.endMessage(st);
    w.endMessage(sp);
    const scope = w.startMessage(1);
    w.string(1, 'lib');
    w.endMessage(scope);
    w.endMessage(ss);
    const res = w.startMessage(1);
    const a = w.startMessage(1);
    w.string(1, 'service.name');
    const av = w.startMessage(2);
    w.string(1, 'svc');
    w.endMessage(av);
    w.endMessage(a);
    w.endMessage(res);
    w.endMessage(rs);
    const bytes = w.finish();
    expectSame([bytes]);
    const span = decodeTracesProto(bytes).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({ name: 'second', parentSpanId: '', status: { code: 2, message: 'why' } });
  });

  it('refuses a payload whose span count is not the one given', () => {
    expect(() => encodeTracesNativeProto([encodeTracesProto(meshSpans(4))], 5)).toThrow(/holds 4 spans, not 5/);
  });
});

function expectSameLogs(parts: Uint8Array[], patches?: (LogPatch | undefined)[]): void {
  const records = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
  const rows = logRecordCount(records);
  if (patches) {
    let i = 0;
    for (const rl of records.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) if (patches[i++]) applyLogPatch(r, patches[i - 1]!);
  }
  expectBlocks(encodeLogsNativeProto(parts, rows, patches), encodeLogsNative(records), rows);
}

/** Random patches for `n` records: ids sometimes, attributes replacing keys the records have (and repeat) or new ones. */
function randomPatches(seed: number, n: number, keysOf: (i: number) => string[]): (LogPatch | undefined)[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    if (rng.chance(0.3)) return undefined;
    const keys = new Set<string>();
    const own = keysOf(i);
    for (let k = rng.int(6); k > 0; k--) keys.add(own.length && rng.chance(0.5) ? rng.pick(own) : rng.pick(['trailhouse.span.name', 'x', 'ü', rng.str()]));
    return {
      ...(rng.chance(0.3) ? { traceId: rng.hex(16) } : {}),
      ...(rng.chance(0.3) ? { spanId: rng.hex(8) } : {}),
      attributes: [...keys].map((key) => ({ key, value: rng.chance(0.5) ? rng.str() : randomValue(rng) })),
    };
  });
}

describe('encodeLogsNativeProto', () => {
  it('matches the record path on random payloads (every AnyValue shape in bodies and attributes)', () => {
    for (let seed = 1; seed <= 200; seed++) expectSameLogs([encodeLogsProto(randomLogs(seed))]);
  });

  it('matches on several parts and on mesh access logs', () => {
    expectSameLogs([encodeLogsProto(meshAccessLogs(50)), encodeLogsProto(randomLogs(7)), encodeLogsProto(meshAccessLogs(3, 9))]);
  });

  it('applies patches as setAttr applies them to the decoded records (ids, replaced keys, appended keys)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const parts = [encodeLogsProto(randomLogs(seed)), encodeLogsProto(meshAccessLogs(4, seed))];
      const recs = parts.flatMap((p) => decodeLogsProto(p).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
      expectSameLogs(parts, randomPatches(seed, recs.length, (i) => recs[i]!.attributes.map((kv) => kv.key)));
    }
  });

  it('takes the observed time when the time is 0, and whole seconds exactly at a second\'s edge and beyond 2^63', () => {
    const times = [0n, 1n, 999_999_999n, 1_000_000_000n, 1_764_000_000_000_000_000n - 1n, 1_764_000_000_000_000_000n, 2n ** 63n + 7n, 2n ** 64n - 1n];
    for (const t of times) {
      const logs = meshAccessLogs(2);
      const [a, b] = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords;
      a!.timeUnixNano = t;
      a!.observedTimeUnixNano = 5_000_000_000n;
      b!.timeUnixNano = 0n;
      b!.observedTimeUnixNano = t;
      expectSameLogs([encodeLogsProto(logs)]);
    }
  });

  it('reads a resource and scope written after their records, the last of repeated fields, and fields out of order', () => {
    const w = new Writer();
    const rl = w.startMessage(1);
    w.string(3, 'schema-1');
    const sl = w.startMessage(2);
    const rec = w.startMessage(2);
    w.hexBytes(10, 'aa'.repeat(8));
    let body = w.startMessage(5);
    w.string(1, 'first');
    w.endMessage(body);
    body = w.startMessage(5);
    w.tag(3, 0);
    w.int64(7n); // the last body wins: an int
    w.endMessage(body);
    w.bytes(9, Buffer.alloc(16, 0)); // an all-zero trace id: none
    w.tag(11, 1);
    w.fixed64(3_000_000_001n);
    w.string(3, 'WARN');
    w.string(12, 'ev');
    w.tag(8, 5);
    w.fixed32(0x1ff);
    w.endMessage(rec);
    w.string(3, 'scope-schema');
    const scope = w.startMessage(1);
    w.string(1, 'lib');
    w.string(2, '1.0');
    w.endMessage(scope);
    w.endMessage(sl);
    w.string(3, 'schema-2');
    const res = w.startMessage(1);
    const a = w.startMessage(1);
    w.string(1, 'service.name');
    const av = w.startMessage(2);
    w.string(1, 'svc');
    w.endMessage(av);
    w.endMessage(a);
    w.endMessage(res);
    w.endMessage(rl);
    const bytes = w.finish();
    expectSameLogs([bytes]);
    expectSameLogs([bytes], [{ attributes: [{ key: 'k', value: 'v' }] }]);
    expect(decodeLogsProto(bytes).resourceLogs[0]).toMatchObject({ schemaUrl: 'schema-2', scopeLogs: [{ schemaUrl: 'scope-schema', logRecords: [{ body: 7n, traceId: '' }] }] });
  });

  it('refuses a payload whose record count is not the one given', () => {
    expect(() => encodeLogsNativeProto([encodeLogsProto(meshAccessLogs(4))], 5)).toThrow(/holds 4 log records, not 5/);
  });
});

describe('Native encoding part by part', () => {
  /** Awaits `out`, saying whether a setImmediate callback scheduled before it ran first. */
  async function yielded<T>(start: () => T | Promise<T>): Promise<{ value: T; turned: boolean }> {
    const ms = TimeSlice.ms;
    TimeSlice.ms = 0;
    try {
      let turned = false;
      setImmediate(() => (turned = true));
      const out = start();
      expect(out).toBeInstanceOf(Promise);
      const value = await out;
      return { value, turned };
    } finally {
      TimeSlice.ms = ms;
    }
  }

  it('hands the event loop back between parts and gives one block, byte for byte the one of the walk in one go (patch ordinals across parts)', async () => {
    const parts = [1, 2, 3, 4].map((seed) => encodeLogsProto(randomLogs(seed)));
    const records = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
    const rows = logRecordCount(records);
    const patches = randomPatches(7, rows, () => []);
    const got = await yielded(() => walkSliced(logsNativeWalk(parts, rows, patches)));
    expect(got.turned).toBe(true);
    expectBlocks(got.value, encodeLogsNativeProto(parts, rows, patches), rows);
    expectSameLogs(parts, patches);
  });

  it('spans too', async () => {
    const parts = [1, 2, 3].map((seed) => encodeTracesProto(randomTraces(seed)));
    const rows = parts.reduce((n, p) => n + spanCount(decodeTracesProto(p)), 0);
    const got = await yielded(() => walkSliced(tracesNativeWalk(parts, rows)));
    expect(got.turned).toBe(true);
    expectBlocks(got.value, encodeTracesNativeProto(parts, rows), rows);
  });

  it('a count that does not match the parts still fails, after the last part', async () => {
    const parts = [encodeLogsProto(meshAccessLogs(4)), encodeLogsProto(meshAccessLogs(4))];
    await expect(yielded(() => walkSliced(logsNativeWalk(parts, 9)))).rejects.toThrow(/holds 8 log records, not 9/);
  });
});
