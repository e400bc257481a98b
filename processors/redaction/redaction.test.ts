import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { KvList, newLogRecord, newSpan, type KeyValue, type LogsData, type TracesData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer } from '../../test/helpers.ts';
import { compilePattern } from '../../core/go-regexp.ts';
import { defaultRedactionConfig, validateRedaction, type RedactionConfig } from './config.ts';
import { redactionFactory } from './factory.ts';
import { Redactor, replaceAllGo } from './redaction.ts';

const cfg = (c: Partial<RedactionConfig>): RedactionConfig => ({ ...defaultRedactionConfig(), ...c });

function logs(attrs: KeyValue[], body: LogsData['resourceLogs'][0]['scopeLogs'][0]['logRecords'][0]['body'] = 'hello', resource: KeyValue[] = []): LogsData {
  return {
    resourceLogs: [{
      resource: { attributes: resource, droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [newLogRecord({ attributes: attrs, body })] }],
    }],
  };
}

const rec = (d: LogsData) => d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
const attrsOf = (d: LogsData) => Object.fromEntries(rec(d).attributes.map((a) => [a.key, a.value]));

describe('redaction rules (the Collector redaction processor\'s)', () => {
  it('fails closed: only allowed keys are kept', () => {
    const d = logs([{ key: 'id', value: '7' }, { key: 'birth_date', value: '1990-01-01' }, { key: 'name', value: 'x' }]);
    new Redactor(cfg({ allowed_keys: ['id', 'name'] })).logs(d);
    expect(attrsOf(d)).toEqual({ id: '7', name: 'x' });
    const none = logs([{ key: 'a', value: '1' }]);
    new Redactor(cfg({})).logs(none);
    expect(rec(none).attributes).toEqual([]);
  });

  it('ignored keys pass untouched; blocked key patterns mask the whole value; blocked values mask each match', () => {
    const d = logs([
      { key: 'safe', value: '4111111111111111' },
      { key: 'api_token', value: 'abc123' },
      { key: 'notes', value: 'card 4111111111111111 and 5500000000000004, thanks' },
      { key: 'count', value: 4111111111111111n },
    ]);
    new Redactor(cfg({
      allow_all_keys: true,
      ignored_keys: ['safe'],
      blocked_key_patterns: ['.*token.*'],
      blocked_values: ['4[0-9]{12}(?:[0-9]{3})?', '(5[1-5][0-9]{14})'],
    })).logs(d);
    expect(attrsOf(d)).toEqual({
      safe: '4111111111111111',
      api_token: '****',
      notes: 'card **** and ****, thanks',
      count: 4111111111111111n, // not a string: untouched without redact_all_types
    });
  });

  it('redact_all_types checks ints by their text; allowed values win over blocked ones', () => {
    const d = logs([
      { key: 'count', value: 4111111111111111n },
      { key: 'owner', value: 'ops@mycompany.com' },
      { key: 'other', value: 'eve@elsewhere.org' },
    ]);
    new Redactor(cfg({ allow_all_keys: true, redact_all_types: true, blocked_values: ['4[0-9]{15}', '[a-z]+@[a-z.]+'], allowed_values: ['.+@mycompany\\.com'] })).logs(d);
    expect(attrsOf(d)).toEqual({ count: '****', owner: 'ops@mycompany.com', other: '****' });
  });

  it('hash functions replace a match by its hex digest', () => {
    const sha = (s: string) => createHash('sha3-256').update(s).digest('hex');
    const d = logs([{ key: 'user', value: 'id=alice;' }, { key: 'password', value: 'hunter2' }]);
    new Redactor(cfg({ allow_all_keys: true, blocked_values: ['alice'], blocked_key_patterns: ['^password$'], hash_function: 'sha3' })).logs(d);
    expect(attrsOf(d)).toEqual({ user: `id=${sha('alice')};`, password: sha('hunter2') });
    const h = logs([{ key: 'k', value: 'alice' }]);
    new Redactor(cfg({ allow_all_keys: true, blocked_values: ['alice'], hash_function: 'hmac-sha256', hmac_key: 's3cret' })).logs(h);
    expect(attrsOf(h).k).toBe(createHmac('sha256', 's3cret').update('alice').digest('hex'));
    const m = logs([{ key: 'k', value: 'alice' }]);
    new Redactor(cfg({ allow_all_keys: true, blocked_values: ['alice'], hash_function: 'md5' })).logs(m);
    expect(attrsOf(m).k).toBe(createHash('md5').update('alice').digest('hex'));
  });

  it('summary debug lists keys and counts, info counts only, silent nothing; a second stage adds to them', () => {
    const make = () => logs([{ key: 'id', value: '1' }, { key: 'ssn', value: 'x' }, { key: 'dob', value: 'y' }, { key: 'note', value: 'card 4111111111111111' }]);
    const rules = { allowed_keys: ['id', 'note'], blocked_values: ['4[0-9]{15}'] };
    const debug = make();
    new Redactor(cfg({ ...rules, summary: 'debug' })).logs(debug);
    expect(attrsOf(debug)).toEqual({
      id: '1',
      note: 'card ****',
      'redaction.redacted.keys': 'dob,ssn',
      'redaction.redacted.count': 2n,
      'redaction.masked.keys': 'note',
      'redaction.masked.count': 1n,
    });
    // A second stage keeps the summary (always allowed) and merges into it.
    rec(debug).attributes.push({ key: 'extra', value: 'z' });
    new Redactor(cfg({ ...rules, summary: 'debug' })).logs(debug);
    expect(attrsOf(debug)['redaction.redacted.keys']).toBe('dob,extra,ssn');
    expect(attrsOf(debug)['redaction.redacted.count']).toBe(3n);
    const info = make();
    new Redactor(cfg({ ...rules, summary: 'info' })).logs(info);
    expect(attrsOf(info)).toEqual({ id: '1', note: 'card ****', 'redaction.redacted.count': 2n, 'redaction.masked.count': 1n });
    const silent = make();
    new Redactor(cfg(rules)).logs(silent);
    expect(Object.keys(attrsOf(silent))).toEqual(['id', 'note']);
  });

  it('log bodies: a map is walked by key path, a string body masked by value', () => {
    const body = new KvList([
      { key: 'user', value: new KvList([{ key: 'email', value: 'eve@x.org' }, { key: 'password', value: 'pw' }, { key: 'secret', value: 's' }]) },
      { key: 'items', value: ['ok', 'eve@x.org'] },
    ]);
    const d = logs([], body);
    new Redactor(cfg({ allowed_keys: ['user', 'email', 'password', 'items'], blocked_key_patterns: ['password'], blocked_values: ['[a-z]+@[a-z.]+'], summary: 'debug' })).logs(d);
    const user = ((rec(d).body as KvList).values[0]!.value as KvList).values;
    expect(user).toEqual([{ key: 'email', value: '****' }, { key: 'password', value: '****' }]);
    expect((rec(d).body as KvList).values[1]!.value).toEqual(['ok', '****']);
    expect(attrsOf(d)).toEqual({
      'redaction.body.redacted.keys': 'user.secret',
      'redaction.body.redacted.count': 1n,
      'redaction.body.masked.keys': 'items.[1],user.email,user.password',
      'redaction.body.masked.count': 3n,
    });
    const s = logs([{ key: 'k', value: 'v' }], 'login failed for eve@x.org');
    new Redactor(cfg({ allow_all_keys: true, blocked_values: ['[a-z]+@[a-z.]+'] })).logs(s);
    expect(rec(s).body).toBe('login failed for ****');
  });

  it('traces: resource, span and event attributes', () => {
    const span = newSpan({ name: 'GET /', attributes: [{ key: 'http.request.header.authorization', value: 'Bearer xyz' }, { key: 'http.route', value: '/' }] });
    span.events.push({ timeUnixNano: 1n, name: 'e', attributes: [{ key: 'db.password', value: 'p' }, { key: 'msg', value: 'ok' }], droppedAttributesCount: 0 });
    const d: TracesData = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: 'checkout' }, { key: 'host.secret', value: 'q' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: [span] }],
      }],
    };
    new Redactor(cfg({ allowed_keys: ['service.name', 'http.request.header.authorization', 'http.route', 'msg', 'db.password'], blocked_key_patterns: ['authorization', 'password'] })).traces(d);
    expect(d.resourceSpans[0]!.resource.attributes).toEqual([{ key: 'service.name', value: 'checkout' }]);
    expect(span.attributes).toEqual([{ key: 'http.request.header.authorization', value: '****' }, { key: 'http.route', value: '/' }]);
    expect(span.events[0]!.attributes).toEqual([{ key: 'db.password', value: '****' }, { key: 'msg', value: 'ok' }]);
  });

  it('replaces every match as Go does: an empty match right after a match is skipped', () => {
    const star = () => '*';
    expect(replaceAllGo('abc', compilePattern('.*'), star)).toBe('*');
    expect(replaceAllGo('', compilePattern('.*'), star)).toBe('*');
    expect(replaceAllGo('a1b', compilePattern('\\d*'), star)).toBe('*a*b*');
    expect(replaceAllGo('no match', compilePattern('\\d+'), star)).toBe('no match');
    expect(replaceAllGo('SECRET and secret', compilePattern('(?i)secret'), star)).toBe('* and *');
    expect(replaceAllGo('x😀y', compilePattern('y?'), star)).toBe('*x*😀*');
  });
});

describe('redaction config', () => {
  it('reports bad patterns and a missing hmac key with their paths', () => {
    const errors = validateRedaction(cfg({ blocked_values: ['ok', '(unclosed'], allowed_values: ['(?U)a+'], hash_function: 'hmac-sha512' }));
    expect(errors.map((e) => e.path)).toEqual(['blocked_values[1]', 'allowed_values[0]', 'hmac_key']);
    expect(errors[0]!.message).toMatch(/invalid regular expression "\(unclosed"/);
    expect(errors[2]!.message).toBe('required with hash_function hmac-sha512');
    expect(validateRedaction(cfg({ blocked_values: ['\\-\\d+'] }))).toEqual([]); // RE2 accepts \- outside a class
  });
});

describe('redaction processor', () => {
  it('redacts before passing on, and counts what it removed and masked', async () => {
    const next = new RecordingConsumer();
    const metrics = new MetricsRegistry();
    const p = redactionFactory.create(
      settingsFor<RedactionConfig>(redactionFactory as Factory, { allowed_keys: ['url.path'], blocked_values: ['token=[^&]+'] }, { metrics }),
      { logs: next, traces: next },
    );
    await p.start({} as never);
    await p.consumeLogs!(logs([{ key: 'url.path', value: '/login?token=abc&x=1' }, { key: 'cookie', value: 'c' }]));
    expect(next.logRecords[0]!.attributes).toEqual([{ key: 'url.path', value: '/login?****&x=1' }]);
    expect(metrics.read('trailhouse_redaction_removed_attributes', { processor: 'redaction' })).toBe(1);
    expect(metrics.read('trailhouse_redaction_masked_values', { processor: 'redaction' })).toBe(1);
    expect(metrics.read('otelcol_processor_outgoing_items', { processor: 'redaction', otel_signal: 'logs' })).toBe(1);
    await p.shutdown();
    await p.shutdown();
  });
});
