/**
 * `trailhouse retention` against what it can meet besides a store with a
 * policy (test/retention-e2e.test.ts): a store where no policy was ever
 * applied (ClickHouse answers UNKNOWN_TABLE), an endpoint nobody answers, and
 * bad flags.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionCommand } from './retention.ts';

let server: http.Server;
let url: string;

beforeAll(async () => {
  // Answers every query as ClickHouse does for a table that does not exist.
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(404, { 'X-ClickHouse-Exception-Code': '60' });
      res.end('Code: 60. DB::Exception: Unknown table expression identifier \'retention_policy\'. (UNKNOWN_TABLE)\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function io() {
  const o = { out: '', err: '' };
  return { o, io: { out: (s: string) => void (o.out += s), err: (s: string) => void (o.err += s) } };
}

describe('trailhouse retention', () => {
  it('says so when no policy was ever applied, and prints empty lists as JSON', async () => {
    const a = io();
    expect(await retentionCommand(['--endpoint', url], a.io)).toBe(0);
    expect(a.o.out).toBe('no retention policy has been applied to this store (extensions.clickhouse_store.retention)\n');
    const b = io();
    expect(await retentionCommand(['--endpoint', url, '--json'], b.io)).toBe(0);
    expect(JSON.parse(b.o.out)).toEqual({ tables: [], ledger: [] });
  });

  it('exits 3 when the endpoint does not answer, 2 on bad flags', async () => {
    const a = io();
    expect(await retentionCommand(['--endpoint', 'http://127.0.0.1:1'], a.io)).toBe(3);
    expect(a.o.err).toMatch(/^trailhouse retention: cannot reach http:\/\/127\.0\.0\.1:1/);
    const b = io();
    expect(await retentionCommand(['--since', '-1d', 'extra'], b.io)).toBe(2);
    expect(b.o.err).toContain('--since: expected a duration like 30d or 12h, got "-1d"');
    expect(b.o.err).toContain('unexpected argument "extra"');
  });
});
