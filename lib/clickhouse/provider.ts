/**
 * The store as one component: a `clickhouse_store` extension is configured
 * once (where the store is, who may read it) and every writer names it by id
 * (`store: clickhouse_store`) instead of repeating the endpoint, path and
 * credentials. This is the seam they meet at: the extension implements
 * StoreProvider, a component asks the host for it at start.
 *
 * Components that do not name a store keep their own location keys (a
 * Collector config's clickhouse exporter carries `endpoint` and credentials):
 * the process-wide registry in store.ts still gives them one shared engine
 * per data directory or one client per server.
 */
import type { Host } from '../../core/component.ts';
import type { RetentionService } from '../retention/sweep.ts';
import type { LoginThrottleConfig } from './query/login-throttle.ts';
import type { QueryRoutes } from './query/query-routes.ts';
import type { QueryUserConfig } from './query/query-users.ts';
import type { StoreOptions } from './store.ts';

export interface StoreProvider {
  readonly kind: 'clickhouse_store';
  /** Where the store is and how to reach it (the same options give the same shared store). */
  storeOptions(): StoreOptions;
  /** The database the store's tables live in unless a writer says otherwise. */
  readonly database: string;
  /** The retention policy configured on the store, once started; undefined = none (writers keep their own `ttl`). */
  readonly retention?: RetentionService;
  /** The embedded store's query interface routes, once it is serving (actions beside queries, e.g. alert triage). */
  readonly queryRoutes?: QueryRoutes;
  /** Who may read the store (the query interface's users and login throttling): other read surfaces (the console) use the same. */
  readonly queryAccess?: { users: Record<string, QueryUserConfig> | null; throttle: LoginThrottleConfig };
}

export function isStoreProvider(x: unknown): x is StoreProvider {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'clickhouse_store' && typeof (x as StoreProvider).storeOptions === 'function';
}

/** The started store extension `id`, or an error that says what is wrong with the reference. */
export function storeProvider(host: Host, id: string): StoreProvider {
  const ext = host.getExtension(id);
  if (ext === undefined) throw new Error(`store: no started extension "${id}" (add it under extensions: and to service.extensions)`);
  if (!isStoreProvider(ext)) throw new Error(`store: extension "${id}" is not a clickhouse_store`);
  return ext;
}
