/**
 * The `spool` exporter: hands batches to the `spool` receiver of the same
 * `name` in this process — in the embedded default, the local durable queue
 * where Kafka stands in the distributed deployment:
 *
 *   otlp → memory_limiter → redaction → [spool exporter ⇢ file-backed queue] ⇢ spool receiver → correlate → audit → clickhouse
 *
 * With `sending_queue.storage: file_storage`, a sender gets its 200 once its
 * request is fsynced (`sending_queue.batch` joins requests after that); a
 * request leaves the queue only after everything behind
 * the spool receiver accepted it (ClickHouse stored it), and is replayed after
 * a crash. Its dedup token is stored with it, so a replayed batch is inserted
 * with the same token and does not double rows.
 */
import type { ExporterFactory } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { helperDefaults, helperSchemaFields, type ExporterHelperConfig } from '../../core/exporter-helper-config.ts';
import { sendSpool } from '../../core/spool-channel.ts';

export interface SpoolExporterConfig extends ExporterHelperConfig {
  /** Channel name; a spool receiver with the same name takes the batches. Default "default". */
  name: string;
}

export const spoolExporterFactory: ExporterFactory<SpoolExporterConfig> = {
  kind: 'exporter',
  type: 'spool',
  signals: ['logs', 'traces'],
  schema: s.object({ name: s.string({ nonEmpty: true }), ...helperSchemaFields }),
  // Its queue stores the request bytes and hands them on as written; what the
  // receiver's pipelines read they decode there: correlate holds a payload in
  // its bytes for the window (processors/correlate/peek.ts).
  reads: () => 'bytes',
  defaultConfig: () => ({
    name: 'default',
    // The batch is done only when the pipelines behind the receiver (with the
    // correlate window) accepted it: give it time, and retry without limit.
    // Batches in flight = consumers, and each stays in flight for the whole
    // correlation window (10s by default): at 8192 records a batch, 64
    // consumers carry ~50,000 records a second through a 10s window.
    ...helperDefaults({ timeout: 120_000, retry: { initial_interval: 1000, max_elapsed_time: 0 }, queue: { num_consumers: 64 } }),
  }),
  create: (settings) => {
    const name = settings.config.name;
    // A persistent queue hands on the bytes it wrote, not decoded
    // (extensions/file_storage/written.ts afterWrite): the spool reads bytes.
    return createExporter(
      settings,
      {
        pushLogs: (p, ctx) => ((p.dedupToken = ctx.dedupToken), sendSpool(name, p, ctx.signal)),
        pushTraces: (p, ctx) => ((p.dedupToken = ctx.dedupToken), sendSpool(name, p, ctx.signal)),
      },
      () => 'bytes',
    );
  },
};
