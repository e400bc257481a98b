import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { PermanentError } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { errorsOf } from '../../test/core/config-errors.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testLogger } from '../../test/helpers.ts';
import { filterFactory, type FilterConfig } from './factory.ts';
import { Payload } from '../../core/payload.ts';

function filter(user: Record<string, unknown>, lines: string[] = []) {
  const next = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const p = filterFactory.create(settingsFor<FilterConfig>(filterFactory as Factory, user, { metrics, logger: testLogger(lines) }), { logs: next, traces: next });
  return { p, next, metrics };
}

describe('filter processor', () => {
  it('drops the log records any log_record condition selects; counts them; empty scopes and resources go too', async () => {
    const { p, next, metrics } = filter({ logs: { log_record: ['attributes["url.path"] == "/api/items/1"', 'IsMatch(body, "request 2$")'] } });
    await p.consumeLogs!(Payload.logs(sampleLogs(4)));
    expect(next.logRecords.map((r) => r.body)).toEqual(['request 0', 'request 3']);
    const all = sampleLogs(2);
    all.resourceLogs[0]!.scopeLogs[0]!.logRecords.forEach((r) => (r.body = 'request 2'));
    await p.consumeLogs!(Payload.logs(all));
    expect(next.logPayloads.length).toBe(1); // nothing left: not passed on
    expect(metrics.read("otelcol_processor_filter_logs_filtered", { filter: "filter" })).toBe(4);
  });

  it('resource conditions drop whole resources; legacy include/exclude keeps what include selects and exclude does not', async () => {
    const byResource = filter({ logs: { resource: ['attributes["service.name"] == "ads"'] } });
    await byResource.p.consumeLogs!(Payload.logs(sampleLogs(2, 'ads')));
    await byResource.p.consumeLogs!(Payload.logs(sampleLogs(2, 'checkout')));
    expect(byResource.next.logRecords.length).toBe(2);

    const legacy = filter({
      logs: {
        include: { match_type: 'strict', resource_attributes: [{ key: 'service.name', value: 'checkout' }] },
        exclude: { match_type: 'regexp', bodies: ['request [02]'] },
      },
    });
    await legacy.p.consumeLogs!(Payload.logs(sampleLogs(4, 'checkout')));
    await legacy.p.consumeLogs!(Payload.logs(sampleLogs(4, 'ads')));
    expect(legacy.next.logRecords.map((r) => r.body)).toEqual(['request 1', 'request 3']);
  });

  it('spans by condition or by match properties; span events by spanevent conditions', async () => {
    const { p, next } = filter({ traces: { span: ['name == "GET /api/items/0"'], spanevent: ['name == "debug"'] } });
    const t = sampleTraces(3);
    t.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.events = [
      { name: 'debug', timeUnixNano: 1n, attributes: [], droppedAttributesCount: 0 },
      { name: 'exception', timeUnixNano: 2n, attributes: [], droppedAttributesCount: 0 },
    ];
    await p.consumeTraces!(Payload.traces(t));
    expect(next.spans.map((s) => s.name)).toEqual(['GET /api/items/1', 'GET /api/items/2']);
    expect(next.spans[0]!.events.map((e) => e.name)).toEqual(['exception']);

    const legacy = filter({ spans: { exclude: { match_type: 'regexp', span_names: ['items/[12]$'], services: ['^check'] } } });
    await legacy.p.consumeTraces!(Payload.traces(sampleTraces(3)));
    expect(legacy.next.spans.map((s) => s.name)).toEqual(['GET /api/items/0']);
  });

  it('error_mode: propagate refuses the payload as permanent; ignore logs and keeps the record; silent keeps it quietly', async () => {
    const conds = { logs: { log_record: ['HasPrefix(attributes["http.response.status_code"], "2")'] } };
    await expect(filter(conds).p.consumeLogs!(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(PermanentError);
    const lines: string[] = [];
    const ignore = filter({ ...conds, error_mode: 'ignore' }, lines);
    await ignore.p.consumeLogs!(Payload.logs(sampleLogs(2)));
    expect(ignore.next.logRecords.length).toBe(2);
    expect(lines.filter((l) => l.includes('filter condition failed')).length).toBe(2);
    const quiet: string[] = [];
    const silent = filter({ ...conds, error_mode: 'silent' }, quiet);
    await silent.p.consumeLogs!(Payload.logs(sampleLogs(2)));
    expect([silent.next.logRecords.length, quiet.some((l) => l.includes('filter condition failed'))]).toEqual([2, false]);
  });

  it('the newer log_conditions / trace_conditions: flat conditions naming their context, or {context, conditions} groups', async () => {
    const { p, next } = filter({
      log_conditions: ['log.body == "request 1"', 'resource.attributes["service.name"] == "ads"', { context: 'log', conditions: ['attributes["url.path"] == "/api/items/2"'] }],
      trace_conditions: ['span.name == "GET /api/items/0"', 'spanevent.name == "debug"'],
    });
    await p.consumeLogs!(Payload.logs(sampleLogs(4)));
    await p.consumeLogs!(Payload.logs(sampleLogs(2, 'ads')));
    expect(next.logRecords.map((r) => r.body)).toEqual(['request 0', 'request 3']);
    const t = sampleTraces(2);
    t.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.events = [{ name: 'debug', timeUnixNano: 1n, attributes: [], droppedAttributesCount: 0 }];
    await p.consumeTraces!(Payload.traces(t));
    expect(next.spans.map((s) => [s.name, s.events.length])).toEqual([['GET /api/items/1', 0]]);
  });

  it('config errors, all at once, with paths', () => {
    const yaml = `
receivers:
  otlp: {protocols: {http: {}}}
processors:
  filter:
    error_mode: loud
    logs:
      log_record: ['attributes["a"] = 1', 'Split(body, ",") == nil']
      include: {match_type: strict, severity_number: {min: LOUD}}
    traces:
      span: ['name == "x"']
    spans:
      include: {match_type: strict, span_kinds: [SERVER]}
    metrics: {metric: ['name == "x"']}
    log_conditions: ['body == "x"']
exporters:
  debug:
service:
  pipelines:
    logs: {receivers: [otlp], processors: [filter], exporters: [debug]}
`;
    expect(errorsOf(yaml)).toEqual([
      'processors.filter.error_mode: expected propagate, ignore or silent, got "loud"',
      'processors.filter.logs.log_record[0]: unexpected "=" at 16 in "attributes[\\"a\\"] = 1"',
      'processors.filter.logs.log_record[1]: function Split is not offered here (offered: IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap, IsList, HasPrefix, HasSuffix, Len, Concat, ToLowerCase, ToUpperCase, SHA256, ParseJSON) in "Split(body, \\",\\") == nil"',
      'processors.filter.logs.include.severity_number.min: expected a severity (1–24, or TRACE, DEBUG, INFO, WARN, ERROR, FATAL with an optional 2–4), got "LOUD"',
      'processors.filter.spans.include.span_kinds[0]: expected one of SPAN_KIND_UNSPECIFIED, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER, got "SERVER"',
      'processors.filter.logs: use either OTTL conditions (log_record, resource) or include/exclude, not both',
      'processors.filter.spans: use either traces OTTL conditions or spans include/exclude, not both',
      'processors.filter.metrics: metrics are not carried by trailhouse pipelines',
      'processors.filter.log_conditions[0]: the flat form needs paths that name their context (log.…, span.…, resource.…, …) in "body == \\"x\\""',
      'processors.filter.log_conditions: use either conditions or include/exclude, not both',
    ]);
  });
});
