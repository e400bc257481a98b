/**
 * The clickhouse exporter's `integrity` section: otel_logs rows of chosen
 * services become leaves of their own signed Merkle log
 * (lib/audit/otel-logs-source.ts), with the audit processor's machinery —
 * by default its signing key and its witness file — under its own origin,
 * `<host>/trailhouse/<database>.<logs_table_name>`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { s, type ConfigError } from '../../core/config/schema.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { defaultIntegrity, integrityFields, integrityPaths, openLogKeys, validateIntegrity, type IntegrityConfig } from '../../lib/audit/integrity.ts';
import { MerkleLog } from '../../lib/audit/merkle-log.ts';
import { OTEL_LOGS_HEADER, otelLogsLeafSource, type OtelLogsBatch } from '../../lib/audit/otel-logs-source.ts';
import type { NativeBlock } from '../../lib/clickhouse/native.ts';
import type { Store } from '../../lib/clickhouse/store.ts';
import { defaultSelfVerify, SelfVerifier, selfVerifySchema, type SelfVerifyConfig } from '../../lib/audit/self-verify.ts';
import { ownStoreSource } from '../../lib/audit/self-verify-source.ts';

export interface LogsIntegrityConfig extends IntegrityConfig {
  /** `service.name`s whose log records are leaves; every other record is written as before. Required when enabled. */
  services: string[];
  /** The pipeline verifies this log now and then (lib/audit/self-verify.ts). Default every 1h. */
  self_verify?: SelfVerifyConfig;
}

/** Off by default: covering logs costs CPU per covered row (README: "Other tables"). */
export const defaultLogsIntegrity = (): LogsIntegrityConfig => ({ ...defaultIntegrity(), enabled: false, services: [], self_verify: defaultSelfVerify() });

export const logsIntegritySchema = s.object({ ...integrityFields, services: s.list(s.string({ nonEmpty: true })), self_verify: selfVerifySchema });

export function validateLogsIntegrity(c: LogsIntegrityConfig, o: { server: boolean; cluster: boolean }): ConfigError[] {
  if (!c.enabled) return [];
  const errors = validateIntegrity(c);
  if (c.services.length === 0) errors.push({ path: 'integrity.services', message: 'name the services whose logs the log covers (service.name values), e.g. [checkout, payments]' });
  // The leaves are computed from the Native columns the embedded store gets; a server gets JSON rows.
  if (o.server) errors.push({ path: 'integrity', message: 'a log over otel_logs needs the embedded store for now (no endpoint); a ClickHouse server is not supported yet' });
  if (o.cluster) errors.push({ path: 'integrity', message: 'a log over otel_logs is not supported with cluster_name' });
  return errors;
}

/** The name in an existing key file (`PRIVATE+KEY+<name>+…`), so a key the audit processor made is shared as it is. */
function keyNameIn(file: string): string | undefined {
  try {
    return /^PRIVATE\+KEY\+([^+\s]+)\+/.exec(readFileSync(file, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export interface LogsLog {
  log: MerkleLog<OtelLogsBatch>;
  services: ReadonlySet<string>;
  /** Its periodic check (integrity.self_verify), recorded as integrity.verify audit events. */
  selfVerifier?: SelfVerifier;
}

export async function openLogsLog(
  c: LogsIntegrityConfig,
  o: { store: Store; dataRoot: string; database: string; table: string; logger: Logger; metrics?: MetricsRegistry; insert: (block: NativeBlock, dedupToken: string) => Promise<void> },
): Promise<LogsLog> {
  if (o.store.kind !== 'embedded') throw new Error('exporters.clickhouse.integrity: a log over otel_logs needs the embedded store (its store is a ClickHouse server)');
  const p = integrityPaths(c, o.dataRoot, o.database, o.table);
  // One key for every log of this node: the audit processor's default name, or the one its key file already has.
  const keyName = c.key_name || keyNameIn(p.keyFile) || `${os.hostname().replace(/[^A-Za-z0-9._:/-]/g, '-')}/trailhouse/${o.database}.audit_events`;
  const { signer, verifiers, witnesses } = openLogKeys(c, { ...p, keyName }, o.logger);
  const tables = { database: o.database, table: o.table, header: OTEL_LOGS_HEADER };
  const store = {
    exec: (sql: string) => o.store.command(sql),
    query: <T>(sql: string) => o.store.queryRows<T>(sql),
    insert: () => Promise.reject(new Error('the otel_logs log inserts through its leaf source')),
  };
  const log = new MerkleLog<OtelLogsBatch>({
    ...tables,
    source: otelLogsLeafSource(tables, o.insert),
    store,
    origin: p.origin,
    sequenceBase: p.sequenceBase,
    signer,
    verifiers,
    witnesses,
    checkpointMs: c.checkpoint_interval,
    logger: o.logger,
    metrics: o.metrics,
  });
  await log.start();
  let selfVerifier: SelfVerifier | undefined;
  if ((c.self_verify?.interval ?? 0) > 0) {
    selfVerifier = new SelfVerifier({ source: ownStoreSource(o.store, o.database), table: o.table, witnessFile: p.witnessFile, verifiersFile: p.verifiersFile, intervalMs: c.self_verify!.interval, logger: o.logger });
    selfVerifier.start();
  }
  return { log, services: new Set(c.services), selfVerifier };
}
