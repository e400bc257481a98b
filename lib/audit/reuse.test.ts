// The audit processor takes the detect processor's rows only when they are
// what classifying the payload again would give (correlate's ids applied).
import { describe, expect, it } from 'vitest';
import { emptyScope, type LogPatch, type LogsData } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { classifyPayload } from './classify-payload.ts';
import { compileRules } from './classify.ts';
import { defaultAuditRules } from './rules.ts';
import { bodyHashHex } from './leaf.ts';
import { recordOfEventId } from './event-id.ts';
import { rememberClassified, takeClassified } from './reuse.ts';
// Record shapes of the real sources, as the audit processor's tests use them.
import { ENVOY_RBAC_DENIED, ISTIO_LINES, envoyOtel, istioText } from '../../processors/audit/testdata/fixtures.ts';

const rules = compileRules(defaultAuditRules());
const data = (): LogsData => ({
  resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: 'httpbin' }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: [istioText(ISTIO_LINES.ok200), envoyOtel(ENVOY_RBAC_DENIED, false), istioText(ISTIO_LINES.rbacDenied)] }] }],
});

function payload(): Payload<'logs'> {
  const p = Payload.ofBytes('logs', [encodeLogsProto(data())], 3);
  p.dedupToken = 'tok';
  return p;
}

const context = (traceId: string): LogPatch => ({ traceId, spanId: '1111111111111111', attributes: [{ key: 'trailhouse.span.name', value: 'GET /admin' }] });

describe('audit: reusing the detect processor’s classification', () => {
  it('gives the rows classifying again gives, with the trace ids correlate patched in', async () => {
    const p = payload();
    rememberClassified(p, rules, classifyPayload(p, rules));
    p.patch([undefined, context('ab'.repeat(16)), context('cd'.repeat(16))]);
    const got = await takeClassified(p, rules);
    const want = classifyPayload(p, rules);
    expect(want.map((r) => r.event.traceId)).toEqual(['ab'.repeat(16), 'ab'.repeat(16), 'cd'.repeat(16)]);
    expect(got!.map((r) => r.event)).toEqual(want.map((r) => r.event));
    // Taken once.
    expect(await takeClassified(p, rules)).toBeUndefined();
  });

  it('classifies again for other rules, changed bytes, or a patch of an attribute the rules read', async () => {
    const a = payload();
    rememberClassified(a, rules, classifyPayload(a, rules));
    expect(await takeClassified(a, compileRules(defaultAuditRules()))).toBeUndefined();

    const b = payload();
    rememberClassified(b, rules, classifyPayload(b, rules));
    b.replaceParts([encodeLogsProto(data())]);
    expect(await takeClassified(b, rules)).toBeUndefined();

    const c = payload();
    rememberClassified(c, rules, classifyPayload(c, rules));
    c.patch([{ attributes: [{ key: 'response_code', value: '200' }] }]);
    expect(await takeClassified(c, rules)).toBeUndefined();

    const d = payload();
    rememberClassified(d, rules, Promise.reject(new Error('walk failed')));
    expect(await takeClassified(d, rules)).toBeUndefined();
  });

  it('rows carry their body hash when the rules ask for it; a row whose ids correlate changed carries none', async () => {
    const hashing = { ...rules, hashBodies: true };
    const p = payload();
    const rows = classifyPayload(p, hashing);
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) expect(r.bodyHash).toBe(bodyHashHex(r.event));
    expect(classifyPayload(payload(), rules).map((r) => r.bodyHash)).toEqual(rows.map(() => undefined));

    rememberClassified(p, hashing, rows);
    // Record 1's ids change; record 2's patch gives the ids it already has.
    const same = rows.find((r) => recordOfEventId(r.event.details.event_id!) === 2)!.event;
    p.patch([undefined, context('ab'.repeat(16)), { traceId: same.traceId, spanId: same.spanId, attributes: [] }]);
    const got = (await takeClassified(p, hashing))!;
    for (const r of got) {
      const record = recordOfEventId(r.event.details.event_id!);
      expect(r.bodyHash, `record ${record}`).toBe(record === 1 ? undefined : bodyHashHex(r.event));
    }
    expect(got.some((r) => recordOfEventId(r.event.details.event_id!) === 1)).toBe(true);
  });
});
