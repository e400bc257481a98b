import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { PermanentError } from '../../core/errors.ts';
import { KvList, type KeyValue } from '../../core/model.ts';
import { settingsFor } from '../../test/component-config.ts';
import { errorsOf } from '../../test/core/config-errors.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testLogger } from '../../test/helpers.ts';
import { transformFactory, type TransformConfig } from './factory.ts';
import { Payload } from '../../core/payload.ts';

const obj = (attrs: KeyValue[]) => Object.fromEntries(attrs.map((a) => [a.key, a.value]));

function transform(user: Record<string, unknown>, lines: string[] = []) {
  const next = new RecordingConsumer();
  const p = transformFactory.create(settingsFor<TransformConfig>(transformFactory as Factory, user, { logger: testLogger(lines) }), { logs: next, traces: next });
  return { p, next };
}

describe('transform processor', () => {
  it('log statements: set with where, map editors, replace_pattern with Go groups, converters', async () => {
    const { p, next } = transform({
      log_statements: [
        {
          context: 'log',
          statements: [
            'set(attributes["tier"], "gold") where attributes["url.path"] == "/api/items/1"',
            'set(severity_text, ToUpperCase("warn")) where severity_number == SEVERITY_NUMBER_INFO and body == "request 0"',
            'set(severity_number, SEVERITY_NUMBER_WARN) where severity_text == "WARN"',
            'replace_pattern(attributes["url.path"], "/items/(\\\\d+)", "/items/{id=$1}")',
            'set(attributes["who"], Concat([resource.attributes["service.name"], instrumentation_scope.name, attributes["nope"]], "/"))',
            'set(attributes["digest"], SHA256("x")) where attributes["ok"] == true',
            'delete_key(attributes, "ratio")',
            'delete_matching_keys(attributes, "^nes")',
            'set(attributes["missing"], attributes["never"])',
            'set(body, "redacted") where IsMatch(body, "2$")',
          ],
        },
      ],
    });
    await p.consumeLogs!(Payload.logs(sampleLogs(3)));
    const [a, b, c] = next.logRecords;
    expect(obj(a!.attributes)).toEqual({
      'http.response.status_code': 200n,
      'url.path': '/api/items/{id=0}',
      ok: true,
      who: 'checkout/envoy',
      digest: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
    });
    expect([a!.severityText, a!.severityNumber, b!.severityText, b!.severityNumber]).toEqual(['WARN', 13, 'INFO', 9]);
    expect(obj(b!.attributes).tier).toBe('gold');
    expect(obj(c!.attributes).tier).toBeUndefined();
    expect([a!.body, c!.body]).toEqual(['request 0', 'redacted']);
  });

  it('keep_keys, keep_matching_keys, replace_all_patterns, truncate_all; resource and scope contexts; group conditions gate statements', async () => {
    const { p, next } = transform({
      log_statements: [
        { context: 'resource', statements: ['set(attributes["deployment.environment"], "prod")'] },
        { context: 'scope', statements: ['set(version, "2.0") where name == "envoy"'] },
        { context: 'log', conditions: ['attributes["url.path"] == "/api/items/0"'], statements: ['keep_keys(attributes, ["url.path", "ok"])', 'truncate_all(attributes, 5)'] },
        { context: 'log', conditions: ['attributes["url.path"] == "/api/items/1"'], statements: ['keep_matching_keys(attributes, "^(url|http)\\\\.")', 'replace_all_patterns(attributes, "key", "^http\\\\.", "h.")', 'replace_all_patterns(attributes, "value", "items", "things")'] },
      ],
    });
    await p.consumeLogs!(Payload.logs(sampleLogs(3)));
    const rl = next.logs[0]!.resourceLogs[0]!;
    expect(obj(rl.resource.attributes)).toEqual({ 'service.name': 'checkout', 'deployment.environment': 'prod' });
    expect(rl.scopeLogs[0]!.scope.version).toBe('2.0');
    const [a, b, c] = next.logRecords;
    expect(obj(a!.attributes)).toEqual({ 'url.path': '/api/', ok: true });
    expect(obj(b!.attributes)).toEqual({ 'h.response.status_code': 200n, 'url.path': '/api/things/1' });
    expect(c!.attributes.map((x) => x.key)).toEqual(['http.response.status_code', 'url.path', 'ratio', 'ok', 'nested']); // untouched
    expect(c!.attributes[4]!.value).toBeInstanceOf(KvList);
  });

  it('trace statements on spans and span events', async () => {
    const { p, next } = transform({
      trace_statements: [
        { context: 'span', statements: ['set(status.code, STATUS_CODE_ERROR) where name == "GET /api/items/1"', 'set(name, "GET /api/items/{id}")', 'set(attributes["peer"], resource.attributes["service.name"])'] },
        { context: 'spanevent', statements: ['set(attributes["span"], span.name)', 'set(name, "exception") where name == "error"'] },
      ],
    });
    const t = sampleTraces(2);
    t.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.events = [{ name: 'error', timeUnixNano: 1n, attributes: [], droppedAttributesCount: 0 }];
    await p.consumeTraces!(Payload.traces(t));
    const [a, b] = next.spans;
    expect([a!.name, a!.status.code, b!.status.code]).toEqual(['GET /api/items/{id}', 0, 2]);
    expect(obj(a!.attributes).peer).toBe('checkout');
    expect(a!.events[0]).toMatchObject({ name: 'exception', attributes: [{ key: 'span', value: 'GET /api/items/{id}' }] });
  });

  it('the flat form: each statement runs in the most specific context its paths name', async () => {
    const { p, next } = transform({
      log_statements: ['set(log.attributes["svc"], resource.attributes["service.name"])', 'set(resource.attributes["env"], "prod")', 'set(scope.version, "9") where scope.name == "envoy"'],
      trace_statements: ['set(span.attributes["first"], true) where span.name == "GET /api/items/0"', 'set(spanevent.name, Concat([span.name, "!"], ""))'],
    });
    await p.consumeLogs!(Payload.logs(sampleLogs(2)));
    const rl = next.logs[0]!.resourceLogs[0]!;
    expect(obj(rl.resource.attributes)).toEqual({ 'service.name': 'checkout', env: 'prod' });
    expect(rl.scopeLogs[0]!.scope.version).toBe('9');
    expect(next.logRecords.map((r) => obj(r.attributes).svc)).toEqual(['checkout', 'checkout']);
    const t = sampleTraces(2);
    t.resourceSpans[0]!.scopeSpans[0]!.spans[1]!.events = [{ name: 'e', timeUnixNano: 1n, attributes: [], droppedAttributesCount: 0 }];
    await p.consumeTraces!(Payload.traces(t));
    expect(next.spans.map((s) => obj(s.attributes).first)).toEqual([true, undefined]);
    expect(next.spans[1]!.events[0]!.name).toBe('GET /api/items/1!');
  });

  it('merge_maps with ParseJSON: a JSON body\'s fields become attributes (insert keeps what is there, upsert overwrites)', async () => {
    const { p, next } = transform({
      error_mode: 'ignore',
      log_statements: [
        {
          context: 'log',
          statements: ['merge_maps(attributes, ParseJSON(body), "insert") where IsMatch(body, "^\\{")', 'merge_maps(attributes, ParseJSON("{\\"ok\\": false}"), "upsert")'],
        },
      ],
    });
    const d = sampleLogs(3);
    const [a, b, c] = d.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    a!.body = '{"url.path": "/json", "status": 503, "tls": true, "peer": {"ns": "shop"}, "gone": null, "hops": [1, "x"]}';
    b!.body = '{not json';
    void c;
    await p.consumeLogs!(Payload.logs(d));
    const [ra, rb, rc] = next.logRecords.map((r) => obj(r.attributes));
    expect(ra).toMatchObject({ 'url.path': '/api/items/0', status: 503, tls: true, ok: false, hops: [1, 'x'], gone: undefined });
    expect(next.logRecords[0]!.attributes.find((x) => x.key === 'peer')!.value).toEqual(new KvList([{ key: 'ns', value: 'shop' }]));
    expect(rb).toMatchObject({ ok: false }); // the where matched "{not json": ParseJSON failed, skipped (ignore)
    expect(rb!.status).toBeUndefined();
    expect(rc).toMatchObject({ ok: false });
  });

  it('error_mode: propagate refuses the payload; ignore skips the statement with a warning', async () => {
    const stmts = { log_statements: [{ context: 'log', statements: ['set(attributes["x"], ToUpperCase(attributes["ok"]))', 'set(attributes["after"], "yes")'] }] };
    await expect(transform(stmts).p.consumeLogs!(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(PermanentError);
    const lines: string[] = [];
    const ignore = transform({ ...stmts, error_mode: 'ignore' }, lines);
    await ignore.p.consumeLogs!(Payload.logs(sampleLogs(1)));
    expect(obj(ignore.next.logRecords[0]!.attributes)).toMatchObject({ after: 'yes' });
    expect(obj(ignore.next.logRecords[0]!.attributes).x).toBeUndefined();
    expect(lines.some((l) => l.includes('transform statement failed'))).toBe(true);
  });

  it('config errors, all at once, with paths', () => {
    const yaml = `
receivers:
  otlp: {protocols: {http: {}}}
processors:
  transform:
    log_statements:
      - 'set(span.name, "x")'
      - context: log
        statements: ['set(trace_id, "00")', 'flatten(attributes)', 'set(attributes["a"]["b"], 1)', 'delete_key(body, "k")']
        conditions: ['name == "x"']
      - {context: span, statements: ['set(name, "x")']}
      - {context: log, error_mode: loud, statements: []}
    trace_statements:
      - {context: spanevent, statements: ['keep_keys(attributes, [body])']}
    metric_statements: []
exporters:
  debug:
service:
  pipelines:
    logs: {receivers: [otlp], processors: [transform], exporters: [debug]}
`;
    expect(errorsOf(yaml)).toEqual([
      'processors.transform.log_statements[0]: span.… paths are not of a logs context in "set(span.name, \\"x\\")"',
      'processors.transform.log_statements[1].statements[0]: trace_id is bytes here; compare trace_id.string with a hex string in "set(trace_id, \\"00\\")"',
      'processors.transform.log_statements[1].statements[1]: editor flatten is not offered here (offered: set, delete_key, delete_matching_keys, keep_keys, keep_matching_keys, replace_pattern, replace_all_patterns, truncate_all, merge_maps) in "flatten(attributes)"',
      'processors.transform.log_statements[1].statements[2]: attributes["a"]["b"] cannot be set here (settable: attributes["key"], body, severity_text, severity_number, name, kind, status.code, status.message, … of the log_record context) in "set(attributes[\\"a\\"][\\"b\\"], 1)"',
      'processors.transform.log_statements[1].statements[3]: delete_key takes an attribute map first (attributes, resource.attributes, …), got body in "delete_key(body, \\"k\\")"',
      'processors.transform.log_statements[1].conditions[0]: unknown path name in the log_record context in "name == \\"x\\""',
      'processors.transform.log_statements[2].context: expected one of resource, scope, log, got "span"',
      'processors.transform.log_statements[3].statements: must list at least one statement',
      'processors.transform.log_statements[3].error_mode: expected propagate, ignore or silent, got "loud"',
      'processors.transform.trace_statements[0].statements[0]: unknown path body in the spanevent context in "keep_keys(attributes, [body])"',
      'processors.transform.metric_statements: metrics are not carried by trailhouse pipelines',
    ]);
  });
});
