/**
 * The pipeline graph: fan-out, start/stop order, draining on shutdown, and
 * errors travelling back to the receiver.
 */
import { describe, expect, it } from 'vitest';
import type { Component, ExporterFactory, LogsConsumer, NextConsumers, ProcessorFactory, ReceiverFactory } from '../../core/component.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { s } from '../../core/config/schema.ts';
import { PermanentError } from '../../core/errors.ts';
import { Registry } from '../../core/registry.ts';
import { Service } from '../../core/service.ts';
import { batchFactory } from '../../processors/batch/index.ts';
import { sampleLogs, testLogger } from '../helpers.ts';
import { Payload } from '../../core/payload.ts';
import type { LogsPayload } from '../../core/payload.ts';

const events: string[] = [];

/** A receiver whose `next` the test drives directly. */
class PushReceiver implements Component {
  static instances = new Map<string, PushReceiver>();
  constructor(
    readonly id: string,
    readonly next: NextConsumers,
  ) {
    PushReceiver.instances.set(id, this);
  }
  async start() {
    events.push(`start ${this.id}`);
  }
  async shutdown() {
    events.push(`stop ${this.id}`);
  }
}

const pushFactory: ReceiverFactory<Record<string, never>> = {
  kind: 'receiver',
  type: 'push',
  signals: ['logs', 'traces'],
  schema: s.object({}),
  defaultConfig: () => ({}),
  create: (st, next) => new PushReceiver(st.id, next),
};

class SlowSink implements Component, LogsConsumer {
  static instances = new Map<string, SlowSink>();
  received: LogsPayload[] = [];
  /** Each payload's bytes as it arrived (before this sink changed its records). */
  arrivedBytes: Array<readonly Uint8Array[] | undefined> = [];
  constructor(
    readonly id: string,
    readonly cfg: { delay_ms: number; fail: boolean },
  ) {
    SlowSink.instances.set(id, this);
  }
  async start() {
    events.push(`start ${this.id}`);
  }
  async consumeLogs(payload: LogsPayload) {
    await new Promise((r) => setTimeout(r, this.cfg.delay_ms));
    if (this.cfg.fail) throw new PermanentError(`${this.id} rejects`);
    this.arrivedBytes.push(payload.bytes());
    // Change the records, to prove each fan-out branch has its own copy.
    payload.recordsToChange().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = `seen by ${this.id}`;
    this.received.push(payload);
  }
  async shutdown() {
    events.push(`stop ${this.id}`);
  }
}

const sinkFactory: ExporterFactory<{ delay_ms: number; fail: boolean }> = {
  kind: 'exporter',
  reads: () => 'records',
  type: 'sink',
  signals: ['logs'],
  schema: s.object({ delay_ms: s.int(), fail: s.bool() }),
  defaultConfig: () => ({ delay_ms: 0, fail: false }),
  create: (st) => new SlowSink(st.id, st.config),
};

const registry = new Registry([pushFactory as never, sinkFactory as never, batchFactory as never]);

function build(yaml: string) {
  events.length = 0;
  PushReceiver.instances.clear();
  SlowSink.instances.clear();
  return new Service(loadConfigText(yaml, registry, {}), { logger: testLogger(), serveMetrics: false });
}

describe('service graph', () => {
  it('fans a receiver out to every pipeline and a pipeline to every exporter, each with its own copy', async () => {
    const svc = build(`
receivers: {push: {}}
exporters: {sink/a: {}, sink/b: {}, sink/c: {}}
service:
  pipelines:
    logs: {receivers: [push], exporters: [sink/a, sink/b]}
    logs/audit: {receivers: [push], exporters: [sink/c]}
`);
    await svc.start();
    const r = PushReceiver.instances.get('push')!;
    await r.next.logs!.consumeLogs(Object.assign(Payload.logs(sampleLogs(2)), { dedupToken: 'kafka:otlp_logs:0:10-19' }));
    // Every branch gets a token derived from the payload's: the same on a redelivery, never shared
    // between branches (two of which could insert into one table).
    const tokens = ['sink/a', 'sink/b', 'sink/c'].map((id) => SlowSink.instances.get(id)!.received[0]!.dedupToken);
    expect(tokens).toEqual(['kafka:otlp_logs:0:10-19>0>0', 'kafka:otlp_logs:0:10-19>0>1', 'kafka:otlp_logs:0:10-19>1']);
    const bodies = ['sink/a', 'sink/b', 'sink/c'].map((id) => SlowSink.instances.get(id)!.received[0]!.records().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body);
    expect(bodies).toEqual(['seen by sink/a', 'seen by sink/b', 'seen by sink/c']);
    expect(r.next.traces).toBeUndefined();
    await svc.shutdown();
  });

  it('drops the protobuf bytes where a processor changes records, keeps them through batch', async () => {
    const seen: Array<readonly Uint8Array[] | undefined> = [];
    const spy: ProcessorFactory<Record<string, never>> = {
      kind: 'processor',
      type: 'spy',
      reads: 'records',
      signals: ['logs'],
      schema: s.object({}),
      defaultConfig: () => ({}),
      create: (_st, next) => ({
        start: async () => {},
        shutdown: async () => {},
        consumeLogs: async (p: LogsPayload) => {
          seen.push(p.bytes());
          p.recordsToChange().resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = 'changed by spy';
          await next.logs!.consumeLogs(p);
        },
      }),
    };
    const reg = new Registry([pushFactory as never, sinkFactory as never, batchFactory as never, spy as never]);
    const run = async (processors: string) => {
      PushReceiver.instances.clear();
      SlowSink.instances.clear();
      const svc = new Service(
        loadConfigText(
          `
receivers: {push: {}}
processors: {batch: {send_batch_size: 1}, spy: {}}
exporters: {sink: {}}
service:
  pipelines:
    logs: {receivers: [push], processors: [${processors}], exporters: [sink]}
`,
          reg,
          {},
        ),
        { logger: testLogger(), serveMetrics: false },
      );
      await svc.start();
      const data = Payload.ofRecords('logs', sampleLogs(1), undefined, [new Uint8Array([1, 2, 3])]);
      await PushReceiver.instances.get('push')!.next.logs!.consumeLogs(data);
      const received = SlowSink.instances.get('sink')!.arrivedBytes;
      await svc.shutdown();
      return received;
    };
    // batch keeps the bytes; a processor that changes records lets them go, where it does.
    expect(await run('batch')).toEqual([[new Uint8Array([1, 2, 3])]]);
    expect(await run('batch, spy')).toEqual([undefined]);
    expect(seen).toEqual([[new Uint8Array([1, 2, 3])]]); // the spy got them, and let them go when it changed the records
  });

  it('tells a receiver, per signal, when no stage downstream reads records (bytesOnly)', async () => {
    const { builtinFactories } = await import('../../components.ts');
    const reg = new Registry([...builtinFactories.filter((f) => !(f.kind === 'receiver' && f.type === 'push')), pushFactory as never]);
    const hint = (pipelines: string, kafka = '{brokers: ["127.0.0.1:1"]}') => {
      PushReceiver.instances.clear();
      const cfg = loadConfigText(
        `
receivers: {push: {}}
processors: {batch: {}, memory_limiter: {limit_mib: 512, spike_limit_mib: 64}, redaction: {allow_all_keys: true, blocked_values: ['x']}, redaction/builtin: {allow_all_keys: true, mask_credentials: true}, correlate: {path: /tmp/th-never-started}, audit: {path: /tmp/th-never-started}, attributes: {actions: [{key: a, value: b, action: insert}]}}
exporters: {kafka: ${kafka}, debug: {}, clickhouse: {path: /tmp/th-never-started}, clickhouse/server: {endpoint: 'http://127.0.0.1:1'}}
service:
  pipelines:
${pipelines}
`,
        reg,
        {},
      );
      new Service(cfg, { logger: testLogger(), serveMetrics: false });
      return PushReceiver.instances.get('push')!.next.bytesOnly;
    };
    // The gateway: memory_limiter and batch only count; kafka cuts protobuf messages from the bytes.
    expect(hint('    logs: {receivers: [push], processors: [memory_limiter, batch], exporters: [kafka]}\n    traces: {receivers: [push], exporters: [kafka]}')).toEqual({ logs: true, traces: true });
    // A processor that reads records (redaction with user patterns), an exporter that does (debug), JSON encoding, a second pipeline that reads them.
    expect(hint('    logs: {receivers: [push], processors: [redaction, batch], exporters: [kafka]}')).toEqual({ logs: false, traces: false });
    // Redaction with only its built-in rules decides from the bytes (its `reads` is a test of its config).
    expect(hint('    logs: {receivers: [push], processors: [memory_limiter, redaction/builtin, batch], exporters: [kafka]}')).toEqual({ logs: true, traces: false });
    expect(hint('    logs: {receivers: [push], exporters: [kafka, debug]}')).toEqual({ logs: false, traces: false });
    expect(hint('    logs: {receivers: [push], exporters: [kafka]}\n    traces: {receivers: [push], exporters: [kafka]}', '{brokers: ["127.0.0.1:1"], logs: {encoding: otlp_json}}')).toEqual({ logs: false, traces: true });
    expect(hint('    logs: {receivers: [push], exporters: [kafka]}\n    logs/debug: {receivers: [push], exporters: [debug]}')).toEqual({ logs: false, traces: false });
    // The embedded ClickHouse encodes Native blocks from the bytes; a server gets JSON rows made from records.
    expect(hint('    logs: {receivers: [push], processors: [memory_limiter, batch], exporters: [clickhouse]}\n    traces: {receivers: [push], exporters: [clickhouse]}')).toEqual({ logs: true, traces: true });
    expect(hint('    logs: {receivers: [push], exporters: [clickhouse/server]}')).toEqual({ logs: false, traces: false });
    // correlate and audit work from the bytes (patches for enrichment); attributes changes records.
    expect(hint('    logs: {receivers: [push], processors: [correlate, audit], exporters: [clickhouse]}')).toEqual({ logs: true, traces: false });
    expect(hint('    logs: {receivers: [push], processors: [attributes, audit], exporters: [clickhouse]}')).toEqual({ logs: false, traces: false });
  });

  it('starts exporters first and receivers last, stops in reverse, and shutdown is idempotent', async () => {
    const svc = build(`
receivers: {push: {}}
exporters: {sink: {}}
service:
  pipelines:
    logs: {receivers: [push], exporters: [sink]}
`);
    await svc.start();
    await Promise.all([svc.shutdown(), svc.shutdown()]);
    await svc.shutdown();
    expect(events).toEqual(['start sink', 'start push', 'stop push', 'stop sink']);
  });

  it('a consume call settles only when the exporter accepted, and errors travel back', async () => {
    const svc = build(`
receivers: {push: {}}
exporters: {sink/slow: {delay_ms: 100}, sink/bad: {fail: true}}
service:
  pipelines:
    logs: {receivers: [push], exporters: [sink/slow]}
    logs/bad: {receivers: [push], exporters: [sink/bad]}
`);
    await svc.start();
    const r = PushReceiver.instances.get('push')!;
    await expect(r.next.logs!.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toThrow('sink/bad rejects');
    expect(SlowSink.instances.get('sink/slow')!.received).toHaveLength(1);
    await svc.shutdown();
  });

  it('drains the batch processor on shutdown: nothing accepted is dropped', async () => {
    const svc = build(`
receivers: {push: {}}
processors: {batch: {send_batch_size: 1000, timeout: 1h}}
exporters: {sink: {}}
service:
  pipelines:
    logs: {receivers: [push], processors: [batch], exporters: [sink]}
`);
    await svc.start();
    const r = PushReceiver.instances.get('push')!;
    const pending = [r.next.logs!.consumeLogs(Payload.logs(sampleLogs(3))), r.next.logs!.consumeLogs(Payload.logs(sampleLogs(4)))];
    await new Promise((res) => setTimeout(res, 20));
    expect(SlowSink.instances.get('sink')!.received).toHaveLength(0); // held by the batch
    await svc.shutdown();
    await Promise.all(pending);
    const got = SlowSink.instances.get('sink')!.received;
    expect(got.reduce((n, d) => n + d.count, 0)).toBe(7);
    await expect(r.next.logs!.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toThrow(/shut down/);
  });

  it('rejects a start failure cleanly, stopping what had started', async () => {
    const svc = build(`
receivers: {push: {}}
exporters: {sink: {}}
service:
  pipelines:
    logs: {receivers: [push], exporters: [sink]}
`);
    PushReceiver.prototype.start = async function () {
      throw new Error('port in use');
    };
    try {
      await expect(svc.start()).rejects.toThrow('failed to start receiver "push": port in use');
      expect(events).toEqual(['start sink', 'stop sink']);
    } finally {
      PushReceiver.prototype.start = async function (this: PushReceiver) {
        events.push(`start ${this.id}`);
      };
    }
  });
});
