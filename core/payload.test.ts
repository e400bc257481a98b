import { describe, expect, it } from 'vitest';
import { meshAccessLogs, meshSpans } from './otlp/fixtures.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto, OtlpDecodeError } from './otlp/index.ts';
import { Payload } from './payload.ts';

describe('the payload envelope', () => {
  it('bytes wait: counted, copied and carried without decoding; records() decodes once, and says it did', () => {
    const bytes = encodeLogsProto(meshAccessLogs(40));
    const p = Payload.scan('logs', bytes, { address: '10.0.0.9', metadata: new Map([['x-tenant', ['a']]]) });
    expect(p.count).toBe(40);
    expect(p.bytes()).toEqual([bytes]);
    const copy = p.copy();
    expect(p.content.kind).toBe('bytes');
    expect(copy.content.kind).toBe('bytes');
    expect(copy.client?.address).toBe('10.0.0.9');
    // First read: the decoder's records, kept; the bytes still describe them.
    const recs = p.records();
    expect(recs.resourceLogs).toEqual(decodeLogsProto(bytes).resourceLogs);
    expect(p.content.kind).toBe('records');
    expect(p.records()).toBe(recs);
    expect(p.bytes()).toEqual([bytes]);
    // The copy is independent: changing one payload's records leaves the other's alone.
    p.recordsToChange().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = 'changed';
    expect(p.bytes()).toBeUndefined(); // changed: the bytes would be stale
    expect(copy.records().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body).not.toBe('changed');
    expect(p.count).toBe(40);
  });

  it('several requests are one payload: their resources concatenated, in order', () => {
    const a = meshAccessLogs(3, 1);
    const b = meshAccessLogs(5, 2);
    const p = Payload.ofBytes('logs', [encodeLogsProto(a), encodeLogsProto(b)], 8);
    expect(p.count).toBe(8);
    expect(p.records().resourceLogs).toEqual([...decodeLogsProto(encodeLogsProto(a)).resourceLogs, ...decodeLogsProto(encodeLogsProto(b)).resourceLogs]);
  });

  it('setRecords replaces the records and their bytes', () => {
    const p = Payload.scan('logs', encodeLogsProto(meshAccessLogs(4)));
    p.setRecords({ resourceLogs: [] });
    expect(p.bytes()).toBeUndefined();
    expect(p.count).toBe(0);
  });

  it('spans the same way, and a malformed request is refused up front as the decoder refuses it', () => {
    const bytes = encodeTracesProto(meshSpans(12));
    const p = Payload.scan('traces', bytes);
    expect(p.count).toBe(12);
    expect(p.copy().count).toBe(12);
    expect(p.records().resourceSpans).toEqual(decodeTracesProto(bytes).resourceSpans);
    expect(() => Payload.scan('traces', bytes.subarray(0, bytes.length - 5))).toThrow(OtlpDecodeError);
  });

  it('release lets decoded records go only while the bytes describe them, and records() builds them again', () => {
    const bytes = encodeLogsProto(meshAccessLogs(5));
    const p = Payload.fromProto('logs', bytes, false);
    expect(p.content.kind).toBe('records');
    expect(p.release()).toBe(true);
    expect(p.content).toEqual({ kind: 'bytes', parts: [bytes], count: 5 });
    expect(p.records().resourceLogs).toEqual(decodeLogsProto(bytes).resourceLogs);
    p.recordsToChange();
    expect(p.release()).toBe(false);
    expect(Payload.logs(meshAccessLogs(2)).release()).toBe(false); // no bytes known
  });

  it('patched logs: the bytes plus the patches, applied when read, carried by copies, never offered as bytes alone', () => {
    const bytes = encodeLogsProto(meshAccessLogs(3));
    const p = Payload.scan('logs', bytes);
    const tid = 'ab'.repeat(16);
    p.patch([undefined, { traceId: tid, spanId: 'cd'.repeat(8), attributes: [{ key: 'a', value: 'x' }, { key: 'http.request.method', value: 'POST' }] }]);
    // A second patch on top: setAttr semantics (replaces the first occurrence, else appends).
    p.patch([{ attributes: [{ key: 'b', value: 1n }] }, { attributes: [{ key: 'a', value: 'y' }, { key: 'c', value: true }] }]);
    const c = p.content;
    expect(c.kind === 'bytes' && c.patches?.length).toBe(2);
    expect(p.bytes()).toBeUndefined();
    const copy = p.copy();
    expect(copy.bytes()).toBeUndefined();
    expect(p.release()).toBe(false);
    expect(() => p.replaceParts([bytes])).toThrow(/patched/);
    const want = decodeLogsProto(bytes).resourceLogs;
    const recs = want.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    recs[0]!.attributes.push({ key: 'b', value: 1n });
    recs[1]!.traceId = tid;
    recs[1]!.spanId = 'cd'.repeat(8);
    recs[1]!.attributes.find((kv) => kv.key === 'http.request.method')!.value = 'POST';
    recs[1]!.attributes.push({ key: 'a', value: 'y' }, { key: 'c', value: true });
    expect(p.records().resourceLogs).toEqual(want);
    expect(copy.records().resourceLogs).toEqual(want);
    expect(p.content.kind).toBe('records');
    expect(p.bytes()).toBeUndefined(); // decoded with patches: no bytes describe these records
    expect(() => p.patch([])).toThrow(/decoded/);
    // Patching a copy leaves the original's patches alone.
    const first = { attributes: [{ key: 'a', value: 'x' }] };
    const orig = Payload.scan('logs', bytes);
    orig.patch([first]);
    const twin = orig.copy();
    twin.patch([{ attributes: [{ key: 'a', value: 'changed' }] }]);
    expect(first.attributes[0]!.value).toBe('x');
    expect(orig.records().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.at(-1)).toEqual({ key: 'a', value: 'x' });
    expect(twin.records().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.at(-1)).toEqual({ key: 'a', value: 'changed' });
  });

  it('replaceParts swaps the request bytes of an undecoded payload, keeping count and client', () => {
    const a = encodeLogsProto(meshAccessLogs(2, 1));
    const b = encodeLogsProto(meshAccessLogs(2, 2));
    const p = Payload.scan('logs', a, { address: '1.2.3.4', metadata: new Map() });
    p.replaceParts([b]);
    expect(p.bytes()).toEqual([b]);
    expect(p.count).toBe(2);
    expect(p.client?.address).toBe('1.2.3.4');
    p.records();
    expect(() => p.replaceParts([a])).toThrow(/decoded/);
  });

  it('toBytes: bytes stay, decoded records with their bytes are let go, other records (patches applied) are encoded once', () => {
    const bytes = encodeLogsProto(meshAccessLogs(3));
    const undecoded = Payload.scan('logs', bytes);
    expect(undecoded.toBytes()).toEqual([bytes]);
    const decoded = Payload.fromProto('logs', bytes, false);
    expect(decoded.toBytes()).toEqual([bytes]);
    expect(decoded.content.kind).toBe('bytes');
    const records = meshAccessLogs(3);
    const built = Payload.logs(records, { address: '10.0.0.1', metadata: new Map() });
    const parts = built.toBytes();
    expect(parts).toHaveLength(1);
    expect(built.content).toEqual({ kind: 'bytes', parts, count: 3 });
    expect(built.client?.address).toBe('10.0.0.1');
    expect(built.records().resourceLogs).toEqual(decodeLogsProto(encodeLogsProto(records)).resourceLogs);
    const patched = Payload.scan('logs', bytes);
    patched.patch([{ attributes: [{ key: 'p', value: 'q' }] }]);
    const out = patched.toBytes();
    expect(patched.bytes()).toBe(out);
    expect(decodeLogsProto(out[0]!).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.at(-1)).toEqual({ key: 'p', value: 'q' });
  });
});
