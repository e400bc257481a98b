/**
 * The two configs bench:peer runs: trailhouse's gateway as examples/gateway.yaml
 * has it (read at run time, so the bench follows that file), pointed at the
 * bench's ports, broker and state directory; and the Collector's, carried over
 * from it key by key. Stages the Collector side has no equivalent for in this
 * build (trailhouse's `redaction`) are left out of both, and reported.
 *
 * The exporter's and processors' settings go to the Collector verbatim, so a
 * key the Collector does not know makes it refuse to start with its own error
 * (fail closed: the bench never quietly compares different configs).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const GATEWAY_YAML = fileURLToPath(new URL('../../../examples/gateway.yaml', import.meta.url));

/** Processors both systems have (memory_limiter, batch); others are dropped and named. */
const SHARED_PROCESSORS = new Set(['memory_limiter', 'batch']);

export type Signal = 'logs' | 'traces';

export interface BenchPorts {
  http: number;
  metrics: number;
  health: number;
}

export interface PeerConfigs {
  trailhouse: string;
  collector: string;
  /** Processors of examples/gateway.yaml left out of both (no Collector equivalent in this build). */
  dropped: string[];
  /** The processor chain both run, in order. */
  processors: string[];
  /** The kafka exporter's settings both run (after the bench's overrides). */
  exporter: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${GATEWAY_YAML}: ${where} is not a mapping`);
  return v as Obj;
}

export interface PeerOptions {
  signal: Signal;
  brokers: string;
  topics: { logs: string; traces: string };
  /** The run's state directory (file_storage queue). */
  dir: string;
  ports: BenchPorts;
}

export function peerConfigs(o: PeerOptions, source = readFileSync(GATEWAY_YAML, 'utf8')): PeerConfigs {
  const gw = obj(parse(source), 'the file');
  const service = obj(gw.service, 'service');
  const pipeline = obj(obj(service.pipelines, 'service.pipelines')[o.signal], `service.pipelines.${o.signal}`);
  const chain = (pipeline.processors ?? []) as string[];
  const processors = chain.filter((p) => SHARED_PROCESSORS.has(p.split('/')[0]!));
  const dropped = chain.filter((p) => !SHARED_PROCESSORS.has(p.split('/')[0]!));
  const exporters = (pipeline.exporters ?? []) as string[];
  if (exporters.length !== 1 || exporters[0]!.split('/')[0] !== 'kafka') {
    throw new Error(`${GATEWAY_YAML}: the ${o.signal} pipeline must export to one kafka exporter, has [${exporters.join(', ')}]`);
  }
  const exporterId = exporters[0]!;
  const allProcessors = obj(gw.processors ?? {}, 'processors');
  const procConfigs: Obj = {};
  for (const p of processors) procConfigs[p] = allProcessors[p] ?? {};

  // The exporter as the gateway has it, pointed at the bench's broker and topics.
  const exporter: Obj = { ...obj(obj(gw.exporters, 'exporters')[exporterId], `exporters.${exporterId}`) };
  exporter.brokers = [o.brokers];
  exporter.logs = { ...((exporter.logs as Obj | undefined) ?? {}), topic: o.topics.logs };
  exporter.traces = { ...((exporter.traces as Obj | undefined) ?? {}), topic: o.topics.traces };
  const queue = exporter.sending_queue as Obj | undefined;
  const storage = typeof queue?.storage === 'string' ? queue.storage : undefined;
  if (storage && storage.split('/')[0] !== 'file_storage') throw new Error(`${GATEWAY_YAML}: sending_queue.storage ${storage}: only file_storage is carried to the Collector`);

  const pipelines = { [o.signal]: { receivers: ['otlp'], processors, exporters: [exporterId] } };
  const trailhouse = {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${o.ports.http}` } } } },
    processors: procConfigs,
    exporters: { [exporterId]: exporter },
    extensions: {
      health_check: { endpoint: `127.0.0.1:${o.ports.health}` },
      ...(storage ? { [storage]: { directory: `${o.dir}/queue` } } : {}),
    },
    service: {
      extensions: ['health_check', ...(storage ? [storage] : [])],
      telemetry: { logs: { level: 'warn' }, metrics: { address: `127.0.0.1:${o.ports.metrics}` } },
      pipelines,
    },
  };

  // The Collector names the encoding per signal; trailhouse has one for the exporter.
  const cExporter: Obj = { ...exporter };
  if (typeof cExporter.encoding === 'string') {
    const encoding = cExporter.encoding;
    delete cExporter.encoding;
    cExporter.logs = { ...(cExporter.logs as Obj), encoding };
    cExporter.traces = { ...(cExporter.traces as Obj), encoding };
  }
  const collector = {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${o.ports.http}` } } } },
    processors: procConfigs,
    exporters: { [exporterId]: cExporter },
    // trailhouse's file_storage fsyncs each batch before the sender's 200 by
    // default; the Collector's does not unless asked, so ask.
    extensions: storage ? { [storage]: { directory: `${o.dir}/queue`, create_directory: true, fsync: true } } : {},
    service: {
      extensions: storage ? [storage] : [],
      telemetry: {
        logs: { level: 'warn' },
        metrics: { level: 'normal', readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: o.ports.metrics } } } }] },
      },
      pipelines,
    },
  };
  return { trailhouse: stringify(trailhouse), collector: stringify(collector), dropped, processors, exporter };
}
