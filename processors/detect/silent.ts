/**
 * source_silent: a service (the `service.name` of its logs and spans) that
 * sent nothing for longer than `gap`, checked on a timer; reported once per
 * silence (it is armed again when the service sends). The time the process
 * was down does not count: a service's last sighting is at least the start.
 */
import type { AuditRow } from '../../lib/audit/schema.ts';
import type { SilentConfig } from './config.ts';
import { durationText, type DetectContext, type Detector } from './detector.ts';
import { Keyed } from './keyed.ts';

interface Seen {
  /** Last sighting (ms). */
  t: number;
  /** Reported for the current silence. */
  a: boolean;
}

/** A sighting is rewritten at most this often (fewer state rows). */
const REFRESH_MS = 1000;

export class SilentDetector implements Detector {
  readonly name = 'source_silent' as const;
  private readonly state: Keyed<Seen>;

  constructor(
    private readonly cfg: SilentConfig,
    private readonly ctx: DetectContext,
    private readonly startedAt: number,
  ) {
    this.state = new Keyed<Seen>(cfg.max_keys, () => ctx.evicted('source_silent'));
  }

  get size(): number {
    return this.state.size;
  }

  observe(_row: AuditRow): void {}

  /** A payload of `service` arrived. */
  seen(service: string): void {
    const now = this.ctx.now();
    const s = this.state.touch(service);
    if (s === undefined) this.state.set(service, { t: now, a: false });
    else if (s.a || now - s.t >= REFRESH_MS) {
      s.t = now;
      s.a = false;
      this.state.dirty(service);
    }
  }

  tick(): void {
    const now = this.ctx.now();
    const gap = this.cfg.gap;
    for (const [service, s] of this.state.entries()) {
      if (s.a || now - s.t <= gap) continue;
      s.a = true;
      this.state.dirty(service);
      this.ctx.raised(this.name);
      this.ctx.sink.raise({
        detector: this.name,
        severity: this.cfg.severity,
        key: `${this.name}|${service}`,
        time: BigInt(now) * 1_000_000n,
        principal: '',
        source: service,
        destination: '',
        resource: '',
        reason: `${service} sent no logs or spans for ${durationText(now - s.t)} (gap ${durationText(gap)}); last seen ${new Date(s.t).toISOString()}`,
        count: 1,
        evidence: { eventIds: [], traceIds: [] },
        details: { service, gap: durationText(gap), last_seen: new Date(s.t).toISOString() },
      });
    }
  }

  takeDirty(): Array<[string, string]> {
    return this.state.takeDirty().map(([k, s]) => [k, JSON.stringify(s)]);
  }

  load(key: string, value: string): void {
    let v: { t?: unknown; a?: unknown };
    try {
      v = JSON.parse(value) as typeof v;
    } catch {
      return;
    }
    if (typeof v.t !== 'number' || typeof v.a !== 'boolean') return;
    // Reported already: stays reported until the service sends. Else the downtime does not count.
    const got: Seen = v.a ? { t: v.t, a: true } : { t: Math.max(v.t, this.startedAt), a: false };
    const had = this.state.peek(key);
    if (had && (had.t > got.t || (had.t === got.t && had.a))) return;
    this.state.load(key, got);
  }
}
