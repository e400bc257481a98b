import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import type { KeyValue } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, sampleLogs, sampleTraces } from '../../test/helpers.ts';
import { errorsOf } from '../../test/core/config-errors.ts';
import { resourceFactory } from '../resource/factory.ts';
import { AttrActions, type ActionConfig } from '../../lib/attributes/actions.ts';
import { attributesFactory, type AttributesConfig } from './factory.ts';
import { Payload } from '../../core/payload.ts';

const apply = (actions: Array<Partial<ActionConfig>>, attrs: KeyValue[]) => new AttrActions(actions).apply(attrs);
const obj = (attrs: KeyValue[]) => Object.fromEntries(attrs.map((a) => [a.key, a.value]));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('attribute actions (the Collector attraction semantics)', () => {
  it('insert, update, upsert: from a typed value or another attribute, each only where it applies', () => {
    const out = apply(
      [
        { key: 'env', action: 'insert', value: 'prod' },
        { key: 'env', action: 'insert', value: 'dev' }, // present now: no change
        { key: 'missing', action: 'update', value: 1 }, // absent: no change
        { key: 'http.status', action: 'update', value: 503 },
        { key: 'ratio', action: 'upsert', value: 0.25 },
        { key: 'ok', action: 'upsert', value: true },
        { key: 'peer', action: 'upsert', from_attribute: 'net.peer.name' },
        { key: 'nothing', action: 'upsert', from_attribute: 'absent' },
      ],
      [{ key: 'http.status', value: 200n }, { key: 'net.peer.name', value: 'reviews' }],
    );
    expect(obj(out)).toEqual({ 'http.status': 503n, 'net.peer.name': 'reviews', env: 'prod', ratio: 0.25, ok: true, peer: 'reviews' });
  });

  it('delete and hash by key and by pattern; hash by the Collector\'s byte encodings', () => {
    const int = Buffer.alloc(8);
    int.writeBigInt64LE(-7n);
    const dbl = Buffer.alloc(8);
    dbl.writeDoubleLE(1.5);
    const out = apply(
      [
        { key: 'user.email', action: 'hash' },
        { action: 'hash', pattern: '^n\\.' },
        { key: 'password', action: 'delete' },
        { action: 'delete', pattern: '(?i)^x-debug-' },
      ],
      [
        { key: 'user.email', value: 'eve@x.org' },
        { key: 'n.int', value: -7n },
        { key: 'n.dbl', value: 1.5 },
        { key: 'n.bool', value: true },
        { key: 'password', value: 'p' },
        { key: 'X-Debug-Trace', value: '1' },
        { key: 'keep', value: 'k' },
      ],
    );
    expect(obj(out)).toEqual({ 'user.email': sha('eve@x.org'), 'n.int': sha(int), 'n.dbl': sha(dbl), 'n.bool': sha(Buffer.from([1])), keep: 'k' });
  });

  it('extract named groups (Go\'s (?P<name>) syntax, dotted names) and convert types', () => {
    const out = apply(
      [
        { key: 'http.url', action: 'extract', pattern: '^https?://[^/]+(?P<http.route>/[^?]*)\\??(?P<query>.*)$' },
        { key: 'bytes', action: 'convert', converted_type: 'int' },
        { key: 'took', action: 'convert', converted_type: 'double' },
        { key: 'code', action: 'convert', converted_type: 'string' },
        { key: 'junk', action: 'convert', converted_type: 'int' },
      ],
      [{ key: 'http.url', value: 'https://shop/cart/7?x=1' }, { key: 'bytes', value: '1024' }, { key: 'took', value: 3n }, { key: 'code', value: 404n }, { key: 'junk', value: 'n/a' }],
    );
    expect(obj(out)).toEqual({ 'http.url': 'https://shop/cart/7?x=1', bytes: 1024n, took: 3, code: '404', junk: 'n/a', 'http.route': '/cart/7', query: 'x=1' });
  });
});

describe('attributes and resource processors', () => {
  it('act on record attributes, or on the resource, for logs and spans', async () => {
    const next = new RecordingConsumer();
    const attrs = attributesFactory.create(settingsFor<AttributesConfig>(attributesFactory as Factory, { actions: [{ key: 'env', action: 'upsert', value: 'prod' }] }, { metrics: new MetricsRegistry() }), { logs: next, traces: next });
    const res = resourceFactory.create(settingsFor(resourceFactory as Factory, { attributes: [{ key: 'deployment.environment', action: 'insert', value: 'prod' }, { key: 'service.name', action: 'update', value: 'renamed' }] }), { logs: next, traces: next });
    await attrs.consumeLogs!(Payload.logs(sampleLogs(2)));
    await attrs.consumeTraces!(Payload.traces(sampleTraces(2)));
    await res.consumeLogs!(Payload.logs(sampleLogs(1)));
    expect(next.logRecords.slice(0, 2).every((r) => r.attributes.some((a) => a.key === 'env' && a.value === 'prod'))).toBe(true);
    expect(next.spans.every((s) => s.attributes.some((a) => a.key === 'env' && a.value === 'prod'))).toBe(true);
    const resource = next.logs[1]!.resourceLogs[0]!.resource.attributes;
    expect(obj(resource)).toMatchObject({ 'service.name': 'renamed', 'deployment.environment': 'prod' });
    expect(next.logRecords[2]!.attributes.some((a) => a.key === 'deployment.environment')).toBe(false);
  });

  it('include/exclude: the actions apply only to the records selected', async () => {
    const next = new RecordingConsumer();
    const attrs = attributesFactory.create(
      settingsFor<AttributesConfig>(attributesFactory as Factory, {
        actions: [{ key: 'tier', action: 'insert', value: 'gold' }],
        include: { match_type: 'regexp', attributes: [{ key: 'url.path', value: '^/api/items/[01]$' }] },
        exclude: { match_type: 'strict', log_bodies: ['request 0'] },
      }),
      { logs: next },
    );
    await attrs.consumeLogs!(Payload.logs(sampleLogs(3)));
    expect(next.logRecords.map((r) => r.attributes.some((a) => a.key === 'tier'))).toEqual([false, true, false]);
  });

  it('from_context: the sender\'s metadata (joined with ;) or address; nothing when absent', async () => {
    const next = new RecordingConsumer();
    const attrs = attributesFactory.create(
      settingsFor<AttributesConfig>(attributesFactory as Factory, {
        actions: [
          { key: 'tenant', action: 'upsert', from_context: 'metadata.X-Tenant' },
          { key: 'region', action: 'insert', from_context: 'x-region' },
          { key: 'client.ip', action: 'insert', from_context: 'client.address' },
          { key: 'absent', action: 'insert', from_context: 'metadata.nope' },
        ],
      }),
      { logs: next },
    );
    await attrs.consumeLogs!(Payload.logs(sampleLogs(1), { address: '10.0.0.7', metadata: new Map([['x-tenant', ['acme', 'beta']], ['x-region', ['eu']]]) }));
    await attrs.consumeLogs!(Payload.logs(sampleLogs(1))); // no client info at all
    expect(obj(next.logRecords[0]!.attributes)).toMatchObject({ tenant: 'acme;beta', region: 'eu', 'client.ip': '10.0.0.7' });
    expect(next.logRecords[0]!.attributes.some((a) => a.key === 'absent')).toBe(false);
    expect(next.logRecords[1]!.attributes.some((a) => ['tenant', 'region', 'client.ip'].includes(a.key))).toBe(false);
  });

  it('refuses span-only properties in a logs pipeline (and log-only ones in a traces pipeline)', () => {
    const make = (include: unknown, next: object) => () => attributesFactory.create(settingsFor<AttributesConfig>(attributesFactory as Factory, { actions: [{ key: 'a', action: 'delete' }], include }), next);
    expect(make({ match_type: 'strict', span_names: ['x'] }, { logs: new RecordingConsumer() })).toThrow(/selects spans .* logs pipeline/);
    expect(make({ match_type: 'strict', log_bodies: ['x'] }, { traces: new RecordingConsumer() })).toThrow(/selects log records .* traces pipeline/);
    expect(make({ match_type: 'strict', span_names: ['x'] }, { traces: new RecordingConsumer() })).not.toThrow();
  });

  it('refuses configs the Collector would refuse, and what is not offered, with paths', () => {
    const yaml = (processors: string) => `
receivers:
  otlp: {protocols: {http: {}}}
processors:
${processors}
exporters:
  debug:
service:
  pipelines:
    logs: {receivers: [otlp], processors: [attributes, resource], exporters: [debug]}
`;
    expect(
      errorsOf(
        yaml(`  attributes:
    include: {services: [a]}
    actions:
      - {key: a, action: rename}
      - {key: b, action: insert}
      - {action: delete}
      - {key: c, action: extract, pattern: "(no-names)"}
      - {key: d, action: convert, converted_type: bool}
      - {key: e, action: upsert, from_context: auth.}
  resource:
    attributes: []`),
      ),
    ).toEqual([
      'processors.attributes.actions[0].action: expected one of insert, update, upsert, delete, hash, extract, convert, got "rename"',
      'processors.attributes.actions[1]: exactly one of value, from_attribute or from_context is required',
      'processors.attributes.actions[2].key: key or pattern is required',
      'processors.attributes.actions[3].pattern: needs named groups, like (?P<http.route>[^?]*) or (?<route>…)',
      'processors.attributes.actions[4].converted_type: expected int, double or string, got "bool"',
      'processors.attributes.actions[5].from_context: expected auth.<name>: auth.subject, auth.username (basicauth) or auth.authenticator',
      'processors.attributes.include.match_type: expected strict or regexp, got ""',
      'processors.resource.attributes: must list at least one action',
    ]);
  });
});
