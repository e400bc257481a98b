/**
 * Partial success (OTLP spec): the server took the request but rejected
 * some items. Both exporters resolve (retrying cannot help) and log a
 * warning with the count and the server's message; a gRPC RetryInfo on
 * RESOURCE_EXHAUSTED is waited out, then the export goes through.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { Factory } from '../../core/component.ts';
import type { ExporterHelper } from '../../core/exporter-helper.ts';
import { rawUnaryMethod } from '../../core/grpc.ts';
import { encodeExportResponse } from '../../core/otlp/response.ts';
import { Payload } from '../../core/payload.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, testHost, testLogger } from '../../test/helpers.ts';
import { otlpExporterFactory } from './index.ts';
import { otlpHttpExporterFactory } from '../otlphttp/index.ts';

const PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function grpcServer(handler: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, cb: grpc.sendUnaryData<Uint8Array>) => void): Promise<string> {
  const server = new grpc.Server();
  server.addService({ Export: rawUnaryMethod(PATH) } as never, { Export: handler } as never);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  stops.push(() => new Promise((r) => server.tryShutdown(() => r())));
  return `127.0.0.1:${port}`;
}

describe('partial success and RetryInfo', () => {
  it('gRPC partial success: resolved, warned with the count and the reason', async () => {
    const addr = await grpcServer((_c, cb) => cb(null, encodeExportResponse('logs', { rejected: 2, errorMessage: 'two too old' })));
    const lines: string[] = [];
    const exp = otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: addr, tls: { insecure: true }, sending_queue: { enabled: false } }, { logger: testLogger(lines) })) as ExporterHelper;
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(sampleLogs(3)));
    await exp.shutdown();
    expect(lines.join('\n')).toMatch(/rejected part of an export.*"rejected":2.*two too old/);
  });

  it('HTTP partial success (protobuf body): resolved, warned', async () => {
    const server: Server = createServer((_req, res) => {
      _req.resume();
      _req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(encodeExportResponse('logs', { rejected: 1, errorMessage: 'bad one' }))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => server.close(() => r())));
    const lines: string[] = [];
    const port = (server.address() as { port: number }).port;
    const exp = otlpHttpExporterFactory.create(settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `http://127.0.0.1:${port}`, sending_queue: { enabled: false } }, { logger: testLogger(lines) })) as ExporterHelper;
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(sampleLogs(3)));
    await exp.shutdown();
    expect(lines.join('\n')).toMatch(/rejected part of an export.*"rejected":1.*bad one/);
  });

  it('RESOURCE_EXHAUSTED with RetryInfo is retried after the delay; without it, permanent', async () => {
    let calls = 0;
    // google.rpc.Status{code: 8, details: [Any{RetryInfo{retry_delay: {nanos: 400ms}}}]}
    const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
    const retryInfo = Buffer.from([0x0a, 0x06, 0x10, 0x80, 0x88, 0xde, 0xbe, 0x01]);
    const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retryInfo.length]), retryInfo]);
    const status = Buffer.concat([Buffer.from([0x08, 0x08, 0x1a, any.length]), any]);
    const addr = await grpcServer((_c, cb) => {
      if (++calls > 1) return cb(null, encodeExportResponse('logs'));
      const md = new grpc.Metadata();
      md.set('grpc-status-details-bin', status);
      cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', metadata: md });
    });
    const exp = otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: addr, tls: { insecure: true }, sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '5ms', max_interval: '10ms' } })) as ExporterHelper;
    await exp.start(testHost());
    const began = Date.now();
    await exp.consumeLogs(Payload.logs(sampleLogs(1)));
    await exp.shutdown();
    expect(calls).toBe(2);
    expect(Date.now() - began).toBeGreaterThanOrEqual(380);

    const plain = await grpcServer((_c, cb) => cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'too big' }));
    const exp2 = otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: plain, tls: { insecure: true }, sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '5ms' } })) as ExporterHelper;
    await exp2.start(testHost());
    await expect(exp2.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toThrow(/no RetryInfo: not retried/);
    await exp2.shutdown();
  });
});
