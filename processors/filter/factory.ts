/**
 * The `filter` processor (the Collector's): drops the log records, spans,
 * span events or whole resources a condition selects.
 *
 * - OTTL conditions (ottl.ts): `logs.log_record`, `logs.resource`,
 *   `traces.span`, `traces.spanevent`, `traces.resource`; a record is dropped
 *   when ANY of its context's conditions is true.
 * - Or the older match properties (core/match-properties.ts): `logs.include`
 *   / `logs.exclude` (the filter processor's names: `record_attributes`,
 *   `resource_attributes`, `severity_texts`, `severity_number`, `bodies`) and
 *   `spans.include` / `spans.exclude`; a record is kept when it matches
 *   include and not exclude. Not together with conditions, as in the
 *   Collector.
 * - `error_mode`: a condition that cannot be evaluated on a record
 *   (`HasPrefix` of an int, `Len` of a bool) fails the payload as permanent
 *   (`propagate`, the default), or counts as false, logged (`ignore`) or not
 *   (`silent`).
 *
 * Dropped records are counted (otelcol_processor_filter_{logs,spans}_filtered).
 * Payloads left with no records are not passed on.
 */
import type { ProcessorFactory } from '../../core/component.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import { compileSkip, matchDefaults, matchPropertiesSchema, validateMatchProperties, type MatchPropertiesConfig } from '../../core/match-properties.ts';
import { inPlaceProcessor } from '../../core/processor-helper.ts';
import { compileCondition, compileFlatCondition, errorModeError, onEvalError, type Condition, type Env, type OttlContext } from '../../core/ottl.ts';

export interface LogMatchConfig {
  match_type: string;
  resource_attributes: Array<{ key: string; value: unknown }>;
  record_attributes: Array<{ key: string; value: unknown }>;
  severity_texts: string[];
  severity_number: { min: unknown; match_undefined: boolean } | null;
  bodies: string[];
}

export interface FilterConfig {
  error_mode: string;
  logs: { include: LogMatchConfig | null; exclude: LogMatchConfig | null; log_record: string[]; resource: string[] };
  traces: { span: string[]; spanevent: string[]; resource: string[] };
  spans: { include: MatchPropertiesConfig | null; exclude: MatchPropertiesConfig | null };
  metrics: unknown;
  log_conditions: unknown;
  trace_conditions: unknown;
  metric_conditions: unknown;
}

const attrSchema = s.object({ key: s.string(), value: s.any() });
const logMatchSchema = s.object({
  match_type: s.string(),
  resource_attributes: s.list(attrSchema),
  record_attributes: s.list(attrSchema),
  severity_texts: s.list(s.string()),
  severity_number: s.optional(s.object({ min: s.any(), match_undefined: s.bool() })),
  bodies: s.list(s.string()),
});

/** The filter processor's log match names, as match properties. */
function logMatch(l: Partial<LogMatchConfig>): MatchPropertiesConfig {
  return matchDefaults({
    match_type: l.match_type ?? '',
    resources: l.resource_attributes ?? [],
    attributes: l.record_attributes ?? [],
    log_severity_texts: l.severity_texts ?? [],
    log_severity_number: l.severity_number ?? null,
    log_bodies: l.bodies ?? [],
  });
}

const LOG_PATHS: Record<string, string> = {
  resources: 'resource_attributes',
  attributes: 'record_attributes',
  log_severity_texts: 'severity_texts',
  log_severity_number: 'severity_number',
  log_bodies: 'bodies',
};

function conditionLists(c: FilterConfig): Array<{ path: string; ctx: OttlContext; list: string[] }> {
  return [
    { path: 'logs.log_record', ctx: 'log_record', list: c.logs.log_record },
    { path: 'logs.resource', ctx: 'resource', list: c.logs.resource },
    { path: 'traces.span', ctx: 'span', list: c.traces.span },
    { path: 'traces.spanevent', ctx: 'spanevent', list: c.traces.spanevent },
    { path: 'traces.resource', ctx: 'resource', list: c.traces.resource },
  ];
}

/**
 * `log_conditions` / `trace_conditions`, the Collector's newer lists: flat
 * conditions whose paths name their context (`log.severity_number < …`), or
 * groups `{context, conditions}`. Sorted into the contexts they drop from.
 */
function newStyle(c: FilterConfig, errors: ConfigError[]): Array<{ ctx: OttlContext; src: string; signal: 'logs' | 'traces'; flat: boolean }> {
  const out: Array<{ ctx: OttlContext; src: string; signal: 'logs' | 'traces'; flat: boolean }> = [];
  const contexts: Record<'logs' | 'traces', Record<string, OttlContext>> = {
    logs: { resource: 'resource', log: 'log_record' },
    traces: { resource: 'resource', span: 'span', spanevent: 'spanevent' },
  };
  for (const [key, signal] of [['log_conditions', 'logs'], ['trace_conditions', 'traces']] as const) {
    const list = c[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      errors.push({ path: key, message: 'expected a list of conditions, or of {context, conditions}' });
      continue;
    }
    list.forEach((item: unknown, i) => {
      const at = `${key}[${i}]`;
      if (typeof item === 'string') {
        try {
          const { ctx } = compileFlatCondition(item, signal);
          if (ctx === 'scope') throw new Error('scope conditions cannot drop anything here; name a log, span, span event or resource path');
          out.push({ ctx, src: item, signal, flat: true });
        } catch (err) {
          errors.push({ path: at, message: `${(err as Error).message} in ${JSON.stringify(item)}` });
        }
        return;
      }
      const g = item as { context?: unknown; conditions?: unknown } | null;
      const ctx = g && typeof g === 'object' ? contexts[signal][String(g.context)] : undefined;
      if (!ctx) {
        errors.push({ path: `${at}.context`, message: `expected one of ${Object.keys(contexts[signal]).join(', ')}` });
        return;
      }
      const conds = Array.isArray(g!.conditions) ? (g!.conditions as unknown[]) : [];
      if (conds.length === 0 || conds.some((x) => typeof x !== 'string')) errors.push({ path: `${at}.conditions`, message: 'expected a non-empty list of conditions' });
      conds.forEach((src, j) => {
        if (typeof src !== 'string') return;
        try {
          compileCondition(src, ctx);
          out.push({ ctx, src, signal, flat: false });
        } catch (err) {
          errors.push({ path: `${at}.conditions[${j}]`, message: `${(err as Error).message} in ${JSON.stringify(src)}` });
        }
      });
    });
  }
  return out;
}

function validate(c: FilterConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const modeError = errorModeError(c.error_mode, 'error_mode');
  if (modeError) errors.push(modeError);
  for (const { path, ctx, list } of conditionLists(c)) {
    list.forEach((src, i) => {
      try {
        compileCondition(src, ctx);
      } catch (err) {
        errors.push({ path: `${path}[${i}]`, message: `${(err as Error).message} in ${JSON.stringify(src)}` });
      }
    });
  }
  for (const k of ['include', 'exclude'] as const) {
    const l = c.logs[k];
    if (l) {
      for (const e of validateMatchProperties(logMatch(l), `logs.${k}`).errors) {
        errors.push({ path: e.path.replace(/\.(\w+)/g, (m, name: string) => (LOG_PATHS[name] ? `.${LOG_PATHS[name]}` : m)), message: e.message.replace('log_severity_number', 'severity_number') });
      }
    }
    const sp = c.spans[k];
    if (sp) {
      const v = validateMatchProperties(matchDefaults(sp), `spans.${k}`);
      errors.push(...v.errors);
      if (v.errors.length === 0 && !v.traces) errors.push({ path: `spans.${k}`, message: 'log properties (log_bodies, log_severity_*) cannot select spans' });
    }
  }
  const ottlLogs = c.logs.log_record.length > 0 || c.logs.resource.length > 0;
  if (ottlLogs && (c.logs.include || c.logs.exclude)) errors.push({ path: 'logs', message: 'use either OTTL conditions (log_record, resource) or include/exclude, not both' });
  const ottlTraces = c.traces.span.length > 0 || c.traces.spanevent.length > 0 || c.traces.resource.length > 0;
  if (ottlTraces && (c.spans.include || c.spans.exclude)) errors.push({ path: 'spans', message: 'use either traces OTTL conditions or spans include/exclude, not both' });
  if (c.metrics !== null && c.metrics !== undefined) errors.push({ path: 'metrics', message: 'metrics are not carried by trailhouse pipelines' });
  newStyle(c, errors);
  if (c.metric_conditions !== null && c.metric_conditions !== undefined) errors.push({ path: 'metric_conditions', message: 'metrics are not carried by trailhouse pipelines' });
  if ((c.log_conditions || c.trace_conditions) && (c.logs.include || c.logs.exclude || c.spans.include || c.spans.exclude)) {
    errors.push({ path: 'log_conditions', message: 'use either conditions or include/exclude, not both' });
  }
  return errors;
}

export const filterFactory: ProcessorFactory<FilterConfig> = {
  kind: 'processor',
  reads: 'records',
  type: 'filter',
  signals: ['logs', 'traces'],
  schema: s.object({
    error_mode: s.string(),
    logs: s.object({ include: s.optional(logMatchSchema), exclude: s.optional(logMatchSchema), log_record: s.list(s.string()), resource: s.list(s.string()) }),
    traces: s.object({ span: s.list(s.string()), spanevent: s.list(s.string()), resource: s.list(s.string()) }),
    spans: s.object({ include: s.optional(matchPropertiesSchema), exclude: s.optional(matchPropertiesSchema) }),
    metrics: s.any(),
    log_conditions: s.any(),
    trace_conditions: s.any(),
    metric_conditions: s.any(),
  }),
  defaultConfig: () => ({
    error_mode: 'propagate',
    logs: { include: null, exclude: null, log_record: [], resource: [] },
    traces: { span: [], spanevent: [], resource: [] },
    spans: { include: null, exclude: null },
    metrics: undefined,
    log_conditions: undefined,
    trace_conditions: undefined,
    metric_conditions: undefined,
  }),
  validate,
  create: (settings, next) => {
    const c = settings.config;
    const log = settings.logger;
    const extra = newStyle(c, []);
    const any = (list: string[], ctx: OttlContext, signal: 'logs' | 'traces'): Condition | null => {
      const conds = [
        ...list.map((src) => ({ src, test: compileCondition(src, ctx) })),
        ...extra.filter((x) => x.ctx === ctx && x.signal === signal).map((x) => ({ src: x.src, test: x.flat ? compileFlatCondition(x.src, signal).test : compileCondition(x.src, ctx) })),
      ];
      if (conds.length === 0) return null;
      return (env: Env) => {
        for (const { src, test } of conds) {
          try {
            if (test(env)) return true;
          } catch (err) {
            onEvalError(err, c.error_mode, log, { kind: 'filter condition', src, outcome: 'treated as false', fields: { condition: src } });
          }
        }
        return false;
      };
    };
    const logSkip = compileSkip(c.logs.include ? logMatch(c.logs.include) : null, c.logs.exclude ? logMatch(c.logs.exclude) : null);
    const spanSkip = compileSkip(c.spans.include ? matchDefaults(c.spans.include) : null, c.spans.exclude ? matchDefaults(c.spans.exclude) : null);
    const dropLog = any(c.logs.log_record, 'log_record', 'logs');
    const dropLogResource = any(c.logs.resource, 'resource', 'logs');
    const dropSpan = any(c.traces.span, 'span', 'traces');
    const dropEvent = any(c.traces.spanevent, 'spanevent', 'traces');
    const dropSpanResource = any(c.traces.resource, 'resource', 'traces');
    const labels = { filter: settings.id };
    const filteredLogs = settings.metrics.counter('otelcol_processor_filter_logs_filtered', 'Log records dropped by the filter processor.', labels);
    const filteredSpans = settings.metrics.counter('otelcol_processor_filter_spans_filtered', 'Spans dropped by the filter processor.', labels);
    return inPlaceProcessor(settings, next, {
      logs(data) {
        let dropped = 0;
        data.resourceLogs = data.resourceLogs.filter((rl) => {
          if (dropLogResource?.({ resource: rl.resource })) {
            for (const sl of rl.scopeLogs) dropped += sl.logRecords.length;
            return false;
          }
          rl.scopeLogs = rl.scopeLogs.filter((sl) => {
            const before = sl.logRecords.length;
            sl.logRecords = sl.logRecords.filter(
              (r) => !(logSkip?.log(r, rl.resource, sl.scope) || dropLog?.({ resource: rl.resource, scope: sl.scope, log: r })),
            );
            dropped += before - sl.logRecords.length;
            return sl.logRecords.length > 0;
          });
          return rl.scopeLogs.length > 0;
        });
        filteredLogs.add(dropped);
      },
      traces(data) {
        let dropped = 0;
        data.resourceSpans = data.resourceSpans.filter((rs) => {
          if (dropSpanResource?.({ resource: rs.resource })) {
            for (const ss of rs.scopeSpans) dropped += ss.spans.length;
            return false;
          }
          rs.scopeSpans = rs.scopeSpans.filter((ss) => {
            const before = ss.spans.length;
            ss.spans = ss.spans.filter((sp) => !(spanSkip?.span(sp, rs.resource, ss.scope) || dropSpan?.({ resource: rs.resource, scope: ss.scope, span: sp })));
            dropped += before - ss.spans.length;
            if (dropEvent) for (const sp of ss.spans) sp.events = sp.events.filter((event) => !dropEvent({ resource: rs.resource, scope: ss.scope, span: sp, event }));
            return ss.spans.length > 0;
          });
          return rs.scopeSpans.length > 0;
        });
        filteredSpans.add(dropped);
      },
    });
  },
};
