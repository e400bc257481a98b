/**
 * filelog in a child process (`trailhouse run`: filelog with its offsets in
 * file_storage → otlp exporter with a persistent queue) tailing a file that
 * is rotated by move/create and by copytruncate, truncated, while the
 * process is stopped cleanly and killed with SIGKILL several times. The
 * test process is the gateway: trailhouse's OTLP receiver, reading each
 * request's x-trailhouse-dedup-token. Every line arrives, under exactly one
 * token: a delivery repeated after a kill is the same batch, byte for
 * byte, under the same token, never a batch cut differently (which a
 * token-keyed store could not drop).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Factory } from '../core/component.ts';
import { otlpFactory } from '../receivers/otlp/index.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { settingsFor } from './component-config.ts';
import { RecordingConsumer, sleep, testHost, waitFor } from './helpers.ts';
import { Trailhouse, freePort } from './process.ts';

const root = mkdtempSync(join(tmpdir(), 'th-filelog-crash-'));
const logs = join(root, 'logs');
mkdirSync(logs);
const file = join(logs, 'app.log');
let child: Trailhouse | undefined;
let gw: OtlpReceiver | undefined;
afterAll(async () => {
  await child?.kill9();
  await gw?.shutdown();
  rmSync(root, { recursive: true, force: true });
});

let written = 0;
let rotations = 0;
function write(n: number) {
  let s = '';
  for (let i = 0; i < n; i++) s += `crash-line ${written++} ${'x'.repeat(i % 40)}\n`;
  appendFileSync(file, s);
}
function rotateMove() {
  renameSync(file, `${file}.${++rotations}`);
}
function rotateCopyTruncate() {
  copyFileSync(file, `${file}.${++rotations}`);
  truncateSync(file, 0);
}

describe('filelog child process: rotation, truncation, restarts and kill -9', () => {
  it('every line exactly once (repeats only as the same batch under the same token)', async () => {
    const sink = new RecordingConsumer();
    gw = otlpFactory.create(settingsFor(otlpFactory as Factory, { protocols: { grpc: { endpoint: '127.0.0.1:0', include_metadata: true } } }), { logs: sink }) as OtlpReceiver;
    await gw.start(testHost());
    const cfg = {
      receivers: { filelog: { include: [`${file}*`], start_at: 'beginning', poll_interval: '50ms', storage: 'file_storage' } },
      exporters: { otlp: { endpoint: gw.grpc!.address, tls: { insecure: true }, sending_queue: { storage: 'file_storage', num_consumers: 2 }, retry_on_failure: { initial_interval: '100ms' } } },
      extensions: { file_storage: { directory: join(root, 'data') } },
      service: { extensions: ['file_storage'], telemetry: { metrics: { address: `127.0.0.1:${await freePort()}` } }, pipelines: { logs: { receivers: ['filelog'], exporters: ['otlp'] } } },
    };
    const yaml = stringify(cfg);
    const start = () => Trailhouse.start(root, 'agent', yaml);

    write(200);
    child = await start();
    // Rounds of writing and rotating, with a clean stop, kills, and a truncation in between.
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 8; k++) {
        write(50);
        if (k === 3) (round % 2 ? rotateMove : rotateCopyTruncate)();
        await sleep(30);
      }
      if (round === 1) {
        expect(await child.stop()).toBe(0);
        write(100); // written while it is down
        child = await start();
      } else if (round === 3) {
        // A truncation in place, nothing copied: the lines read so far stay read, the new ones are read.
        await waitFor(() => new Set(sink.logRecords.map((r) => r.body)).size >= written, 30_000, 'caught up before truncating');
        truncateSync(file, 0);
        write(20);
      } else {
        await child.kill9();
        write(30); // written while it is dead
        child = await start();
      }
    }
    await waitFor(() => (child!.assertRunning(), new Set(sink.logRecords.map((r) => r.body)).size >= written), 60_000, `${written} lines`);
    await sleep(1000);

    // Deliveries by token: a token delivered twice must be the same lines.
    const byToken = new Map<string, string[]>();
    let repeated = 0;
    for (const p of sink.logPayloads) {
      const token = p.client?.metadata.get('x-trailhouse-dedup-token')?.[0];
      expect(token, 'every request carries its token').toMatch(/^once:filelog:/);
      const lines = p.records().resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body as string)));
      const seen = byToken.get(token!);
      if (seen) {
        expect(lines).toEqual(seen);
        repeated++;
      } else byToken.set(token!, lines);
    }
    const all = [...byToken.values()].flat();
    const want = Array.from({ length: written }, (_, i) => i);
    const got = all.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    expect(got).toEqual(want);
    console.log(`filelog crash: ${written} lines, ${rotations} rotations, ${byToken.size} batches, ${repeated} delivered again after a kill`);
  }, 240_000);
});
