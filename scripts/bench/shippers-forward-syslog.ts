/**
 * The senders of the bench's `fluentforward` and `syslog` phases (run.ts):
 * mesh access logs (Istio's default text line, which `audit` classifies)
 * sent over `concurrency` connections, as the shippers send them:
 *
 * - fluentforward: PackedForward messages of 100 records with EventTime and
 *   a `chunk`, each waiting for its ack before the next (Fluent Bit's
 *   `Require_ack_response`), so every record counted was accepted;
 * - syslog: RFC 5424 lines, octet-counted over TCP (rsyslog's and syslog-ng's
 *   framing), written with the socket's backpressure and closed cleanly.
 *
 *   node --import tsx scripts/bench/shippers-forward-syslog.ts <fluentforward|syslog> <port> <records> <concurrency>
 *
 * Prints {"logs": sent, "spans": 0, "refusals": 0} as loadgen.ts does.
 */
import net from 'node:net';
import { Decoder, encode, Incomplete } from '../../receivers/fluentforward/msgpack.ts';

const [kind, portArg, recordsArg, concurrencyArg] = process.argv.slice(2);
const port = Number(portArg);
const total = Number(recordsArg);
const concurrency = Math.max(1, Number(concurrencyArg));
const PER_MESSAGE = 100;

function line(i: number): string {
  const status = i % 50 === 0 ? '403 - rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]' : '200 - via_upstream';
  return `[2024-05-14T09:12:03.456Z] "GET /api/items/${i % 1000} HTTP/1.1" ${status} - "-" 0 512 3 2 "-" "curl/8.5.0" "2c6c1a0f-7b8e-9d1a-a1c2-${String(i).padStart(12, '0')}" "items.shop:8080" "10.244.1.7:8080" inbound|8080|| 127.0.0.6:41211 10.244.1.7:8080 10.244.0.12:46520 outbound_.8080_._.items.shop.svc.cluster.local default`;
}

function eventTime(ms: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0;
  b.writeUInt32BE(Math.floor(ms / 1000), 2);
  b.writeUInt32BE((ms % 1000) * 1_000_000, 6);
  return b;
}

/** One PackedForward message of `n` records starting at `from`. */
function packed(from: number, n: number, chunk: string): Buffer {
  const entries: Buffer[] = [];
  const now = Date.now();
  for (let i = from; i < from + n; i++) entries.push(Buffer.from([0x92]), eventTime(now), encode({ log: line(i), stream: 'stdout', pod: `items-${i % 7}` }));
  return Buffer.concat([Buffer.from([0x93]), encode('kube.istio-proxy'), encode(Buffer.concat(entries)), encode({ chunk, size: n })]);
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function forwardWorker(from: number, count: number): Promise<number> {
  const s = await connect();
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  s.on('data', (b: Buffer) => {
    buf = Buffer.concat([buf, b]);
    wake?.();
  });
  const ack = async (): Promise<unknown> => {
    for (;;) {
      if (buf.length) {
        const d = new Decoder(buf);
        try {
          const v = d.decode();
          buf = buf.subarray(d.pos);
          return v;
        } catch (err) {
          if (!(err instanceof Incomplete)) throw err;
        }
      }
      await new Promise<void>((r) => (wake = r));
    }
  };
  let sent = 0;
  for (let i = 0; i < count; i += PER_MESSAGE) {
    const n = Math.min(PER_MESSAGE, count - i);
    const chunk = `c${from + i}`;
    s.write(packed(from + i, n, chunk));
    const a = (await ack()) as Map<string, string>;
    if (a.get('ack') !== chunk) throw new Error(`unexpected ack ${String(a.get('ack'))} for ${chunk}`);
    sent += n;
  }
  s.end();
  return sent;
}

async function syslogWorker(from: number, count: number): Promise<number> {
  const s = await connect();
  const ts = new Date().toISOString();
  for (let i = from; i < from + count; ) {
    const parts: string[] = [];
    for (let k = 0; k < 200 && i < from + count; k++, i++) {
      const m = `<134>1 ${ts} node-${i % 5} istio-proxy 1 - - ${line(i)}`;
      parts.push(`${Buffer.byteLength(m)} ${m}`);
    }
    if (!s.write(parts.join(''))) await new Promise((r) => s.once('drain', r));
  }
  await new Promise<void>((r) => s.end(() => r()));
  await new Promise((r) => s.once('close', r));
  return count;
}

const per = Math.ceil(total / concurrency);
const work: Promise<number>[] = [];
for (let w = 0; w < concurrency; w++) {
  const from = w * per;
  const count = Math.min(per, total - from);
  if (count <= 0) break;
  work.push(kind === 'fluentforward' ? forwardWorker(from, count) : syslogWorker(from, count));
}
const sent = (await Promise.all(work)).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ logs: sent, spans: 0, refusals: 0 }));
