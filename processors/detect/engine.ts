/**
 * The detectors of one detect processor, fed classified audit events and
 * service sightings, with the learning period and the state rows they
 * persist. No I/O: the processor (detect.ts) feeds it and stores its state.
 */
import type { AuditRow } from '../../lib/audit/schema.ts';
import type { AlertSink, DetectorName } from '../../lib/detect/signal.ts';
import { matchAny } from '../../lib/audit/glob.ts';
import type { CompiledRules } from '../../lib/audit/classify.ts';
import type { DetectConfig } from './config.ts';
import { ConfigChangeDetector } from './config-change.ts';
import type { DetectContext, Detector } from './detector.ts';
import { FirstSeenDetector } from './first-seen.ts';
import { SilentDetector } from './silent.ts';
import type { LoadedRow, StateRow } from './state-table.ts';
import { SurgeDetector } from './surge.ts';

/** The state table's row holding when learning started (`detector` = META). */
export const META = '_meta';
const LEARNING_STARTED = 'learning_started';

export interface EngineHooks {
  raised?(detector: DetectorName): void;
  evicted?(detector: DetectorName): void;
  /** The learning period just ended (what was learned should be persisted now). */
  learned?(): void;
}

export class DetectEngine {
  readonly detectors: Detector[] = [];
  readonly silent: SilentDetector | undefined;
  /** When learning began (ms): the earliest any ingester recorded, else this engine's start. */
  learningStarted: number;
  private learningDirty = true;
  private learned = false;

  constructor(
    private readonly cfg: DetectConfig,
    rules: CompiledRules,
    sink: AlertSink,
    readonly now: () => number = Date.now,
    private readonly hooks: EngineHooks = {},
  ) {
    const start = now();
    this.learningStarted = start;
    const ctx: DetectContext = {
      sink,
      now,
      learning: () => this.learning(),
      isSensitive: (path) => path !== '' && matchAny(rules.sensitive, path.split('?', 1)[0]!),
      raised: (d) => hooks.raised?.(d),
      evicted: (d) => hooks.evicted?.(d),
    };
    const d = cfg.detectors;
    if (d.first_seen_access.enabled) this.detectors.push(new FirstSeenDetector('first_seen_access', d.first_seen_access, ctx));
    if (d.deny_surge.enabled) this.detectors.push(new SurgeDetector('deny_surge', d.deny_surge, ctx));
    if (d.auth_failure_burst.enabled) this.detectors.push(new SurgeDetector('auth_failure_burst', d.auth_failure_burst, ctx));
    if (d.config_change.enabled) this.detectors.push(new ConfigChangeDetector(d.config_change, ctx));
    if (d.sensitive_first_seen.enabled) this.detectors.push(new FirstSeenDetector('sensitive_first_seen', d.sensitive_first_seen, ctx));
    if (d.source_silent.enabled) this.detectors.push((this.silent = new SilentDetector(d.source_silent, ctx, start)));
  }

  learning(): boolean {
    if (this.learned) return false;
    if (this.now() < this.learningStarted + this.cfg.learning_period) return true;
    this.learned = true;
    this.hooks.learned?.();
    return false;
  }

  observe(rows: readonly AuditRow[]): void {
    const ds = this.detectors;
    for (const row of rows) for (let i = 0; i < ds.length; i++) ds[i]!.observe(row);
  }

  seen(service: string): void {
    this.silent?.seen(service);
  }

  tick(): void {
    for (const d of this.detectors) d.tick();
  }

  /** Rows of the state table (this ingester's and others'), oldest first. */
  load(rows: readonly LoadedRow[]): void {
    const byName = new Map(this.detectors.map((d) => [d.name as string, d]));
    for (const r of rows) {
      if (r.detector === META) {
        const t = Number(r.value);
        if (r.key === LEARNING_STARTED && Number.isFinite(t) && t < this.learningStarted) {
          this.learningStarted = t;
          this.learned = false;
        }
        continue;
      }
      byName.get(r.detector)?.load(r.key, r.value);
    }
    // Ours is recorded once we hold the earliest; a later one from another ingester is no news.
  }

  /** What changed since the last call, for the state table. */
  takeDirty(): StateRow[] {
    const out: StateRow[] = [];
    if (this.learningDirty) {
      out.push({ detector: META, key: LEARNING_STARTED, value: String(this.learningStarted) });
      this.learningDirty = false;
    }
    for (const d of this.detectors) for (const [key, value] of d.takeDirty()) out.push({ detector: d.name, key, value });
    return out;
  }

  sizes(): Array<[DetectorName, number]> {
    return this.detectors.map((d) => [d.name, d.size]);
  }
}
