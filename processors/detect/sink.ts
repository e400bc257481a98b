/**
 * Where the detect processor's signals go: the alerts extension named by
 * `alerts` (its `sink()`), or, with `alerts: ''`, the process log (each
 * signal one warning line) so detection can run before alerting is set up.
 */
import type { Host } from '../../core/component.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { AlertSignal, AlertSink } from '../../lib/detect/signal.ts';

export function alertSinkOf(host: Host, id: string, logger: Logger): AlertSink {
  if (!id) return { raise: (s: AlertSignal) => logger.warn('detection signal', { detector: s.detector, severity: s.severity, key: s.key, reason: s.reason, count: s.count }) };
  // The contract of extensions/alerts/provider.ts (kind 'alerts', sink()), checked here: a component does not import another's folder.
  const ext = host.getExtension(id) as { kind?: unknown; sink?: unknown } | undefined;
  if (ext === undefined) throw new Error(`alerts: no started extension "${id}" (add it under extensions: and to service.extensions)`);
  if (ext.kind !== 'alerts' || typeof ext.sink !== 'function') throw new Error(`alerts: extension "${id}" is not an alerts extension`);
  return (ext.sink as () => AlertSink).call(ext);
}
