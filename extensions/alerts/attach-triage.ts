/**
 * Serves triage (lib/alerts/triage.ts) on the store's query interface,
 * when the store has one (the embedded engine with a query_endpoint).
 */
import type { Logger } from '../../core/telemetry/logger.ts';
import type { StoreProvider } from '../../lib/clickhouse/provider.ts';
import { triageRoute, type TriageService } from '../../lib/alerts/triage.ts';

export function attachTriage(store: StoreProvider, service: TriageService, logger: Logger): (() => void) | undefined {
  const routes = store.queryRoutes;
  if (!routes) {
    logger.info('alert triage is not served: the store has no query interface (trailhouse alerts ack/resolve need one)');
    return undefined;
  }
  return routes.add('/alerts/', triageRoute(service, logger));
}
