/**
 * first_seen_access and sensitive_first_seen: a principal reaching a
 * destination and path it was not seen reaching before (after the learning
 * period; a key unseen for `forget_after` counts as new again).
 *
 * first_seen_access looks at authorization decisions (allowed or denied, not
 * dry-run ones) on paths that are not sensitive; sensitive_first_seen at
 * sensitive_access events (an anonymous caller is keyed by its source
 * address). A record on a sensitive path is thus the second's alone.
 */
import type { AuditRow } from '../../lib/audit/schema.ts';
import type { DetectorName } from '../../lib/detect/signal.ts';
import { globToRegExp, matchAny } from '../../lib/audit/glob.ts';
import type { FirstSeenConfig } from './config.ts';
import { durationText, evidenceOf, hostOf, normalizePath, timeOf, type DetectContext, type Detector } from './detector.ts';
import { Keyed } from './keyed.ts';

/** A known key's last-seen time is rewritten at most this often (fewer state rows to write). */
const REFRESH_MS = 60_000;

export class FirstSeenDetector implements Detector {
  private readonly state: Keyed<number>;
  private readonly allow: Array<[RegExp, RegExp[]]>;

  constructor(
    readonly name: Extract<DetectorName, 'first_seen_access' | 'sensitive_first_seen'>,
    private readonly cfg: FirstSeenConfig,
    private readonly ctx: DetectContext,
  ) {
    this.state = new Keyed<number>(cfg.max_keys, () => ctx.evicted(name));
    this.allow = Object.entries(cfg.allow).map(([dest, paths]) => [globToRegExp(dest), paths.map(globToRegExp)]);
  }

  get size(): number {
    return this.state.size;
  }

  observe(row: AuditRow): void {
    const e = row.event;
    let principal: string;
    if (this.name === 'first_seen_access') {
      if (e.category !== 'authorization' || e.details.shadow === 'true' || !e.principal) return;
      if (this.ctx.isSensitive(e.resource)) return;
      principal = e.principal;
    } else {
      if (e.category !== 'sensitive_access' || e.action !== 'access') return;
      principal = e.principal || (e.source ? `source:${hostOf(e.source)}` : '');
      if (!principal) return;
    }
    const dest = e.destination;
    if (this.allowed(dest, e.resource)) return;
    const path = normalizePath(e.resource, this.cfg.path_depth);
    const key = `${principal}|${dest}|${path}`;
    const now = this.ctx.now();
    const last = this.state.touch(key);
    const forget = this.cfg.forget_after;
    if (last !== undefined && (forget === 0 || now - last <= forget)) {
      if (now - last >= REFRESH_MS) this.state.set(key, now);
      return;
    }
    this.state.set(key, now);
    if (this.ctx.learning()) return;
    const forgotten = last !== undefined;
    const what = this.name === 'first_seen_access' ? `${e.outcome === 'denied' ? 'was denied at' : 'reached'}` : `accessed sensitive path (${e.outcome})`;
    this.ctx.raised(this.name);
    this.ctx.sink.raise({
      detector: this.name,
      severity: this.cfg.severity,
      // One alert per principal and destination for ordinary paths (a probe of many paths is one alert, counted);
      // one per sensitive path.
      key: this.name === 'first_seen_access' ? `${this.name}|${principal}|${dest}` : `${this.name}|${principal}|${dest}|${path}`,
      time: timeOf(row),
      principal,
      source: e.source,
      destination: dest,
      resource: e.resource,
      reason: `${principal} ${what} ${dest}${path} for the first time${forgotten ? ` in ${durationText(forget)} (forget_after)` : ''}`,
      count: 1,
      evidence: evidenceOf(row),
      details: { path: path, outcome: e.outcome, category: e.category, ...(forgotten ? { last_seen_ms: String(last) } : {}) },
    });
  }

  private allowed(dest: string, path: string): boolean {
    for (const [d, paths] of this.allow) if (d.test(dest) && matchAny(paths, path)) return true;
    return false;
  }

  tick(): void {}

  takeDirty(): Array<[string, string]> {
    return this.state.takeDirty().map(([k, v]) => [k, String(v)]);
  }

  load(key: string, value: string): void {
    const t = Number(value);
    if (!Number.isFinite(t)) return;
    const had = this.state.peek(key);
    if (had === undefined || t > had) this.state.load(key, t);
  }
}
