import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { configFor, errorsOf } from '../../test/component-config.ts';
import { syslogFactory } from '../syslog/factory.ts';
import type { SyslogConfig } from '../syslog/config.ts';
import { fluentForwardFactory } from './factory.ts';
import type { FluentForwardConfig } from './config.ts';

const ff = (user: unknown) => configFor<FluentForwardConfig>(fluentForwardFactory as Factory, user);
const sl = (user: unknown) => configFor<SyslogConfig>(syslogFactory as Factory, user);

describe('fluentforward config', () => {
  it('the Collector default endpoint; a unix socket; sizes and sections decode', () => {
    expect(ff({}).endpoint).toBe('127.0.0.1:8006');
    expect(ff({ endpoint: 'unix:///run/fluent.sock' }).endpoint).toBe('unix:///run/fluent.sock');
    const c = ff({ endpoint: '0.0.0.0:24224', chunk_size_limit: '8MiB', security: { self_hostname: 'gw', shared_key: 'k' } });
    expect(c.chunk_size_limit).toBe(8 * 1024 * 1024);
    expect(c.security).toEqual({ self_hostname: 'gw', shared_key: 'k', user_auth: false, users: [] });
  });

  it('fails closed: exposed without authentication, relative socket paths, half a security section', () => {
    expect(errorsOf(() => ff({ endpoint: '0.0.0.0:24224' }))[0]).toMatch(/^endpoint: .*not a loopback address.*shared_key/);
    expect(errorsOf(() => ff({ endpoint: '0.0.0.0:24224', insecure: true }))).toEqual([]);
    expect(errorsOf(() => ff({ endpoint: 'unix://run/x.sock' }))[0]).toMatch(/must be absolute/);
    expect(errorsOf(() => ff({ endpoint: 'nonsense' }))[0]).toMatch(/host:port or unix/);
    expect(errorsOf(() => ff({ security: { shared_key: 'k' } })).join('\n')).toMatch(/security.self_hostname/);
    expect(errorsOf(() => ff({ security: { self_hostname: 'h', shared_key: 'k', user_auth: true } })).join('\n')).toMatch(/security.users/);
    expect(errorsOf(() => ff({ shared_key: 'k' })).join('\n')).toMatch(/shared_key/);
  });
});

describe('syslog config (Collector keys)', () => {
  it('decodes the Collector example', () => {
    const c = sl({ tcp: { listen_address: '127.0.0.1:54526' }, protocol: 'rfc5424', enable_octet_counting: true, max_octets: 16384 });
    expect(c.tcp?.max_log_size).toBe(1024 * 1024);
    expect(c.max_octets).toBe(16384);
    expect(errorsOf(() => sl({ udp: { listen_address: '127.0.0.1:514' }, protocol: 'rfc6587' })).join('\n')).toMatch(/protocol/);
  });
});
