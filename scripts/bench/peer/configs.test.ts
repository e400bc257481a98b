import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinRegistry } from '../../../components.ts';
import { loadConfigFile } from '../../../core/config/load.ts';
import { GATEWAY_YAML, peerConfigs, type PeerOptions } from './configs.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-peer-configs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = (signal: 'logs' | 'traces'): PeerOptions => ({
  signal,
  brokers: '127.0.0.1:19092',
  topics: { logs: 'bench_logs', traces: 'bench_spans' },
  dir,
  ports: { http: 14318, metrics: 18888, health: 13133 },
});

type Obj = Record<string, any>;

describe('bench:peer configs from examples/gateway.yaml', () => {
  for (const signal of ['logs', 'traces'] as const) {
    it(`${signal}: trailhouse's config is valid and keeps the gateway's shared stages and exporter settings`, () => {
      const c = peerConfigs(opts(signal));
      const file = join(dir, `${signal}.yaml`);
      writeFileSync(file, c.trailhouse);
      const loaded = loadConfigFile(file, builtinRegistry());
      expect(loaded.pipelines.map((p) => p.id)).toEqual([signal]);

      const gw = parse(readFileSync(GATEWAY_YAML, 'utf8')) as Obj;
      const chain = gw.service.pipelines[signal].processors as string[];
      expect([...c.processors, ...c.dropped].sort()).toEqual([...chain].sort());
      expect(c.processors.every((p) => p === 'memory_limiter' || p === 'batch')).toBe(true);
      if (chain.includes('redaction')) expect(c.dropped).toContain('redaction');

      const th = parse(c.trailhouse) as Obj;
      const exporterId = gw.service.pipelines[signal].exporters[0] as string;
      const ex = th.exporters[exporterId];
      expect(ex.brokers).toEqual(['127.0.0.1:19092']);
      expect([ex.logs.topic, ex.traces.topic]).toEqual(['bench_logs', 'bench_spans']);
      for (const k of ['producer', 'partition_traces_by_id', 'partition_logs_by_trace_id', 'sending_queue', 'encoding']) expect(ex[k]).toEqual(gw.exporters[exporterId][k]);
      expect(th.receivers.otlp.protocols).toEqual({ http: { endpoint: '127.0.0.1:14318' } });
    });

    it(`${signal}: the Collector's config carries the same settings, in its spelling`, () => {
      const c = peerConfigs(opts(signal));
      const th = parse(c.trailhouse) as Obj;
      const col = parse(c.collector) as Obj;
      expect(col.processors).toEqual(th.processors);
      expect(col.service.pipelines).toEqual(th.service.pipelines);
      const [id] = Object.keys(th.exporters);
      const { encoding, ...rest } = th.exporters[id!];
      const cex = col.exporters[id!];
      expect(cex.encoding).toBeUndefined();
      expect(cex.logs).toEqual({ topic: 'bench_logs', ...(encoding ? { encoding } : {}) });
      expect(cex.traces).toEqual({ topic: 'bench_spans', ...(encoding ? { encoding } : {}) });
      for (const k of Object.keys(rest).filter((k) => k !== 'logs' && k !== 'traces')) expect(cex[k]).toEqual(rest[k]);
      if (th.exporters[id!].sending_queue?.storage) {
        expect(col.extensions.file_storage).toEqual({ directory: `${dir}/queue`, create_directory: true, fsync: true });
        expect(col.service.extensions).toEqual(['file_storage']);
      }
      expect(col.service.telemetry.metrics.readers[0].pull.exporter.prometheus).toEqual({ host: '127.0.0.1', port: 18888 });
    });
  }

  it('a gateway that batches in the sending queue: the Collector gets the same queue batching and no batch processor', () => {
    const src = `
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 1024, spike_limit_mib: 256}
  redaction: {allow_all_keys: true}
exporters:
  kafka:
    encoding: otlp_proto
    sending_queue: {storage: file_storage, batch: {flush_timeout: 200ms, min_size: 8192, max_size: 16384}}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, redaction], exporters: [kafka]}
`;
    const c = peerConfigs(opts('traces'), src);
    expect(c.processors).toEqual(['memory_limiter']);
    expect(c.dropped).toEqual(['redaction']);
    const col = parse(c.collector) as Obj;
    expect(Object.keys(col.processors)).toEqual(['memory_limiter']);
    expect(col.exporters.kafka.sending_queue).toEqual({ storage: 'file_storage', batch: { flush_timeout: '200ms', min_size: 8192, max_size: 16384 } });
    expect(col.exporters.kafka.traces).toEqual({ topic: 'bench_spans', encoding: 'otlp_proto' });
    expect(col.service.pipelines.traces.processors).toEqual(['memory_limiter']);
  });

  it('refuses a gateway whose pipeline does not end in one kafka exporter', () => {
    const src = `
processors: {batch: {}}
exporters: {otlphttp: {endpoint: "http://x"}}
service: {pipelines: {logs: {receivers: [otlp], processors: [batch], exporters: [otlphttp]}}}
`;
    expect(() => peerConfigs(opts('logs'), src)).toThrow(/must export to one kafka exporter, has \[otlphttp\]/);
  });

  it('refuses a sending queue on storage other than file_storage', () => {
    const src = `
exporters: {kafka: {sending_queue: {storage: db_storage}}}
service: {pipelines: {logs: {receivers: [otlp], exporters: [kafka]}}}
`;
    expect(() => peerConfigs(opts('logs'), src)).toThrow(/sending_queue.storage db_storage: only file_storage/);
  });
});
