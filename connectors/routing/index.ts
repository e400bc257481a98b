/**
 * The `routing` connector (the Collector's): sends each resource, log record
 * or span to the pipelines of the first route whose OTTL condition holds,
 * the rest to `default_pipelines`.
 *
 *   connectors:
 *     routing:
 *       default_pipelines: [logs/other]
 *       table:
 *         - context: resource          # resource (default), log or span
 *           condition: attributes["k8s.namespace.name"] == "payments"
 *           pipelines: [logs/payments]
 *         - statement: route() where attributes["tenant"] == "acme"
 *           pipelines: [logs/acme]
 *
 * What no route takes and no default pipeline exists for is dropped, as in
 * the Collector, and counted (trailhouse_routing_unrouted_items). A
 * condition that cannot be evaluated on an item counts as false (error_mode
 * ignore) or refuses the payload as permanent (propagate).
 */
import type { ConnectorFactory, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import type { ClientInfo } from '../../core/client.ts';
import { Payload, type LogsPayload, type RecordsOf, type TracesPayload } from '../../core/payload.ts';
import { fanoutLogs, fanoutTraces, settleAll } from '../../core/fanout.ts';
import {
  cloneLogs,
  cloneTraces,
  type InstrumentationScope,
  type LogRecord,
  type LogsData,
  type Resource,
  type ResourceLogs,
  type ResourceSpans,
  type ScopeLogs,
  type ScopeSpans,
  type Signal,
  type Span,
  type TracesData,
} from '../../core/model.ts';
import { compileCondition, errorModeError, onEvalError, type Condition, type Env, type OttlContext } from '../../core/ottl.ts';

interface RouteConfig {
  context: string;
  condition: string;
  statement: string;
  pipelines: string[];
}

export interface RoutingConfig {
  default_pipelines: string[];
  error_mode: string;
  table: RouteConfig[];
}

const CONTEXTS: Record<string, OttlContext> = { request: 'request', resource: 'resource', log: 'log_record', span: 'span' };
const ROUTE_STATEMENT = /^\s*route\(\s*\)\s+where\s+(.+)$/s;

/** A route's condition source, or why it has none. */
function conditionOf(r: Partial<RouteConfig>): string | Error {
  if (r.condition && r.statement) return new Error('set either condition or statement, not both');
  if (r.statement) {
    const m = ROUTE_STATEMENT.exec(r.statement);
    return m ? m[1]! : new Error('a statement here is route() where <condition>');
  }
  return r.condition ? r.condition : new Error('needs a condition (or a statement route() where <condition>)');
}

function validate(c: RoutingConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const modeError = errorModeError(c.error_mode, 'error_mode');
  if (modeError) errors.push(modeError);
  if (c.table.length === 0) errors.push({ path: 'table', message: 'must list at least one route' });
  c.table.forEach((r, i) => {
    const at = `table[${i}]`;
    const ctx = CONTEXTS[r.context ?? 'resource'];
    if (!ctx) errors.push({ path: `${at}.context`, message: `expected request, resource, log or span, got ${JSON.stringify(r.context)}` });
    if (!r.pipelines?.length) errors.push({ path: `${at}.pipelines`, message: 'must name at least one pipeline' });
    const src = conditionOf(r);
    if (src instanceof Error) errors.push({ path: at, message: src.message });
    else if (ctx) {
      try {
        compileCondition(src, ctx);
      } catch (err) {
        errors.push({ path: `${at}.${r.statement ? 'statement' : 'condition'}`, message: `${(err as Error).message} in ${JSON.stringify(src)}` });
      }
    }
  });
  return errors;
}

/** How to take a payload of one signal apart and put parts together (split, below). */
interface Shape<D, R, S, I> {
  recordContext: OttlContext;
  resources(d: D): R[];
  make(rs: R[]): D;
  clone(d: D): D;
  resource(r: R): Resource;
  scopes(r: R): S[];
  withScopes(r: R, scopes: S[]): R;
  scope(s: S): InstrumentationScope;
  items(s: S): I[];
  withItems(s: S, items: I[]): S;
  env(resource: Resource, scope: InstrumentationScope, item: I): Env;
}

const LOGS: Shape<LogsData, ResourceLogs, ScopeLogs, LogRecord> = {
  recordContext: 'log_record',
  resources: (d) => d.resourceLogs,
  make: (resourceLogs) => ({ resourceLogs }),
  clone: cloneLogs,
  resource: (r) => r.resource,
  scopes: (r) => r.scopeLogs,
  withScopes: (r, scopeLogs) => ({ ...r, scopeLogs }),
  scope: (s) => s.scope,
  items: (s) => s.logRecords,
  withItems: (s, logRecords) => ({ ...s, logRecords }),
  env: (resource, scope, log) => ({ resource, scope, log }),
};

const TRACES: Shape<TracesData, ResourceSpans, ScopeSpans, Span> = {
  recordContext: 'span',
  resources: (d) => d.resourceSpans,
  make: (resourceSpans) => ({ resourceSpans }),
  clone: cloneTraces,
  resource: (r) => r.resource,
  scopes: (r) => r.scopeSpans,
  withScopes: (r, scopeSpans) => ({ ...r, scopeSpans }),
  scope: (s) => s.scope,
  items: (s) => s.spans,
  withItems: (s, spans) => ({ ...s, spans }),
  env: (resource, scope, span) => ({ resource, scope, span }),
};

interface Route {
  context: OttlContext;
  test: Condition;
  pipelines: string[];
}

export const routingFactory: ConnectorFactory<RoutingConfig> = {
  kind: 'connector',
  type: 'routing',
  signals: ['logs', 'traces'],
  schema: s.object({
    default_pipelines: s.list(s.string()),
    error_mode: s.string(),
    table: s.list(s.object({ context: s.string(), condition: s.string(), statement: s.string(), pipelines: s.list(s.string()) })),
  }),
  defaultConfig: () => ({ default_pipelines: [], error_mode: 'propagate', table: [] }),
  validate,
  create: (settings, routes) => {
    const c = settings.config;
    const table: Route[] = c.table.map((r) => {
      const context = CONTEXTS[r.context ?? 'resource']!;
      return { context, test: compileCondition(conditionOf(r) as string, context), pipelines: r.pipelines };
    });
    const unrouted = {
      logs: settings.metrics.counter('trailhouse_routing_unrouted_items', 'Items no route took and no default pipeline received (dropped).', { connector: settings.id, signal: 'logs' }),
      traces: settings.metrics.counter('trailhouse_routing_unrouted_items', 'Items no route took and no default pipeline received (dropped).', { connector: settings.id, signal: 'traces' }),
    };
    /** The consumer of a set of pipelines (a route's, or the defaults). */
    const targets = new Map<string, NextConsumers>();
    const targetFor = (signal: Signal, pipelines: string[]): NextConsumers => {
      const key = `${signal}\u0000${pipelines.join('\u0000')}`;
      let t = targets.get(key);
      if (!t) {
        const heads = pipelines.map((id) => routes.get(id)!);
        t = signal === 'logs' ? { logs: fanoutLogs(heads.map((h) => h.logs!)) } : { traces: fanoutTraces(heads.map((h) => h.traces!)) };
        targets.set(key, t);
      }
      return t;
    };
    const test = (r: Route, env: Env): boolean => {
      try {
        return r.test(env);
      } catch (err) {
        onEvalError(err, c.error_mode, settings.logger, { kind: 'routing condition', outcome: 'treated as false' });
        return false;
      }
    };

    // Per signal, the routes that name pipelines of that signal (one routing connector may serve
    // logs and traces pipelines alike); filled at start, when `routes` is complete.
    const tables: Record<Signal, Route[]> = { logs: [], traces: [] };
    const defaults: Record<Signal, string[]> = { logs: [], traces: [] };
    const ofSignal = (signal: Signal, ids: string[]) => ids.filter((id) => routes.get(id)?.[signal]);

    /** The first request route the payload's sender matches (the whole payload goes there), or -1. */
    const byRequest = (signal: Signal, client: ClientInfo | undefined): number => {
      return tables[signal].findIndex((r) => r.context === 'request' && test(r, { resource: { attributes: [], droppedAttributesCount: 0 }, client }));
    };

    /**
     * The payload's items grouped by route index (-1 = default): a request route takes the whole
     * payload; else each resource goes to its resource route, or its records are split by their
     * record routes (resources and scopes copied per part, so parts share no objects downstream).
     */
    function split<G extends Signal, R, S, I>(p: Payload<G>, shape: Shape<RecordsOf<G>, R, S, I>): Map<number, Payload<G>> {
      const signal = p.signal;
      const table = tables[signal];
      const whole = byRequest(signal, p.client);
      if (whole >= 0) return new Map([[whole, p]]);
      const data = p.records();
      const recordRoutes = table.some((r) => r.context === shape.recordContext);
      const out = new Map<number, R[]>();
      const put = (i: number, r: R) => {
        const list = out.get(i);
        if (list) list.push(r);
        else out.set(i, [r]);
      };
      const resources = shape.resources(data);
      for (const res of resources) {
        const resource = shape.resource(res);
        const byResource = table.findIndex((r) => r.context === 'resource' && test(r, { resource }));
        if (byResource >= 0 || !recordRoutes) {
          put(byResource, res);
          continue;
        }
        const parts = new Map<number, { res: R; scopes: Map<S, S> }>();
        for (const sc of shape.scopes(res)) {
          const scope = shape.scope(sc);
          for (const item of shape.items(sc)) {
            const i = table.findIndex((r) => r.context === shape.recordContext && test(r, shape.env(resource, scope, item)));
            let part = parts.get(i);
            if (!part) parts.set(i, (part = { res: shape.withScopes(res, []), scopes: new Map() }));
            let copy = part.scopes.get(sc);
            if (!copy) {
              part.scopes.set(sc, (copy = shape.withItems(sc, [])));
              shape.scopes(part.res).push(copy);
            }
            shape.items(copy).push(item);
          }
        }
        for (const [i, part] of parts) put(i, part.res);
      }
      const result = new Map<number, Payload<G>>();
      let first = true;
      for (const [i, list] of out) {
        const d = shape.make(list);
        // A split resource's parts share its resource and scope objects: copy all but one.
        result.set(i, Payload.ofRecords(signal, !first && list.some((r) => !resources.includes(r)) ? shape.clone(d) : d, p.client));
        first = false;
      }
      return result;
    }

    const pipelinesOf = (signal: Signal, i: number) => (i >= 0 ? tables[signal][i]!.pipelines : defaults[signal]);
    async function send<G extends Signal>(data: Payload<G>, parts: Map<number, Payload<G>>): Promise<void> {
      const signal = data.signal;
      const sends: Promise<void>[] = [];
      const token = data.dedupToken;
      for (const [i, d] of parts) {
        // A payload split over routes: each part keeps who sent it (split gives it the client) and
        // gets a token of its own (derived, so a redelivered payload splits and inserts alike; one
        // shared token would let ClickHouse drop one part as a repeat of another).
        if (d !== data && token !== undefined) d.dedupToken = parts.size === 1 ? token : `${token}#route${i}`;
        const pipelines = pipelinesOf(signal, i);
        if (pipelines.length === 0) {
          unrouted[signal].add(d.count);
          continue;
        }
        const t = targetFor(signal, pipelines);
        sends.push(d.isLogs() ? (t.logs as LogsConsumer).consumeLogs(d) : (t.traces as TracesConsumer).consumeTraces(d as unknown as TracesPayload));
      }
      await settleAll(sends);
    }

    return {
      // Every route's pipelines must receive the signal from this connector: checked before any data flows.
      start: async () => {
        const named = [...c.default_pipelines, ...table.flatMap((r) => r.pipelines)];
        const missing = [...new Set(named.filter((id) => !routes.has(id)))];
        if (missing.length) {
          throw new Error(`${settings.id}: ${missing.map((id) => JSON.stringify(id)).join(', ')} must name this connector among the pipeline's receivers`);
        }
        for (const signal of ['logs', 'traces'] as const) {
          tables[signal] = table.flatMap((r) => {
            const pipelines = ofSignal(signal, r.pipelines);
            return pipelines.length ? [{ ...r, pipelines }] : [];
          });
          defaults[signal] = ofSignal(signal, c.default_pipelines);
        }
      },
      consumeLogs: async (data: LogsPayload) => send(data, split(data, LOGS)),
      consumeTraces: async (data: TracesPayload) => send(data, split(data, TRACES)),
      shutdown: once(async () => {}),
    };
  },
};
