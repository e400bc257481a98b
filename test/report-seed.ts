/**
 * Known data for the evidence report tests, inserted straight into the
 * embedded store: logs with a 30-minute silence, spans, and audit events of
 * every category, including a principal and a destination that carry HTML.
 * The period is [day0, day0 + 2 days): recent enough that no TTL removes it.
 */
import { quote } from '../lib/retention/render.ts';

export const DAY_MS = 86_400_000;
export const day0 = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS;
export const FROM = new Date(day0).toISOString();
export const TO = new Date(day0 + 2 * DAY_MS).toISOString();
export const DAY0 = FROM.slice(0, 10);
export const DAY1 = new Date(day0 + DAY_MS).toISOString().slice(0, 10);

export const EVIL_PRINCIPAL = 'spiffe://cluster.local/ns/x/sa/<script>alert(1)</script></svg>';
export const EVIL_DESTINATION = 'db</svg><script>alert(2)</script>:5432';

const at = (dayOffset: number, h: number, m: number, s = 0) => day0 + dayOffset * DAY_MS + ((h * 60 + m) * 60 + s) * 1000;
const ts = (ms: number) => `fromUnixTimestamp64Milli(${ms})`;

function logs(): string[] {
  const rows: string[] = [];
  const log = (ms: number, service: string) => rows.push(`(${ts(ms)}, ${quote(service)}, 'hello')`);
  for (let m = 0; m < 10; m++) log(at(0, 10, m), 'checkout'); // 10:00..10:09
  for (let m = 40; m < 50; m++) log(at(0, 10, m), 'checkout'); // 10:40..10:49: 30 silent minutes before
  for (let m = 0; m < 5; m++) log(at(1, 12, m), 'checkout');
  for (const m of [0, 5, 10]) log(at(0, 11, m), 'payments'); // 4 silent minutes: under the 15-minute threshold
  log(day0 - 3_600_000, 'checkout'); // before the period
  return rows;
}

function spans(): string[] {
  const rows: string[] = [];
  const span = (ms: number, service: string, i: number) => rows.push(`(${ts(ms)}, '${i.toString(16).padStart(32, '0')}', '${i.toString(16).padStart(16, '0')}', ${quote(service)}, 'GET /')`);
  for (let i = 0; i < 4; i++) span(at(0, 10, i), 'checkout', i + 1);
  for (let i = 0; i < 2; i++) span(at(1, 9, i), 'checkout', i + 10);
  span(at(2, 0, 5), 'checkout', 99); // after the period
  return rows;
}

interface A {
  ms: number;
  category: string;
  action: string;
  outcome: string;
  principal?: string;
  source?: string;
  destination?: string;
  resource?: string;
  policy?: string;
  details?: Record<string, string>;
  service?: string;
}

function auditRow(a: A): string {
  const details = Object.entries(a.details ?? {}).map(([k, v]) => `${quote(k)}, ${quote(v)}`).join(', ');
  return `(${ts(a.ms)}, ${quote(a.category)}, ${quote(a.action)}, ${quote(a.outcome)}, ${quote(a.principal ?? '')}, ${quote(a.source ?? '')}, ${quote(a.destination ?? '')}, ${quote(a.resource ?? '')}, ${quote(a.policy ?? '')}, '', '', ${quote(a.service ?? 'istio-proxy')}, map(${details}))`;
}

function audit(): string[] {
  const ev: A[] = [];
  const authz = (d: number, n: number, outcome: string, principal: string, destination: string) => {
    for (let i = 0; i < n; i++) ev.push({ ms: at(d, 9, i), category: 'authorization', action: 'rbac', outcome, principal, destination, resource: '/admin' });
  };
  authz(0, 3, 'denied', EVIL_PRINCIPAL, EVIL_DESTINATION);
  authz(1, 1, 'denied', EVIL_PRINCIPAL, EVIL_DESTINATION);
  authz(0, 2, 'denied', 'spiffe://cluster.local/ns/a/sa/b', 'httpbin.foo:8000');
  authz(0, 5, 'allowed', 'spiffe://cluster.local/ns/a/sa/b', 'httpbin.foo:8000');
  authz(1, 3, 'allowed', 'spiffe://cluster.local/ns/a/sa/b', 'httpbin.foo:8000');
  ev.push({ ms: at(0, 14, 0), category: 'configuration', action: 'update', outcome: 'success', principal: 'admin@example.com', destination: 'kube-apiserver', resource: 'security.istio.io/foo/deny-all', policy: 'AuthorizationPolicy', details: { change: '{"spec":{"action":"DENY"}}' }, service: 'kube-apiserver' });
  ev.push({ ms: at(1, 8, 30), category: 'configuration', action: 'delete', outcome: 'success', principal: 'ops@example.com', destination: 'kube-apiserver', resource: 'security.istio.io/bar/allow-all', policy: 'AuthorizationPolicy', details: { change: 'deleted' }, service: 'kube-apiserver' });
  ev.push({ ms: at(0, 6, 0), category: 'configuration', action: 'pipeline.start', outcome: 'success', source: 'host-1', destination: 'pipeline', details: { version: '0.1.0', config_sha256: 'ab'.repeat(32) }, service: 'trailhouse' });
  for (let i = 0; i < 4; i++) ev.push({ ms: at(0, 15, i), category: 'data_access', action: 'query', outcome: 'allowed', principal: 'sre', source: '10.0.0.5', destination: 'query_interface', policy: 'role:reader', service: 'trailhouse' });
  ev.push({ ms: at(0, 15, 9), category: 'data_access', action: 'query', outcome: 'denied', principal: 'sre', source: '10.0.0.5', destination: 'query_interface', policy: 'role:reader', service: 'trailhouse' });
  for (let i = 0; i < 3; i++) ev.push({ ms: at(1, 3, i), category: 'authentication', action: 'login', outcome: 'failure', principal: 'admin', source: '10.0.0.9', destination: 'query_interface', service: 'trailhouse' });
  ev.push({ ms: at(1, 3, 5), category: 'authentication', action: 'login', outcome: 'rate_limited', principal: 'admin', source: '10.0.0.9', destination: 'query_interface', service: 'trailhouse' });
  ev.push({ ms: at(-1, 9, 0), category: 'authorization', action: 'rbac', outcome: 'denied', principal: 'before-the-period', destination: 'x' });
  return ev.map(auditRow);
}

/** The INSERT statements (database otel). */
export function seedSql(): string[] {
  return [
    `INSERT INTO otel.otel_logs (Timestamp, ServiceName, Body) VALUES ${logs().join(', ')}`,
    `INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) VALUES ${spans().join(', ')}`,
    `INSERT INTO otel.audit_events (Timestamp, Category, Action, Outcome, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, ServiceName, Details) VALUES ${audit().join(', ')}`,
  ];
}
