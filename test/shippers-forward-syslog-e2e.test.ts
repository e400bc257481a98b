/**
 * ./pipeline.yaml (temp dir, free ports) with the fluentforward and syslog
 * receivers beside otlp in logs/ingest:
 * - the same Istio access line sent over OTLP/HTTP, over forward (the npm
 *   fluent-logger) and over syslog gives the same audit_events rows;
 * - every record fluent-logger was acked survives `kill -9` right after its
 *   ack (acks are sent once the spool fsynced the records).
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISTIO_LINES } from '../processors/audit/testdata/fixtures.ts';
import { fluentLogger, type FluentSender } from '../receivers/fluentforward/peers.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { freePort, Trailhouse } from './process.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-shippers-e2e-'));
let running: Trailhouse | undefined;
const senders: FluentSender[] = [];
afterAll(async () => {
  senders.forEach((s) => s.end());
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

async function rows(query: number, sql: string): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(sql)}`);
  if (!r.ok) throw new Error(await r.text());
  return (await r.text()).trim().split('\n').filter(Boolean);
}

const lineWith = (requestId: string) => ISTIO_LINES.rbacDenied.replace('2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d', requestId);

describe('fluentforward and syslog in the default pipeline', () => {
  it('classify as OTLP does, and keep every acked record across kill -9', async () => {
    const p = await defaultPipelineOnFreePorts();
    const [ffPort, syslogPort] = await Promise.all([freePort(), freePort()]);
    p.cfg.receivers.fluentforward = { endpoint: `127.0.0.1:${ffPort}` };
    p.cfg.receivers.syslog = { protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: `127.0.0.1:${syslogPort}` } };
    p.cfg.service.pipelines['logs/ingest'].receivers.push('fluentforward', 'syslog');
    p.cfg.processors.correlate.wait = '1s';
    const yaml = p.yaml();
    running = await Trailhouse.start(dir, 'pipeline', yaml);

    // The same line three ways.
    const otlp = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: lineWith('req-otlp') } }] }] }] }),
    });
    expect(otlp.status).toBe(200);
    const fluent = fluentLogger();
    const sender = (tag: string) => {
      const s = fluent.createFluentSender(tag, { host: '127.0.0.1', port: ffPort, requireAckResponse: true, timeout: 5, internalLogger: { info() {}, error() {} } });
      s.on('error', () => {});
      senders.push(s);
      return s;
    };
    const emit = (s: FluentSender, data: Record<string, unknown>) => new Promise<void>((res, rej) => s.emit('x', data, (e) => (e ? rej(e) : res())));
    await emit(sender('istio'), { log: lineWith('req-forward') });
    const msg = `<134>1 2024-05-14T09:12:03.456Z node-1 istio-proxy 1 - - ${lineWith('req-syslog')}`;
    await new Promise<void>((res, rej) => {
      const s = net.connect(syslogPort, '127.0.0.1', () => s.end(`${Buffer.byteLength(msg)} ${msg}`, () => res()));
      s.once('error', rej);
    });

    const q = (id: string) =>
      `SELECT Category, Action, Outcome, Principal, Source, Destination, Resource, Policy FROM otel.audit_events WHERE Details['request_id'] = '${id}' ORDER BY Category, Action FORMAT TSV`;
    const viaOtlp = await waitFor(async () => {
      running!.assertRunning();
      const r = await rows(p.query, q('req-otlp'));
      return r.length ? r : undefined;
    }, 60_000, 'audit rows of the OTLP line');
    await waitFor(async () => (await rows(p.query, q('req-forward'))).length === viaOtlp.length && (await rows(p.query, q('req-syslog'))).length === viaOtlp.length, 60_000, 'audit rows of the forward and syslog lines');
    expect(viaOtlp.join('\n')).toMatch(/authorization/);
    expect(await rows(p.query, q('req-forward'))).toEqual(viaOtlp);
    expect(await rows(p.query, q('req-syslog'))).toEqual(viaOtlp);

    // Acked, then killed at once: every acked record is stored after the restart.
    const durable = sender('durable');
    let acked = 0;
    for (let i = 0; i < 40; i++) {
      await emit(durable, { message: `durable ${i}` });
      acked++;
    }
    await running.kill9();
    running = await Trailhouse.start(dir, 'pipeline', yaml);
    const stored = () => count(p.query, "SELECT count() FROM otel.otel_logs WHERE LogAttributes['fluent.tag'] = 'durable.x'");
    await waitFor(async () => (await stored()) >= acked, 60_000, 'every acked forward record stored');
    expect(await stored()).toBe(acked);
  }, 240_000);
});
