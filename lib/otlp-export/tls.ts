/** The client TLS settings of an OTLP exporter, read from their files at start. */
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import type { ClientTlsConfig } from './config.ts';

export interface ClientTlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** null when `insecure` (plaintext); a missing file fails with its config key. */
export async function loadClientTls(c: ClientTlsConfig): Promise<ClientTlsMaterial | null> {
  if (c.insecure) return null;
  const read = async (file: string | null, key: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`tls.${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: await read(c.ca_file, 'ca_file'),
    cert: await read(c.cert_file, 'cert_file'),
    key: await read(c.key_file, 'key_file'),
    rejectUnauthorized: !c.insecure_skip_verify,
    ...(c.server_name_override ? { servername: c.server_name_override } : {}),
    minVersion: c.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

/** Options for https.request. */
export function httpsAgentOptions(m: ClientTlsMaterial): ConnectionOptions {
  return { ca: m.ca, cert: m.cert, key: m.key, rejectUnauthorized: m.rejectUnauthorized, servername: m.servername, minVersion: m.minVersion };
}
