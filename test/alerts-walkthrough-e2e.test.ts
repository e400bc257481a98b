/**
 * The alerts README's walkthrough, as a test: with users on the store, a
 * source guessing passwords is blocked by the query interface's login
 * throttle, which raises `receiver_auth_bruteforce` at once; a reader lists
 * it, the responder acknowledges it, the reader may not.
 */
import { createHash } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { alertsCommand } from '../bin/commands/alerts.ts';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
let r: (RunningService & { dir: string }) | undefined;
afterAll(async () => {
  await r?.stop();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (out += s) };
  const code = await alertsCommand([...argv, '--endpoint', r!.queryUrl], io);
  return { code, out };
}

it('a blocked password guesser is an alert; the responder acknowledges it, a reader may not', async () => {
  r = await startInTempDir(
    'th-alerts-walk-',
    (dir) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    query_login_throttle: {block_duration: 2s}
    query_users:
      rita: {password_sha256_hex: ${sha('rita-pw')}, role: responder}
      sam: {password_sha256_hex: ${sha('sam-pw')}, role: reader}
  file_storage: {directory: ${dir}/queue}
  alerts: {store: clickhouse_store, storage: file_storage}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
processors:
  audit: {store: clickhouse_store}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store, file_storage, alerts]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`,
  );
  const codes: number[] = [];
  for (let i = 1; i <= 6; i++) {
    const res = await fetch(`${r.queryUrl}/?query=SELECT+1`, { headers: { authorization: 'Basic ' + Buffer.from(`mallory:guess${i}`).toString('base64') } });
    codes.push(res.status);
  }
  expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
  // The block lifts after block_duration; then sam may read from the same address.
  const listed = await waitFor(async () => {
    const res = await cli('--user', 'sam', '--password', 'sam-pw');
    return res.code === 0 && /receiver_auth_bruteforce/.test(res.out) ? res : undefined;
  }, 20_000, 'the brute-force alert listed');
  expect(listed.out).toMatch(/blocked by its login throttle/);
  const id = /^([0-9a-f]{16})\s/m.exec(listed.out)![1]!;
  expect(await cli('ack', id, '--note', 'our own test', '--user', 'rita', '--password', 'rita-pw')).toEqual({ code: 0, out: `alert ${id} acknowledged by rita\n` });
  const refused = await cli('ack', id, '--note', 'again', '--user', 'sam', '--password', 'sam-pw');
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(/HTTP 403.*the reader role may not triage alerts/);
});
