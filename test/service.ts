/** An in-process pipeline for end-to-end tests: built from YAML, started, its components found by id. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { builtinRegistry } from '../components.ts';
import { loadConfigText } from '../core/config/load.ts';
import { Service } from '../core/service.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { afterAll, beforeAll } from 'vitest';
import { testLogger, waitFor } from './helpers.ts';

interface Internals {
  receivers: Array<{ id: string; component: unknown }>;
  exporters: Array<{ id: string; component: unknown }>;
  extensions: Array<{ id: string; component: unknown }>;
}

export interface RunningService {
  service: Service;
  /** The started `otlp` receiver (its bound addresses). */
  otlp: OtlpReceiver;
  /** http://host:port of the query interface (the clickhouse_store extension's, or the clickhouse exporter's). */
  queryUrl: string;
  /** @clickhouse/client on that interface. */
  ch: ClickHouseClient;
  /** Rows of a query, as JSONEachRow objects. */
  rows<T>(query: string): Promise<T[]>;
  /** The query's rows once `done` says they are complete (fails with the last rows after `timeoutMs`). */
  waitRows<T>(query: string, done: (rows: T[]) => boolean, what: string, timeoutMs?: number): Promise<T[]>;
  /** Closes the client, then shuts the pipeline down. */
  stop(): Promise<void>;
}

/** Loads `yaml` (an `otlp` receiver and a query_endpoint on a `clickhouse_store` extension or a `clickhouse` exporter) and starts it. */
export async function startService(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<RunningService> {
  const service = new Service(loadConfigText(yaml, builtinRegistry(), env), { logger: testLogger() });
  await service.start();
  const internals = service as unknown as Internals;
  const otlp = internals.receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  const store = internals.extensions.find((e) => e.id.startsWith('clickhouse_store'))?.component as { queryUrl?: string } | undefined;
  const exporter = internals.exporters.find((e) => e.id === 'clickhouse')?.component as { queryAddress?: string } | undefined;
  const queryUrl = store?.queryUrl ?? (exporter?.queryAddress ? `http://${exporter.queryAddress}` : undefined);
  if (!queryUrl) throw new Error('no query interface: give the clickhouse_store extension or the clickhouse exporter a query_endpoint');
  const ch = createClient({ url: queryUrl });
  const rows = async <T>(query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
  return {
    service,
    otlp,
    queryUrl,
    ch,
    rows,
    waitRows: async <T>(query: string, done: (rows: T[]) => boolean, what: string, timeoutMs = 30_000) => {
      let last: T[] = [];
      return waitFor(async () => ((last = await rows<T>(query)), done(last) ? last : undefined), timeoutMs, what).catch((err: Error) => {
        throw new Error(`${err.message}; last rows: ${JSON.stringify(last)}`);
      });
    },
    stop: async () => {
      await ch.close();
      await service.shutdown();
    },
  };
}

/**
 * startService in a fresh temporary directory (`yaml` gets its path, for the
 * store and queues); stop() also removes the directory.
 */
export async function startInTempDir(prefix: string, yaml: (dir: string) => string): Promise<RunningService & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const running = await startService(yaml(dir));
    return {
      ...running,
      dir,
      stop: async () => {
        try {
          await running.stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The embedded clickhouse exporter, for a config's `exporters:` section: store under `dir`, query interface on a free port, no queue. */
export function embeddedClickhouse(dir: string): string {
  return `  clickhouse:
    path: ${dir}/store
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}`;
}

/** A service in a temporary directory, started before the file's tests and stopped after them; call the result for it. */
export function serviceFixture(prefix: string, yaml: (dir: string) => string): () => RunningService {
  let running: RunningService | undefined;
  beforeAll(async () => {
    running = await startInTempDir(prefix, yaml);
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
  });
  return () => running!;
}
