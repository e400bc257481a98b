/**
 * The `alerts` extension's config: where alerts are stored (a
 * clickhouse_store), how repeats fold into one alert, where they are
 * delivered (each target off unless named), and the brute-force detector
 * over the process's own refused logins.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { SEVERITIES } from '../../lib/detect/signal.ts';
import { TARGETS, type AlertsConfig, type TargetConfig } from '../../lib/alerts/options.ts';

export type { AlertsConfig, BruteforceConfig, OtlpTargetConfig, TargetConfig, TargetName } from '../../lib/alerts/options.ts';
export { TARGETS } from '../../lib/alerts/options.ts';

const targetDefaults = (): TargetConfig => ({ endpoint: '', headers: {}, timeout: 10_000 });
const targetFields = { endpoint: s.string({ nonEmpty: true }), headers: s.map(s.string()), timeout: s.duration() };

export const defaultAlertsConfig = (): AlertsConfig => ({
  store: 'clickhouse_store',
  database: 'otel',
  table: 'audit_alerts',
  repeat_window: 3_600_000,
  flush_interval: 1000,
  max_open: 10_000,
  storage: null,
  queue_size: 10_000,
  retry: { initial_interval: 1000, max_interval: 30_000 },
  update_interval: 30_000,
  resend_interval: 60_000,
  external_url: '',
  alertmanager: null,
  webhook: null,
  otlp: null,
  bruteforce: { enabled: true, window: 60_000, min_failures: 10, severity: 'warning', max_sources: 10_000 },
});

export const alertsSchema = s.object({
  store: s.string({ nonEmpty: true }),
  database: s.string({ nonEmpty: true }),
  table: s.string({ nonEmpty: true }),
  repeat_window: s.duration(),
  flush_interval: s.duration(),
  max_open: s.int({ min: 1 }),
  storage: s.optional(s.string({ nonEmpty: true })),
  queue_size: s.int({ min: 1 }),
  retry: s.object({ initial_interval: s.duration(), max_interval: s.duration() }),
  update_interval: s.duration(),
  resend_interval: s.duration(),
  external_url: s.string(),
  alertmanager: s.section(s.object(targetFields), targetDefaults),
  webhook: s.section(s.object(targetFields), targetDefaults),
  otlp: s.section(s.object({ ...targetFields, encoding: s.string({ enum: ['proto', 'json'] }) }), () => ({ ...targetDefaults(), encoding: 'proto' })),
  bruteforce: s.object({ enabled: s.bool(), window: s.duration(), min_failures: s.int({ min: 1 }), severity: s.string({ enum: SEVERITIES }), max_sources: s.int({ min: 1 }) }),
});

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Header values reach the wire: no line breaks (header injection). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;


export function validateAlerts(c: AlertsConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of ['database', 'table'] as const) if (!NAME.test(c[k])) errors.push({ path: k, message: `expected a name of letters, digits and _, got ${JSON.stringify(c[k])}` });
  if (c.repeat_window < 1000) errors.push({ path: 'repeat_window', message: 'must be at least 1s' });
  if (c.flush_interval < 10 || c.flush_interval > 60_000) errors.push({ path: 'flush_interval', message: 'must be between 10ms and 1m' });
  if (c.retry.initial_interval < 10) errors.push({ path: 'retry.initial_interval', message: 'must be at least 10ms' });
  if (c.retry.max_interval < c.retry.initial_interval) errors.push({ path: 'retry.max_interval', message: 'must be at least retry.initial_interval' });
  if (c.update_interval < 100) errors.push({ path: 'update_interval', message: 'must be at least 100ms' });
  if (c.resend_interval !== 0 && c.resend_interval < 1000) errors.push({ path: 'resend_interval', message: 'must be 0 (off) or at least 1s' });
  if (c.external_url && !/^https?:\/\/[^\s]+$/.test(c.external_url)) errors.push({ path: 'external_url', message: 'expected an http(s):// URL' });
  let any = false;
  for (const t of TARGETS) {
    const tc = c[t];
    if (!tc) continue;
    any = true;
    let url: URL | undefined;
    try {
      url = new URL(tc.endpoint);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) errors.push({ path: `${t}.endpoint`, message: `expected an http(s):// URL, got ${JSON.stringify(tc.endpoint)}` });
    if (tc.timeout < 100) errors.push({ path: `${t}.timeout`, message: 'must be at least 100ms' });
    for (const [k, v] of Object.entries(tc.headers)) {
      if (!HEADER_NAME.test(k)) errors.push({ path: `${t}.headers.${k}`, message: 'not a valid header name' });
      if (/[\r\n\0]/.test(v)) errors.push({ path: `${t}.headers.${k}`, message: 'a header value cannot hold line breaks' });
    }
  }
  if (any && !c.storage) errors.push({ path: 'storage', message: 'a delivery target needs a persistent queue: name a file_storage extension (storage: file_storage)' });
  if (c.bruteforce.window < 1000) errors.push({ path: 'bruteforce.window', message: 'must be at least 1s' });
  return errors;
}
