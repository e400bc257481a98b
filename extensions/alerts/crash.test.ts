/** At least once across kill -9: alerts queued for a webhook that was down are delivered after a restart. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.ts';
import { freePort } from '../../test/process.ts';
import { startFixture, type Fixture } from './fixture.test-helper.ts';

const CHILD = fileURLToPath(new URL('./crash-child.test-helper.ts', import.meta.url));
let f: Fixture | undefined;
let server: http.Server | undefined;
afterAll(async () => {
  await f?.stop();
  server?.closeAllConnections();
  server?.close();
});

it('kill -9 between enqueue and delivery loses nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'th-alerts-crash-'));
  const port = await freePort();
  const N = 25;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, `http://127.0.0.1:${port}/hook`, String(N)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(() => out.includes('READY'), 60_000, 'the child to queue its alerts').catch((e: Error) => {
    throw new Error(`${e.message}; child stderr: ${err.slice(-2000)}`);
  });
  child.kill('SIGKILL');
  await exited;

  const keys = new Set<string>();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: Array<{ key: string }> };
      for (const a of doc.alerts) keys.add(a.key);
      res.end();
    });
  });
  await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
  expect((server.address() as AddressInfo).port).toBe(port);
  f = await startFixture({ storage: 'file_storage', webhook: { endpoint: `http://127.0.0.1:${port}/hook`, headers: {}, timeout: 2000 }, retry: { initial_interval: 50, max_interval: 200 } }, {}, [], dir);
  await waitFor(() => keys.size === N, 20_000, `all ${N} alerts delivered after the restart`);
  // And the alerts themselves were stored before the kill: the restarted extension knows them.
  const rows = await f.rows<{ n: string }>("SELECT count() AS n FROM otel.audit_alerts FINAL WHERE Key LIKE 'crash-%'");
  expect(rows[0]!.n).toBe(String(N));
});
