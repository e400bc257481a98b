/**
 * The default pipeline (./pipeline.yaml: spool, correlate, audit, embedded
 * store) with the loki, datadog and beats receivers in its logs ingest
 * pipeline: an Envoy RBAC denial shipped as a JSON line by each lands in
 * audit_events exactly as the same entry sent over OTLP; and what the beats
 * receiver ACKed survives kill -9 of the process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureLumberSend, lumberSend } from '../scripts/peers/lumber-send/build.ts';
import { ENVOY_RBAC_DENIED } from '../processors/audit/testdata/fixtures.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse, freePort } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-shippers-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

const line = (requestId: string) => JSON.stringify({ ...ENVOY_RBAC_DENIED, response_code: 403, bytes_sent: 19, x_request_id: requestId });

interface AuditRow { id: string; Category: string; Action: string; Outcome: string; D: Record<string, string>; [column: string]: unknown }

async function rows(query: number, sql: string): Promise<AuditRow[]> {
  const r = await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(sql + ' FORMAT JSONEachRow')}`);
  if (!r.ok) throw new Error(await r.text());
  return (await r.text()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRow);
}

describe('shipper receivers in the default pipeline', () => {
  // Details differ only by service (each shipper names its own) and event_id (the record's place).
  it('an Envoy JSON line via loki, datadog and beats is classified as over OTLP; ACKed beats events survive kill -9', async () => {
    const lumber = await ensureLumberSend();
    const p = await defaultPipelineOnFreePorts();
    const [loki, datadog, beats] = await Promise.all([freePort(), freePort(), freePort()]);
    p.cfg.receivers.loki = { protocols: { http: { endpoint: `127.0.0.1:${loki}` } } };
    p.cfg.receivers.datadog = { endpoint: `127.0.0.1:${datadog}` };
    p.cfg.receivers.beats = { endpoint: `127.0.0.1:${beats}` };
    p.cfg.service.pipelines['logs/ingest'].receivers.push('loki', 'datadog', 'beats');
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());

    const otlp = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'istio-proxy' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: String(Date.now() * 1e6), attributes: Object.entries({ ...ENVOY_RBAC_DENIED, x_request_id: 'via-otlp' }).map(([key, v]) => ({ key, value: { stringValue: v } })) }] }],
      }],
    };
    expect((await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlp) })).status).toBe(200);
    const push = { streams: [{ stream: { app: 'istio-proxy' }, values: [[String(Date.now() * 1e6), line('via-loki')]] }] };
    expect((await fetch(`http://127.0.0.1:${loki}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(push) })).status).toBe(204);
    const dd = gzipSync(JSON.stringify([{ message: line('via-datadog'), service: 'istio-proxy', hostname: 'node-1', ddsource: 'envoy' }]));
    expect((await fetch(`http://127.0.0.1:${datadog}/api/v2/logs`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: dd })).status).toBe(202);
    expect(await lumberSend(lumber, `127.0.0.1:${beats}`, [{ '@timestamp': new Date().toISOString(), message: line('via-beats') }])).toEqual({ acked: 1 });

    const ids = ['via-otlp', 'via-loki', 'via-datadog', 'via-beats'];
    const sql = `SELECT Details['request_id'] AS id, Category, Action, Outcome, Principal, Source, Destination, Resource, Policy, mapFilter((k, v) -> k NOT IN ('service', 'event_id'), Details) AS D FROM otel.audit_events WHERE Details['request_id'] IN (${ids.map((i) => `'${i}'`).join(',')}) ORDER BY id, Category, Action`;
    const got = await waitFor(async () => {
      running!.assertRunning();
      const r = await rows(p.query, sql);
      return new Set(r.map((x) => x.id)).size === 4 ? r : undefined;
    }, 90_000, 'audit events of all four');
    const byId = (id: string) => got.filter((r) => r.id === id).map(({ id: _id, D, ...rest }) => ({ ...rest, D: { ...D, request_id: '' } }));
    const want = byId('via-otlp');
    expect(want.length).toBeGreaterThan(0);
    expect(want.map((w) => `${w.Category}/${w.Action}/${w.Outcome}`)).toContain('authorization/rbac/denied');
    for (const id of ids.slice(1)) expect(byId(id), id).toEqual(want);

    // kill -9 right after go-lumber saw its ACKs: every ACKed event is stored after the restart.
    const marker = `kill9-${Date.now()}`;
    const events = Array.from({ length: 300 }, (_, i) => ({ '@timestamp': new Date().toISOString(), message: `${marker} ${i}` }));
    expect(await lumberSend(lumber, `127.0.0.1:${beats}`, events, ['-batch', '50'])).toEqual({ acked: 300 });
    await running.kill9();
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());
    await waitFor(async () => {
      running!.assertRunning();
      return (await count(p.query, `SELECT count() FROM otel.otel_logs WHERE startsWith(Body, '${marker} ')`)) >= 300;
    }, 90_000, 'the 300 ACKed events stored after kill -9');
    expect(await count(p.query, `SELECT uniqExact(Body) FROM otel.otel_logs WHERE startsWith(Body, '${marker} ')`)).toBe(300);
  }, 240_000);
});
