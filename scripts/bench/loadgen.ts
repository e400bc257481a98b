/**
 * The load generator, run as its own process so its CPU is not counted
 * against the pipeline: sends OTLP/HTTP protobuf batches of mesh traffic with
 * `concurrency` requests in flight, retrying refused ones (429/503) as an OTLP
 * client should. Prints one JSON line: what was sent and accepted, and how
 * long accepted requests waited for their answer (ack_ms: under this closed
 * loop that includes queueing at saturation; `npm run bench:ack` measures a
 * steady rate).
 *
 *   node --import tsx scripts/bench/loadgen.ts <base-url> <batches> <requests-per-batch> <concurrency> [logs|traces|both|zipkin|jaeger]
 *
 * `zipkin` posts Zipkin v2 JSON to <base-url>/api/v2/spans; `jaeger` sends
 * jaeger-agent `emitBatch` packets (thrift compact) over UDP to the host:port
 * of <base-url>, paced, since UDP has no backpressure.
 */
import { encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { makeBatch } from './workload.ts';
import { percentiles } from './percentiles.ts';
import { sendJaeger, zipkinBodies } from './loadgen-tracing.ts';

const [base = 'http://127.0.0.1:4318', batchesArg = '100', perBatchArg = '1000', concArg = '4', signals = 'both'] = process.argv.slice(2);
const batches = Number(batchesArg);
const perBatch = Number(perBatchArg);
const concurrency = Number(concArg);

if (signals === 'jaeger') {
  const r = await sendJaeger(base, batches * perBatch);
  process.stdout.write(JSON.stringify({ logs: 0, spans: r.spans, refusals: 0, seconds: r.seconds }) + '\n');
  process.exit(0);
}

// Pre-encode so the generator's own CPU does not throttle the send rate.
const bodies: Array<{ path: string; body: Uint8Array<ArrayBuffer>; n: number; type?: string }> =
  signals === 'zipkin' ? zipkinBodies(batches, perBatch) : [];
for (let i = 0; i < batches && signals !== 'zipkin'; i++) {
  const b = makeBatch(perBatch, i);
  if (signals !== 'traces') bodies.push({ path: '/v1/logs', body: new Uint8Array(encodeLogsProto(b.logs)), n: logRecordCount(b.logs) });
  if (signals !== 'logs') bodies.push({ path: '/v1/traces', body: new Uint8Array(encodeTracesProto(b.traces)), n: spanCount(b.traces) });
}

// BENCH_BEARER_TOKEN: the receiver authenticates senders (npm run bench -- --auth).
const authHeader: Record<string, string> = process.env.BENCH_BEARER_TOKEN ? { authorization: `Bearer ${process.env.BENCH_BEARER_TOKEN}` } : {};

let next = 0;
const accepted = { logs: 0, spans: 0 };
let refusals = 0;
const ackMs: number[] = [];
const t0 = Date.now();

async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= bodies.length) return;
    const { path, body, n, type = 'application/x-protobuf' } = bodies[i]!;
    for (;;) {
      const sent = performance.now();
      const r = await fetch(base + path, { method: 'POST', body, headers: { 'content-type': type, ...authHeader } });
      await r.arrayBuffer();
      if (r.status === 200 || r.status === 202) {
        ackMs.push(performance.now() - sent);
        if (path === '/v1/logs') accepted.logs += n;
        else accepted.spans += n;
        break;
      }
      if (r.status !== 429 && r.status !== 503) throw new Error(`unexpected status ${r.status}`);
      refusals++;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(JSON.stringify({ ...accepted, refusals, seconds: (Date.now() - t0) / 1000, ack_ms: percentiles(ackMs) }) + '\n');
