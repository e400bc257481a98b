/**
 * The `forward` connector (the Collector's): what one pipeline exports, the
 * pipelines that name it as a receiver get, each its own copy. Joins, e.g.,
 * several ingest pipelines into one shared tail of processors.
 */
import type { ConnectorFactory, LogsConsumer, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { fanoutLogs, fanoutTraces } from '../../core/fanout.ts';

export const forwardFactory: ConnectorFactory<Record<string, never>> = {
  kind: 'connector',
  type: 'forward',
  signals: ['logs', 'traces'],
  schema: s.object({}, { allowNull: true }),
  defaultConfig: () => ({}),
  create: (_settings, routes) => {
    // Resolved on first use: the service fills `routes` after building the pipelines.
    let logs: LogsConsumer | undefined;
    let traces: TracesConsumer | undefined;
    return {
      start: async () => {},
      consumeLogs: (data) => (logs ??= fanoutLogs([...routes.values()].flatMap((r) => (r.logs ? [r.logs] : [])))).consumeLogs(data),
      consumeTraces: (data) => (traces ??= fanoutTraces([...routes.values()].flatMap((r) => (r.traces ? [r.traces] : [])))).consumeTraces(data),
      shutdown: once(async () => {}),
    };
  },
};
