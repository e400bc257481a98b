/** The detect processor's configuration: where signals go, the rules it classifies with, and each detector's knobs. */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { SEVERITIES, type Severity } from '../../lib/detect/signal.ts';
import { parseChangeWindow } from './change-window.ts';

interface Base {
  enabled: boolean;
  severity: Severity;
  /** Keys tracked at most; beyond it the least recently seen is forgotten (counted). */
  max_keys: number;
}

export interface FirstSeenConfig extends Base {
  /** A key not seen for this long counts as new again (0 = never forgotten). */
  forget_after: number;
  /** Path segments kept (after id-like segments become `*`): /api/v1/users/42/orders → /api/v1/users. */
  path_depth: number;
  /** Destination glob → path globs never reported for it (health checks, metrics). */
  allow: Record<string, string[]>;
}

export interface SurgeConfig extends Base {
  /** The sliding window counted. */
  window: number;
  /** Sub-windows the window slides by. */
  buckets: number;
  /** Alert only at this many in the window... */
  min_count: number;
  /** ...and at `ratio` × the learned baseline for a window (EWMA of past windows). */
  ratio: number;
  /** EWMA weight of each finished sub-window. */
  alpha: number;
}

export interface ConfigChangeConfig extends Omit<Base, 'max_keys'> {
  /** Resource kinds (globs on `resource.group`, e.g. authorizationpolicies.security.istio.io). */
  kinds: string[];
  verbs: string[];
  /** Outcomes of the change that alert (a refused change is `denied`). */
  outcomes: string[];
  /** UTC windows changes are expected in, e.g. `mon-fri 08:00-18:00`; empty = no windows. */
  change_windows: string[];
  /** Severity of a change outside every window. */
  outside_window_severity: Severity;
}

export interface SilentConfig extends Base {
  /** A service (`service.name` of logs and spans) silent for longer than this is reported. */
  gap: number;
}

export interface DetectorsConfig {
  first_seen_access: FirstSeenConfig;
  deny_surge: SurgeConfig;
  auth_failure_burst: SurgeConfig;
  config_change: ConfigChangeConfig;
  sensitive_first_seen: FirstSeenConfig;
  source_silent: SilentConfig;
}

export interface DetectConfig {
  /** The alerts extension signals go to; '' = logged and counted only. */
  alerts: string;
  /**
   * The audit processor whose classification rules are used (the same rules
   * give the same events and ids); '' = the audit processor's default rules
   * (for a pipeline without one).
   */
  rules_from: string;
  /** The clickhouse_store extension the state is kept in; '' = state in memory only. */
  store: string;
  database: string;
  table: string;
  /** Name of this process in the state table (several ingesters); '' = the host name. */
  ingester: string;
  /** No first-seen, surge or burst alerts until this long after detection first started (kept in the store). */
  learning_period: number;
  /** State is written (and other ingesters' read) this often, and at shutdown. */
  persist_interval: number;
  detectors: DetectorsConfig;
}

const days = 86_400_000;
const firstSeen = (severity: Severity, forget: number): FirstSeenConfig => ({ enabled: true, severity, max_keys: 100_000, forget_after: forget, path_depth: 3, allow: {} });

export const defaultDetectConfig = (): DetectConfig => ({
  alerts: '',
  rules_from: 'audit',
  store: '',
  database: 'otel',
  table: 'audit_detector_state',
  ingester: '',
  learning_period: 1 * days,
  persist_interval: 30_000,
  detectors: {
    first_seen_access: firstSeen('warning', 30 * days),
    deny_surge: { enabled: true, severity: 'warning', max_keys: 20_000, window: 300_000, buckets: 10, min_count: 20, ratio: 3, alpha: 0.05 },
    auth_failure_burst: { enabled: true, severity: 'warning', max_keys: 20_000, window: 60_000, buckets: 6, min_count: 10, ratio: 3, alpha: 0.05 },
    config_change: {
      enabled: true,
      severity: 'warning',
      kinds: ['authorizationpolicies.security.istio.io', 'peerauthentications.security.istio.io', 'requestauthentications.security.istio.io'],
      verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'],
      outcomes: ['success'],
      change_windows: [],
      outside_window_severity: 'critical',
    },
    sensitive_first_seen: firstSeen('critical', 90 * days),
    source_silent: { enabled: true, severity: 'warning', max_keys: 10_000, gap: 900_000 },
  },
});

const severity = s.string({ enum: SEVERITIES });
const base = { enabled: s.bool(), severity, max_keys: s.int({ min: 1 }) };
const firstSeenSchema = s.object({ ...base, forget_after: s.duration(), path_depth: s.int({ min: 1, max: 64 }), allow: s.map(s.list(s.string({ nonEmpty: true }))) });
const surgeSchema = s.object({ ...base, window: s.duration(), buckets: s.int({ min: 1, max: 120 }), min_count: s.int({ min: 1 }), ratio: s.number({ min: 0 }), alpha: s.number({ min: 0, max: 1 }) });

export const detectSchema: Schema = s.object({
  alerts: s.string(),
  rules_from: s.string(),
  store: s.string(),
  database: s.string({ nonEmpty: true }),
  table: s.string({ nonEmpty: true }),
  ingester: s.string(),
  learning_period: s.duration(),
  persist_interval: s.duration(),
  detectors: s.object({
    first_seen_access: firstSeenSchema,
    deny_surge: surgeSchema,
    auth_failure_burst: surgeSchema,
    config_change: s.object({
      enabled: s.bool(),
      severity,
      kinds: s.list(s.string({ nonEmpty: true })),
      verbs: s.list(s.string({ nonEmpty: true })),
      outcomes: s.list(s.string({ enum: ['allowed', 'denied', 'failure', 'success', 'rate_limited', 'failed'] })),
      change_windows: s.list(s.string({ nonEmpty: true })),
      outside_window_severity: severity,
    }),
    sensitive_first_seen: firstSeenSchema,
    source_silent: s.object({ ...base, gap: s.duration() }),
  }),
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateDetect(c: DetectConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of ['database', 'table'] as const) if (!IDENT.test(c[k])) errors.push({ path: k, message: `expected a plain name, got ${JSON.stringify(c[k])}` });
  if (c.persist_interval <= 0) errors.push({ path: 'persist_interval', message: 'must be greater than 0' });
  for (const k of ['deny_surge', 'auth_failure_burst'] as const) {
    const d = c.detectors[k];
    if (d.window < d.buckets * 100) errors.push({ path: `detectors.${k}.window`, message: `must be at least 100ms per bucket (${d.buckets} buckets)` });
  }
  if (c.detectors.source_silent.gap <= 0) errors.push({ path: 'detectors.source_silent.gap', message: 'must be greater than 0' });
  c.detectors.config_change.change_windows.forEach((w, i) => {
    const err = parseChangeWindow(w).error;
    if (err) errors.push({ path: `detectors.config_change.change_windows[${i}]`, message: err });
  });
  for (const k of ['first_seen_access', 'sensitive_first_seen'] as const) {
    for (const [dest, paths] of Object.entries(c.detectors[k].allow)) {
      paths.forEach((p, i) => {
        if (!p.startsWith('/') && !p.startsWith('*')) errors.push({ path: `detectors.${k}.allow.${dest}[${i}]`, message: `a path glob starts with "/", got ${JSON.stringify(p)}` });
      });
    }
  }
  return errors;
}
