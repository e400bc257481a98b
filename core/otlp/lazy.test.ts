import { describe, expect, it } from 'vitest';
import { clientInfo, setClientInfo } from '../client.ts';
import { cloneLogs, cloneTraces, logRecordCount, patchLogs, pendingRecords, rawProto, releaseRecords, spanCount, undecodedLogs } from '../model.ts';
import { meshAccessLogs, meshSpans } from './fixtures.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto, OtlpDecodeError } from './index.ts';
import { lazyLogs, scanLogsLazily, scanTracesLazily } from './lazy.ts';

describe('payloads validated but not decoded', () => {
  it('count, copy and carry their bytes without decoding; build the records on first read', () => {
    const bytes = encodeLogsProto(meshAccessLogs(40));
    const data = scanLogsLazily(bytes);
    expect(logRecordCount(data)).toBe(40);
    expect(rawProto(data)).toEqual([bytes]);
    setClientInfo(data, { address: '10.0.0.9', metadata: new Map([['x-tenant', ['a']]]) });
    const copy = cloneLogs(data);
    expect(pendingRecords(data)).toBeDefined();
    expect(pendingRecords(copy)).toBeDefined();
    expect(clientInfo(copy)?.address).toBe('10.0.0.9');
    // First read: the decoder's records, and the payload is an ordinary one from then on.
    expect(data.resourceLogs).toEqual(decodeLogsProto(bytes).resourceLogs);
    expect(pendingRecords(data)).toBeUndefined();
    expect(data.resourceLogs).toBe(data.resourceLogs);
    // The copy is independent: changing one payload's records leaves the other's alone.
    data.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = 'changed';
    expect(copy.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body).not.toBe('changed');
    expect(logRecordCount(data)).toBe(40);
  });

  it('several requests are one payload: their resources concatenated, in order', () => {
    const a = meshAccessLogs(3, 1);
    const b = meshAccessLogs(5, 2);
    const data = lazyLogs([encodeLogsProto(a), encodeLogsProto(b)], 8);
    expect(logRecordCount(data)).toBe(8);
    expect(data.resourceLogs).toEqual([...decodeLogsProto(encodeLogsProto(a)).resourceLogs, ...decodeLogsProto(encodeLogsProto(b)).resourceLogs]);
  });

  it('assigning records replaces the pending ones', () => {
    const data = scanLogsLazily(encodeLogsProto(meshAccessLogs(4)));
    data.resourceLogs = [];
    expect(pendingRecords(data)).toBeUndefined();
    expect(logRecordCount(data)).toBe(0);
  });

  it('spans the same way, and a malformed request is refused up front as the decoder refuses it', () => {
    const bytes = encodeTracesProto(meshSpans(12));
    const data = scanTracesLazily(bytes);
    expect(spanCount(data)).toBe(12);
    expect(spanCount(cloneTraces(data))).toBe(12);
    expect(data.resourceSpans).toEqual(decodeTracesProto(bytes).resourceSpans);
    expect(() => scanTracesLazily(bytes.subarray(0, bytes.length - 5))).toThrow(OtlpDecodeError);
  });

  it('patched logs: the bytes plus the patches, applied when read, carried by copies, never offered as bytes alone', () => {
    const bytes = encodeLogsProto(meshAccessLogs(3));
    const data = scanLogsLazily(bytes);
    const tid = 'ab'.repeat(16);
    patchLogs(data, [undefined, { traceId: tid, spanId: 'cd'.repeat(8), attributes: [{ key: 'a', value: 'x' }, { key: 'http.request.method', value: 'POST' }] }]);
    // A second patch on top: setAttr semantics (replaces the first occurrence, else appends).
    patchLogs(data, [{ attributes: [{ key: 'b', value: 1n }] }, { attributes: [{ key: 'a', value: 'y' }, { key: 'c', value: true }] }]);
    expect(pendingRecords(data)).toBeUndefined();
    expect(undecodedLogs(data)?.patches?.length).toBe(2);
    expect(rawProto(data)).toBeUndefined();
    const copy = cloneLogs(data);
    expect(rawProto(copy)).toBeUndefined();
    expect(releaseRecords(data)).toBe(false);
    const want = decodeLogsProto(bytes).resourceLogs;
    const recs = want.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    recs[0]!.attributes.push({ key: 'b', value: 1n });
    recs[1]!.traceId = tid;
    recs[1]!.spanId = 'cd'.repeat(8);
    recs[1]!.attributes.find((kv) => kv.key === 'http.request.method')!.value = 'POST';
    recs[1]!.attributes.push({ key: 'a', value: 'y' }, { key: 'c', value: true });
    expect(data.resourceLogs).toEqual(want);
    expect(copy.resourceLogs).toEqual(want);
    expect(undecodedLogs(data)).toBeUndefined();
    expect(() => patchLogs(data, [])).toThrow(/decoded/);
    // Patching a copy leaves the original's patches alone.
    const first = { attributes: [{ key: 'a', value: 'x' }] };
    const orig = scanLogsLazily(bytes);
    patchLogs(orig, [first]);
    const twin = cloneLogs(orig);
    patchLogs(twin, [{ attributes: [{ key: 'a', value: 'changed' }] }]);
    expect(first.attributes[0]!.value).toBe('x');
    expect(orig.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.at(-1)).toEqual({ key: 'a', value: 'x' });
    expect(twin.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.at(-1)).toEqual({ key: 'a', value: 'changed' });
  });
});
