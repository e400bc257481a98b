import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';

const yaml = (processors: string) => `
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}}
processors:
${processors}
exporters: {debug: {}}
service:
  pipelines:
    logs: {receivers: [otlp], processors: [correlate, audit], exporters: [debug]}
    traces: {receivers: [otlp], processors: [correlate], exporters: [debug]}
`;

describe('audit and correlate config in pipeline.yaml', () => {
  it('rules, attribute mappings and windows decode over the defaults', () => {
    const cfg = loadConfigText(
      yaml(`  correlate: {wait: 5s, max_traces: 2000}
  audit:
    sensitive_paths: ["/admin/**", "/billing/*/export"]
    rate_limits: sensitive
    attributes: {path: [http.route_path], status_code: [status]}
    kubernetes: {decisions: all}`),
      builtinRegistry(),
      {},
    );
    const audit = cfg.processors.get('audit')!.config as Record<string, unknown>;
    expect(audit).toMatchObject({
      sensitive_paths: ['/admin/**', '/billing/*/export'],
      rate_limits: 'sensitive',
      attributes: { path: ['http.route_path'], status_code: ['status'] },
      kubernetes: { decisions: 'all', max_change_bytes: 8192 },
      table: 'audit_events',
      database: 'otel',
      endpoint: null,
    });
    expect(cfg.processors.get('correlate')!.config).toMatchObject({ wait: 5000, max_traces: 2000, max_items: 500_000, table: 'trace_summary' });
  });

  it('every problem with its path', () => {
    expect(() =>
      loadConfigText(
        yaml(`  correlate: {wait: soon, table: "bad-name"}
  audit:
    rate_limits: sometimes
    sensitive_paths: [admin]
    attributes: {pathh: [x]}
    kubernetes: {decisions: maybe}
    colour: blue`),
        builtinRegistry(),
        {},
      ),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /processors\.correlate\.wait: expected a duration[\s\S]*processors\.audit\.rate_limits: expected one of all, sensitive[\s\S]*processors\.audit\.kubernetes\.decisions[\s\S]*processors\.audit\.colour: unknown key/,
        ),
      }),
    );
    // Semantic checks, once the shapes decode.
    expect(() =>
      loadConfigText(yaml(`  correlate: {wait: 0s, table: "bad-name"}
  audit: {sensitive_paths: [admin], attributes: {pathh: [x]}}`), builtinRegistry(), {}),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /processors\.correlate\.wait: must be greater than 0\nprocessors\.correlate\.table: expected a name[^\n]*\nprocessors\.audit\.attributes\.pathh: unknown field[^\n]*\nprocessors\.audit\.sensitive_paths\[0\]: a path glob starts with "\/", got "admin"/,
        ),
      }),
    );
  });

  it('integrity: defaults on with a file witness; a bad origin, key name or witness is refused with its path; no witness at all is refused', () => {
    const cfg = loadConfigText(yaml(`  correlate: {}
  audit: {integrity: {checkpoint_interval: 5s, witnesses: {http: {endpoint: "https://witness.example/cp"}}}}`), builtinRegistry(), {});
    expect(cfg.processors.get('audit')!.config).toMatchObject({
      integrity: { enabled: true, checkpoint_interval: 5000, witnesses: { file: { path: '' }, http: { endpoint: 'https://witness.example/cp', headers: {}, timeout: 5000 }, kafka: null } },
    });
    expect(() =>
      loadConfigText(
        yaml(`  correlate: {}
  audit:
    integrity:
      origin: "log name+x"
      key_name: "a b"
      witnesses: {file: null, http: {endpoint: "ftp://x"}, kafka: {brokers: []}}`),
        builtinRegistry(),
        {},
      ),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /integrity\.origin: letters[^\n]*"log name\+x"\n[\s\S]*integrity\.key_name: [^\n]*\n[\s\S]*integrity\.witnesses\.http\.endpoint: expected http\(s\)[\s\S]*integrity\.witnesses\.kafka\.brokers: must list at least one broker/,
        ),
      }),
    );
    expect(() => loadConfigText(yaml(`  correlate: {}
  audit: {integrity: {witnesses: {file: null}}}`), builtinRegistry(), {})).toThrow(/integrity\.witnesses: at least one witness outside the store is needed/);
    // Off: no witness needed (and no evidence: the README says so).
    expect(() => loadConfigText(yaml(`  correlate: {}
  audit: {integrity: {enabled: false, witnesses: {file: null}}}`), builtinRegistry(), {})).not.toThrow();
  });
});
