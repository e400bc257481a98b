/** Zipkin and Jaeger payloads for the load generator (see loadgen.ts). */
import { createSocket } from 'node:dgram';
import { emitBatchPacket, sampleBatch, type TBatch } from '../../receivers/jaeger/testdata/thrift-encode.ts';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Zipkin v2 JSON bodies: per request a server span and a client child, like the OTLP workload. */
export function zipkinBodies(batches: number, perBatch: number) {
  const out: Array<{ path: string; body: Uint8Array<ArrayBuffer>; n: number; type: string }> = [];
  const now = Date.now() * 1000;
  for (let b = 0; b < batches; b++) {
    const spans: object[] = [];
    for (let i = 0; i < perBatch; i++) {
      const n = b * perBatch + i;
      const traceId = `${hex(process.pid, 16)}${hex(n, 16)}`;
      const ts = now + i;
      spans.push(
        {
          traceId, id: hex(n * 2 + 1, 16), name: 'get /api/cart', kind: 'SERVER', timestamp: ts, duration: 5250,
          localEndpoint: { serviceName: 'checkout', ipv4: '10.0.0.7', port: 8080 },
          remoteEndpoint: { ipv4: '10.0.9.1', port: 51234 },
          tags: { 'http.method': 'GET', 'http.path': '/api/cart', 'http.status_code': '200', 'guid:x-request-id': `req-${n}` },
        },
        {
          traceId, parentId: hex(n * 2 + 1, 16), id: hex(n * 2 + 2, 16), name: 'select cart', kind: 'CLIENT', timestamp: ts + 100, duration: 1200,
          localEndpoint: { serviceName: 'checkout' }, remoteEndpoint: { serviceName: 'postgres', ipv4: '10.0.3.3', port: 5432 },
          tags: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM cart WHERE id = $1' },
        },
      );
    }
    out.push({ path: '/api/v2/spans', body: new Uint8Array(Buffer.from(JSON.stringify(spans))), n: spans.length, type: 'application/json' });
  }
  return out;
}

/** Sends `requests` traces (2 spans each) as agent packets of 20 traces, paced. */
export async function sendJaeger(base: string, requests: number): Promise<{ spans: number; seconds: number }> {
  const { hostname, port } = new URL(base);
  const sock = createSocket('udp4');
  const t0 = Date.now();
  let spans = 0;
  for (let p = 0; p * 20 < requests; p++) {
    const batch: TBatch = sampleBatch(p * 20);
    for (let i = 1; i < 20; i++) batch.spans.push(...sampleBatch(p * 20 + i).spans);
    // Distinct trace ids across packets: sampleBatch(i) varies the low half by i.
    const packet = emitBatchPacket('compact', batch, p + 1);
    await new Promise<void>((resolve, reject) => sock.send(packet, Number(port), hostname, (err) => (err ? reject(err) : resolve())));
    spans += batch.spans.length;
    // About 1000 packets (40,000 spans) a second: UDP has no backpressure, and a
    // kernel socket buffer only holds a few packets while the receiver is busy.
    if (p % 10 === 9) await new Promise((r) => setTimeout(r, 10));
  }
  sock.close();
  return { spans, seconds: (Date.now() - t0) / 1000 };
}
