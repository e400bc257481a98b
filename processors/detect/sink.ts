/**
 * Where the detect processor's signals go: the alerts extension named by
 * `alerts` (its `sink()`), or, with `alerts: ''`, the process log (each
 * signal one warning line) so detection can run before alerting is set up.
 */
import type { Host } from '../../core/component.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { alertsProvider } from '../../lib/alerts/provider.ts';
import type { AlertSignal, AlertSink } from '../../lib/detect/signal.ts';

export function alertSinkOf(host: Host, id: string, logger: Logger): AlertSink {
  if (!id) return { raise: (s: AlertSignal) => logger.warn('detection signal', { detector: s.detector, severity: s.severity, key: s.key, reason: s.reason, count: s.count }) };
  return alertsProvider(host, id).sink();
}
