/**
 * What the kafka exporter and receiver share: the `auth` config block (SASL
 * and TLS, as the Collector's kafka components spell it), building a kafkajs
 * client from it, and routing kafkajs' own logs into ours.
 *
 * kafkajs logs every retriable broker answer (a leader election, a refused
 * connection while the broker restarts) as an error, once per retry. We keep
 * warn and error only, and say each distinct message at most once a minute,
 * so a broker outage is a few lines, not thousands.
 */
import type { Kafka, KafkaConfig, SASLOptions, logCreator } from 'kafkajs';
import { kafkajs } from './kafkajs.ts';
import { codecRegistry } from './codecs.ts';
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { collectorAuthFields, collectorClientFields, collectorSaslFields, metadataSchema } from './collector-keys.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { clientTlsDefaults, clientTlsFields, loadClientTls, type ClientTlsConfig } from '../../core/tls-client.ts';
// Registers kafkajs' snappy, lz4 and zstd codecs for every client we build.
import './codecs.ts';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface SaslConfig {
  mechanism: SaslMechanism;
  username: string;
  password: string;
  /** The Collector's SASL protocol version (0 or 1): kafkajs negotiates it with the broker. */
  version: number;
}

/** The client TLS settings (core/tls-client.ts), as the Collector's kafka components spell them. */
export type TlsConfig = ClientTlsConfig;

export interface AuthConfig {
  sasl: SaslConfig | null;
  tls: TlsConfig | null;
}

export const tlsDefaults = clientTlsDefaults;

const saslDefaults = (): SaslConfig => ({ mechanism: 'PLAIN', username: '', password: '', version: 0 });

export const tlsSchema: Schema = s.section(s.object(clientTlsFields), tlsDefaults);

export const authSchema: Schema = s.object({
  sasl: s.section(
    s.object({
      mechanism: s.string({ enum: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] }),
      username: s.string({ nonEmpty: true }),
      password: s.string(),
      ...collectorSaslFields,
    }),
    saslDefaults,
  ),
  // Where the Collector had it before v0.124; `tls` at the top level now.
  tls: tlsSchema,
  ...collectorAuthFields,
});

export const authDefaults = (): AuthConfig => ({ sasl: null, tls: null });

export const brokersSchema: Schema = s.list(s.endpoint());

/** What the kafka exporter and receiver configs share, as the Collector spells it. */
export interface ClientConfig {
  brokers: string[];
  client_id: string;
  /**
   * The Collector's `protocol_version` (e.g. 2.1.0), checked for form only:
   * kafkajs asks each broker which API versions it speaks and uses those.
   */
  protocol_version: string;
  /** The Collector's place for TLS since v0.124 (`auth.tls` is still read). null = plaintext. */
  tls: TlsConfig | null;
  auth: AuthConfig;
  /** The Collector's `rack_id` (Kafka's client.rack): the receiver fetches from a replica in this rack when the brokers allow it. '' = off. */
  rack_id: string;
  /** The Collector's `dial_timeout`: time to establish a broker connection (ms). Default 3s. */
  dial_timeout: number;
  /** `metadata.refresh_interval`: how old cluster metadata may grow before it is fetched again (ms). Default 5m (kafkajs'). */
  metadata: { full: boolean; refresh_interval: number };
}

export const clientDefaults = (): Omit<ClientConfig, 'brokers' | 'client_id'> => ({
  protocol_version: '',
  tls: null,
  auth: authDefaults(),
  rack_id: '',
  dial_timeout: 3_000,
  metadata: { full: true, refresh_interval: 300_000 },
});

export const clientSchemaFields: Record<string, Schema> = {
  brokers: brokersSchema,
  client_id: s.string(),
  protocol_version: s.string(),
  tls: tlsSchema,
  auth: authSchema,
  rack_id: s.string(),
  dial_timeout: s.duration(),
  metadata: metadataSchema,
  ...collectorClientFields,
};

/** The TLS settings in effect: top-level `tls`, else `auth.tls`. */
export function clientTls(c: ClientConfig): TlsConfig | null {
  return c.tls ?? c.auth.tls;
}

/** Checks shared by both components (pure). */
export function validateClient(c: ClientConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.brokers.length === 0) errors.push({ path: 'brokers', message: 'must list at least one broker (host:port)' });
  if (c.client_id === '') errors.push({ path: 'client_id', message: 'must not be empty' });
  if (c.protocol_version !== '' && !/^\d+\.\d+(\.\d+)?$/.test(c.protocol_version)) {
    errors.push({ path: 'protocol_version', message: `expected a Kafka version like 2.1.0, got ${JSON.stringify(c.protocol_version)}` });
  }
  if (c.dial_timeout <= 0) errors.push({ path: 'dial_timeout', message: 'must be positive' });
  if (c.metadata.refresh_interval <= 0) errors.push({ path: 'metadata.refresh_interval', message: 'must be positive' });
  const sasl = c.auth.sasl;
  if (sasl && sasl.username === '') errors.push({ path: 'auth.sasl.username', message: 'must not be empty' });
  if (c.tls && c.auth.tls) errors.push({ path: 'auth.tls', message: 'TLS is set both here and in tls: keep the top-level tls only' });
  for (const [path, tls] of [['tls', c.tls], ['auth.tls', c.auth.tls]] as const) {
    if (tls && !!tls.cert_file !== !!tls.key_file) errors.push({ path, message: 'cert_file and key_file must be given together' });
  }
  return errors;
}

/** kafkajs' SASL option names. */
function sasl(c: SaslConfig): SASLOptions {
  const mechanism = ({ PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' } as const)[c.mechanism];
  return { mechanism, username: c.username, password: c.password } as SASLOptions;
}

const QUIET_MS = 60_000;

/** kafkajs log lines → our logger, warn and error only, each distinct message once a minute. */
export function kafkaLogCreator(logger: Logger): logCreator {
  const lastSaid = new Map<string, number>();
  const { logLevel } = kafkajs();
  return () => ({ namespace, level, log }) => {
    if (level > logLevel.WARN || level === logLevel.NOTHING) return;
    const { message, timestamp: _ts, logger: _l, stack: _s, ...fields } = log as Record<string, unknown> & { message: string };
    // Limiting the idempotent producer's retries is our choice (see exporter.ts), not news.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    // A broker's error answer to one request (a topic being created, a leader
    // moving): kafkajs retries it, and a final failure reaches us as an error.
    if (namespace === 'Connection' && message.startsWith('Response ')) return;
    const key = `${namespace}|${message}`;
    const now = Date.now();
    const last = lastSaid.get(key);
    if (last !== undefined && now - last < QUIET_MS) return;
    lastSaid.set(key, now);
    if (lastSaid.size > 1000) lastSaid.clear();
    const f = { kafkajs: namespace, ...fields };
    if (level === logLevel.ERROR) logger.error(`kafka: ${message}`, f);
    else logger.warn(`kafka: ${message}`, f);
  };
}

export interface ClientOptions {
  brokers: string[];
  client_id: string;
  tls: TlsConfig | null;
  sasl: SaslConfig | null;
  logger: Logger;
  /** kafkajs retry policy of the client's own requests. */
  retry?: KafkaConfig['retry'];
  connectionTimeout?: number;
  requestTimeout?: number;
  /** Tests only: how sockets are made (fault injection between client and a real broker). */
  socketFactory?: KafkaConfig['socketFactory'];
}

export async function createKafkaClient(o: ClientOptions): Promise<Kafka> {
  const { Kafka, logLevel } = kafkajs();
  // Our codecs before the first batch this client could produce or fetch.
  codecRegistry();
  const cfg: KafkaConfig = {
    clientId: o.client_id,
    brokers: o.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(o.logger),
    retry: o.retry ?? { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    connectionTimeout: o.connectionTimeout ?? 3_000,
    requestTimeout: o.requestTimeout ?? 30_000,
  };
  if (o.socketFactory) cfg.socketFactory = o.socketFactory;
  if (o.tls) {
    const tls = (await loadClientTls(o.tls)) ?? undefined;
    if (tls) cfg.ssl = tls;
  }
  if (o.sasl) cfg.sasl = sasl(o.sasl);
  return new Kafka(cfg);
}
