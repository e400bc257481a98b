import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { errorsOf } from './config-errors.ts';
import { parseBytes, parseDuration } from '../../core/config/schema.ts';

const registry = builtinRegistry();


const minimal = `
receivers:
  otlp:
    protocols:
      http:
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug]
`;

describe('config loading', () => {
  it('accepts a minimal Collector-format config and fills defaults', () => {
    const cfg = loadConfigText(minimal, registry, {});
    const otlp = cfg.receivers.get('otlp')!.config as { protocols: { http: { endpoint: string; max_request_body_size: number }; grpc: unknown } };
    expect(otlp.protocols.http.endpoint).toBe('127.0.0.1:4318');
    expect(otlp.protocols.http.max_request_body_size).toBe(20 * 1024 * 1024);
    expect(otlp.protocols.grpc).toBeNull();
    expect(cfg.pipelines).toEqual([{ id: 'logs', signal: 'logs', receivers: ['otlp'], processors: [], exporters: ['debug'] }]);
    expect(cfg.telemetry.metrics.address).toBe('127.0.0.1:8888');
  });

  it('reports every problem at once, each with its path', () => {
    const errs = errorsOf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: nowhere
        bogus: 1
processors:
  batch:
    timeout: 3 days
  memory_limiter:
    check_interval: 1s
exporters:
  debug:
    verbosity: loud
  nosuch:
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch, missing]
      exporters: [debug]
`);
    expect(errs).toEqual(
      expect.arrayContaining([
        'receivers.otlp.protocols.http.endpoint: expected host:port, got "nowhere"',
        expect.stringMatching(/^receivers\.otlp\.protocols\.http\.bogus: unknown key \(valid keys: endpoint, /),
        'processors.batch.timeout: expected a duration like 72h, 30s or 500ms, got "3 days"',
        'processors.memory_limiter.limit_mib: one of limit_mib or limit_percentage must be set',
        'exporters.debug.verbosity: expected one of basic, normal, detailed, got "loud"',
        expect.stringMatching(/^exporters\.nosuch: unknown exporter type "nosuch" \(known: .*debug/),
        'service.pipelines.logs.processors[1]: processor "missing" is not configured under processors',
      ]),
    );
    expect(errs.length).toBe(7);
  });

  it('checks cross-references and pipeline shape', () => {
    const errs = errorsOf(`
receivers:
  otlp:
    protocols: {grpc: {}}
exporters:
  debug:
extensions:
  health_check:
service:
  extensions: [health_check, zpages]
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [debug]
    traces/x:
      receivers: []
      exporters: [debug, debug]
    spans:
      receivers: [otlp]
      exporters: [debug]
`);
    expect(errs).toEqual(
      expect.arrayContaining([
        'service.extensions[1]: extension "zpages" is not configured under extensions',
        'service.pipelines.metrics: metrics pipelines are not supported yet (logs and traces are)',
        'service.pipelines.traces/x.receivers: a pipeline needs at least one of receivers',
        'service.pipelines.traces/x.exporters[1]: "debug" appears twice in this pipeline',
        'service.pipelines.spans: pipeline id must be logs[/name] or traces[/name]',
      ]),
    );
  });

  it('rejects unknown top-level and service keys, and a missing service', () => {
    expect(errorsOf('receivers: {}\nexporter: {}\n')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^exporter: unknown top-level key/), 'service: missing: a service section with at least one pipeline is required']),
    );
    expect(errorsOf(minimal + '  telemetry:\n    logs:\n      level: loud\n  other: 1\n')).toEqual(
      expect.arrayContaining(['service.telemetry.logs.level: expected one of debug, info, warn, error, got "loud"', 'service.other: unknown key (valid keys: extensions, pipelines, telemetry)']),
    );
  });

  it('prototype names are keys like any other: unknown where a component has no such key, never a way to its defaults', () => {
    const withKey = (key: string) => minimal.replace('      http:\n', `      http:\n        ${key}: 1\n`);
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(errorsOf(withKey(key))).toEqual([expect.stringMatching(new RegExp(`^receivers\\.otlp\\.protocols\\.http\\.${key}: unknown key`))]);
    }
    // A map (here connection_params) takes any key but __proto__, which would set its prototype.
    const ch = (params: string) => `${minimal.replace('  debug:\n', `  debug:\n  clickhouse:\n    endpoint: http://ch:8123\n    connection_params: {${params}}\n`)}`;
    expect(errorsOf(ch('__proto__: {x: "1"}'))).toEqual(['exporters.clickhouse.connection_params.__proto__: a key named __proto__ is not allowed']);
    expect(errorsOf(ch('constructor: "1"'))).toEqual([]);
  });

  it('requires at least one protocol on the otlp receiver', () => {
    expect(errorsOf(minimal.replace('    protocols:\n      http:\n', '    protocols: {}\n'))).toEqual([
      'receivers.otlp.protocols: must specify at least one protocol (grpc or http)',
    ]);
  });

  it('substitutes ${env:VAR} and ${env:VAR:-default}, typed when the whole value is one reference', () => {
    const cfg = loadConfigText(
      `
receivers:
  otlp:
    protocols:
      http:
        endpoint: \${env:OTLP_HOST:-127.0.0.1}:\${env:OTLP_PORT}
processors:
  batch:
    send_batch_size: \${env:BATCH}
    timeout: \${env:NOPE:-1s}
exporters:
  debug:
service:
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
`,
      registry,
      { OTLP_PORT: '5555', BATCH: '100' },
    );
    expect((cfg.receivers.get('otlp')!.config as { protocols: { http: { endpoint: string } } }).protocols.http.endpoint).toBe('127.0.0.1:5555');
    expect(cfg.processors.get("batch")!.config).toMatchObject({ send_batch_size: 100, send_batch_max_size: 0, timeout: 1000 });
  });

  it('supports named components and one component in several pipelines', () => {
    const cfg = loadConfigText(
      `
receivers:
  otlp: {protocols: {http: {}}}
  otlp/internal: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}
processors:
  batch/small: {send_batch_size: 10}
exporters:
  debug/a:
  debug/b: {verbosity: detailed}
service:
  pipelines:
    logs: {receivers: [otlp, otlp/internal], processors: [batch/small], exporters: [debug/a, debug/b]}
    logs/audit: {receivers: [otlp], exporters: [debug/b]}
    traces: {receivers: [otlp/internal], processors: [batch/small], exporters: [debug/a]}
`,
      registry,
      {},
    );
    expect(cfg.pipelines.map((p) => p.id)).toEqual(['logs', 'logs/audit', 'traces']);
    expect(cfg.exporters.get('debug/b')!.config).toEqual({ verbosity: 'detailed', sampling_initial: 2, sampling_thereafter: 1 });
  });

  it('sending_queue.batch: off unless named, a bare key takes the defaults, wrong values are reported with their path', () => {
    const spool = (queue: string) => `
receivers: {spool: {}, otlp: {protocols: {http: {}}}}
exporters:
  spool:
    sending_queue: ${queue}
  debug:
service:
  pipelines:
    logs/in: {receivers: [otlp], exporters: [spool]}
    logs: {receivers: [spool], exporters: [debug]}
`;
    const batchOf = (queue: string) => (loadConfigText(spool(queue), registry, {}).exporters.get('spool')!.config as { sending_queue: { batch: unknown } }).sending_queue.batch;
    expect(batchOf('{num_consumers: 4}')).toBeNull();
    expect(batchOf('{batch: }')).toEqual({ flush_timeout: 200, min_size: 8192, max_size: 0, sizer: 'items', partition: null });
    expect(batchOf('{batch: {flush_timeout: 1s, min_size: 50000}}')).toEqual({ flush_timeout: 1000, min_size: 50000, max_size: 0, sizer: 'items', partition: null });
    expect(errorsOf(spool('{batch: {sizer: bytes, min_size: 0, flush_time: 1s}}')).sort()).toEqual([
      'exporters.spool.sending_queue.batch.flush_time: unknown key (valid keys: flush_timeout, min_size, max_size, sizer, partition)',
      'exporters.spool.sending_queue.batch.min_size: must be at least 1, got 0',
      expect.stringMatching(/^exporters\.spool\.sending_queue\.batch\.sizer: only items is accepted: .*bytes is not offered/),
    ]);
  });

  it('reports YAML syntax errors', () => {
    expect(errorsOf('receivers: [unclosed\n')[0]).toMatch(/^\(yaml\): /);
  });
});

describe('durations and sizes', () => {
  it('parses Go-style durations', () => {
    expect(parseDuration('72h')).toBe(72 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('3 days')).toBeUndefined();
    expect(parseDuration(5)).toBeUndefined();
  });
  it('parses byte sizes', () => {
    expect(parseBytes('20MiB')).toBe(20 * 1024 * 1024);
    expect(parseBytes(1024)).toBe(1024);
    expect(parseBytes('1GB')).toBe(1e9);
    expect(parseBytes('lots')).toBeUndefined();
  });
});

describe('Collector gRPC server settings', () => {
  it('keepalive.server_parameters and max_concurrent_streams load; enforcement_policy is refused with the reason', () => {
    const cfg = loadConfigText(
      `
receivers:
  otlp:
    protocols:
      grpc:
        max_concurrent_streams: 100
        keepalive:
          server_parameters: {max_connection_age: 60s, max_connection_age_grace: 5s, time: 30s, timeout: 5s}
exporters:
  debug:
service:
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`,
      registry,
      {},
    );
    const grpc = (cfg.receivers.get('otlp')!.config as { protocols: { grpc: Record<string, unknown> } }).protocols.grpc;
    expect(grpc.max_concurrent_streams).toBe(100);
    expect(grpc.keepalive).toEqual({
      server_parameters: { max_connection_idle: 0, max_connection_age: 60_000, max_connection_age_grace: 5_000, time: 30_000, timeout: 5_000 },
      enforcement_policy: undefined,
    });
    expect(
      errorsOf(`
receivers:
  jaeger:
    protocols:
      grpc:
        keepalive: {enforcement_policy: {min_time: 10s}}
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [jaeger], exporters: [debug]}
`),
    ).toEqual(['receivers.jaeger.protocols.grpc.keepalive.enforcement_policy: not supported: grpc-js does not police client pings; remove it (server_parameters work)']);
  });
});

describe('service.telemetry.metrics', () => {
  const yaml = (metrics: string) => `
receivers:
  otlp: {protocols: {http: {}}}
exporters:
  debug:
service:
  telemetry:
    metrics: ${metrics}
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`;
  it('takes the Collector\'s current readers form, its older address, or the default', () => {
    const addr = (m: string) => loadConfigText(yaml(m), registry, {}).telemetry.metrics.address;
    expect(addr('{readers: [{pull: {exporter: {prometheus: {host: 0.0.0.0, port: 9464}}}}]}')).toBe('0.0.0.0:9464');
    expect(addr('{readers: [{pull: {exporter: {prometheus: {host: "::1", port: 9464}}}}]}')).toBe('[::1]:9464');
    expect(addr('{address: "127.0.0.1:9999"}')).toBe('127.0.0.1:9999');
    expect(addr('{level: basic}')).toBe('127.0.0.1:8888');
    expect(errorsOf(yaml('{address: "127.0.0.1:1", readers: [{pull: {exporter: {prometheus: {port: 2}}}}]}'))).toEqual(['service.telemetry.metrics.readers: set either address or readers, not both']);
    expect(errorsOf(yaml('{readers: [{periodic: {exporter: {otlp: {}}}}]}'))).toEqual([
      'service.telemetry.metrics.readers: expected one pull reader with a prometheus exporter: [{pull: {exporter: {prometheus: {host, port}}}}]',
    ]);
  });
});
