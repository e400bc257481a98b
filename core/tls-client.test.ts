import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientTlsDefaults, loadClientTls } from './tls-client.ts';

describe('loadClientTls', () => {
  it('plaintext when insecure; otherwise the files read, verification and the version as said', async () => {
    expect(await loadClientTls({ ...clientTlsDefaults(), insecure: true })).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'th-tls-client-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const o = await loadClientTls({ ...clientTlsDefaults(), ca_file: join(dir, 'ca.pem'), insecure_skip_verify: true, server_name_override: 'gw.internal', min_version: '1.3' });
    expect(o).toEqual({ ca: Buffer.from('CA'), cert: undefined, key: undefined, rejectUnauthorized: false, servername: 'gw.internal', minVersion: 'TLSv1.3' });
  });

  it('a file that cannot be read fails with its config key', async () => {
    await expect(loadClientTls({ ...clientTlsDefaults(), cert_file: '/nonexistent/c.pem', key_file: '/nonexistent/k.pem' }, 'auth.tls')).rejects.toThrow(/^auth\.tls\.cert_file: cannot read \/nonexistent\/c\.pem: ENOENT/);
  });
});
