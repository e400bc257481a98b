/**
 * One payload with a dedup token (here: from the spool queue) fanned out to
 * two pipelines that insert into the same ClickHouse table through one
 * exporter: both inserts are stored (each branch has a token of its own),
 * and a redelivery would still be recognised in each (the tokens derive from
 * the payload's). With one shared token the second insert was dropped as a
 * repeat of the first.
 */
import { describe, expect, it } from 'vitest';
import { sdkSender } from './sdk.ts';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const service = serviceFixture('th-fanout-', (dir) => `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
  spool:
processors:
  attributes/a: {actions: [{key: copy, action: insert, value: a}]}
  attributes/b: {actions: [{key: copy, action: insert, value: b}]}
exporters:
  spool:
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/ingest: {receivers: [otlp], exporters: [spool]}
    logs/a: {receivers: [spool], processors: [attributes/a], exporters: [clickhouse]}
    logs/b: {receivers: [spool], processors: [attributes/b], exporters: [clickhouse]}
`);

describe('fan-out into one table', () => {
  it('both branches\' rows are stored', async () => {
    const sender = sdkSender(`http://${service().otlp.http!.address}`, { 'service.name': 'fanout' });
    for (let i = 0; i < 5; i++) sender.logs.getLogger('t').emit({ body: `line ${i}` });
    await sender.flush();
    const rows = await service().waitRows<{ copy: string; n: string }>(`SELECT LogAttributes['copy'] AS copy, count() AS n FROM otel.otel_logs GROUP BY copy ORDER BY copy`, (r) => r.reduce((s, x) => s + Number(x.n), 0) >= 10, 'both copies');
    expect(rows).toEqual([
      { copy: 'a', n: '5' },
      { copy: 'b', n: '5' },
    ]);
    await sender.shutdown();
  }, 60_000);
});
