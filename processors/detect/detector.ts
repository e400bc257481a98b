/** What every detector shares: the context it runs in, and the small helpers over audit events. */
import type { AuditRow } from '../../lib/audit/schema.ts';
import { MAX_EVIDENCE, type AlertSink, type DetectorName } from '../../lib/detect/signal.ts';

export interface DetectContext {
  sink: AlertSink;
  /** Wall-clock milliseconds: windows and learning run on arrival time, not on the records' clocks. */
  now(): number;
  /** True while the learning period lasts. */
  learning(): boolean;
  /** Whether a path is one of the audit rules' sensitive paths. */
  isSensitive(path: string): boolean;
  /** Counts a signal raised (metrics). */
  raised(detector: DetectorName): void;
  /** Counts a key forgotten for room (metrics). */
  evicted(detector: DetectorName): void;
}

export interface Detector {
  readonly name: DetectorName;
  /** One classified audit event, in arrival order. */
  observe(row: AuditRow): void;
  /** Timer checks (source_silent); the others do nothing. */
  tick(): void;
  /** Keys tracked now. */
  readonly size: number;
  /** State changed since the last call, as [key, value] strings for the state table. */
  takeDirty(): Array<[string, string]>;
  /** A row of the state table (this ingester's or another's): merged into what is known. */
  load(key: string, value: string): void;
}

/** The host part of `host:port`, `[v6]:port` or a bare address. */
export function hostOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : address;
  }
  const c = address.indexOf(':');
  return c >= 0 && address.indexOf(':', c + 1) < 0 ? address.slice(0, c) : address;
}

const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-fA-F]{16,}|[A-Za-z0-9_-]{24,})$/;

/**
 * The path as first-seen keys hold it: id-like segments (numbers, UUIDs,
 * long hex or tokens) become `*` and at most `depth` segments are kept, so
 * `/users/42` and `/users/43` are one place, not two alerts.
 */
export function normalizePath(path: string, depth: number): string {
  if (path === '' || path === '/') return '/';
  const segs = path.split('/');
  let out = '';
  let n = 0;
  for (let i = 1; i < segs.length && n < depth; i++) {
    const s = segs[i]!;
    if (s === '') continue;
    out += '/' + (ID_SEGMENT.test(s) ? '*' : s);
    n++;
  }
  return out || '/';
}

/** Event and trace ids of the events behind a signal, at most MAX_EVIDENCE of each (the latest kept). */
export class Evidence {
  eventIds: string[] = [];
  traceIds: string[] = [];

  add(row: AuditRow): void {
    const id = row.event.details.event_id;
    if (id) push(this.eventIds, id);
    const t = row.event.traceId;
    if (t && !this.traceIds.includes(t)) push(this.traceIds, t);
  }

  take(): { eventIds: string[]; traceIds: string[] } {
    const out = { eventIds: this.eventIds, traceIds: this.traceIds };
    this.eventIds = [];
    this.traceIds = [];
    return out;
  }
}

function push(list: string[], v: string): void {
  if (list.length >= MAX_EVIDENCE) list.shift();
  list.push(v);
}

export function evidenceOf(row: AuditRow): { eventIds: string[]; traceIds: string[] } {
  const e = new Evidence();
  e.add(row);
  return e.take();
}

export function timeOf(row: AuditRow): bigint {
  return row.event.time || row.fallbackTime;
}

export function durationText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
