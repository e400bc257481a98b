/**
 * Valid payloads of every receiver format, built with the project's own
 * encoders and test fixtures (and protobufjs / proto-loader from the vendored
 * .proto files for the Zipkin v2 and Jaeger gRPC protobufs): the starting
 * points the fuzzer mutates, and the health check after a run.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import * as protoLoader from '@grpc/proto-loader';
import { encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto } from '../../core/otlp/index.ts';
import { meshAccessLogs, meshSpans, randomLogs, randomTraces } from '../../core/otlp/fixtures.ts';
import { sampleLogs, sampleTraces } from '../helpers.ts';
import { v1ThriftBody } from '../../receivers/zipkin/testdata/v1-thrift-encode.ts';
import { batchBody, emitBatchPacket, sampleBatch, type TBatch } from '../../receivers/jaeger/testdata/thrift-encode.ts';

const root = path.join(import.meta.dirname, '../..');

const logsModels = () => [sampleLogs(3), meshAccessLogs(4), ...[1, 2, 3, 4, 5, 6].map((i) => randomLogs(i))];
const tracesModels = () => [sampleTraces(2), meshSpans(4), ...[1, 2, 3, 4, 5, 6].map((i) => randomTraces(i))];

export const otlpSeeds = {
  logsProto: () => logsModels().map((m) => Buffer.from(encodeLogsProto(m))),
  tracesProto: () => tracesModels().map((m) => Buffer.from(encodeTracesProto(m))),
  logsJson: () => logsModels().map((m) => Buffer.from(encodeLogsJson(m))),
  tracesJson: () => tracesModels().map((m) => Buffer.from(encodeTracesJson(m))),
};

const ep = (serviceName: string, ipv4?: string, port?: number) => ({ serviceName, ...(ipv4 ? { ipv4 } : {}), ...(port ? { port } : {}) });

function zipkinV2Objects() {
  return [
    [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b7', name: 'get /api', kind: 'SERVER', timestamp: 1_700_000_000_000_000, duration: 1500, localEndpoint: ep('frontend', '10.0.0.1', 8080), remoteEndpoint: { ipv6: '2001:db8::1', port: 443 }, annotations: [{ timestamp: 1_700_000_000_000_100, value: 'ws' }], tags: { 'http.method': 'GET', 'http.status_code': '200', error: 'boom' } }],
    [
      { traceId: 'aa'.repeat(8), id: '1', parentId: '2', name: 'child', kind: 'CLIENT', timestamp: 1, duration: 2, localEndpoint: ep('svc'), tags: { 'otel.status_code': 'ERROR', 'otel.library.name': 'lib', 'service.version': '1' } },
      { traceId: 'bb'.repeat(16), id: 'ff'.repeat(8), name: 'producer', kind: 'PRODUCER', shared: true, debug: true, localEndpoint: ep('q') },
    ],
    [],
  ];
}

export const zipkinSeeds = {
  v2Json: () => zipkinV2Objects().map((o) => Buffer.from(JSON.stringify(o))),
  v1Json: () => [
    [{ traceId: '4bf92f3577b34da6', id: '00f067aa0ba902b7', name: 'get', timestamp: 1_700_000_000_000_000, duration: 10, annotations: [{ timestamp: 1_700_000_000_000_000, value: 'sr', endpoint: ep('frontend', '10.0.0.1', 80) }, { timestamp: 1_700_000_000_000_010, value: 'ss', endpoint: ep('frontend') }], binaryAnnotations: [{ key: 'http.path', value: '/x', endpoint: ep('frontend') }, { key: 'sa', value: true, endpoint: ep('db', '10.0.0.2', 5432) }, { key: 'n', value: 12 }] }],
    [{ traceId: 'aa'.repeat(16), id: '11'.repeat(8), parentId: '22'.repeat(8), name: 'cs', annotations: [{ timestamp: 5, value: 'cs', endpoint: ep('c') }, { timestamp: 9, value: 'cr' }] }],
  ].map((o) => Buffer.from(JSON.stringify(o))),
  v1Thrift: () => [
    v1ThriftBody([{ traceId: 0x77n, id: 0x2n, name: 'v1-thrift', timestamp: 1_000n, duration: 5n, annotations: [{ timestamp: 1_000n, value: 'cs', host: { serviceName: 'thrift-svc', ipv4: 0x0a000001, port: 80 } }] }]),
    v1ThriftBody([
      { traceId: 0x1234n, traceIdHigh: 0x99n, id: 0x5n, parentId: 0x4n, name: 'srv', annotations: [{ timestamp: 10n, value: 'sr', host: { serviceName: 's', ipv6: new Uint8Array(16).fill(1) } }, { timestamp: 20n, value: 'ss' }], binaryAnnotations: [{ key: 'b', value: new Uint8Array([1]), type: 0 }, { key: 'i16', value: new Uint8Array([0, 7]), type: 2 }, { key: 'i64', value: new Uint8Array(8).fill(1), type: 4 }, { key: 'd', value: new Uint8Array(8).fill(0x40), type: 5 }, { key: 's', value: Buffer.from('str'), type: 6, host: { serviceName: 'h' } }] },
      { traceId: 0x1n, id: 0x1n, name: '' },
    ]),
  ],
  v2Proto: () => {
    const List = new protobuf.Root().loadSync(path.join(root, 'receivers/zipkin/testdata/zipkin.proto'), { keepCase: true }).lookupType('zipkin.proto3.ListOfSpans');
    const id = (h: string) => Buffer.from(h, 'hex');
    return [
      { spans: [{ trace_id: id('aa'.repeat(16)), id: id('0000000000000001'), kind: 'PRODUCER', name: 'send', timestamp: 1_700_000_000_000_000, duration: 10, local_endpoint: { service_name: 'proto-svc', ipv4: Buffer.from([10, 0, 0, 1]), port: 80 }, remote_endpoint: { ipv6: Buffer.alloc(16, 2) }, annotations: [{ timestamp: 1_700_000_000_000_001, value: 'a' }], tags: { k: 'v', 'otel.status_code': 'ERROR' } }] },
      { spans: [{ trace_id: id('bb'.repeat(8)), id: id('02'.repeat(8)), parent_id: id('03'.repeat(8)), kind: 'SERVER', name: 'srv', debug: true, shared: true }, { trace_id: id('cc'.repeat(16)), id: id('04'.repeat(8)) }] },
    ].map((o) => Buffer.from(List.encode(List.fromObject(o)).finish()));
  },
};

function jaegerBatches(): TBatch[] {
  const rich: TBatch = sampleBatch(1);
  rich.spans[0]!.tags!.push({ key: 'd', vDouble: 1.5 }, { key: 'bin', vBinary: new Uint8Array([1, 2, 3]) }, { key: 'error', vBool: true });
  rich.spans[0]!.references = [{ refType: 1, traceIdLow: 5n, traceIdHigh: 6n, spanId: 7n }];
  return [sampleBatch(0), rich, { process: { serviceName: 'empty' }, spans: [] }];
}

export const jaegerSeeds = {
  thriftHttp: () => jaegerBatches().map((b) => batchBody(b)),
  udpCompact: () => jaegerBatches().map((b) => emitBatchPacket('compact', b)),
  udpBinary: () => jaegerBatches().map((b) => emitBatchPacket('binary', b)),
  grpc: () => {
    const def = protoLoader.loadSync('collector.proto', { includeDirs: [path.join(root, 'receivers/jaeger/testdata')], keepCase: true });
    const ser = (def['jaeger.api_v2.CollectorService'] as protoLoader.ServiceDefinition).PostSpans!.requestSerialize;
    const id = (h: string) => Buffer.from(h, 'hex');
    const tags = [
      { key: 'span.kind', v_str: 'producer' },
      { key: 'otel.status_code', v_str: 'ERROR' },
      { key: 'attempt', v_type: 'INT64', v_int64: 2 },
      { key: 'f', v_type: 'FLOAT64', v_float64: 1.5 },
      { key: 'b', v_type: 'BOOL', v_bool: true },
      { key: 'bin', v_type: 'BINARY', v_binary: Buffer.from([1, 2]) },
    ];
    const span = (t: string, s: string) => ({
      trace_id: id(t), span_id: id(s), operation_name: 'publish', flags: 1,
      references: [{ trace_id: id(t), span_id: id('2222222222222222'), ref_type: 'CHILD_OF' }],
      start_time: { seconds: 1_700_000_000, nanos: 5 }, duration: { seconds: 1, nanos: 0 }, tags,
      logs: [{ timestamp: { seconds: 1_700_000_000, nanos: 9 }, fields: [{ key: 'event', v_str: 'x' }] }],
    });
    return [
      { batch: { process: { service_name: 'grpc-svc', tags: [{ key: 'region', v_str: 'eu' }] }, spans: [span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331')] } },
      { batch: { process: { service_name: 'two' }, spans: [span('11'.repeat(16), '33'.repeat(8)), { ...span('11'.repeat(16), '44'.repeat(8)), process: { service_name: 'own' } }] } },
    ].map((o) => Buffer.from(ser(o)));
  },
};
