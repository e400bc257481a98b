/**
 * Bytes wait, end to end through the service: the gateway's shape (OTLP →
 * memory_limiter → batch → an exporter that reads bytes, as kafka with
 * otlp_proto does) never builds a record, and the exporter is handed the
 * very request bytes; a processor that reads records makes the receiver
 * decode, and one that changes them lets the bytes go.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { builtinFactories } from '../components.ts';
import type { ExporterFactory } from '../core/component.ts';
import { once } from '../core/component.ts';
import { s } from '../core/config/schema.ts';
import { loadConfigText } from '../core/config/load.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';
import type { LogsPayload } from '../core/payload.ts';
import { Registry } from '../core/registry.ts';
import { Service } from '../core/service.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { sampleLogs, testLogger } from './helpers.ts';

const got: LogsPayload[] = [];

/** Stands in for kafka with otlp_proto: declares it reads bytes, keeps what it is handed. */
const spyFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'spy',
  signals: ['logs'],
  schema: s.object({}, { allowNull: true }),
  defaultConfig: () => ({}),
  reads: () => 'bytes',
  create: () => ({
    start: async () => {},
    shutdown: once(async () => {}),
    consumeLogs: async (p: LogsPayload) => void got.push(p),
  }),
};

let svc: Service | undefined;
afterEach(async () => {
  await svc?.shutdown();
  svc = undefined;
  got.length = 0;
});

async function post(processors: string, body: Uint8Array): Promise<void> {
  const reg = new Registry([...builtinFactories, spyFactory as never]);
  svc = new Service(
    loadConfigText(
      `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
processors: {memory_limiter: {limit_mib: 4096, spike_limit_mib: 64}, batch: {timeout: 10ms}, attributes: {actions: [{key: tenant, value: acme, action: insert}]}}
exporters: {spy: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [${processors}], exporters: [spy]}
`,
      reg,
      {},
    ),
    { logger: testLogger(), serveMetrics: false },
  );
  await svc.start();
  const otlp = (svc as unknown as { receivers: Array<{ id: string; component: unknown }> }).receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  const res = await fetch(`http://${otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(body) });
  expect(res.status).toBe(200);
}

describe('bytes wait, records pass through', () => {
  it('OTLP → memory_limiter → batch → a bytes reader: no record is built, the request bytes arrive as they were sent', async () => {
    const body = encodeLogsProto(sampleLogs(5));
    await post('memory_limiter, batch', body);
    expect(got).toHaveLength(1);
    expect(got[0]!.content.kind).toBe('bytes');
    expect(got[0]!.count).toBe(5);
    expect(Buffer.concat(got[0]!.bytes()!).equals(Buffer.from(body))).toBe(true);
  });

  it('a processor that changes records: the receiver decodes, and the stale bytes are gone by the exporter', async () => {
    await post('memory_limiter, attributes, batch', encodeLogsProto(sampleLogs(2)));
    expect(got).toHaveLength(1);
    expect(got[0]!.content.kind).toBe('records');
    expect(got[0]!.bytes()).toBeUndefined();
    const attrs = got[0]!.records().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
    expect(attrs.find((kv) => kv.key === 'tenant')?.value).toBe('acme');
  });
});
