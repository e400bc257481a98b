/**
 * The check every shipper receiver makes: an Envoy access log that arrived as
 * a JSON line (or Istio's default text line) is classified by `audit` exactly
 * like the same entry sent over OTLP with its fields as attributes.
 */
import { expect } from 'vitest';
import type { KeyValue, LogRecord } from '../core/model.ts';
import { classifyRecord, compileRules } from '../processors/audit/classify.ts';
import { defaultAuditRules } from '../processors/audit/config.ts';
import { ENVOY_RBAC_DENIED, ISTIO_LINES, envoyOtel, istioText } from '../processors/audit/testdata/fixtures.ts';

const rules = compileRules(defaultAuditRules());
const res: KeyValue[] = [{ key: 'service.name', value: 'istio-proxy' }];

/** Envoy's JSON access log line of ENVOY_RBAC_DENIED (numbers as Envoy writes them). */
export const ENVOY_JSON_LINE = JSON.stringify({ ...ENVOY_RBAC_DENIED, response_code: 403, bytes_received: 0, bytes_sent: 19, duration: 0 });
export const ISTIO_TEXT_LINE = ISTIO_LINES.rbacDenied;

// What identifies an event, apart from time and trace context (a shipped line carries neither of OTLP's).
const essence = (r: LogRecord) =>
  classifyRecord(r, res, rules).map((e) => ({ category: e.category, action: e.action, outcome: e.outcome, policy: e.policy, principal: e.principal, source: e.source, destination: e.destination, resource: e.resource, details: e.details }));

/** `record` (the Envoy JSON line received by a shipper receiver) gives the OTLP record's events. */
export function expectEnvoyJsonClassified(record: LogRecord): void {
  const want = essence(envoyOtel(ENVOY_RBAC_DENIED));
  expect(want.length).toBeGreaterThan(0);
  expect(essence(record)).toEqual(want);
}

/** `record` (Istio's text line received by a shipper receiver) gives the same events as the line in an OTLP body. */
export function expectIstioTextClassified(record: LogRecord): void {
  const want = essence(istioText(ISTIO_TEXT_LINE));
  expect(want.length).toBeGreaterThan(0);
  expect(essence(record)).toEqual(want);
}
