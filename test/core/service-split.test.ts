/**
 * Where `trailhouse run` splits a config between the main thread and the
 * pipeline thread (core/service-split.ts), and when it refuses to.
 */
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { splitAtSpool, type Split } from '../../core/service-split.ts';

const load = (text: string) => loadConfigText(text, builtinRegistry(), {});

function split(text: string): Split {
  const r = splitAtSpool(load(text));
  if ('reason' in r) throw new Error(`no split: ${r.reason}`);
  return r;
}

function reason(text: string): string {
  const r = splitAtSpool(load(text));
  if (!('reason' in r)) throw new Error('split, but should not have');
  return r.reason;
}

/** A small config: one pipeline in front of the spool, one behind it. */
const cfg = ({ spool = '', frontExporters = '[spool]', frontProcessors = '[memory_limiter]', backProcessors = '[correlate]', backReceivers = '[spool]', exts = '', serviceExts = '[file_storage]' } = {}) => `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
  spool: ${spool || '{}'}
processors:
  memory_limiter: { check_interval: 1s, limit_mib: 512 }
  correlate: { wait: 1s, store: clickhouse_store }
  audit: { store: clickhouse_store }
exporters:
  spool: { sending_queue: { storage: file_storage } }
  clickhouse: { store: clickhouse_store }
  debug: {}
  clickhouse/front: { store: clickhouse_store }
extensions:
  file_storage: { directory: /tmp/never-written }
  clickhouse_store: { path: /tmp/never-written }
${exts}
service:
  extensions: ${serviceExts}
  pipelines:
    logs/in: { receivers: [otlp], processors: ${frontProcessors}, exporters: ${frontExporters} }
    logs: { receivers: ${backReceivers}, processors: ${backProcessors}, exporters: [clickhouse] }
`;

describe('splitAtSpool', () => {
  it('splits ./pipeline.yaml: receivers and the queue in front, the store and what reads it behind', () => {
    const s = split(readFileSync(new URL('../../pipeline.yaml', import.meta.url), 'utf8'));
    expect(s.front.pipelines.map((p) => p.id).sort()).toEqual(['logs/ingest', 'traces/ingest']);
    expect(s.back.pipelines.map((p) => p.id).sort()).toEqual(['logs', 'traces']);
    expect(s.channels).toEqual(['default']);
    expect(s.nice).toBe(10);
    // The console names the store and the alerts, so it goes behind; health_check names nothing and serves the process.
    expect(s.back.serviceExtensions).toEqual(['clickhouse_store', 'file_storage', 'alerts', 'console']);
    expect(s.front.serviceExtensions).toEqual(['health_check', 'file_storage']);
  });

  it('puts an extension named only behind the spool on the pipeline thread, and one named on both sides on both when it can run twice', () => {
    const s = split(cfg({ serviceExts: '[file_storage, clickhouse_store]' }));
    expect(s.front.serviceExtensions).toEqual(['file_storage']);
    expect(s.back.serviceExtensions).toEqual(['clickhouse_store']);
  });

  it('keeps one thread, with the reason, when the halves would share what cannot be built twice', () => {
    expect(reason(cfg({ frontExporters: '[spool, clickhouse/front]', serviceExts: '[file_storage, clickhouse_store]' }))).toBe('extension clickhouse_store is used on both sides of the spool');
    expect(reason(cfg({ frontProcessors: '[correlate]', serviceExts: '[file_storage, clickhouse_store]' }))).toBe('processor correlate is shared and used on both sides of the spool');
    expect(reason(cfg({ frontExporters: '[spool, clickhouse]', serviceExts: '[file_storage, clickhouse_store]' }))).toBe('exporter clickhouse is used on both sides of the spool');
    expect(reason(cfg({ backReceivers: '[spool, otlp]' }))).toBe('pipeline logs has a spool receiver beside otlp');
    expect(reason(cfg({ spool: '{ thread: main }' }))).toBe('receiver spool has thread: main');
    expect(reason(cfg({ frontProcessors: '[audit]', serviceExts: '[file_storage, clickhouse_store]' }))).toBe('processor audit (audit) is in front of the spool');
  });

  it('keeps one thread when there is no spool receiver, or nothing in front of it', () => {
    expect(reason(cfg().replace('receivers: [spool], processors', 'receivers: [otlp], processors'))).toBe('no pipeline has a spool receiver');
    const onlyBack = `
receivers: { spool: {} }
exporters: { debug: {} }
service: { pipelines: { logs: { receivers: [spool], exporters: [debug] } } }
`;
    expect(reason(onlyBack)).toBe('every pipeline is fed by a spool receiver');
  });

  it('refuses an unknown thread value at load, naming the key', () => {
    expect(() => load(cfg({ spool: '{ thread: worker }' }))).toThrow(/receivers\.spool\.thread/);
  });

  it('lowers the pipeline thread by the spool receivers\' nice, the least any of them asks for; refuses a value nice(1) would not take', () => {
    expect(split(cfg({ spool: '{ nice: 3 }' })).nice).toBe(3);
    expect(split(cfg({ spool: '{ nice: 0 }' })).nice).toBe(0);
    // Two spools behind, one thread: it runs at the lower of the two.
    const two = `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
  spool/a: { name: a, nice: 19 }
  spool/b: { name: b, nice: 4 }
exporters:
  spool/a: { name: a, sending_queue: { storage: file_storage } }
  spool/b: { name: b, sending_queue: { storage: file_storage } }
  debug: {}
extensions:
  file_storage: { directory: /tmp/never-written }
service:
  extensions: [file_storage]
  pipelines:
    logs/in: { receivers: [otlp], exporters: [spool/a] }
    traces/in: { receivers: [otlp], exporters: [spool/b] }
    logs: { receivers: [spool/a], exporters: [debug] }
    traces: { receivers: [spool/b], exporters: [debug] }
`;
    expect(split(two).nice).toBe(4);
    for (const bad of ['20', '-1', '2.5', 'high']) expect(() => load(cfg({ spool: `{ nice: ${bad} }` })), bad).toThrow(/receivers\.spool\.nice/);
  });

  it('finds extension ids in nested config and does not take an unrelated string equal to no extension', () => {
    const s = split(
      cfg({
        exts: `  basicauth/in: { htpasswd: { inline: "u:${bcrypt.hashSync('pw', 4)}" } }`,
        serviceExts: '[file_storage, clickhouse_store, basicauth/in]',
      }).replace('otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }', 'otlp: { protocols: { http: { endpoint: 127.0.0.1:0, auth: { authenticator: basicauth/in } } } }'),
    );
    expect(s.front.serviceExtensions).toEqual(['file_storage', 'basicauth/in']);
    expect(s.back.serviceExtensions).toEqual(['clickhouse_store']);
  });
});
