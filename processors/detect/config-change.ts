/**
 * config_change: a create/update/patch/delete of a security-relevant mesh
 * resource (AuthorizationPolicy, PeerAuthentication, RequestAuthentication
 * and the configured `kinds`) always alerts, learning period or not; outside
 * every configured change window (UTC) at `outside_window_severity`.
 */
import type { AuditRow } from '../../lib/audit/schema.ts';
import { globToRegExp, matchAny } from '../../lib/audit/glob.ts';
import type { ConfigChangeConfig } from './config.ts';
import { inChangeWindow, parseChangeWindow, type ChangeWindow } from './change-window.ts';
import { evidenceOf, timeOf, type DetectContext, type Detector } from './detector.ts';

export class ConfigChangeDetector implements Detector {
  readonly name = 'config_change' as const;
  private readonly kinds: RegExp[];
  private readonly verbs: Set<string>;
  private readonly outcomes: Set<string>;
  private readonly windows: ChangeWindow[];

  constructor(
    private readonly cfg: ConfigChangeConfig,
    private readonly ctx: DetectContext,
  ) {
    this.kinds = cfg.kinds.map(globToRegExp);
    this.verbs = new Set(cfg.verbs);
    this.outcomes = new Set(cfg.outcomes);
    this.windows = cfg.change_windows.map((w) => parseChangeWindow(w).window!);
  }

  readonly size = 0;

  observe(row: AuditRow): void {
    const e = row.event;
    if (e.category !== 'configuration' || !this.verbs.has(e.action) || !this.outcomes.has(e.outcome)) return;
    // resource: `<resource>.<group>/<namespace>/<name>[/<subresource>]` (processors/audit/k8s.ts).
    const kind = e.resource.split('/', 1)[0]!;
    if (!matchAny(this.kinds, kind)) return;
    const time = timeOf(row);
    const ms = Number(time / 1_000_000n);
    const outside = this.windows.length > 0 && !inChangeWindow(this.windows, ms);
    const details: Record<string, string> = { kind, verb: e.action, outcome: e.outcome };
    if (this.windows.length) details.change_window = outside ? 'outside' : 'inside';
    if (e.policy) details.policy = e.policy;
    this.ctx.raised(this.name);
    this.ctx.sink.raise({
      detector: this.name,
      severity: outside ? this.cfg.outside_window_severity : this.cfg.severity,
      key: `${this.name}|${e.action}|${e.resource}`,
      time,
      principal: e.principal,
      source: e.source,
      destination: e.destination,
      resource: e.resource,
      reason: `${e.principal || 'someone'} ${e.outcome === 'success' ? '' : `tried to (${e.outcome}) `}${e.action} ${e.resource}${outside ? ' outside the change windows' : ''}`,
      count: 1,
      evidence: evidenceOf(row),
      details,
    });
  }

  tick(): void {}

  takeDirty(): Array<[string, string]> {
    return [];
  }

  load(): void {}
}
