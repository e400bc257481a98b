/** Audit rows as the audit classification gives them, for detector tests. */
import type { AuditEvent, Category, Outcome } from '../../../lib/audit/event.ts';
import type { AuditRow } from '../../../lib/audit/schema.ts';
import type { AlertSignal, AlertSink } from '../../../lib/detect/signal.ts';

let n = 0;

export function row(category: Category, action: string, outcome: Outcome, over: Partial<AuditEvent> = {}): AuditRow {
  const id = `test-${n++}-0`;
  const event: AuditEvent = {
    time: 1_780_000_000_000_000_000n,
    category,
    action,
    outcome,
    principal: '',
    source: '',
    destination: '',
    resource: '',
    policy: '',
    traceId: '',
    spanId: '',
    ...over,
    details: { event_id: id, ...(over.details ?? {}) },
  };
  return { event, service: 'istio-proxy', fallbackTime: 0n };
}

export const denial = (principal: string, destination: string, path: string, traceId = ''): AuditRow =>
  row('authorization', 'rbac', 'denied', { principal, destination, resource: path, source: '10.0.0.9:41000', traceId });
export const allowed = (principal: string, destination: string, path: string): AuditRow => row('authorization', 'rbac', 'allowed', { principal, destination, resource: path });
export const sensitive = (principal: string, destination: string, path: string, source = '10.0.0.7:5000'): AuditRow =>
  row('sensitive_access', 'access', 'allowed', { principal, destination, resource: path, source, details: { sensitive: 'true' } });
export const authFailure = (source: string, destination: string, action = 'tls_verification'): AuditRow => row('authentication', action, 'failure', { source, destination });
export const change = (verb: string, resource: string, user: string, time?: bigint): AuditRow =>
  row('configuration', verb, 'success', { principal: user, resource, destination: 'kube-apiserver', ...(time ? { time } : {}) });

export class RecordingSink implements AlertSink {
  readonly signals: AlertSignal[] = [];
  raise(s: AlertSignal): void {
    this.signals.push(s);
  }
  keys(): string[] {
    return this.signals.map((s) => s.key);
  }
  clear(): void {
    this.signals.length = 0;
  }
}

/** A clock tests move by hand. */
export class Clock {
  constructor(public ms = Date.UTC(2026, 11, 7, 10, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
