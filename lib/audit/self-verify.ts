/**
 * The pipeline checks its own trail now and then: the same walk as
 * `trailhouse verify` (verify-run.ts) over its own store, against its local
 * witness file and its own trusted keys (the verifiers file next to the
 * signing key), and records each result as an audit event
 * (`configuration` / `integrity.verify`, outcome success or failure) through
 * the SecurityEvent path, so it lands in audit_events and in the signed log.
 *
 * What it proves, and what not (README "The audit trail as evidence"): it
 * catches tampering done through the engine by someone who does not also
 * own this host; it is not an auditor's independent verify (the keys and
 * the witness it trusts are this machine's, and whoever owns the host can
 * forge its events). The auditor still runs `trailhouse verify` with the
 * public key obtained out of band.
 *
 * Bounded cost: at most one run at a time, reads one at a time on a
 * read-only session (self-verify-source.ts), one page fetched ahead, the
 * event loop handed back between pages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { s } from '../../core/config/schema.ts';
import { emitSecurityEvent, nowNanos, type SecurityEvent } from '../../core/security-events.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { nextTurn } from '../../core/yield.ts';
import { readVerifiersFile } from '../tlog/keys.ts';
import { runVerify } from './verify-run.ts';
import type { VerifySource } from './verify-store.ts';
import type { VerifyReport } from './verify-types.ts';
import { parseWitnessFile } from './verify-witness.ts';

export interface SelfVerifyConfig {
  /** How often the pipeline verifies its own trail (ms); 0 = never. Default 1h. */
  interval: number;
}

export const defaultSelfVerify = (): SelfVerifyConfig => ({ interval: 3_600_000 });
export const selfVerifySchema = s.object({ interval: s.duration() });

/** What an integrity.verify event says (its Details). */
export const SELF_VERIFY_ACTION = 'integrity.verify';
const FAILURES_LISTED = 10;

export interface SelfVerifyOptions {
  source: VerifySource;
  table: string;
  /** With an otel_logs log: where its retention policies are recorded. Default audit_events. */
  auditTable?: string;
  /** The local witness file (null: none configured). */
  witnessFile: string | null;
  /** The verifiers file next to the signing key (this machine's keys, current and retired). */
  verifiersFile: string;
  intervalMs: number;
  logger: Logger;
  /** Where the events go; default the process's SecurityEvent path. */
  emit?: (e: SecurityEvent) => void;
}

export class SelfVerifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SecurityEvent> | undefined;
  private closed = false;

  constructor(private readonly o: SelfVerifyOptions) {}

  /** Runs every interval (the first one an interval after start). */
  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.run(), this.o.intervalMs);
    this.timer.unref();
  }

  /** One check now (or the one already running), its event emitted; never rejects. */
  run(): Promise<SecurityEvent> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async check(): Promise<SecurityEvent> {
    const began = Date.now();
    const o = this.o;
    const details: Record<string, string> = { resource: `${o.source.database}.${o.table}`, witness: o.witnessFile ?? '(none)' };
    let outcome: 'success' | 'failure' = 'failure';
    try {
      const trusted = existsSync(o.verifiersFile) ? readVerifiersFile(o.verifiersFile) : [];
      if (!trusted.length) throw new Error(`no trusted key in ${o.verifiersFile}`);
      const w = o.witnessFile && existsSync(o.witnessFile) ? parseWitnessFile(readFileSync(o.witnessFile, 'utf8'), o.witnessFile) : { checkpoints: [], bad: [], remarks: [o.witnessFile ? `${o.witnessFile} does not exist yet` : 'no witness file configured'] };
      const pause = async () => {
        if (this.closed) throw new Error('the pipeline is shutting down');
        await nextTurn();
      };
      const { report } = await runVerify({ source: o.source, table: o.table, auditTable: o.auditTable, witness: w.checkpoints, bad: w.bad, remarks: w.remarks, trustedKeys: trusted, fetches: 1, pause });
      Object.assign(details, describe(report));
      outcome = report.ok ? 'success' : 'failure';
    } catch (err) {
      details.summary = `could not verify: ${(err as Error).message}`;
      details.error = (err as Error).message;
    }
    details.duration_ms = String(Date.now() - began);
    const e: SecurityEvent = {
      time: nowNanos(),
      category: 'configuration',
      action: SELF_VERIFY_ACTION,
      outcome,
      subject: 'trailhouse',
      source: '',
      surface: 'self_verify',
      reason: '',
      details,
    };
    // A run cut short by shutdown proved nothing either way: no event.
    if (this.closed && details.error !== undefined) return e;
    if (outcome === 'success') o.logger.info('audit trail self-check', { summary: details.summary });
    else o.logger.warn('audit trail self-check FAILED', { summary: details.summary, failures: details.failures_listed ?? details.error });
    (o.emit ?? emitSecurityEvent)(e);
    return e;
  }
}

/** A report as the event's details: the summary line, its counts, the first failures, the newest checkpoint per origin. */
export function describe(r: VerifyReport): Record<string, string> {
  const sm = r.summary;
  const failures: string[] = [];
  for (const f of r.findings) if (f.failure) failures.push(`${f.kind} ${f.origin ? `${f.origin}@${f.index ?? '?'}${f.end !== undefined && f.end - (f.index ?? 0) > 1 ? `..${f.end - 1}` : ''}` : '(row without origin)'}: ${f.detail}`);
  for (const c of [...r.origins.flatMap((o) => o.checkpoints), ...r.unreadable]) if (!c.valid) failures.push(`checkpoint ${c.origin} size ${c.size} INVALID: ${c.problems.join('; ')}`);
  const newest: Record<string, number> = {};
  for (const o of r.origins) newest[o.origin] = o.witnessedSize;
  return {
    summary: `${sm.checkpointsValid}/${sm.checkpoints} checkpoints valid, ${sm.rowsValid}/${sm.rows} rows valid${sm.unwitnessed ? ` (${sm.unwitnessed} newer rows not yet covered by a checkpoint)` : ''}${r.ok ? '' : `: FAILED, ${sm.failures} problem(s)`}`,
    checkpoints_valid: String(sm.checkpointsValid),
    checkpoints: String(sm.checkpoints),
    rows_valid: String(sm.rowsValid),
    rows: String(sm.rows),
    unwitnessed: String(sm.unwitnessed),
    failures: String(sm.failures),
    ...(failures.length ? { failures_listed: failures.slice(0, FAILURES_LISTED).join('\n') + (failures.length > FAILURES_LISTED ? `\n… ${failures.length - FAILURES_LISTED} more` : '') } : {}),
    newest_checkpoints: JSON.stringify(newest),
  };
}
