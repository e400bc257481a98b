/**
 * Detection across kill -9: ./pipeline.yaml as a child process (free ports, a
 * temp dir, learning of seconds, the default persist_interval of 30 s) is
 * killed right after a probe raised its alerts, inside the correlation
 * window. The spool replays the probe and the normal traffic learned before
 * it (acknowledged to the sender, not yet stored), and detection sees them
 * again: no alert is lost, none is opened and none counts up, because the
 * state behind a signal and what learning learned are written within
 * 200 ms of the signal, not at the next persist_interval.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import type { LogRecord } from '../core/model.ts';
import { Trailhouse } from './process.ts';
import { defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { sleep, waitFor } from './helpers.ts';
import { CART, denied, logsOf, normalTraffic } from './mesh-traffic.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-detect-crash-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

async function sql<T>(query: number, q: string): Promise<T[]> {
  const r = await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(q + ' FORMAT JSONEachRow')}`);
  const text = await r.text();
  if (!r.ok) throw new Error(text);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

describe('detect: kill -9 mid-scenario', () => {
  it('loses no alert and opens no duplicate after the spool replays the probe', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.detect.learning_period = '3s';
    const yaml = p.yaml();
    const send = async (records: LogRecord[]) => {
      const r = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(encodeLogsProto(logsOf(records))) });
      expect(r.status).toBe(200);
    };
    running = await Trailhouse.start(dir, 'pipeline', yaml);
    for (let i = 0; i < 3; i++) await send(normalTraffic(40, i * 40));
    await sleep(3500);

    await send(Array.from({ length: 30 }, (_, i) => denied(CART, 'payments:8080', `/api/probe-${i}/x`)));
    type Row = { Id: string; Key: string; Count: string };
    const keys = [`deny_surge|principal|${CART}`, 'deny_surge|destination|payments:8080', `first_seen_access|${CART}|payments:8080`].sort();
    const before = await waitFor(async () => {
      const r = await sql<Row>(p.query, 'SELECT Id, Key, Count FROM otel.audit_alerts FINAL ORDER BY Key');
      return r.length === 3 ? r : undefined;
    }, 10_000, 'the probe alerts');
    expect(before.map((r) => r.Key)).toEqual(keys);
    // The state behind the signals is in the table (written at once, not after persist_interval).
    await waitFor(async () => (await sql(p.query, `SELECT 1 FROM otel.audit_detector_state WHERE Detector = 'first_seen_access' AND startsWith(Key, '${CART}|payments:8080')`)).length > 0, 5000, 'the probe\'s state persisted');
    // Within the correlation window: the probe is still in the spool's queue.
    await running.kill9();

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    // The replayed probe reaches the detectors again (its audit rows are stored once the window passes).
    await waitFor(async () => {
      const [r] = await sql<{ n: string }>(p.query, `SELECT count() AS n FROM otel.audit_events WHERE Principal = '${CART}'`);
      return Number(r!.n) >= 30;
    }, 40_000, 'the replayed probe stored');
    await sleep(2000);
    const after = await sql<Row>(p.query, 'SELECT Id, Key, Count FROM otel.audit_alerts FINAL ORDER BY Key');
    expect(after).toEqual(before);
  }, 120_000);
});
