/**
 * The `attributes` and `resource` processors (the Collector's): the same
 * actions (actions.ts), on the attributes of each log record and span, or on
 * the resource's. Payloads change in place; the next stage gets them whole.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { compileSkip, validateMatchProperties, type MatchPropertiesConfig } from '../../core/match-properties.ts';
import { inPlaceProcessor } from '../../core/processor-helper.ts';
import { AttrActions, type ActionConfig } from './actions.ts';

export type Target = 'records' | 'resource';

export function attributesProcessor(
  settings: CreateSettings<unknown>,
  next: NextConsumers,
  actionList: ActionConfig[],
  target: Target,
  match: { include: MatchPropertiesConfig | null; exclude: MatchPropertiesConfig | null } = { include: null, exclude: null },
): Component & LogsConsumer & TracesConsumer {
  const actions = new AttrActions(actionList);
  // Span-only properties cannot select log records (and log-only ones spans): the Collector refuses such a pipeline.
  for (const [k, mp] of Object.entries(match)) {
    if (!mp) continue;
    const can = validateMatchProperties(mp, k);
    if (next.logs && !can.logs) throw new Error(`${settings.id}: ${k} selects spans (services, span_names, span_kinds) but the processor is in a logs pipeline`);
    if (next.traces && !can.traces) throw new Error(`${settings.id}: ${k} selects log records (log_bodies, log_severity_*) but the processor is in a traces pipeline`);
  }
  const skip = compileSkip(match.include, match.exclude);
  return inPlaceProcessor(settings, next, {
    logs(data, p) {
      const client = p.client;
      for (const rl of data.resourceLogs) {
        if (target === 'resource') rl.resource.attributes = actions.apply(rl.resource.attributes, client);
        else
          for (const sl of rl.scopeLogs)
            for (const r of sl.logRecords) if (!skip || !skip.log(r, rl.resource, sl.scope)) r.attributes = actions.apply(r.attributes, client);
      }
    },
    traces(data, p) {
      const client = p.client;
      for (const rs of data.resourceSpans) {
        if (target === 'resource') rs.resource.attributes = actions.apply(rs.resource.attributes, client);
        else
          for (const ss of rs.scopeSpans)
            for (const sp of ss.spans) if (!skip || !skip.span(sp, rs.resource, ss.scope)) sp.attributes = actions.apply(sp.attributes, client);
      }
    },
  });
}
