/**
 * The receivers under fuzz, started in-process from config on port 0 exactly
 * as the receiver tests build them, and one Format per wire format: its
 * seeds, its format-aware mutation, and how a case is sent. OTLP runs two
 * receivers, one decoding every request and one passing protobuf bytes on
 * undecoded (bytesOnly), and each case picks one.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as grpc from '@grpc/grpc-js';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { OtlpReceiver } from '../../receivers/otlp/otlp.ts';
import { grpcDefaults as otlpGrpc, httpDefaults as otlpHttp } from '../../receivers/otlp/config.ts';
import { LOGS_EXPORT, TRACES_EXPORT } from '../../receivers/otlp/grpc.ts';
import { ZipkinReceiver } from '../../receivers/zipkin/receiver.ts';
import { defaultZipkinConfig } from '../../receivers/zipkin/config.ts';
import { JaegerReceiver } from '../../receivers/jaeger/receiver.ts';
import { binaryDefaults, compactDefaults, grpcDefaults as jaegerGrpc, thriftHttpDefaults } from '../../receivers/jaeger/config.ts';
import type { JaegerUdpServer } from '../../receivers/jaeger/udp.ts';
import { POST_SPANS } from '../../receivers/jaeger/grpc.ts';
import { testHost, testLogger } from '../helpers.ts';
import { FuzzSink } from './sink.ts';
import { FUZZ_BODY_LIMIT, frame, grpcSend, httpSend, type HttpFormat, type Outcome } from './transport.ts';
import type { Prng } from './prng.ts';
import { mutateProto } from './mutate-proto.ts';
import { mutateJson } from './mutate-json.ts';
import { mutateThrift } from './mutate-thrift.ts';
import { jaegerSeeds, otlpSeeds, zipkinSeeds } from './seeds.ts';

export type Group = 'otlp' | 'zipkin' | 'jaeger';

export interface Format {
  name: string;
  group: Group;
  transport: 'http' | 'grpc' | 'udp';
  seeds: Buffer[];
  /** A format-aware mutation of `seed`, or null when it does not apply. */
  aware(rng: Prng, seed: Buffer, other: Buffer, log: string[]): Buffer | null;
  sink: FuzzSink;
  /** Sends one input; `log` gets the framing chosen. */
  send(input: Buffer, rng: Prng, log: string[], timeoutMs: number): Promise<Outcome>;
  /** Sends a valid payload plainly (the health check after a run). */
  sendPlain(input: Buffer, timeoutMs: number): Promise<Outcome>;
}

export interface Rig {
  formats: Format[];
  close(): Promise<void>;
}

const local = <T extends object>(c: T): T => ({ ...c, endpoint: '127.0.0.1:0' });
const settings = <C>(id: string, config: C) => ({ id, config, logger: testLogger(), metrics: new MetricsRegistry() });

const PROTO_TYPES = ['application/x-protobuf; charset=binary', 'Application/X-Protobuf', 'application/protobuf'];
const JSON_TYPES = ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json ; q=1'];
const THRIFT_TYPES = ['application/vnd.apache.thrift.binary', 'application/x-thrift; charset=x', 'APPLICATION/X-THRIFT'];

function httpFormat(name: string, group: Group, seeds: Buffer[], aware: Format['aware'], sink: FuzzSink, f: HttpFormat, addresses: () => string[]): Format {
  return {
    name, group, transport: 'http', seeds, aware, sink,
    send(input, rng, log) {
      const addrs = addresses();
      const fr = frame(rng, f, input);
      if (fr.note) log.push(`[${fr.note}]`);
      const lazy = addrs.length > 1 && rng.chance(0.5);
      if (addrs.length > 1) log.push(lazy ? '[bytesOnly receiver]' : '[decoding receiver]');
      return httpSend(addrs[lazy ? 1 : 0]!, fr);
    },
    sendPlain: (input) => httpSend(addresses()[0]!, { method: 'POST', path: f.path, headers: { 'content-type': f.contentType }, body: input, note: '' }),
  };
}

function grpcFormat(name: string, group: Group, seeds: Buffer[], sink: FuzzSink, method: string, clients: () => grpc.Client[]): Format {
  return {
    name, group, transport: 'grpc', seeds, sink,
    aware: (rng, seed, _o, log) => mutateProto(rng, seed, log),
    send(input, rng, log, timeoutMs) {
      // Clients come in pairs per receiver: [plain, gzip] (decoding), [plain, gzip] (bytesOnly).
      const cs = clients();
      const lazy = cs.length > 2 && rng.chance(0.5);
      const gzip = rng.chance(0.15);
      if (cs.length > 2) log.push(lazy ? '[bytesOnly receiver]' : '[decoding receiver]');
      if (gzip) log.push('[grpc-encoding gzip]');
      return grpcSend(cs[(lazy ? 2 : 0) + (gzip ? 1 : 0)]!, method, input, timeoutMs);
    },
    sendPlain: (input, timeoutMs) => grpcSend(clients()[0]!, method, input, timeoutMs),
  };
}

const proto: Format['aware'] = (rng, seed, _o, log) => mutateProto(rng, seed, log);
const json: Format['aware'] = (rng, seed, other, log) => mutateJson(rng, seed, other, log);

async function otlp(): Promise<{ formats: Format[]; close: () => Promise<void> }> {
  const logs = new FuzzSink();
  const traces = new FuzzSink();
  const receivers = [false, true].map((bytesOnly) => new OtlpReceiver(
    settings('otlp', { protocols: { grpc: local(otlpGrpc()), http: { ...local(otlpHttp()), max_request_body_size: FUZZ_BODY_LIMIT } } }),
    { logs, traces, bytesOnly: { logs: bytesOnly, traces: bytesOnly } },
  ));
  for (const r of receivers) await r.start(testHost());
  const httpAddrs = () => receivers.map((r) => r.http!.address);
  // Per receiver: a plain client, and one that gzip-compresses its messages (grpc-encoding: gzip).
  const clients = receivers.flatMap((r) => [{}, { 'grpc.default_compression_algorithm': 2 }].map((o) => new grpc.Client(r.grpc!.address, grpc.credentials.createInsecure(), o)));
  const protoHttp = (path: string): HttpFormat => ({ path, contentType: 'application/x-protobuf', altTypes: PROTO_TYPES, wrongTypes: ['application/json', 'text/plain'] });
  const jsonHttp = (path: string): HttpFormat => ({ path, contentType: 'application/json', altTypes: JSON_TYPES, wrongTypes: ['application/x-protobuf', 'text/plain'] });
  const formats = [
    httpFormat('otlp-http-proto-logs', 'otlp', otlpSeeds.logsProto(), proto, logs, protoHttp('/v1/logs'), httpAddrs),
    httpFormat('otlp-http-proto-traces', 'otlp', otlpSeeds.tracesProto(), proto, traces, protoHttp('/v1/traces'), httpAddrs),
    // JSON is always decoded: the bytesOnly receiver behaves the same, so one receiver.
    httpFormat('otlp-http-json-logs', 'otlp', otlpSeeds.logsJson(), json, logs, jsonHttp('/v1/logs'), () => httpAddrs().slice(0, 1)),
    httpFormat('otlp-http-json-traces', 'otlp', otlpSeeds.tracesJson(), json, traces, jsonHttp('/v1/traces'), () => httpAddrs().slice(0, 1)),
    grpcFormat('otlp-grpc-logs', 'otlp', otlpSeeds.logsProto(), logs, LOGS_EXPORT, () => clients),
    grpcFormat('otlp-grpc-traces', 'otlp', otlpSeeds.tracesProto(), traces, TRACES_EXPORT, () => clients),
  ];
  return {
    formats,
    close: async () => {
      for (const c of clients) c.close();
      await Promise.all(receivers.map((r) => r.shutdown()));
    },
  };
}

async function zipkin(): Promise<{ formats: Format[]; close: () => Promise<void> }> {
  const sink = new FuzzSink();
  const r = new ZipkinReceiver(settings('zipkin', { ...defaultZipkinConfig(), endpoint: '127.0.0.1:0', max_request_body_size: FUZZ_BODY_LIMIT }), { traces: sink });
  await r.start();
  const addrs = () => [r.address];
  const v = (n: 1 | 2, contentType: string, altTypes: string[], wrongTypes: string[]): HttpFormat => ({ path: `/api/v${n}/spans`, contentType, altTypes, wrongTypes });
  return {
    formats: [
      httpFormat('zipkin-v1-json', 'zipkin', zipkinSeeds.v1Json(), json, sink, v(1, 'application/json', [...JSON_TYPES, 'text/plain'], ['application/x-protobuf']), addrs),
      httpFormat('zipkin-v1-thrift', 'zipkin', zipkinSeeds.v1Thrift(), (rng, s, _o, log) => mutateThrift(rng, s, 'binary', 'list', log), sink, v(1, 'application/x-thrift', THRIFT_TYPES, ['application/json', 'application/x-protobuf']), addrs),
      httpFormat('zipkin-v2-json', 'zipkin', zipkinSeeds.v2Json(), json, sink, v(2, 'application/json', [...JSON_TYPES, 'text/plain'], ['application/x-thrift']), addrs),
      httpFormat('zipkin-v2-proto', 'zipkin', zipkinSeeds.v2Proto(), proto, sink, v(2, 'application/x-protobuf', PROTO_TYPES, ['application/json', 'application/x-thrift']), addrs),
    ],
    close: () => r.shutdown(),
  };
}

/** Instruments a Jaeger agent UDP server (test-only access to its internals) so a case can wait until its packet is handled. */
function udpFormat(name: string, seeds: Buffer[], proto: 'compact' | 'binary', sink: FuzzSink, server: JaegerUdpServer, closers: Array<() => void>): Format {
  const s = server as unknown as { socket: Socket; active: number; queue: Buffer[]; warnRefused: { ready(): boolean } };
  let arrivals = 0;
  let refusals = 0;
  s.socket.on('message', () => arrivals++);
  // Called only when handing decoded spans on failed; the sink never refuses, so this is a bug.
  s.warnRefused = { ready: () => (refusals++, false) };
  const sock = createSocket('udp4');
  closers.push(() => sock.close());
  const port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
  const format: Format = {
    name, group: 'jaeger', transport: 'udp', seeds, sink,
    aware: (rng, seed, _o, log) => mutateThrift(rng, seed, proto, 'message', log),
    sendPlain: (input, timeoutMs) => format.send(input, undefined as never, [], timeoutMs),
    async send(input, _rng, _log, timeoutMs) {
      const packet = input.subarray(0, 65_507); // the largest UDP datagram
      const before = { arrivals, refusals };
      await new Promise<void>((resolve, reject) => sock.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      const deadline = Date.now() + timeoutMs;
      while (!(arrivals > before.arrivals && s.active === 0 && s.queue.length === 0)) {
        if (Date.now() > deadline) throw new Error('timeout: the UDP packet was not handled');
        await new Promise((r) => setImmediate(r));
      }
      return { kind: 'udp', refused: refusals > before.refusals };
    },
  };
  return format;
}

async function jaeger(): Promise<{ formats: Format[]; close: () => Promise<void> }> {
  const sink = new FuzzSink();
  const r = new JaegerReceiver(settings('jaeger', {
    protocols: { grpc: local(jaegerGrpc()), thrift_http: { ...local(thriftHttpDefaults()), max_request_body_size: FUZZ_BODY_LIMIT }, thrift_compact: local(compactDefaults()), thrift_binary: local(binaryDefaults()) },
  }), { traces: sink });
  await r.start();
  const client = new grpc.Client(r.grpc!.address, grpc.credentials.createInsecure());
  const gzipClient = new grpc.Client(r.grpc!.address, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  const closers: Array<() => void> = [() => client.close(), () => gzipClient.close()];
  const http: HttpFormat = { path: '/api/traces', contentType: 'application/x-thrift', altTypes: THRIFT_TYPES, wrongTypes: ['application/json', 'application/x-protobuf'] };
  return {
    formats: [
      httpFormat('jaeger-thrift-http', 'jaeger', jaegerSeeds.thriftHttp(), (rng, s, _o, log) => mutateThrift(rng, s, 'binary', 'struct', log), sink, http, () => [r.http!.address]),
      udpFormat('jaeger-udp-compact', jaegerSeeds.udpCompact(), 'compact', sink, r.compact!, closers),
      udpFormat('jaeger-udp-binary', jaegerSeeds.udpBinary(), 'binary', sink, r.binary!, closers),
      grpcFormat('jaeger-grpc', 'jaeger', jaegerSeeds.grpc(), sink, POST_SPANS, () => [client, gzipClient]),
    ],
    close: async () => {
      for (const c of closers) c();
      await r.shutdown();
    },
  };
}

export async function startRig(groups: readonly Group[]): Promise<Rig> {
  const parts: Array<{ formats: Format[]; close: () => Promise<void> }> = [];
  for (const g of groups) parts.push(await { otlp, zipkin, jaeger }[g]());
  return {
    formats: parts.flatMap((p) => p.formats),
    close: async () => {
      for (const p of parts) await p.close();
    },
  };
}
