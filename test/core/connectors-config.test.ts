import { describe, expect, it } from 'vitest';
import { errorsOf } from './config-errors.ts';

const base = (connectors: string, pipelines: string) => `
receivers:
  otlp: {protocols: {http: {}}}
exporters:
  debug:
connectors:
${connectors}
service:
  pipelines:
${pipelines}
`;

describe('connectors in config', () => {
  it('a well-joined config loads', () => {
    expect(errorsOf(base('  forward:', `    logs/a: {receivers: [otlp], exporters: [forward]}\n    logs/b: {receivers: [forward], exporters: [debug]}`))).toEqual([]);
  });

  it('refuses a connector used at one end only, joining no pipeline of the signal, in a cycle, or named like a receiver; unknown types', () => {
    expect(errorsOf(base('  forward:\n  forward/2:', `    logs/a: {receivers: [otlp], exporters: [forward, forward/2]}\n    logs/b: {receivers: [forward], exporters: [debug]}\n    traces/c: {receivers: [forward/2], exporters: [debug]}`))).toEqual([
      'connectors.forward/2: logs/a exports logs to it, but no logs pipeline receives from it',
      'connectors.forward/2: traces/c receives from it, but no traces pipeline exports to it',
    ]);
    expect(errorsOf(base('  forward:', `    logs/a: {receivers: [otlp], exporters: [forward]}`))).toEqual([
      'connectors.forward: must be an exporter of one pipeline and a receiver of another (used as an exporter only)',
    ]);
    expect(errorsOf(base('  forward:\n  forward/back:', `    logs/a: {receivers: [otlp, forward/back], exporters: [forward]}\n    logs/b: {receivers: [forward], exporters: [forward/back]}`))).toEqual([
      'service.pipelines: connectors form a cycle: logs/a → logs/b → logs/a',
    ]);
    expect(errorsOf(base('  otlp:', `    logs/a: {receivers: [otlp], exporters: [debug]}`))).toEqual([
      'connectors.otlp: unknown connector type "otlp" (known: forward, routing)',
    ]);
  });

  it('routing tables: conditions compile, contexts are known', () => {
    expect(
      errorsOf(
        base(
          `  routing:
    table:
      - {condition: 'name == "x"', pipelines: [logs/b]}
      - {context: request, condition: 'request["x"] == "y"', pipelines: [logs/b]}
      - {context: request, condition: 'attributes["x"] == "y"', pipelines: [logs/b]}
      - {statement: 'set(attributes["a"], 1)', pipelines: []}`,
          `    logs/a: {receivers: [otlp], exporters: [routing]}\n    logs/b: {receivers: [routing], exporters: [debug]}`,
        ),
      ),
    ).toEqual([
      'connectors.routing.table[0].condition: unknown path name in the resource context in "name == \\"x\\""',
      'connectors.routing.table[2].condition: unknown path attributes in the request context in "attributes[\\"x\\"] == \\"y\\""',
      'connectors.routing.table[3].pipelines: must name at least one pipeline',
      'connectors.routing.table[3]: a statement here is route() where <condition>',
    ]);
  });
});
