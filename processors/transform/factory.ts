/**
 * The `transform` processor (the Collector's): OTTL statements that change
 * records in place, grouped by context —
 *
 *   log_statements:   [{context: resource | scope | log, conditions: [...], statements: [...]}]
 *   trace_statements: [{context: resource | scope | span | spanevent, conditions: [...], statements: [...]}]
 *
 * or, the newer flat form, statements whose paths name their context
 * (`- set(log.attributes["k"], resource.attributes["r"])`), each run in the
 * most specific context it names.
 *
 * Each statement is `editor(args) [where condition]` (core/ottl.ts: set,
 * delete_key, delete_matching_keys, keep_keys, keep_matching_keys,
 * replace_pattern, replace_all_patterns, truncate_all). Groups run in order,
 * statements in order, on every item of the group's context; a group's
 * `conditions` (any true) gate all its statements. `error_mode` as in the
 * filter processor (propagate, the default: the payload is refused as
 * permanent; ignore: logged, the statement skipped; silent).
 */
import type { ProcessorFactory } from '../../core/component.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { compileCondition, compileFlatStatement, compileStatement, errorModeError, onEvalError, type Condition, type Env, type OttlContext, type Statement } from '../../core/ottl.ts';
import { inPlaceProcessor } from '../../core/processor-helper.ts';

export interface TransformConfig {
  error_mode: string;
  log_statements: unknown[];
  trace_statements: unknown[];
  metric_statements: unknown;
}

interface Group {
  context: OttlContext;
  conditions: string[];
  statements: string[];
  error_mode: string | null;
  /** A flat-form statement (paths name their context: log.attributes[…]). */
  flat: 'logs' | 'traces' | null;
}

const CONTEXTS: Record<'log_statements' | 'trace_statements', Record<string, OttlContext>> = {
  log_statements: { resource: 'resource', scope: 'scope', log: 'log_record' },
  trace_statements: { resource: 'resource', scope: 'scope', span: 'span', spanevent: 'spanevent' },
};

/** The groups of one list, or the errors that make them unusable (paths relative to the processor). */
function groups(list: unknown[], key: 'log_statements' | 'trace_statements', errors: ConfigError[]): Group[] {
  const out: Group[] = [];
  list.forEach((item, i) => {
    const at = `${key}[${i}]`;
    if (typeof item === 'string') {
      const signal = key === 'log_statements' ? 'logs' : 'traces';
      try {
        const { ctx } = compileFlatStatement(item, signal);
        out.push({ context: ctx, statements: [item], conditions: [], error_mode: null, flat: signal });
      } catch (err) {
        errors.push({ path: at, message: `${(err as Error).message} in ${JSON.stringify(item)}` });
      }
      return;
    }
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      errors.push({ path: at, message: 'expected {context, statements[, conditions, error_mode]}' });
      return;
    }
    const g = item as Record<string, unknown>;
    for (const k of Object.keys(g)) if (!['context', 'statements', 'conditions', 'error_mode'].includes(k)) errors.push({ path: `${at}.${k}`, message: 'unknown key' });
    const ctx = CONTEXTS[key][String(g.context)];
    if (!ctx) errors.push({ path: `${at}.context`, message: `expected one of ${Object.keys(CONTEXTS[key]).join(', ')}, got ${JSON.stringify(g.context)}` });
    const strings = (k: 'statements' | 'conditions'): string[] => {
      const v = g[k] ?? [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
        errors.push({ path: `${at}.${k}`, message: 'expected a list of strings' });
        return [];
      }
      return v as string[];
    };
    const statements = strings('statements');
    const conditions = strings('conditions');
    if (g.statements === undefined || statements.length === 0) errors.push({ path: `${at}.statements`, message: 'must list at least one statement' });
    const mode = g.error_mode === undefined || g.error_mode === null ? null : String(g.error_mode);
    const modeError = mode === null ? null : errorModeError(mode, `${at}.error_mode`);
    if (modeError) errors.push(modeError);
    if (!ctx) return;
    const check = (list: string[], k: string, compile: (src: string, c: OttlContext) => unknown) =>
      list.forEach((src, j) => {
        try {
          compile(src, ctx);
        } catch (err) {
          errors.push({ path: `${at}.${k}[${j}]`, message: `${(err as Error).message} in ${JSON.stringify(src)}` });
        }
      });
    check(statements, 'statements', compileStatement);
    check(conditions, 'conditions', compileCondition);
    out.push({ context: ctx, statements, conditions, error_mode: mode, flat: null });
  });
  return out;
}

function validate(c: TransformConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const modeError = errorModeError(c.error_mode, 'error_mode');
  if (modeError) errors.push(modeError);
  groups(c.log_statements, 'log_statements', errors);
  groups(c.trace_statements, 'trace_statements', errors);
  if (c.metric_statements !== undefined && c.metric_statements !== null) errors.push({ path: 'metric_statements', message: 'metrics are not carried by trailhouse pipelines' });
  return errors;
}

/** A group compiled: runs its statements on one item's environment. */
function compileGroup(g: Group, defaultMode: string, log: Logger): { context: OttlContext; run(env: Env): void } {
  const mode = g.error_mode ?? defaultMode;
  const conds: Condition[] = g.conditions.map((src) => compileCondition(src, g.context));
  const stmts: Array<{ src: string; run: Statement }> = g.statements.map((src) => ({ src, run: g.flat ? compileFlatStatement(src, g.flat).run : compileStatement(src, g.context) }));
  const guard = (src: string, err: unknown) => onEvalError(err, mode, log, { kind: 'transform statement', src, outcome: 'skipped', fields: { statement: src } });
  return {
    context: g.context,
    run(env) {
      if (conds.length) {
        let any = false;
        for (const c of conds) {
          try {
            if (c(env)) {
              any = true;
              break;
            }
          } catch (err) {
            guard('conditions', err);
          }
        }
        if (!any) return;
      }
      for (const s of stmts) {
        try {
          s.run(env);
        } catch (err) {
          guard(s.src, err);
        }
      }
    },
  };
}

export const transformFactory: ProcessorFactory<TransformConfig> = {
  kind: 'processor',
  reads: 'records',
  type: 'transform',
  signals: ['logs', 'traces'],
  schema: s.object({ error_mode: s.string(), log_statements: s.list(s.any()), trace_statements: s.list(s.any()), metric_statements: s.any() }),
  defaultConfig: () => ({ error_mode: 'propagate', log_statements: [], trace_statements: [], metric_statements: undefined }),
  validate,
  create: (settings, next) => {
    const c = settings.config;
    const errors: ConfigError[] = [];
    const logGroups = groups(c.log_statements, 'log_statements', errors).map((g) => compileGroup(g, c.error_mode, settings.logger));
    const traceGroups = groups(c.trace_statements, 'trace_statements', errors).map((g) => compileGroup(g, c.error_mode, settings.logger));
    return inPlaceProcessor(settings, next, {
      logs(data) {
        for (const g of logGroups) {
          for (const rl of data.resourceLogs) {
            const resource = rl.resource;
            if (g.context === 'resource') {
              g.run({ resource });
              continue;
            }
            for (const sl of rl.scopeLogs) {
              if (g.context === 'scope') g.run({ resource, scope: sl.scope });
              else for (const log of sl.logRecords) g.run({ resource, scope: sl.scope, log });
            }
          }
        }
      },
      traces(data) {
        for (const g of traceGroups) {
          for (const rs of data.resourceSpans) {
            const resource = rs.resource;
            if (g.context === 'resource') {
              g.run({ resource });
              continue;
            }
            for (const ss of rs.scopeSpans) {
              if (g.context === 'scope') {
                g.run({ resource, scope: ss.scope });
                continue;
              }
              for (const span of ss.spans) {
                if (g.context === 'span') g.run({ resource, scope: ss.scope, span });
                else for (const event of span.events) g.run({ resource, scope: ss.scope, span, event });
              }
            }
          }
        }
      },
    });
  },
};
