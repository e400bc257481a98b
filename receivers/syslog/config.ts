/** The syslog receiver's config, with the Collector's syslogreceiver keys. */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { parseEndpoint } from '../../core/net.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import type { SyslogProtocol } from './parse.ts';
import { checkZone } from './timezone.ts';

export interface SyslogTcpConfig {
  listen_address: string;
  /** Largest message (non-transparent framing). Default 1MiB. */
  max_log_size: number;
  tls: TlsServerConfig | null;
  /** Add net.* attributes (peer and host address and port, transport). */
  add_attributes: boolean;
}

export interface SyslogUdpConfig {
  listen_address: string;
  add_attributes: boolean;
}

export interface SyslogConfig {
  protocol: SyslogProtocol;
  /** IANA zone of RFC 3164 timestamps. */
  location: string;
  enable_octet_counting: boolean;
  /** Largest octet-counted message. Default 8192, as the Collector. */
  max_octets: number;
  allow_skip_pri_header: boolean;
  /** LF or NUL; null = LF. */
  non_transparent_framing_trailer: 'LF' | 'NUL' | null;
  /** A MSG that is a JSON object also gives its fields as attributes (lib/mesh/json-line.ts). */
  parse_json_body: boolean;
  tcp: SyslogTcpConfig | null;
  udp: SyslogUdpConfig | null;
  /** Accept unauthenticated senders on a non-loopback address, on purpose. */
  insecure: boolean;
  /** Close a TCP connection that stops mid-message for this long (ms); 0 = never. */
  body_idle_timeout: number;
  max_connections: number;
}

export const syslogTcpDefaults = (): SyslogTcpConfig => ({ listen_address: '127.0.0.1:54526', max_log_size: 1024 * 1024, tls: null, add_attributes: false });
export const syslogUdpDefaults = (): SyslogUdpConfig => ({ listen_address: '127.0.0.1:54526', add_attributes: false });

export const defaultSyslogConfig = (): SyslogConfig => ({
  protocol: 'rfc5424',
  location: 'UTC',
  enable_octet_counting: false,
  max_octets: 8192,
  allow_skip_pri_header: false,
  non_transparent_framing_trailer: null,
  parse_json_body: true,
  tcp: null,
  udp: null,
  insecure: false,
  body_idle_timeout: 30_000,
  max_connections: 4096,
});

export const syslogSchema = s.object({
  protocol: s.string({ enum: ['rfc5424', 'rfc3164'] }),
  location: s.string({ nonEmpty: true }),
  enable_octet_counting: s.bool(),
  max_octets: s.int({ min: 1 }),
  allow_skip_pri_header: s.bool(),
  non_transparent_framing_trailer: s.optional(s.string({ enum: ['LF', 'NUL'] })),
  parse_json_body: s.bool(),
  tcp: s.section(
    s.object({ listen_address: s.endpoint(), max_log_size: s.bytes(), tls: tlsServerSchema, add_attributes: s.bool() }),
    syslogTcpDefaults,
  ),
  udp: s.section(s.object({ listen_address: s.endpoint(), add_attributes: s.bool() }), syslogUdpDefaults),
  insecure: s.bool(),
  body_idle_timeout: s.duration(),
  max_connections: s.int({ min: 0 }),
});

export function validateSyslog(c: SyslogConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!c.tcp && !c.udp) errors.push({ path: '', message: 'set tcp: {listen_address} or udp: {listen_address} (or both)' });
  try {
    checkZone(c.location);
  } catch {
    errors.push({ path: 'location', message: `unknown time zone ${JSON.stringify(c.location)}: an IANA name like UTC or America/New_York` });
  }
  if (c.enable_octet_counting && c.non_transparent_framing_trailer) {
    errors.push({ path: 'non_transparent_framing_trailer', message: 'cannot be set with enable_octet_counting: a stream is framed one way' });
  }
  if (c.allow_skip_pri_header && c.enable_octet_counting) {
    errors.push({ path: 'allow_skip_pri_header', message: 'needs enable_octet_counting: false (as in the Collector)' });
  }
  if (c.tcp) {
    errors.push(...validateTlsServer(c.tcp.tls, 'tcp.tls'));
    const { host } = parseEndpoint(c.tcp.listen_address);
    if (!c.insecure && !c.tcp.tls?.client_ca_file && !isLoopbackHost(host)) {
      errors.push({
        path: 'tcp.listen_address',
        message: `${c.tcp.listen_address} is not a loopback address and senders are not authenticated, so anyone who can reach it could write to the audit store: set tcp.tls.client_ca_file (client certificates, RFC 5425), or insecure: true to accept that on purpose`,
      });
    }
  }
  if (c.udp) {
    const { host } = parseEndpoint(c.udp.listen_address);
    if (!c.insecure && !isLoopbackHost(host)) {
      errors.push({
        path: 'udp.listen_address',
        message: `${c.udp.listen_address} is not a loopback address, and UDP senders cannot authenticate, so anyone who can reach it could write to the audit store: bind it to loopback, or set insecure: true to accept that on purpose`,
      });
    }
  }
  return errors;
}
