import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alertsCommand } from './alerts.ts';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('trailhouse alerts ack|resolve', () => {
  it('posts under the endpoint\'s own path (a proxy serving the query interface below a prefix), with the note and the credentials', async () => {
    const seen: { method?: string; url?: string; user?: string; body: string }[] = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, user: req.headers['x-clickhouse-user'] as string | undefined, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ alert: { id: '0123456789abcdef', status: 'acknowledged', status_by: 'rita' } }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const out: string[] = [];
    const err: string[] = [];
    const code = await alertsCommand(['ack', '0123456789abcdef', '--note', 'checked', '--endpoint', `http://127.0.0.1:${port}/clickhouse/`, '--user', 'rita', '--password', 'pw'], { out: (s) => void out.push(s), err: (s) => void err.push(s) });
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/clickhouse/alerts/0123456789abcdef/ack', user: 'rita' });
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ note: 'checked' });
    expect(out.join('')).toBe('alert 0123456789abcdef acknowledged by rita\n');
  });
});
