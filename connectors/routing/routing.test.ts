import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testHost } from '../../test/helpers.ts';
import { routingFactory, type RoutingConfig } from './index.ts';
import { Payload } from '../../core/payload.ts';

function routing(user: Record<string, unknown>) {
  const a = new RecordingConsumer();
  const b = new RecordingConsumer();
  const t = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const c = routingFactory.create(settingsFor<RoutingConfig>(routingFactory as Factory, user, { metrics }), new Map([['logs/a', { logs: a }], ['logs/b', { logs: b }], ['traces/t', { traces: t }]]));
  return { c, a, b, t, metrics };
}

describe('routing connector', () => {
  it('splits a payload by record condition: each part keeps the sender, gets its own derived token, and shares no resource', async () => {
    const { c, a, b } = routing({ default_pipelines: ['logs/b'], table: [{ context: 'log', condition: 'attributes["url.path"] == "/api/items/1"', pipelines: ['logs/a'] }] });
    await c.start(testHost());
    const d = Object.assign(Payload.logs(sampleLogs(3)), { dedupToken: 'kafka-p0-100-200' });
    (d.client = { address: '10.0.0.7', metadata: new Map() });
    await c.consumeLogs!(d);
    expect(a.logRecords.map((r) => r.body)).toEqual(['request 1']);
    expect(b.logRecords.map((r) => r.body)).toEqual(['request 0', 'request 2']);
    expect([a.logPayloads[0]!.dedupToken, b.logPayloads[0]!.dedupToken]).toEqual(['kafka-p0-100-200#route0', 'kafka-p0-100-200#route-1']);
    expect([a.logPayloads[0]!.client?.address, b.logPayloads[0]!.client?.address]).toEqual(['10.0.0.7', '10.0.0.7']);
    expect(a.logs[0]!.resourceLogs[0]!.resource).not.toBe(b.logs[0]!.resourceLogs[0]!.resource);
  });

  it('a payload routed whole keeps its token; a route naming pipelines of the other signal is skipped for this one; unrouted items are counted', async () => {
    const { c, a, t, metrics } = routing({
      table: [
        { condition: 'attributes["service.name"] == "checkout"', pipelines: ['traces/t'] },
        { condition: 'attributes["service.name"] == "checkout"', pipelines: ['logs/a'] },
      ],
    });
    await c.start(testHost());
    await c.consumeLogs!(Object.assign(Payload.logs(sampleLogs(2)), { dedupToken: 'tok' }));
    expect([a.logRecords.length, a.logPayloads[0]!.dedupToken]).toEqual([2, 'tok']);
    await c.consumeTraces!(Payload.traces(sampleTraces(2)));
    await c.consumeTraces!(Payload.traces(sampleTraces(3, 'ads'))); // no route, no default
    expect(t.spans.length).toBe(2);
    expect(metrics.read('trailhouse_routing_unrouted_items', { connector: 'routing', signal: 'traces' })).toBe(3);
  });

  it('request routes send the whole payload by its sender\'s metadata (names without regard to case), before other routes', async () => {
    const { c, a, b } = routing({
      default_pipelines: ['logs/b'],
      table: [
        { condition: 'attributes["service.name"] == "checkout"', pipelines: ['logs/b'] },
        { context: 'request', condition: 'request["X-Tenant"] == "acme"', pipelines: ['logs/a'] },
      ],
    });
    await c.start(testHost());
    const acme = Object.assign(Payload.logs(sampleLogs(2)), { dedupToken: 'tok' });
    (acme.client = { address: '', metadata: new Map([['x-tenant', ['acme']]]) });
    await c.consumeLogs!(acme);
    await c.consumeLogs!(Payload.logs(sampleLogs(1))); // no metadata: the resource route
    expect([a.logRecords.length, b.logRecords.length]).toEqual([2, 1]);
    expect(a.logPayloads[0]).toBe(acme); // whole: the same payload, token and all
  });

  it('refuses to start when a named pipeline does not receive from it', async () => {
    const { c } = routing({ table: [{ condition: 'true', pipelines: ['logs/nope'] }] });
    await expect(c.start(testHost())).rejects.toThrow(/"logs\/nope" must name this connector among the pipeline's receivers/);
  });
});
