/**
 * Actions served beside the query path on the query interface (e.g. the
 * alerts extension's triage, `POST /alerts/<id>/ack`): a component adds a
 * route under a path prefix; the server authenticates the request first
 * (the same users, throttling and refusals as a query) and hands the route
 * who is asking. A route answers the request itself.
 */
import type http from 'node:http';
import type { Role } from './query-users.ts';

export interface RouteCaller {
  user: string;
  role: Role;
  /** False on an interface without users (every caller is the anonymous `default`). */
  authenticated: boolean;
  /** The client's address. */
  remote: string;
}

export type QueryRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, caller: RouteCaller) => Promise<void>;

export class QueryRoutes {
  private readonly routes = new Map<string, QueryRoute>();

  /** Serves `prefix` (e.g. `/alerts/`) with `route`; returns the removal. A prefix already taken is refused. */
  add(prefix: string, route: QueryRoute): () => void {
    if (!prefix.startsWith('/') || prefix === '/' || this.routes.has(prefix)) throw new Error(`query interface: the route ${prefix} is taken or not a path prefix`);
    this.routes.set(prefix, route);
    return () => {
      if (this.routes.get(prefix) === route) this.routes.delete(prefix);
    };
  }

  find(pathname: string): QueryRoute | undefined {
    for (const [prefix, route] of this.routes) if (pathname.startsWith(prefix)) return route;
    return undefined;
  }
}
