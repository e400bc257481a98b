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
import { clientInfo, setClientInfo } from '../../core/client.ts';
import { PermanentError } from '../../core/errors.ts';
import type { WithDedupToken } from '../../core/exporter-helper.ts';
import { fanoutLogs, fanoutTraces } from '../../core/fanout.ts';
import { cloneLogs, cloneTraces, type LogsData, type ResourceLogs, type ResourceSpans, type Signal, type TracesData } from '../../core/model.ts';
import { compileCondition, OttlEvalError, type Condition, type Env, type OttlContext } from '../../core/ottl.ts';

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
  if (!['propagate', 'ignore', 'silent'].includes(c.error_mode)) errors.push({ path: 'error_mode', message: `expected propagate, ignore or silent, got ${JSON.stringify(c.error_mode)}` });
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
        if (!(err instanceof OttlEvalError) || c.error_mode === 'propagate') throw new PermanentError(`routing condition: ${(err as Error).message}`);
        if (c.error_mode === 'ignore') settings.logger.warn('routing condition failed on an item; treated as false', { error: err.message });
        return false;
      }
    };

    // Per signal, the routes that name pipelines of that signal (one routing connector may serve
    // logs and traces pipelines alike); filled at start, when `routes` is complete.
    const tables: Record<Signal, Route[]> = { logs: [], traces: [] };
    const defaults: Record<Signal, string[]> = { logs: [], traces: [] };
    const ofSignal = (signal: Signal, ids: string[]) => ids.filter((id) => routes.get(id)?.[signal]);

    /** The first request route the payload's sender matches (the whole payload goes there), or -1. */
    const byRequest = (signal: Signal, data: LogsData | TracesData): number => {
      const client = clientInfo(data);
      return tables[signal].findIndex((r) => r.context === 'request' && test(r, { resource: { attributes: [], droppedAttributesCount: 0 }, client }));
    };

    /** Route index per item (-1 = default), grouped into per-route payloads. */
    function routeLogs(data: LogsData): Map<number, LogsData> {
      const table = tables.logs;
      const whole = byRequest('logs', data);
      if (whole >= 0) return new Map([[whole, data]]);
      const out = new Map<number, LogsData>();
      const put = (i: number, rl: ResourceLogs) => {
        let d = out.get(i);
        if (!d) out.set(i, (d = { resourceLogs: [] }));
        d.resourceLogs.push(rl);
      };
      for (const rl of data.resourceLogs) {
        const byResource = table.findIndex((r) => r.context === 'resource' && test(r, { resource: rl.resource }));
        if (byResource >= 0 || !table.some((r) => r.context === 'log_record')) {
          put(byResource, rl);
          continue;
        }
        // Record routes: split the resource's records by route (resources and scopes copied per route).
        const parts = new Map<number, ResourceLogs>();
        for (const sl of rl.scopeLogs) {
          const scopes = new Map<number, typeof sl>();
          for (const log of sl.logRecords) {
            const i = table.findIndex((r) => r.context === 'log_record' && test(r, { resource: rl.resource, scope: sl.scope, log }));
            let scope = scopes.get(i);
            if (!scope) {
              scopes.set(i, (scope = { ...sl, logRecords: [] }));
              let part = parts.get(i);
              if (!part) parts.set(i, (part = { ...rl, scopeLogs: [] }));
              part.scopeLogs.push(scope);
            }
            scope.logRecords.push(log);
          }
        }
        for (const [i, part] of parts) put(i, part);
      }
      // Routes sharing resource objects (a split resource) must not share them downstream.
      let first = true;
      for (const [i, d] of out) {
        if (!first && d.resourceLogs.some((rl) => !data.resourceLogs.includes(rl))) out.set(i, cloneLogs(d));
        first = false;
      }
      return out;
    }

    function routeTraces(data: TracesData): Map<number, TracesData> {
      const table = tables.traces;
      const whole = byRequest('traces', data);
      if (whole >= 0) return new Map([[whole, data]]);
      const out = new Map<number, TracesData>();
      const put = (i: number, rs: ResourceSpans) => {
        let d = out.get(i);
        if (!d) out.set(i, (d = { resourceSpans: [] }));
        d.resourceSpans.push(rs);
      };
      for (const rs of data.resourceSpans) {
        const byResource = table.findIndex((r) => r.context === 'resource' && test(r, { resource: rs.resource }));
        if (byResource >= 0 || !table.some((r) => r.context === 'span')) {
          put(byResource, rs);
          continue;
        }
        const parts = new Map<number, ResourceSpans>();
        for (const ss of rs.scopeSpans) {
          const scopes = new Map<number, typeof ss>();
          for (const span of ss.spans) {
            const i = table.findIndex((r) => r.context === 'span' && test(r, { resource: rs.resource, scope: ss.scope, span }));
            let scope = scopes.get(i);
            if (!scope) {
              scopes.set(i, (scope = { ...ss, spans: [] }));
              let part = parts.get(i);
              if (!part) parts.set(i, (part = { ...rs, scopeSpans: [] }));
              part.scopeSpans.push(scope);
            }
            scope.spans.push(span);
          }
        }
        for (const [i, part] of parts) put(i, part);
      }
      let first = true;
      for (const [i, d] of out) {
        if (!first && d.resourceSpans.some((rs) => !data.resourceSpans.includes(rs))) out.set(i, cloneTraces(d));
        first = false;
      }
      return out;
    }

    const pipelinesOf = (signal: Signal, i: number) => (i >= 0 ? tables[signal][i]!.pipelines : defaults[signal]);
    const count = (signal: Signal, d: LogsData | TracesData) =>
      signal === 'logs'
        ? (d as LogsData).resourceLogs.reduce((n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0), 0)
        : (d as TracesData).resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
    async function send<D extends LogsData | TracesData>(signal: Signal, data: D, parts: Map<number, D>): Promise<void> {
      const sends: Promise<void>[] = [];
      const token = (data as WithDedupToken).dedupToken;
      const client = clientInfo(data);
      for (const [i, d] of parts) {
        // A payload split over routes: each part keeps who sent it and gets a token of its own
        // (derived, so a redelivered payload splits and inserts alike; one shared token would let
        // ClickHouse drop one part as a repeat of another).
        if (d !== data) {
          setClientInfo(d, client);
          if (token !== undefined) (d as WithDedupToken).dedupToken = parts.size === 1 ? token : `${token}#route${i}`;
        }
        const pipelines = pipelinesOf(signal, i);
        if (pipelines.length === 0) {
          unrouted[signal].add(count(signal, d));
          continue;
        }
        const t = targetFor(signal, pipelines);
        sends.push(signal === 'logs' ? (t.logs as LogsConsumer).consumeLogs(d as LogsData) : (t.traces as TracesConsumer).consumeTraces(d as TracesData));
      }
      const results = await Promise.allSettled(sends);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
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
      consumeLogs: async (data) => send('logs', data, routeLogs(data)),
      consumeTraces: async (data) => send('traces', data, routeTraces(data)),
      shutdown: once(async () => {}),
    };
  },
};
