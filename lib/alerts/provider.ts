/**
 * Where detectors meet the alerts extension (the seam, like lib/clickhouse/provider.ts for the
 * store; extensions/alerts implements it): a processor configured with
 * `alerts: <id>` asks the host for that started extension at its start and
 * raises signals into its sink (lib/detect/signal.ts).
 */
import type { Host } from '../../core/component.ts';
import type { AlertSink } from '../detect/signal.ts';

export interface AlertsProvider {
  readonly kind: 'alerts';
  /** The sink signals are raised into; valid once the extension started. */
  sink(): AlertSink;
}

export function isAlertsProvider(x: unknown): x is AlertsProvider {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'alerts' && typeof (x as AlertsProvider).sink === 'function';
}

/** The started alerts extension `id`, or an error that says what is wrong with the reference. */
export function alertsProvider(host: Host, id: string): AlertsProvider {
  const ext = host.getExtension(id);
  if (ext === undefined) throw new Error(`alerts: no started extension "${id}" (add it under extensions: and to service.extensions)`);
  if (!isAlertsProvider(ext)) throw new Error(`alerts: extension "${id}" is not an alerts extension`);
  return ext;
}
