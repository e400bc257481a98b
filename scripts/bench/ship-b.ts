/**
 * Bench phases `loki`, `datadog`, `beats` (issue 20): log records per
 * CPU-second of the default pipeline fed by each shipper receiver.
 *
 * `shipBReceivers` adds the three receivers (free ports) to the bench's
 * config, into the logs ingest pipeline; run as a script this is the load
 * generator for one of them, printing what loadgen.ts prints:
 *
 *   node --import tsx scripts/bench/ship-b.ts <loki|datadog|beats> <host:port> <batches> <per-batch> <concurrency>
 *
 * Every record is an Envoy JSON access log line (as Istio writes them to a
 * sidecar's stdout, what Promtail, the Datadog Agent and Filebeat ship),
 * a fifth of them RBAC denials, so the audit stage classifies real events.
 * Bodies are encoded before the clock starts: the generator's CPU is its own.
 */
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compressSync } from 'snappy';

export const SHIP_B_PHASES = ['loki', 'datadog', 'beats'] as const;
export type ShipBPhase = (typeof SHIP_B_PHASES)[number];

export function isShipBPhase(p: string): p is ShipBPhase {
  return (SHIP_B_PHASES as readonly string[]).includes(p);
}

/** Adds the receivers of the phases asked for to `base` (the bench config); returns each one's host:port. */
export async function shipBReceivers(base: Record<string, any>, phases: readonly string[], freePort: () => Promise<number>): Promise<Record<string, string>> {
  const targets: Record<string, string> = {};
  const ingest = Object.entries<any>(base.service.pipelines).find(([id, p]) => id.startsWith('logs') && p.receivers.includes('otlp'))?.[1];
  for (const phase of phases.filter(isShipBPhase)) {
    const endpoint = `127.0.0.1:${await freePort()}`;
    targets[phase] = endpoint;
    base.receivers[phase] = phase === 'loki' ? { protocols: { http: { endpoint } } } : { endpoint };
    ingest?.receivers.push(phase);
  }
  return targets;
}

// ---------------------------------------------------------------- load

function envoyLine(i: number): string {
  const denied = i % 5 === 0;
  return JSON.stringify({
    start_time: new Date(Date.now() - 1000 + (i % 1000)).toISOString(),
    method: i % 3 ? 'GET' : 'POST',
    path: denied ? `/admin/users?id=${i}` : `/api/cart/${i % 997}`,
    protocol: 'HTTP/1.1',
    response_code: denied ? 403 : 200,
    response_flags: '-',
    response_code_details: denied ? 'rbac_access_denied_matched_policy[ns[shop]-policy[deny-admin]-rule[0]]' : 'via_upstream',
    connection_termination_details: null,
    bytes_received: 0,
    bytes_sent: denied ? 19 : 1532,
    duration: 3 + (i % 40),
    x_forwarded_for: null,
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    x_request_id: `2c6c1a0f-7b8e-4d1a-a1c2-${(1e11 + i).toString(16).padStart(12, '0')}`,
    authority: 'cart.shop:8080',
    upstream_host: denied ? null : '10.244.1.7:8080',
    upstream_cluster: 'inbound|8080||',
    downstream_local_address: '10.244.1.7:8080',
    downstream_remote_address: `10.244.0.${i % 250}:51234`,
    downstream_peer_uri_san: 'spiffe://cluster.local/ns/shop/sa/frontend',
    requested_server_name: 'outbound_.8080_._.cart.shop.svc.cluster.local',
    route_name: 'default',
  });
}

const PushRequest = protobuf.parse(`
syntax = "proto3";
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
message PushRequest { repeated StreamAdapter streams = 1; }
`).root.lookupType('PushRequest');

interface HttpBody { path: string; body: Uint8Array<ArrayBuffer>; headers: Record<string, string>; n: number }

function lokiBody(batch: number, n: number): HttpBody {
  const now = Date.now();
  const entries = Array.from({ length: n }, (_, i) => ({ timestamp: { seconds: Math.floor(now / 1000), nanos: (i % 1000) * 1000 }, line: envoyLine(batch * n + i) }));
  const msg = PushRequest.fromObject({ streams: [{ labels: '{app="istio-proxy", namespace="shop", pod="cart-7d9f8"}', entries }] });
  return { path: '/loki/api/v1/push', body: new Uint8Array(compressSync(Buffer.from(PushRequest.encode(msg).finish()))), headers: { 'content-type': 'application/x-protobuf' }, n };
}

function datadogBody(batch: number, n: number): HttpBody {
  const now = Date.now();
  const items = Array.from({ length: n }, (_, i) => ({ message: envoyLine(batch * n + i), status: 'info', timestamp: now, hostname: 'node-1', service: 'istio-proxy', ddsource: 'envoy', ddtags: 'env:prod,kube_namespace:shop' }));
  return { path: '/api/v2/logs', body: new Uint8Array(gzipSync(JSON.stringify(items))), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'dd-api-key': 'bench' }, n };
}

const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };

/** One Lumberjack window as Filebeat sends it: W, then one zlib-compressed frame of JSON events. */
function beatsWindow(batch: number, n: number): Buffer {
  const ts = new Date().toISOString();
  const frames = Array.from({ length: n }, (_, i) => {
    const e = Buffer.from(JSON.stringify({
      '@timestamp': ts, '@metadata': { beat: 'filebeat', type: '_doc', version: '8.14.0' }, message: envoyLine(batch * n + i),
      log: { offset: i * 700, file: { path: '/var/log/containers/cart-7d9f8_shop_istio-proxy.log' } }, input: { type: 'filestream' }, host: { name: 'node-1' },
    }));
    return Buffer.concat([Buffer.from('2J'), u32(i + 1), u32(e.length), e]);
  });
  const z = deflateSync(Buffer.concat(frames), { level: 3 });
  return Buffer.concat([Buffer.from('2W'), u32(n), Buffer.from('2C'), u32(z.length), z]);
}

async function sendHttp(target: string, bodies: HttpBody[], concurrency: number) {
  let next = 0;
  let logs = 0;
  let refusals = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const b = bodies[i]!;
      for (;;) {
        const r = await fetch(`http://${target}${b.path}`, { method: 'POST', body: b.body, headers: b.headers });
        await r.arrayBuffer();
        if (r.ok) break;
        if (r.status !== 429 && r.status !== 503) throw new Error(`unexpected status ${r.status}`);
        refusals++;
        await new Promise((res) => setTimeout(res, 200));
      }
      logs += b.n;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { logs, refusals };
}

/** `concurrency` connections, each sending windows and waiting for each one's final ACK (as Filebeat without pipelining). */
async function sendBeats(target: string, windows: Buffer[], n: number, concurrency: number) {
  const i = target.lastIndexOf(':');
  let next = 0;
  let logs = 0;
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const sock = connect(Number(target.slice(i + 1)), target.slice(0, i));
      let buf = Buffer.alloc(0);
      const send = () => {
        const w = next++;
        if (w >= windows.length) return sock.end(() => resolve());
        sock.write(windows[w]!);
      };
      sock.on('connect', send);
      sock.on('error', reject);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        for (; buf.length >= 6; buf = buf.subarray(6)) {
          if (buf.readUInt32BE(2) !== n) continue; // keep-alive or partial ACK
          logs += n;
          send();
        }
      });
    });
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { logs, refusals: 0 };
}

if (process.argv[1]?.endsWith('ship-b.ts')) {
  const [phase, target, batchesArg, perBatchArg, concArg] = process.argv.slice(2);
  if (!phase || !isShipBPhase(phase) || !target) throw new Error('usage: ship-b.ts <loki|datadog|beats> <host:port> <batches> <per-batch> <concurrency>');
  const batches = Number(batchesArg ?? 60);
  const perBatch = Number(perBatchArg ?? 1000);
  const concurrency = Number(concArg ?? 8);
  const windows = phase === 'beats' ? Array.from({ length: batches }, (_, b) => beatsWindow(b, perBatch)) : [];
  const bodies = phase === 'beats' ? [] : Array.from({ length: batches }, (_, b) => (phase === 'loki' ? lokiBody(b, perBatch) : datadogBody(b, perBatch)));
  const t0 = Date.now();
  const r = phase === 'beats' ? await sendBeats(target, windows, perBatch, concurrency) : await sendHttp(target, bodies, concurrency);
  process.stdout.write(JSON.stringify({ logs: r.logs, spans: 0, refusals: r.refusals, seconds: (Date.now() - t0) / 1000 }) + '\n');
}
