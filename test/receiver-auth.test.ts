/**
 * `auth` on every receiver server, with real clients: the OTel JS SDK's
 * OTLP exporters (HTTP JSON, HTTP protobuf, gRPC; traces and logs) with the
 * right token are accepted and their payload carries the authenticated
 * subject; with a wrong or no token they get 401 / UNAUTHENTICATED. Zipkin
 * and Jaeger (gRPC, thrift HTTP) likewise. Every refusal is counted and
 * raised as a SecurityEvent, and the presented credential appears nowhere.
 */
import * as grpc from '@grpc/grpc-js';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogs } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonTraces } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataValues } from '../core/client.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { POST_SPANS } from '../receivers/jaeger/grpc.ts';
import { LOGS_EXPORT, TRACES_EXPORT } from '../receivers/otlp/grpc.ts';
import { batchBody, sampleBatch } from '../receivers/jaeger/testdata/thrift-encode.ts';
import { grpcCall, startAuthFixture, SUBJECT, TOKEN, type AuthFixture } from './receiver-auth-fixture.ts';
import { sampleLogs } from './helpers.ts';

const WRONG = 'wr0ng-token-Z';

async function spans(): Promise<ReadableSpan[]> {
  const mem = new InMemorySpanExporter();
  const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: mem })] });
  tp.getTracer('t').startSpan('checkout').end();
  await tp.forceFlush();
  return mem.getFinishedSpans();
}

async function logs(): Promise<ReadableLogRecord[]> {
  const mem = new InMemoryLogRecordExporter();
  const lp = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
  lp.getLogger('t').emit({ body: 'hello' });
  await lp.forceFlush();
  return mem.getFinishedLogRecords();
}

const exported = <T>(e: { export(items: T[], cb: (r: ExportResult) => void): void; shutdown(): Promise<void> }, items: T[]) =>
  new Promise<ExportResult>((resolve) => e.export(items, resolve)).finally(() => void e.shutdown());

let f: AuthFixture;
beforeAll(async () => {
  f = await startAuthFixture();
});
afterAll(() => f.stop());

describe('receiver auth with the OTel SDK exporters', () => {
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
  const md = (t?: string) => {
    const m = new grpc.Metadata();
    if (t) m.set('authorization', `Bearer ${t}`);
    return m;
  };
  const senders = () => {
    const http = `http://${f.otlp.http!.address}`;
    const grpcUrl = `http://${f.otlp.grpc!.address}`;
    return {
      'traces http/json': (t?: string) => async () => exported(new HttpJsonTraces({ url: `${http}/v1/traces`, headers: t ? bearer(t) : {} }), await spans()),
      'traces http/protobuf': (t?: string) => async () => exported(new ProtoTraces({ url: `${http}/v1/traces`, headers: t ? bearer(t) : {} }), await spans()),
      'traces grpc': (t?: string) => async () => exported(new GrpcTraces({ url: grpcUrl, metadata: md(t) }), await spans()),
      'logs http/json': (t?: string) => async () => exported(new HttpJsonLogs({ url: `${http}/v1/logs`, headers: t ? bearer(t) : {} }), await logs()),
      'logs http/protobuf': (t?: string) => async () => exported(new ProtoLogs({ url: `${http}/v1/logs`, headers: t ? bearer(t) : {} }), await logs()),
      'logs grpc': (t?: string) => async () => exported(new GrpcLogs({ url: grpcUrl, metadata: md(t) }), await logs()),
    };
  };

  for (const name of ['traces http/json', 'traces http/protobuf', 'traces grpc', 'logs http/json', 'logs http/protobuf', 'logs grpc'] as const) {
    it(`${name}: the right token is accepted and its subject rides with the payload; a wrong or no token is refused`, async () => {
      const send = senders()[name];
      const before = f.sink.logPayloads.length + f.sink.tracePayloads.length;
      const ok = await send(TOKEN)();
      expect(ok.error).toBeUndefined();
      expect(ok.code).toBe(0);
      const got = [...f.sink.logPayloads, ...f.sink.tracePayloads].slice(before);
      expect(got).toHaveLength(1);
      const client = got[0]!.client!;
      expect(client.auth).toEqual({ subject: SUBJECT, authenticator: 'bearertokenauth', attributes: new Map() });
      // include_metadata is on, yet the credential does not travel with the payload.
      expect(metadataValues(client, 'authorization')).toEqual([]);

      for (const t of [WRONG, undefined]) {
        const failuresBefore = f.metrics.sum('trailhouse_receiver_auth_failures', { receiver: 'otlp' });
        const r = await send(t)();
        expect(r.code).toBe(1);
        const err = r.error as Error & { code?: number };
        if (name.endsWith('grpc')) expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
        else expect(err.code).toBe(401);
        expect(String(err.message)).not.toContain(WRONG);
        expect(f.metrics.sum('trailhouse_receiver_auth_failures', { receiver: 'otlp' })).toBe(failuresBefore + 1);
      }
      expect([...f.sink.logs, ...f.sink.traces].length - before).toBe(1);
    });
  }
});

describe('receiver auth on Zipkin and Jaeger', () => {
  const zipkinSpan = JSON.stringify([{ traceId: '0af7651916cd43dd8448eb211c80319c', id: 'b7ad6b7169203331', name: 'get', timestamp: 1_700_000_000_000_000, duration: 10 }]);

  it('zipkin: 401 + WWW-Authenticate without the token, 202 with it (subject stamped)', async () => {
    const url = `http://${f.zipkin.address}/api/v2/spans`;
    const no = await fetch(url, { method: 'POST', body: zipkinSpan, headers: { 'content-type': 'application/json' } });
    expect(no.status).toBe(401);
    expect(no.headers.get('www-authenticate')).toBe('Bearer realm="trailhouse"');
    const bad = await fetch(url, { method: 'POST', body: zipkinSpan, headers: { 'content-type': 'application/json', authorization: `Bearer ${WRONG}` } });
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain(WRONG);
    const before = f.sink.tracePayloads.length;
    const ok = await fetch(url, { method: 'POST', body: zipkinSpan, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(202);
    expect(f.sink.tracePayloads[before]!.client!.auth!.subject).toBe(SUBJECT);
  });

  it('jaeger thrift_http: 401 without the token (even for a bad body: auth comes first), 202 with it', async () => {
    const url = `http://${f.jaeger.http!.address}/api/traces`;
    const body = new Uint8Array(batchBody(sampleBatch(3)));
    const headers = (t?: string): Record<string, string> => ({ 'content-type': 'application/x-thrift', ...(t ? { authorization: `Bearer ${t}` } : {}) });
    expect((await fetch(url, { method: 'POST', body: 'not thrift', headers: headers() })).status).toBe(401);
    expect((await fetch(`${f.jaeger.http!.address.replace(/^/, 'http://')}/no/such/path`, { method: 'GET' })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body, headers: headers(WRONG) })).status).toBe(401);
    const before = f.sink.tracePayloads.length;
    expect((await fetch(url, { method: 'POST', body, headers: headers(TOKEN) })).status).toBe(202);
    expect(f.sink.tracePayloads[before]!.client!.auth!.subject).toBe(SUBJECT);
  });

  it('jaeger gRPC and OTLP gRPC: UNAUTHENTICATED without, with a wrong or a truncated token', async () => {
    for (const [addr, path] of [[f.jaeger.grpc!.address, POST_SPANS], [f.otlp.grpc!.address, TRACES_EXPORT]] as const) {
      // (Two authorization values: grpc-js will not send them; test/receiver-auth-raw.test.ts does over plain HTTP/2.)
      for (const md of [{}, { authorization: `Bearer ${WRONG}` }, { authorization: `bearer ${TOKEN.slice(0, -1)}` }] as Array<Record<string, string>>) {
        const err = await grpcCall(addr, path, new Uint8Array(), md);
        expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
        expect(err?.details).not.toContain(WRONG);
        expect(err?.details).not.toContain(TOKEN.slice(0, -1));
      }
      // With the token the call gets past auth (an empty request is then the receiver's to judge).
      const ok = await grpcCall(addr, path, new Uint8Array(), { authorization: `Bearer ${TOKEN}` });
      expect(ok?.code).not.toBe(grpc.status.UNAUTHENTICATED);
    }
  });
});

describe('what a refusal leaves behind', () => {
  it('security events (authentication/failure, the receiver surface), counters by reason, and no credential anywhere', async () => {
    const n = f.events.length;
    await grpcCall(f.otlp.grpc!.address, LOGS_EXPORT, encodeLogsProto(sampleLogs(1)), { authorization: `Bearer ${WRONG}` });
    await fetch(`http://${f.otlp.http!.address}/v1/logs?access_token=${WRONG}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const mine = f.events.slice(n);
    expect(mine).toEqual([
      expect.objectContaining({ category: 'authentication', outcome: 'failure', surface: 'receiver/otlp', subject: '', reason: 'the token is not accepted', action: `grpc ${LOGS_EXPORT}` }),
      // A token in the URL is not a credential: the request has none.
      expect.objectContaining({ category: 'authentication', outcome: 'failure', surface: 'receiver/otlp', reason: 'no Authorization header', action: 'http POST /v1/logs' }),
    ]);
    expect(mine[0]!.source).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(mine[1]!.details).toMatchObject({ receiver: 'otlp', transport: 'http', authenticator: 'bearertokenauth', failure: 'missing' });
    expect(f.metrics.read('trailhouse_receiver_auth_failures', { receiver: 'otlp', transport: 'grpc', reason: 'invalid' })).toBeGreaterThan(0);
    expect(f.metrics.read('trailhouse_receiver_auth_failures', { receiver: 'otlp', transport: 'http', reason: 'missing' })).toBeGreaterThan(0);
    const everywhere = JSON.stringify(f.events, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) + f.lines.join('\n') + f.metrics.exposition();
    for (const secret of [WRONG, TOKEN, 'wr0ng', 's3cret']) expect(everywhere).not.toContain(secret);
  });
});

describe('the bytes-only path', () => {
  it('a payload kept as protobuf bytes (nothing downstream reads records) still carries the authenticated sender', async () => {
    const g = await startAuthFixture(true);
    try {
      const body = new Uint8Array(encodeLogsProto(sampleLogs(2)));
      const r = await fetch(`http://${g.otlp.http!.address}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}`, 'x-tenant': 'acme' } });
      expect(r.status).toBe(200);
      expect(await grpcCall(g.otlp.grpc!.address, LOGS_EXPORT, body, { authorization: `Bearer ${TOKEN}` })).toBeNull();
      expect(g.sink.logPayloads).toHaveLength(2);
      for (const d of g.sink.logPayloads) {
        expect(d.content.kind).toBe('bytes'); // still undecoded
        expect(d.client!.auth!.subject).toBe(SUBJECT);
        expect(metadataValues(d.client, 'authorization')).toEqual([]);
      }
      expect(metadataValues(g.sink.logPayloads[0]!.client, 'x-tenant')).toEqual(['acme']);
    } finally {
      await g.stop();
    }
  });
});
