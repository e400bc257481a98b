/**
 * `trailhouse run` with the pipelines behind the spool on their own thread
 * (core/pipeline-thread.ts), as a process: batches cross and are stored,
 * the main thread's security events reach the audit writer there, one
 * metrics endpoint shows both threads, a clean stop exits 0 with the
 * thread's last lines logged, and a thread that cannot start stops the
 * process before any receiver listens.
 */
import bcrypt from 'bcryptjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { freePort, Trailhouse } from './process.ts';
import { decodeLogsProto } from '../core/otlp/index.ts';
import { waitFor } from './helpers.ts';
import { Cdp, evaluateOnWorker, inspectorUrl } from './cdp.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'th-thread-'));
  dirs.push(d);
  return d;
};

/** A process's threads: name and nice value (/proc/<pid>/task/<tid>/stat, field 19). */
function threadsOf(pid: number): Array<{ tid: number; comm: string; nice: number }> {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ tid: Number(t), comm, nice: Number(fields[16]) }];
    } catch {
      return [];
    }
  });
}

/** Log records of one trace per request (so correlate holds them for its window), each body unique. */
const tracedLogsBody = (n: number, request: number) =>
  JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc-dies' } }] },
        scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(Date.now() * 1e6), traceId: `${'ab'.repeat(15)}${String(request).padStart(2, '0')}`, spanId: 'cd'.repeat(8), body: { stringValue: `dies ${request}.${i}` } })) }],
      },
    ],
  });

const logsBody = (n: number, tag: string) =>
  JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${tag}` } }] },
        scopeLogs: [{ logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(Date.now() * 1e6), body: { stringValue: `line ${i}` } })) }],
      },
    ],
  });

describe('the pipeline thread', () => {
  it('stores what crossed, records the main thread\'s security events, shows both threads\' metrics, and stops cleanly', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.extensions.basicauth = { htpasswd: { inline: `ingest:${bcrypt.hashSync('right', 4)}` } };
    p.cfg.service.extensions.push('basicauth');
    p.cfg.receivers.otlp.protocols.http.auth = { authenticator: 'basicauth' };
    const th = await Trailhouse.start(tmp(), 'threaded', p.yaml());
    try {
      expect(th.lines.some((l) => l.includes('"pipelines behind the spool run on their own thread"'))).toBe(true);
      const auth = `Basic ${Buffer.from('ingest:right').toString('base64')}`;
      const url = `http://127.0.0.1:${p.http}/v1/logs`;
      for (let i = 0; i < 4; i++) {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: logsBody(50, 'a') });
        expect(r.status).toBe(200);
      }
      const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('ingest:wrong').toString('base64')}` }, body: logsBody(1, 'b') });
      expect(bad.status).toBe(401);

      await waitFor(async () => (await count(p.query, "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-a'")) === 200, 30_000, 'the 200 records stored');
      // Raised by the receiver on the main thread, written by the audit writer on the pipeline thread.
      await waitFor(async () => (await count(p.query, "SELECT count() FROM otel.audit_events WHERE Category = 'authentication' AND Outcome = 'failure'")) === 1, 30_000, 'the refused login in audit_events');

      // The front keeps the process's priority; the pipeline thread and the engine's pools run 10 below it (spool `nice`, default 10).
      const base = getPriority(th.proc.pid!);
      await waitFor(() => {
        const t = threadsOf(th.proc.pid!);
        const named = t.filter((x) => x.comm !== 'node');
        return t.find((x) => x.tid === th.proc.pid)!.nice === base && named.some((x) => x.comm === 'th-pipeline') && named.some((x) => x.comm !== 'th-pipeline') &&
          named.every((x) => x.nice === Math.min(19, base + 10) || x.nice < 0);
      }, 15_000, 'the pipeline thread and the engine\'s threads reniced, the main thread not');

      const metrics = await (await fetch(`http://127.0.0.1:${p.metrics}/metrics`)).text();
      expect(metrics).toMatch(/^otelcol_receiver_accepted_log_records\{receiver="otlp",transport="http"\} 200$/m);
      expect(Number(/^trailhouse_store_inserted_rows\{table="otel\.otel_logs"\} (\d+)$/m.exec(metrics)?.[1])).toBe(200);
      expect(metrics.match(/^# TYPE trailhouse_store_inserted_rows /gm)).toHaveLength(1);
    } finally {
      const code = await th.stop();
      // 0, not a signal: the engine's library must outlive the thread that used it.
      expect(code, th.tail()).toBe(0);
    }
    const stopped = th.lines.filter((l) => l.includes('"msg":"pipeline stopped"'));
    expect(stopped.some((l) => l.includes('"thread":"pipeline"'))).toBe(true);
    expect(stopped.some((l) => !l.includes('"thread"'))).toBe(true);
  }, 90_000);

  it('a pipeline thread that dies stops the process, and the restart stores every acknowledged record once', async () => {
    const p = await defaultPipelineOnFreePorts();
    const dir = tmp();
    const th = await Trailhouse.start(dir, 'dies', p.yaml(), {}, ['--inspect=127.0.0.1:0']);
    let cdp: Cdp | undefined;
    try {
      const url = `http://127.0.0.1:${p.http}/v1/logs`;
      for (let r = 0; r < 3; r++) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tracedLogsBody(100, r) });
        expect(res.status).toBe(200);
      }
      // Acknowledged, crossed to the pipeline thread, and held there by correlate's window (10 s): nothing stored yet.
      await waitFor(async () => /^trailhouse_correlate_held_items\{processor="correlate"\} 300$/m.test(await (await fetch(`http://127.0.0.1:${p.metrics}/metrics`)).text()), 8_000, 'the 300 records held by correlate on the pipeline thread');
      expect(await count(p.query, "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-dies'")).toBe(0);

      // End the thread from outside (the inspector), as a crash in it would.
      cdp = await Cdp.connect(inspectorUrl(th.lines)!);
      await evaluateOnWorker(cdp, 'trailhouse.mjs', 'process.exit(7)');
      // A process with a debugger attached waits for it to leave before it exits.
      cdp.close();
      expect(await th.exited, th.tail()).toBe(1);
      expect(th.lines.some((l) => l.includes('pipeline thread exited (code 7)'))).toBe(true);
    } finally {
      cdp?.close();
      if (th.proc.exitCode === null) await th.stop();
    }

    // The frames were on disk, not acknowledged by the thread: the next start replays them, once.
    const again = await Trailhouse.start(dir, 'dies', p.yaml());
    try {
      const stored = "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-dies'";
      await waitFor(async () => (await count(p.query, stored)) === 300, 40_000, 'the 300 acknowledged records stored after the restart');
      expect(await count(p.query, "SELECT uniqExact(Body) FROM otel.otel_logs WHERE ServiceName = 'svc-dies'")).toBe(300);
    } finally {
      expect(await again.stop(), again.tail()).toBe(0);
    }
  }, 120_000);

  it('a batch the thread refuses comes back whole: the next try delivers every record once', async () => {
    // Behind the spool: an otlphttp exporter without a queue or retries, so the peer's 503 travels back to the spool exporter.
    let calls = 0;
    const got: Buffer[] = [];
    const peer = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls++;
        if (calls <= 2) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('not yet');
          return;
        }
        got.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    const [http, metrics] = await Promise.all([freePort(), freePort()]);
    const dir = tmp();
    const th = await Trailhouse.start(
      dir,
      'refused',
      `
receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:${http}" } } }
  spool: {}
exporters:
  spool:
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms }
    sending_queue: { storage: file_storage }
  otlphttp:
    endpoint: http://127.0.0.1:${(peer.address() as { port: number }).port}
    compression: none
    sending_queue: { enabled: false }
    retry_on_failure: { enabled: false }
extensions:
  file_storage: { directory: ${join(dir, 'queue')} }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "127.0.0.1:${metrics}" } }
  pipelines:
    logs/in: { receivers: [otlp], exporters: [spool] }
    logs: { receivers: [spool], exporters: [otlphttp] }
`,
    );
    try {
      expect(th.lines.some((l) => l.includes('"pipelines behind the spool run on their own thread"'))).toBe(true);
      const r = await fetch(`http://127.0.0.1:${http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: logsBody(30, 'r') });
      expect(r.status).toBe(200);
      await waitFor(() => got.length === 1, 20_000, 'the third try delivered');
      const req = decodeLogsProto(new Uint8Array(got[0]!));
      const bodies = req.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body)));
      expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
      expect(calls).toBe(3);
    } finally {
      expect(await th.stop(), th.tail()).toBe(0);
      peer.close();
    }
  }, 60_000);

  it('a thread that cannot start stops the process before a receiver listens, saying why', async () => {
    const p = await defaultPipelineOnFreePorts();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    p.cfg.extensions.console.endpoint = `127.0.0.1:${port}`;
    try {
      const err = await Trailhouse.start(tmp(), 'blocked', p.yaml()).then(
        (t) => (void t.stop(), undefined),
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/exited \(1\) before running/);
      expect(err?.message).toMatch(/pipeline thread: failed to start extension \\"console\\": console endpoint 127.0.0.1:\d+: address already in use/);
      expect(err?.message).not.toMatch(/OTLP HTTP receiver listening/);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
