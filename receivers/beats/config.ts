/**
 * The beats receiver's config. The Collector has no Lumberjack receiver;
 * the keys follow this repo's listeners (`endpoint`, `tls`, `insecure`) and
 * Logstash's beats input where it has one (`client_inactivity_timeout`).
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { parseEndpoint } from '../../core/net.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';

const MiB = 1024 * 1024;

export interface BeatsReceiverConfig {
  /** host:port of the Lumberjack listener. Default 127.0.0.1:5044 (Logstash's beats port). */
  endpoint: string;
  /** TLS; with client_ca_file, senders must present a certificate from that CA (their authentication). */
  tls: TlsServerConfig | null;
  /** Accept senders that cannot authenticate (no client certificates) on a non-loopback endpoint, on purpose. */
  insecure: boolean;
  /** Largest frame payload (a JSON event, a compressed frame), also once decompressed. Default 20MiB. */
  max_message_size: number;
  /** Largest window a sender may announce (events before it waits for an ACK). Default 65536. */
  max_window_size: number;
  /** Events handed to the pipeline at once; each such batch is ACKed when accepted. Default 2048. */
  max_batch_records: number;
  /** Bytes of events handed to the pipeline at once (before decoding). Default 8MiB. */
  max_batch_bytes: number;
  /** Open connections; beyond it new ones are closed at once. Default 1024. */
  max_connections: number;
  /** Close a connection that sends nothing for this long while nothing is pending (ms). Default 60s, as Logstash. */
  client_inactivity_timeout: number;
  /** While the pipeline holds a batch, ACK what is done every this often so the sender does not time out (ms). Default 5s. */
  keepalive_interval: number;
}

export const defaultBeatsConfig = (): BeatsReceiverConfig => ({
  endpoint: '127.0.0.1:5044',
  tls: null,
  insecure: false,
  max_message_size: 20 * MiB,
  max_window_size: 65_536,
  max_batch_records: 2048,
  max_batch_bytes: 8 * MiB,
  max_connections: 1024,
  client_inactivity_timeout: 60_000,
  keepalive_interval: 5_000,
});

export const beatsSchema = s.object({
  endpoint: s.endpoint(),
  tls: tlsServerSchema,
  insecure: s.bool(),
  max_message_size: s.bytes(),
  max_window_size: s.int({ min: 1 }),
  max_batch_records: s.int({ min: 1 }),
  max_batch_bytes: s.bytes(),
  max_connections: s.int({ min: 0 }),
  client_inactivity_timeout: s.duration(),
  keepalive_interval: s.duration(),
});

export function validateBeats(c: BeatsReceiverConfig): ConfigError[] {
  const errors = validateTlsServer(c.tls, 'tls');
  if (!c.tls?.client_ca_file && !c.insecure && !isLoopbackHost(parseEndpoint(c.endpoint).host)) {
    errors.push({
      path: 'endpoint',
      message:
        `${c.endpoint} is not a loopback address and senders are not authenticated, so anyone who can reach it could write to the audit store: ` +
        'set tls with client_ca_file (Filebeat: ssl.certificate / ssl.key), or insecure: true beside endpoint to accept that on purpose',
    });
  }
  if (c.max_message_size < 1024) errors.push({ path: 'max_message_size', message: 'must be at least 1KiB' });
  if (c.keepalive_interval <= 0) errors.push({ path: 'keepalive_interval', message: 'must be positive' });
  return errors;
}
