/**
 * The `attributes` and `resource` processors (the Collector's): the same
 * actions (actions.ts), on the attributes of each log record and span, or on
 * the resource's. Payloads change in place; the next stage gets them whole.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { inPlaceProcessor } from '../../core/processor-helper.ts';
import { AttrActions, type ActionConfig } from './actions.ts';

export type Target = 'records' | 'resource';

export function attributesProcessor(
  settings: CreateSettings<unknown>,
  next: NextConsumers,
  actionList: ActionConfig[],
  target: Target,
): Component & LogsConsumer & TracesConsumer {
  const actions = new AttrActions(actionList);
  return inPlaceProcessor(settings, next, {
    logs(data) {
      for (const rl of data.resourceLogs) {
        if (target === 'resource') rl.resource.attributes = actions.apply(rl.resource.attributes);
        else for (const sl of rl.scopeLogs) for (const r of sl.logRecords) r.attributes = actions.apply(r.attributes);
      }
    },
    traces(data) {
      for (const rs of data.resourceSpans) {
        if (target === 'resource') rs.resource.attributes = actions.apply(rs.resource.attributes);
        else for (const ss of rs.scopeSpans) for (const sp of ss.spans) sp.attributes = actions.apply(sp.attributes);
      }
    },
  });
}
