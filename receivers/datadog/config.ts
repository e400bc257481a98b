/**
 * The datadog receiver's config. The Collector's datadogreceiver (traces
 * and metrics, no logs) gives `endpoint`; the logs intake adds `api_keys`,
 * the allowlist the Datadog Agent's `DD-API-KEY` header is checked against,
 * plus this repo's shared listener settings.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { serverAuthDefaults, serverAuthSchemaFields, validateServerAuth, type ServerAuthSettings } from '../../core/auth-config.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { receiveLimitDefaults, receiveLimitSchemaFields, validateReceiveLimits, type ReceiveLimits } from '../../core/inflight.ts';

export interface DatadogApiKey {
  /** What the payload's client info carries as the sender (`auth.subject`): never the key. */
  name: string;
  /** The key itself (use `${env:…}`). */
  api_key: string;
}

export interface DatadogReceiverConfig extends ServerAuthSettings, ReceiveLimits {
  /** host:port for /api/v2/logs and /v1/input. Default 127.0.0.1:8126. */
  endpoint: string;
  /** Largest body, on the wire and once decompressed. Default 20MiB. */
  max_request_body_size: number;
  tls: TlsServerConfig | null;
  include_metadata: boolean;
  /** Allowed API keys; empty = any key (or none) is accepted. */
  api_keys: DatadogApiKey[];
}

export const defaultDatadogConfig = (): DatadogReceiverConfig => ({
  endpoint: '127.0.0.1:8126',
  max_request_body_size: 20 * 1024 * 1024,
  tls: null,
  include_metadata: false,
  api_keys: [],
  ...serverAuthDefaults(), ...receiveLimitDefaults(),
});

export const datadogSchema = s.object({
  endpoint: s.endpoint(),
  max_request_body_size: s.bytes(),
  tls: tlsServerSchema,
  include_metadata: s.bool(),
  api_keys: s.list(s.object({ name: s.string({ nonEmpty: true }), api_key: s.string({ nonEmpty: true }) })),
  ...serverAuthSchemaFields, ...receiveLimitSchemaFields,
});

export function validateDatadog(c: DatadogReceiverConfig): ConfigError[] {
  const errors: ConfigError[] = [...validateTlsServer(c.tls, 'tls'), ...validateReceiveLimits(c, '')];
  if (c.auth && c.api_keys.length) errors.push({ path: 'api_keys', message: 'set either api_keys or auth, not both: the Datadog Agent sends one credential, DD-API-KEY' });
  // An allowlist of keys is this receiver's authentication: with it, a non-loopback endpoint is not open.
  if (!c.api_keys.length) errors.push(...validateServerAuth(c, ''));
  const names = new Set<string>();
  const keys = new Set<string>();
  c.api_keys.forEach((k, i) => {
    if (names.has(k.name)) errors.push({ path: `api_keys[${i}].name`, message: `duplicate name ${JSON.stringify(k.name)}` });
    if (keys.has(k.api_key)) errors.push({ path: `api_keys[${i}].api_key`, message: 'the same key is listed twice (the value is not shown)' });
    names.add(k.name);
    keys.add(k.api_key);
  });
  return errors;
}
