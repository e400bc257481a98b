/**
 * bench:peer's load generator, its own process so its CPU is not billed to the
 * gateway under test: OTLP/HTTP protobuf requests of mesh-shaped records
 * (scripts/bench/workload.ts), `senders` in flight, retrying refusals (429/503)
 * as an OTLP client should. It encodes first, prints `ready`, waits for a line
 * on stdin (the bench reads the gateway's CPU in between), sends, and prints
 * one JSON line: records accepted, refusals, answer latencies (each attempt,
 * request to answer read) and seconds.
 *
 *   node --import tsx scripts/bench/peer/loadgen.ts <base-url> <logs|traces> <records> <per-request> <senders>
 */
import { encodeLogsProto, encodeTracesProto } from '../../../core/otlp/index.ts';
import { logRecordCount, spanCount } from '../../../core/model.ts';
import { makeBatch } from '../workload.ts';

const [base, signal, recordsArg, perRequestArg, sendersArg] = process.argv.slice(2);
const total = Number(recordsArg);
const perRequest = Number(perRequestArg);
const senders = Number(sendersArg);
if (!base || (signal !== 'logs' && signal !== 'traces') || !(total > 0) || !(perRequest >= 2) || perRequest % 2 || !(senders > 0)) {
  throw new Error('usage: loadgen.ts <base-url> <logs|traces> <records> <even per-request ≥ 2> <senders>');
}
// Give up rather than retry forever against a gateway that refuses everything.
const DEADLINE_MS = Number(process.env.BENCH_PEER_LOADGEN_DEADLINE_MS ?? 900_000);

// A bounded pool of distinct bodies, sent in turn: each has its own trace ids,
// so partitioning by trace id spreads them; memory stays bounded at any total.
const requests = Math.ceil(total / perRequest);
const pool: Array<{ body: Uint8Array<ArrayBuffer>; n: number }> = [];
for (let i = 0; i < Math.min(requests, 256); i++) {
  const b = makeBatch(perRequest / 2, i); // 2 logs and 2 spans per mesh request
  pool.push(signal === 'logs'
    ? { body: new Uint8Array(encodeLogsProto(b.logs)), n: logRecordCount(b.logs) }
    : { body: new Uint8Array(encodeTracesProto(b.traces)), n: spanCount(b.traces) });
}
const path = signal === 'logs' ? '/v1/logs' : '/v1/traces';

process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.pause();

let next = 0;
let accepted = 0;
let refusals = 0;
const latencies = new Float64Array(requests * 2);
let nLat = 0;
const t0 = performance.now();

async function sender(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= requests) return;
    const { body, n } = pool[i % pool.length]!;
    for (;;) {
      if (performance.now() - t0 > DEADLINE_MS) throw new Error(`not all records accepted within ${DEADLINE_MS / 1000} s`);
      const s = performance.now();
      const r = await fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      await r.arrayBuffer();
      if (nLat < latencies.length) latencies[nLat++] = performance.now() - s;
      if (r.status === 200) {
        accepted += n;
        break;
      }
      if (r.status !== 429 && r.status !== 503) throw new Error(`unexpected status ${r.status} from ${base + path}`);
      refusals++;
      const after = Number(r.headers.get('retry-after'));
      await new Promise((res) => setTimeout(res, after > 0 ? Math.min(after, 5) * 1000 : 100));
    }
  }
}

await Promise.all(Array.from({ length: senders }, sender));
const seconds = (performance.now() - t0) / 1000;
const sorted = latencies.slice(0, nLat).sort();
const pct = (p: number): number => +(sorted[Math.min(nLat - 1, Math.floor((p / 100) * nLat))] ?? 0).toFixed(2);
process.stdout.write(JSON.stringify({ accepted, requests, refusals, seconds, ack_ms: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) } }) + '\n');
