/**
 * Stores the process's SecurityEvents (core/security-events.ts: queries of
 * the store, refused logins on receivers and on the query interface) as
 * audit_events rows, so "who looked at the evidence, and who tried to get
 * in" is answered by the evidence store itself (category `data_access` /
 * `authentication`, ServiceName `trailhouse`).
 *
 * One writer per process: the first audit processor to start takes the
 * subscription (security-events.ts hands it the events raised before), the
 * others write only classified records. Without an audit processor the
 * events are not stored: the query interface's log lines remain, and
 * security-events.ts keeps at most 10000 early events for a writer that
 * never comes.
 *
 * Rows are batched (every `flushMs`, 5 s: an insert per second is a part per
 * second to merge, which cost a polled store a third of its span throughput;
 * or `maxBatch` rows) and inserted through
 * the audit processor's insert path (SqlStore.insert: Native or JSONEachRow,
 * malformed rows a PermanentError); a failed insert is retried with backoff
 * under the same dedup token, so a retry that did land is stored once. The
 * buffer is bounded (`maxBuffered`); beyond it events are dropped and
 * counted. The writer's own inserts go to the store directly, not through the
 * query interface, so they raise no access events.
 */
import { randomUUID } from 'node:crypto';
import { PermanentError } from '../../core/errors.ts';
import { WakeableSleep } from '../../core/wakeable-sleep.ts';
import { onSecurityEvent, securityEventSize, type SecurityEvent } from '../../core/security-events.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { AuditEvent } from '../../lib/audit/event.ts';
import { AUDIT_COLUMNS, auditNative, auditRow, type AuditRow } from '../../lib/audit/schema.ts';
import type { SqlStore } from '../../lib/clickhouse/sql-store.ts';

export interface SecurityWriterOptions {
  flushMs?: number;
  maxBatch?: number;
  maxBuffered?: number;
  /** And at most this many bytes (SQL rides in access events). Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Backoff of a failed insert: first wait, and the longest. */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** Detail keys never stored, whoever raised the event: a credential must not reach the store by a careless surface. */
const SECRET_KEY = /passw|authoriz|secret|credential|token|api[-_]?key|^key$|cookie/i;

export function securityEventRow(e: SecurityEvent): AuditRow {
  const details: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.details)) if (!SECRET_KEY.test(k)) details[k] = v;
  if (e.reason) details.reason = e.reason;
  const event: AuditEvent = {
    time: e.time,
    category: e.category,
    action: e.action,
    outcome: e.outcome,
    principal: e.subject,
    source: e.source,
    destination: e.surface,
    resource: details.database ?? details.resource ?? '',
    policy: details.role ? `role:${details.role}` : '',
    traceId: '',
    spanId: '',
    details,
  };
  return { event, service: 'trailhouse', fallbackTime: e.time };
}

/** How rows are written when not inserted directly: the audit log's append (the same rows, the same token on a retry). */
export type WriteRows = (rows: AuditRow[], dedupToken: string) => Promise<void>;

let claimed = false;

export class SecurityEventWriter {
  private buffer: AuditRow[] = [];
  private sizes: number[] = [];
  private bufferedBytes = 0;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** Set by close(): a failing insert is given up instead of retried. */
  private closing = false;
  private readonly backoff = new WakeableSleep();
  private readonly dropped: Counter | undefined;
  private readonly written: Counter | undefined;
  private readonly o: Required<SecurityWriterOptions>;

  private constructor(
    private readonly store: SqlStore,
    private readonly table: string,
    private readonly logger: Logger,
    metrics: MetricsRegistry | undefined,
    o: SecurityWriterOptions,
    private readonly write: WriteRows | undefined,
  ) {
    this.o = { flushMs: 5000, maxBatch: 1000, maxBuffered: 50_000, maxBufferedBytes: 16 * 1024 * 1024, retryInitialMs: 500, retryMaxMs: 10_000, ...o };
    this.dropped = metrics?.counter('trailhouse_security_events_dropped', 'Security events (access, refused logins) not stored: buffer full or rows refused.');
    this.written = metrics?.counter('trailhouse_security_events_written', 'Security events (access, refused logins) stored in audit_events.');
  }

  /** The process's writer, if none is running yet; undefined when another audit processor already writes them. */
  static claim(store: SqlStore, table: string, logger: Logger, metrics?: MetricsRegistry, o: SecurityWriterOptions = {}, write?: WriteRows): SecurityEventWriter | undefined {
    if (claimed) return undefined;
    claimed = true;
    const w = new SecurityEventWriter(store, table, logger, metrics, o, write);
    w.unsubscribe = onSecurityEvent((e) => w.add(e));
    w.timer = setInterval(() => void w.flush(), w.o.flushMs);
    w.timer.unref();
    return w;
  }

  private add(e: SecurityEvent): void {
    const size = securityEventSize(e);
    if (this.closed || this.buffer.length >= this.o.maxBuffered || this.bufferedBytes + size > this.o.maxBufferedBytes) {
      this.dropped?.add(1);
      return;
    }
    this.buffer.push(securityEventRow(e));
    this.sizes.push(size);
    this.bufferedBytes += size;
    if (this.buffer.length >= this.o.maxBatch) void this.flush();
  }

  /** Writes what is buffered; settles when it is stored (or given up). Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const rows = this.buffer.splice(0, this.o.maxBatch);
      // Still counted while the insert (and its retries) holds them.
      const bytes = this.sizes.splice(0, rows.length).reduce((a, b) => a + b, 0);
      try {
        await this.insert(rows, randomUUID());
      } finally {
        this.bufferedBytes -= bytes;
      }
    }
  }

  private async insert(rows: AuditRow[], dedupToken: string): Promise<void> {
    const encoded = { json: () => rows.map(auditRow).join('\n'), native: () => auditNative(rows) };
    let wait = this.o.retryInitialMs;
    for (;;) {
      try {
        if (this.write) await this.write(rows, dedupToken);
        else await this.store.insert(this.table, AUDIT_COLUMNS, encoded, { dedupToken });
        this.written?.add(rows.length);
        return;
      } catch (err) {
        if (err instanceof PermanentError || this.closing) {
          this.dropped?.add(rows.length);
          this.logger.error('security events not stored', { table: this.table, events: rows.length, error: err });
          return;
        }
        this.logger.warn('storing security events failed; retrying', { table: this.table, events: rows.length, retry_in_ms: wait, error: err });
        await this.backoff.sleep(wait);
        wait = Math.min(wait * 2, this.o.retryMaxMs);
      }
    }
  }

  /** Stops listening and stores what is buffered (one attempt if a retry is under way). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe?.();
    clearInterval(this.timer);
    this.closing = true;
    this.backoff.wake();
    await this.flush();
    this.closed = true;
    claimed = false;
  }
}
