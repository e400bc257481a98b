import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';

const load = (alerts: string) =>
  loadConfigText(
    `
extensions:
  clickhouse_store: {path: /tmp/x}
  file_storage: {directory: /tmp/x/q}
  alerts:
${alerts}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
exporters:
  debug: {}
service:
  extensions: [clickhouse_store, file_storage, alerts]
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`,
    builtinRegistry(),
    {},
  );

describe('alerts config', () => {
  it('defaults: no target, brute force on', () => {
    const c = load('    store: clickhouse_store').extensions.get('alerts')!.config as Record<string, unknown>;
    expect(c).toMatchObject({ repeat_window: 3_600_000, alertmanager: null, webhook: null, otlp: null, bruteforce: { enabled: true, min_failures: 10, window: 60_000 } });
  });

  it('a bare target takes its defaults; endpoint is required', () => {
    const c = load('    storage: file_storage\n    otlp: {endpoint: "http://c:4318/v1/logs"}').extensions.get('alerts')!.config as Record<string, unknown>;
    expect(c.otlp).toEqual({ endpoint: 'http://c:4318/v1/logs', headers: {}, timeout: 10_000, encoding: 'proto' });
  });

  it('refuses with the reason: a target without storage, a bad URL, a header with a line break, unknown keys', () => {
    expect(() => load('    webhook: {endpoint: "http://h/x"}')).toThrow(/storage: a delivery target needs a persistent queue/);
    expect(() => load('    storage: file_storage\n    webhook: {endpoint: "ftp://h/x"}')).toThrow(/webhook.endpoint: expected an http\(s\):\/\/ URL/);
    expect(() => load('    storage: file_storage\n    webhook: {endpoint: "http://h/x", headers: {x-a: "v\\r\\nInjected: 1"}}')).toThrow(/line breaks/);
    expect(() => load('    repeat_windw: 1h')).toThrow(/repeat_windw/);
    expect(() => load('    bruteforce: {severity: loud}')).toThrow(/severity/);
    expect(() => load('    table: "a;drop"')).toThrow(/table: expected a name/);
  });
});
