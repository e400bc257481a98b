/**
 * Keys of the Collector's kafka client config (contrib 0.165, `configkafka`
 * shared by its kafka receiver and exporter) that kafkajs cannot honour as
 * asked: each is refused with why and what to do instead, so a Collector
 * section carried over fails on that key rather than being half-applied.
 * What is honoured (`rack_id`, `dial_timeout`, `metadata.refresh_interval`)
 * is in client.ts.
 */
import { s, type Schema } from '../../core/config/schema.ts';

const is = (want: unknown) => (v: unknown) => v === want || (typeof want === 'boolean' && v === String(want));

/** Client-level keys the Collector has, refused or accepted only where they ask for what kafkajs does anyway. */
export const collectorClientFields: Record<string, Schema> = {
  resolve_canonical_bootstrap_servers_only: s.refused(
    'not supported: kafkajs connects to the brokers as listed; list their canonical host names in brokers instead',
    is(false),
  ),
  use_leader_epoch: s.refused(
    'kafkajs does not use leader epochs (KIP-320) to detect log truncation; only false (what it does) is accepted',
    is(false),
  ),
  conn_idle_timeout: s.refused('not supported: kafkajs keeps its broker connections open for the life of the component; remove the key'),
};

/** `metadata` as the Collector writes it: `refresh_interval` honoured, `full` a no-op there too. */
export const metadataSchema: Schema = s.object({
  // Deprecated in the Collector since v0.159 and a no-op there: kafkajs, like
  // franz-go, only fetches metadata for the topics it uses.
  full: s.bool(),
  refresh_interval: s.duration(),
  retry: s.refused(
    'not configurable here: kafkajs retries a failed request with its own backoff (the exporter\'s retry_on_failure and the receiver\'s reconnect loop retry beyond it); remove the key',
  ),
});

/** `auth` keys of the Collector's that kafkajs has no mechanism for. */
export const collectorAuthFields: Record<string, Schema> = {
  kerberos: s.refused('not supported: kafkajs has no GSSAPI (Kerberos) mechanism; use auth.sasl with SCRAM-SHA-512 (over tls)'),
  plain_text: s.refused('removed from the Collector (deprecated since v0.123): use auth.sasl with mechanism: PLAIN'),
};

/** `auth.sasl` keys of the Collector's beyond mechanism, username and password. */
export const collectorSaslFields: Record<string, Schema> = {
  // kafkajs negotiates SaslHandshake and SaslAuthenticate versions with the broker itself.
  version: s.int({ min: 0, max: 1 }),
  aws_msk: s.refused('not supported: mechanism AWS_MSK_IAM_OAUTHBEARER is not offered (kafkajs has no AWS IAM signer); use SCRAM-SHA-512'),
  oauthbearer_token_source: s.refused('not supported: mechanism OAUTHBEARER is not offered; use SCRAM-SHA-512 or PLAIN over tls'),
};
