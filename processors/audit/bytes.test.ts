// Classifying a payload still in request bytes (views of its records,
// core/otlp/log-view.ts) must give exactly the rows classifying its decoded
// records gives, patches (correlate's enrichment) included.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { emptyScope, KvList, newLogRecord, type LogPatch, type LogRecord, type LogsData } from '../../core/model.ts';
import { randomLogs, randomValue, Rng } from '../../core/otlp/fixtures.ts';
import { decodeLogsProto, encodeLogsProto } from '../../core/otlp/index.ts';
import { Writer } from '../../core/otlp/protowire.ts';
import { makeBatch } from '../../scripts/bench/workload.ts';
import { classifyPayload, classifyPayloadSliced } from './audit.ts';
import { TimeSlice } from '../../core/yield.ts';
import { compileRules } from './classify.ts';
import { defaultAuditRules, DEFAULT_ATTRIBUTES } from './config.ts';
import { ENVOY_RBAC_DENIED, ISTIO_LINES, envoyOtel, istioText, k8sAuthorizationPolicyPatch, semconv } from './testdata/fixtures.ts';
import { applyLogPatch, Payload } from '../../core/payload.ts';
import { LOG_SLOTS, LogRecordsView, logRecordsViewOf, readLogsPart } from '../../core/otlp/log-records-view.ts';

// With and without require_peer_identity: detail fields read from the wire are read when an event needs them, or for that rule.
const ruleSets = [compileRules({ ...defaultAuditRules(), require_peer_identity: ['*.svc'] }), compileRules(defaultAuditRules())];

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-29T12:00:00Z'));
});
afterAll(() => {
  vi.useRealTimers();
});

function payloadOf(records: LogRecord[], service = 'istio-proxy'): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'k8s.cluster.name', value: 'prod' }, { key: 'service.name', value: service }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }],
      },
    ],
  };
}

function compare(parts: Uint8Array[], patches?: (LogPatch | undefined)[]): number {
  const records: LogsData = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
  const count = records.resourceLogs.reduce((n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0), 0);
  if (patches) {
    let i = 0;
    for (const rl of records.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) if (patches[i++]) applyLogPatch(r, patches[i - 1]!);
  }
  const lazy = Payload.ofBytes('logs', parts, count);
  if (patches) lazy.patch(patches);
  let n = 0;
  for (const rules of ruleSets) {
    const want = classifyPayload(Payload.logs(records), rules);
    const got = classifyPayload(lazy, rules, undefined, !patches);
    expect(got).toEqual(want);
    n += want.length;
  }
  if (!patches) expectViewLeft(parts, count);
  return n;
}

/**
 * The classification, the first walk behind the queue, leaves the view of
 * the records the walks after it read (core/otlp/log-records-view.ts): the
 * same view their own walk would read.
 */
function expectViewLeft(parts: Uint8Array[], count: number): void {
  const left = logRecordsViewOf(parts)!;
  expect(left).toBeDefined();
  const own = new LogRecordsView(parts);
  for (let k = 0; k < parts.length; k++) readLogsPart(own, k);
  expect(left.count).toBe(count);
  expect(left.partEnds).toEqual(own.partEnds);
  expect(left.traceIds).toEqual(own.traceIds);
  expect([...left.fields.subarray(0, count * LOG_SLOTS)]).toEqual([...own.fields.subarray(0, count * LOG_SLOTS)]);
}

describe('audit: classifying request bytes', () => {
  it('gives the rows of the decoded records for every fixture shape (Envoy attributes, Istio text lines, semconv, Kubernetes audit bodies)', () => {
    const records = [
      envoyOtel(ENVOY_RBAC_DENIED),
      envoyOtel({ ...ENVOY_RBAC_DENIED, response_code: 200n }, false),
      ...Object.values(ISTIO_LINES).map((l) => istioText(l)),
      istioText(ISTIO_LINES.rbacDenied, { observedTimeUnixNano: 5n }),
      semconv({ 'http.response.status_code': 401n, 'url.path': '/admin/x', 'http.request.method': 'GET', 'server.address': 'api.svc' }),
      semconv({ 'http.response.status_code': 429, 'url.path': '/a' }),
      newLogRecord({ body: JSON.stringify(k8sAuthorizationPolicyPatch()) }),
      newLogRecord({ body: new KvList([{ key: 'apiVersion', value: 'audit.k8s.io/v1' }, { key: 'kind', value: 'Event' }, { key: 'verb', value: 'delete' }]) }),
    ];
    expect(compare([encodeLogsProto(payloadOf(records)), encodeLogsProto(payloadOf(records.slice(0, 3), 'other'))])).toBeGreaterThan(10);
  });

  it('on the bench workload and on random payloads (odd values under the keys it reads)', () => {
    expect(compare([encodeLogsProto(makeBatch(200, 1).logs)])).toBeGreaterThan(50);
    const keys = Object.values(DEFAULT_ATTRIBUTES).flat();
    for (let seed = 1; seed <= 100; seed++) {
      const rng = new Rng(seed);
      const data = randomLogs(seed);
      // Give the random records some of the keys the classifier reads, with any value type.
      for (const rl of data.resourceLogs) {
        for (const sl of rl.scopeLogs) {
          for (const r of sl.logRecords) {
            for (let k = rng.int(6); k > 0; k--) r.attributes.push({ key: rng.pick(keys), value: rng.chance(0.5) ? rng.pick(['403', '/admin/a', 'UAEX', 'TLS error', '-']) : randomValue(rng) });
          }
        }
      }
      compare([encodeLogsProto(data)]);
    }
  });

  it('sees patches: linked ids in its events, patched attributes it reads', () => {
    const records = [envoyOtel(ENVOY_RBAC_DENIED, false), istioText(ISTIO_LINES.ok200), envoyOtel(ENVOY_RBAC_DENIED)];
    const patches: (LogPatch | undefined)[] = [
      { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: [{ key: 'trailhouse.linked_by', value: 'x-request-id' }] },
      { attributes: [{ key: 'url.path', value: '/admin/secret' }, { key: 'response_flags', value: 'RL' }] },
      { attributes: [{ key: 'response_code_details', value: 'via_upstream' }, { key: 'http.response.status_code', value: 200n }] },
    ];
    const rows = compare([encodeLogsProto(payloadOf(records))], patches);
    expect(rows).toBeGreaterThan(1);
  });

  it('reads attributes written in any layout (value before key, a key written twice, no value)', () => {
    const w = new Writer();
    const rl = w.startMessage(1);
    const sl = w.startMessage(2);
    const rec = w.startMessage(2);
    const kv = (write: () => void) => {
      const at = w.startMessage(6);
      write();
      w.endMessage(at);
    };
    const value = (s: string) => {
      const v = w.startMessage(2);
      w.string(1, s);
      w.endMessage(v);
    };
    kv(() => { value('403'); w.string(1, 'http.response.status_code'); });
    kv(() => { w.string(1, 'ignored'); w.string(1, 'url.path'); value('/admin/x'); });
    kv(() => { w.string(1, 'response_flags'); });
    kv(() => { w.string(1, 'downstream_peer_uri_san'); value('spiffe://a'); value('spiffe://b'); });
    w.tag(1, 1);
    w.fixed64(1_700_000_000_000_000_000n);
    w.endMessage(rec);
    w.endMessage(sl);
    w.endMessage(rl);
    expect(compare([w.finish()])).toBeGreaterThanOrEqual(2);
  });

  it('part by part, handing the event loop back between parts: the same rows, ordinals of the patches across the parts', async () => {
    const records = [envoyOtel(ENVOY_RBAC_DENIED, false), istioText(ISTIO_LINES.ok200), envoyOtel(ENVOY_RBAC_DENIED)];
    const parts = [encodeLogsProto(makeBatch(50, 1).logs), encodeLogsProto(payloadOf(records)), encodeLogsProto(makeBatch(50, 2).logs), encodeLogsProto(payloadOf(records))];
    const count = parts.reduce((n, p) => n + decodeLogsProto(p).resourceLogs.reduce((m, rl) => m + rl.scopeLogs.reduce((k, sl) => k + sl.logRecords.length, 0), 0), 0);
    // Patches on the records of the last part, whose ordinals follow the others'.
    const patches: (LogPatch | undefined)[] = new Array(count);
    patches[count - 3] = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: [{ key: 'trailhouse.linked_by', value: 'x-request-id' }] };
    patches[count - 2] = { attributes: [{ key: 'url.path', value: '/admin/secret' }, { key: 'response_flags', value: 'RL' }] };
    const lazy = Payload.ofBytes('logs', parts, count);
    lazy.patch(patches);
    const want = compare(parts, patches);
    const ms = TimeSlice.ms;
    try {
      TimeSlice.ms = 0;
      for (const rules of ruleSets) {
        let done = false;
        let doneAtTurn: boolean | undefined;
        setImmediate(() => (doneAtTurn = done));
        const out = classifyPayloadSliced(lazy, rules);
        expect(out).toBeInstanceOf(Promise);
        const rows = await out;
        done = true;
        expect(doneAtTurn).toBe(false);
        expect(rows).toEqual(classifyPayload(lazy, rules));
      }
      expect(want).toBeGreaterThan(4);
    } finally {
      TimeSlice.ms = ms;
    }
  });
});
