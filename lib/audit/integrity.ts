/**
 * The `integrity` section of the audit processor (the audit log, log.ts)
 * and of the clickhouse exporter (its log over otel_logs rows of chosen
 * services, otel-logs-source.ts): a log's origin, signing key, checkpoint
 * interval and witnesses, and how they are opened at start. With the
 * defaults both use one key and one witness file.
 */
import os from 'node:os';
import path from 'node:path';
import { s, type ConfigError } from '../../core/config/schema.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { SqlStore } from '../clickhouse/sql-store.ts';
import { AuditLog } from './log.ts';
import { FileWitness, HttpWitness, type Witness } from './witness.ts';
import { KafkaWitness } from './witness-kafka.ts';
import { authDefaults, authSchema, brokersSchema, tlsSchema, type AuthConfig, type TlsConfig } from '../kafka/client.ts';
import { validOrigin } from '../tlog/checkpoint.ts';
import { loadOrCreateSigner, rememberVerifier, verifierKeyOf, verifiersFileOf } from '../tlog/keys.ts';
import { parseVerifierKey, validKeyName } from '../tlog/note.ts';

export interface IntegrityConfig {
  /** Every audit row is a leaf of a signed Merkle log. Default true. */
  enabled: boolean;
  /**
   * The log's name (C2SP origin). Default `<hostname>/trailhouse/<database>.<table>`.
   * Logs of Kafka partitions are `<origin>/kafka/<group>/<topic>/<partition>`,
   * by default `trailhouse/<database>.<table>/kafka/…`: no host, so every
   * ingester of the group continues the same logs (set the same origin on all).
   */
  origin: string;
  /** Ed25519 signing key (created 0600 on first start). Default `<path>/keys/audit-checkpoint.key`. */
  key_file: string;
  /** The key's name in signatures. Default: the origin. */
  key_name: string;
  /** How often a checkpoint is signed while the log grows (and always at shutdown). Default 30s. */
  checkpoint_interval: number;
  witnesses: {
    /** Append-only JSON-lines file of every checkpoint; null = none. Default `{ path: <path>/witness/audit-checkpoints.jsonl }`. */
    file: { path: string } | null;
    /** POST every checkpoint as JSON. Default null. */
    http: { endpoint: string; headers: Record<string, string>; timeout: number } | null;
    /** Produce every checkpoint to a topic (key: the origin). Default null. */
    kafka: KafkaWitnessConfig | null;
  };
}

export interface KafkaWitnessConfig {
  brokers: string[];
  topic: string;
  client_id: string;
  tls: TlsConfig | null;
  auth: AuthConfig;
  timeout: number;
}

export const defaultIntegrity = (): IntegrityConfig => ({
  enabled: true,
  origin: '',
  key_file: '',
  key_name: '',
  checkpoint_interval: 30_000,
  witnesses: { file: { path: '' }, http: null, kafka: null },
});

export const integrityFields = {
  enabled: s.bool(),
  origin: s.string(),
  key_file: s.string(),
  key_name: s.string(),
  checkpoint_interval: s.duration(),
  witnesses: s.object({
    file: s.optional(s.object({ path: s.string() })),
    http: s.section(s.object({ endpoint: s.string({ nonEmpty: true }), headers: s.map(s.string()), timeout: s.duration() }), () => ({ endpoint: '', headers: {}, timeout: 5000 })),
    kafka: s.section(
      s.object({ brokers: brokersSchema, topic: s.string({ nonEmpty: true }), client_id: s.string({ nonEmpty: true }), tls: tlsSchema, auth: authSchema, timeout: s.duration() }),
      (): KafkaWitnessConfig => ({ brokers: [], topic: 'trailhouse_audit_checkpoints', client_id: 'trailhouse-witness', tls: null, auth: authDefaults(), timeout: 10_000 }),
    ),
  }),
};

export const integritySchema = s.object(integrityFields);

export function validateIntegrity(c: IntegrityConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.origin && !validOrigin(c.origin)) errors.push({ path: 'integrity.origin', message: `letters, digits and . _ : / - only (no spaces, '+' or '@'), got ${JSON.stringify(c.origin)}` });
  if (c.key_name && !validKeyName(c.key_name)) errors.push({ path: 'integrity.key_name', message: `a key name has no spaces or '+', got ${JSON.stringify(c.key_name)}` });
  const http = c.witnesses.http;
  if (http && !/^https?:\/\//.test(http.endpoint)) errors.push({ path: 'integrity.witnesses.http.endpoint', message: `expected http(s)://…, got ${JSON.stringify(http.endpoint)}` });
  const kafka = c.witnesses.kafka;
  if (kafka && kafka.brokers.length === 0) errors.push({ path: 'integrity.witnesses.kafka.brokers', message: 'must list at least one broker (host:port)' });
  if (kafka?.tls && kafka.auth.tls) errors.push({ path: 'integrity.witnesses.kafka.auth.tls', message: 'TLS is set both here and in tls: keep the top-level tls only' });
  if (c.enabled && !c.witnesses.file && !http && !kafka) {
    errors.push({ path: 'integrity.witnesses', message: 'at least one witness outside the store is needed (file, http or kafka): checkpoints kept only in the store can be rewritten with it' });
  }
  return errors;
}

/** The defaults that depend on where the data lives. */
export function integrityPaths(c: IntegrityConfig, dataRoot: string, database: string, table: string) {
  const origin = c.origin || `${os.hostname().replace(/[^A-Za-z0-9._:/-]/g, '-')}/trailhouse/${database}.${table}`;
  const keyFile = path.resolve(c.key_file || path.join(dataRoot, 'keys', 'audit-checkpoint.key'));
  return {
    origin,
    sequenceBase: c.origin || `trailhouse/${database}.${table}`,
    keyName: c.key_name || origin,
    keyFile,
    verifiersFile: verifiersFileOf(keyFile),
    witnessFile: c.witnesses.file ? path.resolve(c.witnesses.file.path || path.join(dataRoot, 'witness', 'audit-checkpoints.jsonl')) : null,
  };
}

export interface OpenLogSettings {
  store: SqlStore;
  database: string;
  table: string;
  dataRoot: string;
  logger: Logger;
  metrics: MetricsRegistry;
}

/** The signer, the keys a log trusts when it continues, and the witnesses, as `c` and its paths say. */
export function openLogKeys(c: IntegrityConfig, p: { keyFile: string; keyName: string; verifiersFile: string; witnessFile: string | null }, logger: Logger) {
  const signer = loadOrCreateSigner(p.keyFile, p.keyName);
  // The log trusts its own keys, current and retired, when it continues after a restart.
  const verifiers = rememberVerifier(p.verifiersFile, verifierKeyOf(signer)).map((k) => parseVerifierKey(k));
  const witnesses: Witness[] = [];
  if (p.witnessFile) witnesses.push(new FileWitness(p.witnessFile));
  const http = c.witnesses.http;
  if (http) witnesses.push(new HttpWitness({ endpoint: http.endpoint, headers: http.headers, timeoutMs: http.timeout }));
  const kafka = c.witnesses.kafka;
  if (kafka) {
    witnesses.push(new KafkaWitness({ brokers: kafka.brokers, topic: kafka.topic, client_id: kafka.client_id, tls: kafka.tls ?? kafka.auth.tls, sasl: kafka.auth.sasl, timeoutMs: kafka.timeout, logger }));
  }
  return { signer, verifiers, witnesses };
}

export async function openAuditLog(c: IntegrityConfig, o: OpenLogSettings): Promise<AuditLog> {
  const p = integrityPaths(c, o.dataRoot, o.database, o.table);
  const { signer, verifiers, witnesses } = openLogKeys(c, p, o.logger);
  const log = new AuditLog({
    store: o.store,
    database: o.database,
    table: o.table,
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
  return log;
}
