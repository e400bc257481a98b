// The audit event id (Details['event_id']): the same for one event whichever
// stage classifies it, decoded or as bytes, and on every delivery of its payload.
import { describe, expect, it } from 'vitest';
import { emptyScope, type LogRecord, type LogsData } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { classifyPayload } from './classify-payload.ts';
import { compileRules } from './classify.ts';
import { defaultAuditRules } from './rules.ts';
import { ensureDedupToken, eventIdPrefix, recordOfEventId } from './event-id.ts';
// Record shapes of the real sources, as the audit processor's tests use them.
import { ENVOY_RBAC_DENIED, ISTIO_LINES, envoyOtel, istioText, k8sAuthorizationPolicyPatch } from '../../processors/audit/testdata/fixtures.ts';
import { newLogRecord } from '../../core/model.ts';

const rules = compileRules(defaultAuditRules());

function data(records: LogRecord[]): LogsData {
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: 'httpbin' }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }] }] };
}

const records = (): LogRecord[] => [
  istioText(ISTIO_LINES.ok200), // no event
  envoyOtel(ENVOY_RBAC_DENIED),
  newLogRecord({ body: JSON.stringify(k8sAuthorizationPolicyPatch()) }),
];

describe('audit event id', () => {
  it('is <hash of the dedup token>-<record ordinal>-<event index>, alike on records and bytes', () => {
    const decoded = Payload.logs(data(records()));
    decoded.dedupToken = 'kafka/g/logs/0/100-199';
    const bytes = Payload.ofBytes('logs', [encodeLogsProto(data(records()))], 3);
    bytes.dedupToken = 'kafka/g/logs/0/100-199';
    const a = classifyPayload(decoded, rules).map((r) => r.event.details.event_id);
    const b = classifyPayload(bytes, rules).map((r) => r.event.details.event_id);
    const prefix = eventIdPrefix('kafka/g/logs/0/100-199');
    expect(prefix).toMatch(/^[0-9a-f]{16}$/);
    expect(a[0]).toBe(`${prefix}-1-0`);
    expect(new Set(a).size).toBe(a.length);
    expect(b).toEqual(a);
    expect(a.map((id) => recordOfEventId(id!))).toEqual(a.map((id) => Number(id!.split('-')[1])));
    expect(a.at(-1)).toBe(`${prefix}-2-0`);
  });

  it('differs between payloads and is the same on a redelivery', () => {
    const one = Payload.logs(data(records()));
    one.dedupToken = 't1';
    const again = Payload.logs(data(records()));
    again.dedupToken = 't1';
    const other = Payload.logs(data(records()));
    other.dedupToken = 't2';
    const ids = (p: Payload<'logs'>) => classifyPayload(p, rules).map((r) => r.event.details.event_id);
    expect(ids(again)).toEqual(ids(one));
    expect(ids(other)).not.toEqual(ids(one));
  });

  it('a payload without a token gets one once, kept by later stages', () => {
    const p = Payload.logs(data(records()));
    const t = ensureDedupToken(p);
    expect(t).toMatch(/^local-/);
    expect(ensureDedupToken(p)).toBe(t);
    expect(recordOfEventId('nope')).toBe(-1);
  });
});
