/**
 * Spans per CPU-second of what the Jaeger and Zipkin receivers do with a
 * request: decode it and translate it into OTLP protobuf (the payload they
 * hand on), in process, no network. Payloads are realistic
 * instrumented-service spans: an HTTP server span and a DB client child with
 * ~8 tags each, one event/log, endpoints (Zipkin) and a process (Jaeger).
 *
 *   node --import tsx scripts/bench/jaeger-zipkin.ts [--quick]
 */
import { BinaryReader, CompactReader } from '../../core/thrift/index.ts';
import { readEmitBatch } from '../../receivers/jaeger/thrift-decode.ts';
import { jaegerToProto } from '../../receivers/jaeger/translate.ts';
import { emitBatchPacket, sampleBatch, type TBatch } from '../../receivers/jaeger/testdata/thrift-encode.ts';
import { decodeV2Json } from '../../receivers/zipkin/v2-json.ts';
import { zipkinV2ToProto } from '../../receivers/zipkin/v2-translate.ts';
import { scanTracesProto } from '../../core/otlp/scan.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 11;
const ROUND_MS = quick ? 100 : 300;

/** One agent packet as jaeger-client fills it: 40 spans (20 traces × server + DB child), under 65000 bytes. */
function jaegerBatch(): TBatch {
  const b = sampleBatch(0);
  for (let i = 1; i < 20; i++) b.spans.push(...sampleBatch(i).spans);
  return b;
}

/** 40 Zipkin v2 spans as an OTel/Brave-instrumented service posts them. */
function zipkinJson(): Buffer {
  const spans: object[] = [];
  for (let i = 0; i < 20; i++) {
    const traceId = `4bf92f3577b34da6a3ce929d0e0e${(0x4736 + i).toString(16)}`;
    const ts = 1_700_000_000_000_000 + i * 1000;
    spans.push({
      traceId,
      id: '00f067aa0ba902b7',
      name: 'get /api/cart',
      kind: 'SERVER',
      timestamp: ts,
      duration: 5250,
      localEndpoint: { serviceName: 'checkout', ipv4: '10.0.0.7', port: 8080 },
      remoteEndpoint: { ipv4: '10.0.9.1', port: 51234 },
      annotations: [{ timestamp: ts + 100, value: 'cache miss' }],
      tags: {
        'http.method': 'GET',
        'http.url': 'https://shop.example.com/api/cart?id=42',
        'http.status_code': '200',
        'http.route': '/api/cart',
        'otel.library.name': 'io.opentelemetry.tomcat-10.0',
        'otel.library.version': '1.32.0',
        'thread.name': 'http-nio-8080-exec-7',
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
      },
    });
    spans.push({
      traceId,
      parentId: '00f067aa0ba902b7',
      id: '1111111111111111',
      name: 'select cart',
      kind: 'CLIENT',
      timestamp: ts + 200,
      duration: 3000,
      localEndpoint: { serviceName: 'checkout', ipv4: '10.0.0.7' },
      remoteEndpoint: { serviceName: 'postgresql', ipv4: '10.0.3.4', port: 5432 },
      tags: {
        'db.system': 'postgresql',
        'db.name': 'shop',
        'db.statement': 'SELECT * FROM cart WHERE id = $1',
        'db.operation': 'SELECT',
        'otel.library.name': 'io.opentelemetry.jdbc',
        'otel.library.version': '1.32.0',
        'thread.name': 'http-nio-8080-exec-7',
        'net.peer.name': 'db-1',
      },
    });
  }
  return Buffer.from(JSON.stringify(spans));
}

interface Case {
  name: string;
  bytes: number;
  /** The OTLP protobuf the receiver hands on. */
  run: () => Uint8Array;
}

function measure(c: Case): { spansPerCpuSecond: number; nsPerSpan: number } {
  const spans = scanTracesProto(c.run());
  for (let i = 0; i < 200; i++) c.run(); // warm up the JIT
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < ROUND_MS) {
      c.run();
      n += spans;
    }
    const cpu = process.cpuUsage(cpu0);
    results.push(n / ((cpu.user + cpu.system) / 1e6));
  }
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)]!;
  return { spansPerCpuSecond: median, nsPerSpan: 1e9 / median };
}

const batch = jaegerBatch();
const compact = emitBatchPacket('compact', batch);
const binary = emitBatchPacket('binary', batch);
const json = zipkinJson();
const cases: Case[] = [
  { name: 'Zipkin v2 JSON (40 spans)', bytes: json.length, run: () => zipkinV2ToProto(decodeV2Json(json), { parseStringTags: false }) },
  { name: 'Jaeger thrift compact, UDP 6831 (40 spans)', bytes: compact.length, run: () => jaegerToProto([readEmitBatch(new CompactReader(compact))]).bytes },
  { name: 'Jaeger thrift binary, UDP 6832 (40 spans)', bytes: binary.length, run: () => jaegerToProto([readEmitBatch(new BinaryReader(binary))]).bytes },
];

console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms, median`);
console.log('| payload | bytes | spans / CPU-second | µs / span |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const r = measure(c);
  console.log(`| ${c.name} | ${c.bytes} | ${Math.round(r.spansPerCpuSecond).toLocaleString('en-US')} | ${(r.nsPerSpan / 1000).toFixed(2)} |`);
}
