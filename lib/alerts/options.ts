/**
 * The alerts extension's settings (decoded by extensions/alerts/config.ts),
 * as the pieces in lib/alerts read them.
 */
import type { Severity } from '../detect/signal.ts';

export const TARGETS = ['alertmanager', 'webhook', 'otlp'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface TargetConfig {
  /** `http(s)://…`: Alertmanager's base URL (…/api/v2/alerts is added), the webhook's URL, or the OTLP/HTTP logs URL. */
  endpoint: string;
  headers: Record<string, string>;
  /** Per request. */
  timeout: number;
}

export interface OtlpTargetConfig extends TargetConfig {
  encoding: 'proto' | 'json';
}

export interface BruteforceConfig {
  enabled: boolean;
  window: number;
  min_failures: number;
  severity: Severity;
  /** Sources tracked at once (least recently failing let go beyond it). */
  max_sources: number;
}

export interface AlertsConfig {
  /** The clickhouse_store extension the alerts table lives in. */
  store: string;
  database: string;
  table: string;
  /** A signal within this long of its open alert's last sighting updates that alert. */
  repeat_window: number;
  /** How long versions wait to be stored together. */
  flush_interval: number;
  /** Open alerts tracked for repeats. */
  max_open: number;
  /** The file_storage extension keeping the delivery queues (required when a target is set). */
  storage: string | null;
  /** Alert versions queued per target. */
  queue_size: number;
  retry: { initial_interval: number; max_interval: number };
  /** Repeats of an alert are delivered as its newest version at most this often (a new alert and a status change go out at once). */
  update_interval: number;
  /** Firing alerts are sent to Alertmanager again this often (it expects that while they fire). */
  resend_interval: number;
  /** Base of the generatorURL / links in deliveries (e.g. the query interface's URL); '' = none. */
  external_url: string;
  alertmanager: TargetConfig | null;
  webhook: TargetConfig | null;
  otlp: OtlpTargetConfig | null;
  bruteforce: BruteforceConfig;
}

