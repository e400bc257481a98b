/** ./pipeline.yaml itself, moved onto free ports (and, run from a temp dir, its data with it), for tests run as a child process. */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { freePort } from './process.ts';

export interface DefaultPipeline {
  /** The config as an object, to adjust before `yaml()`. */
  cfg: Record<string, any>;
  http: number;
  grpc: number;
  query: number;
  metrics: number;
  yaml(): string;
}

export async function defaultPipelineOnFreePorts(): Promise<DefaultPipeline> {
  const [grpc, http, query, metrics, health, zipkin, jg, jh, jc, jb, consolePort] = await Promise.all(Array.from({ length: 11 }, freePort));
  const cfg = parse(readFileSync('pipeline.yaml', 'utf8')) as Record<string, any>;
  cfg.receivers.otlp.protocols.grpc.endpoint = `127.0.0.1:${grpc}`;
  cfg.receivers.otlp.protocols.http.endpoint = `127.0.0.1:${http}`;
  cfg.receivers.zipkin.endpoint = `127.0.0.1:${zipkin}`;
  const p = cfg.receivers.jaeger.protocols;
  p.grpc.endpoint = `127.0.0.1:${jg}`;
  p.thrift_http.endpoint = `127.0.0.1:${jh}`;
  p.thrift_compact.endpoint = `127.0.0.1:${jc}`;
  p.thrift_binary.endpoint = `127.0.0.1:${jb}`;
  cfg.extensions.clickhouse_store.query_endpoint = `127.0.0.1:${query}`;
  cfg.extensions.health_check.endpoint = `127.0.0.1:${health}`;
  if (cfg.extensions.console) cfg.extensions.console.endpoint = `127.0.0.1:${consolePort}`;
  cfg.service.telemetry.metrics.address = `127.0.0.1:${metrics}`;
  return { cfg, http, grpc, query, metrics, yaml: () => stringify(cfg) };
}

/** One number from the query interface. */
export async function count(query: number, sql: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(sql)}`);
  if (!r.ok) throw new Error(await r.text());
  return Number((await r.text()).trim());
}
