// docker/compose.yaml and docker/Dockerfile, checked without a Docker engine:
// the compose file parses, wires the four services the way the images'
// documentation asks, and the configs the containers run validate with the
// environment compose gives them.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinRegistry } from '../components.ts';
import { loadConfigFile } from '../core/config/load.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const compose = parse(readFileSync(`${root}docker/compose.yaml`, 'utf8')) as {
  services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; command?: string[]; environment?: Record<string, unknown>; ports?: string[]; depends_on?: Record<string, { condition: string }>; volumes?: string[]; healthcheck?: { test: string[] } }>;
  volumes: Record<string, unknown>;
};
const svc = compose.services;
const env = (name: string) => Object.fromEntries(Object.entries(svc[name]!.environment ?? {}).map(([k, v]) => [k, String(v)]));

describe('docker/compose.yaml', () => {
  it('has kafka, clickhouse, gateway and ingester', () => {
    expect(Object.keys(svc).sort()).toEqual(['clickhouse', 'gateway', 'ingester', 'kafka']);
  });

  it('kafka: apache/kafka 3.9.x in KRaft mode with an internal and an external listener', () => {
    expect(svc.kafka!.image).toMatch(/^apache\/kafka:3\.9\.\d+$/);
    const e = env('kafka');
    expect(e.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${e.KAFKA_NODE_ID}@kafka:9093`);
    expect(e.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/); // a base64url UUID, as kafka-storage format wants
    const listeners = e.KAFKA_LISTENERS!.split(',').map((l) => l.split(':')[0]);
    for (const name of listeners) expect(e.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toContain(`${name}:`);
    expect(e.KAFKA_ADVERTISED_LISTENERS).toContain('INTERNAL://kafka:19092');
    expect(listeners).toContain(e.KAFKA_INTER_BROKER_LISTENER_NAME);
    expect(listeners).toContain(e.KAFKA_CONTROLLER_LISTENER_NAMES);
    expect(Number(e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe(1);
    expect(Number(e.KAFKA_NUM_PARTITIONS)).toBeGreaterThan(1);
    expect(svc.kafka!.volumes).toContain(`kafka-data:${e.KAFKA_LOG_DIRS}`);
    expect(svc.kafka!.ports).toContain('9092:9092');
  });

  it('clickhouse: the server image with a user, a database and its data volume', () => {
    expect(svc.clickhouse!.image).toMatch(/^clickhouse\/clickhouse-server:/);
    const e = env('clickhouse');
    expect(e.CLICKHOUSE_USER).toBeTruthy();
    expect(e.CLICKHOUSE_PASSWORD).toBeTruthy();
    expect(svc.clickhouse!.volumes).toContain('clickhouse-data:/var/lib/clickhouse');
    expect(svc.clickhouse!.ports).toContain('8123:8123');
  });

  it('gateway and ingester: built from docker/Dockerfile, wired to kafka and clickhouse, ports published', () => {
    for (const name of ['gateway', 'ingester']) {
      const s = svc[name]!;
      expect(s.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(env(name).KAFKA_BROKERS).toBe('kafka:19092');
      expect(env(name).TRAILHOUSE_LISTEN).toBe('0.0.0.0');
      expect(s.depends_on!.kafka!.condition).toBe('service_healthy');
      expect(existsSync(`${root}${s.command![2]}`)).toBe(true);
    }
    // OTLP is unauthenticated in this demo (TRAILHOUSE_INSECURE), so it is published on the host's loopback only.
    expect(svc.gateway!.ports).toEqual(expect.arrayContaining(['127.0.0.1:4317:4317', '127.0.0.1:4318:4318', '8888:8888', '13133:13133']));
    expect(env('gateway').TRAILHOUSE_INSECURE).toBe('true');
    expect(svc.ingester!.ports).toEqual(expect.arrayContaining(['8889:8889', '13134:13134']));
    expect(env('ingester').CLICKHOUSE_ENDPOINT).toBe('http://clickhouse:8123');
    expect(env('ingester').CLICKHOUSE_USER).toBe(env('clickhouse').CLICKHOUSE_USER);
    expect(env('ingester').CLICKHOUSE_PASSWORD).toBe(env('clickhouse').CLICKHOUSE_PASSWORD);
    expect(svc.ingester!.depends_on!.clickhouse!.condition).toBe('service_healthy');
    for (const v of Object.keys(compose.volumes)) {
      expect(Object.values(svc).some((s) => s.volumes?.some((m) => m.startsWith(`${v}:`)))).toBe(true);
    }
  });

  it('fail closed: the gateway on 0.0.0.0 without auth is refused unless TRAILHOUSE_INSECURE says so', () => {
    const { TRAILHOUSE_INSECURE: _, ...without } = env('gateway');
    expect(() => loadConfigFile(`${root}examples/gateway.yaml`, builtinRegistry(), without)).toThrow(
      /receivers\.otlp\.protocols\.grpc\.endpoint: 0\.0\.0\.0:4317 is not a loopback address and no auth is configured/,
    );
  });

  it('the configs the containers run are valid with the environment compose sets, and listen on all interfaces', () => {
    for (const name of ['gateway', 'ingester']) {
      const cfg = loadConfigFile(`${root}${svc[name]!.command![2]}`, builtinRegistry(), env(name));
      expect(cfg.pipelines.map((p) => p.id).sort()).toEqual(['logs', 'traces']);
      expect(cfg.telemetry.metrics.address.startsWith('0.0.0.0:')).toBe(true);
    }
    const ingester = loadConfigFile(`${root}examples/ingester.yaml`, builtinRegistry(), env('ingester'));
    expect((ingester.extensions.get('clickhouse_store')!.config as { endpoint: string }).endpoint).toBe('http://clickhouse:8123');
    for (const writer of [ingester.exporters.get('clickhouse')!, ingester.processors.get('audit')!, ingester.processors.get('correlate')!]) {
      expect((writer.config as { store: string }).store).toBe('clickhouse_store');
    }
    const gateway = loadConfigFile(`${root}examples/gateway.yaml`, builtinRegistry(), env('gateway'));
    expect((gateway.exporters.get('kafka')!.config as { brokers: string[] }).brokers).toEqual(['kafka:19092']);
  });
});

describe('docker/Dockerfile', () => {
  const text = readFileSync(`${root}docker/Dockerfile`, 'utf8');
  it('node:20-slim, production install that keeps tsx, copies what exists', () => {
    expect(text).toMatch(/^FROM node:20-slim$/m);
    expect(text).toContain('npm ci --omit=dev');
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { dependencies: Record<string, string> };
    // --omit=dev must keep what the product needs at run time.
    for (const dep of ['tsx', 'kafkajs', 'yaml', 'chdb', '@clickhouse/client', '@grpc/grpc-js']) expect(pkg.dependencies[dep]).toBeTruthy();
    const copied: string[] = [];
    for (const m of text.matchAll(/^COPY (?!--)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) {
        expect(existsSync(`${root}${src}`)).toBe(true);
        copied.push(src);
      }
    }
    // Every top-level folder the component list imports from is in the image.
    const imported = [...readFileSync(`${root}components.ts`, 'utf8').matchAll(/from '\.\/([^/']+)\//g)].map((m) => m[1]!);
    expect([...new Set(imported)].filter((dir) => !copied.includes(dir))).toEqual([]);
  });

  it('the example configs bind loopback by default, so gateway and ingester run side by side with no port clash', () => {
    const ports = (file: string) => {
      const cfg = loadConfigFile(`${root}examples/${file}`, builtinRegistry(), {});
      // An exporter that writes through a store extension serves no query
      // interface of its own: its query_endpoint is an unused default.
      const listening = (c: unknown) => ((c as { store?: string }).store ? { ...(c as object), query_endpoint: null } : c);
      return [cfg.telemetry.metrics.address, ...JSON.stringify([...cfg.receivers.values(), ...cfg.exporters.values(), ...cfg.extensions.values()].map((c) => listening(c.config))).match(/127\.0\.0\.1:\d+/g)!];
    };
    // Kafka's address is shared on purpose: it is where they meet, not a port they listen on.
    const g = ports('gateway.yaml').filter((p) => p !== '127.0.0.1:9092');
    const i = ports('ingester.yaml').filter((p) => p !== '127.0.0.1:9092');
    expect(g).toEqual(expect.arrayContaining(['127.0.0.1:4317', '127.0.0.1:4318', '127.0.0.1:8888', '127.0.0.1:13133']));
    expect(i).toEqual(expect.arrayContaining(['127.0.0.1:8889', '127.0.0.1:13134', '127.0.0.1:8124']));
    expect(g.filter((p) => i.includes(p))).toEqual([]);
    expect(i).not.toContain('127.0.0.1:8123');
  });
});

describe('examples/minimal.yaml', () => {
  it('is valid and is the Collector\'s shape: OTLP → memory_limiter → redaction → embedded ClickHouse (batching in its sending queue), logs and traces', () => {
    const cfg = loadConfigFile(`${root}examples/minimal.yaml`, builtinRegistry(), {});
    const shape = [...cfg.pipelines.values()].map((p) => [p.id, p.receivers, p.processors, p.exporters]);
    expect(shape).toEqual([
      ['logs', ['otlp'], ['memory_limiter', 'redaction'], ['clickhouse']],
      ['traces', ['otlp'], ['memory_limiter', 'redaction'], ['clickhouse']],
    ]);
    // A sender is answered once its request is queued; requests are joined into large inserts after that.
    expect((cfg.exporters.get('clickhouse')!.config as { sending_queue: unknown }).sending_queue).toMatchObject({ enabled: true, storage: null, batch: { min_size: 16384, max_size: 32768 } });
    expect((cfg.exporters.get('clickhouse')!.config as { endpoint: string | null }).endpoint ?? null).toBeNull();
  });
});

