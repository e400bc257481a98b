import { describe, expect, it } from 'vitest';
import { receiveLimitDefaults } from '../../core/inflight.ts';
import type { Factory } from '../../core/component.ts';
import { ConfigValidationError } from '../../core/config/schema.ts';
import { configFor } from '../../test/component-config.ts';
import type { JaegerReceiverConfig } from './config.ts';
import { jaegerFactory } from './factory.ts';

const jaeger = (user: unknown) => configFor<JaegerReceiverConfig>(jaegerFactory as Factory, user);
const errorsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  return [];
};

describe('jaeger receiver config', () => {
  it('enables exactly the protocols present; an empty value takes the defaults', () => {
    const c = jaeger({ protocols: { thrift_compact: null, grpc: {} } });
    expect(c.protocols.thrift_compact).toEqual({ endpoint: '127.0.0.1:6831', queue_size: 1000, workers: 10, max_packet_size: 65000, socket_buffer_size: 4 * 1024 * 1024, insecure: false });
    expect(c.protocols.grpc).toEqual({ endpoint: '127.0.0.1:14250', max_recv_msg_size_mib: 4, tls: null, include_metadata: false, max_concurrent_streams: 100, keepalive: null, auth: null, insecure: false, ...receiveLimitDefaults() });
    expect(c.protocols.thrift_http).toBeNull();
    expect(c.protocols.thrift_binary).toBeNull();
    const b = jaeger({ protocols: { thrift_binary: { workers: 2, max_packet_size: '32KiB' }, thrift_http: { endpoint: '0.0.0.0:14268', insecure: true } } });
    expect(b.protocols.thrift_binary).toMatchObject({ endpoint: '127.0.0.1:6832', workers: 2, max_packet_size: 32768 });
    expect(b.protocols.thrift_http).toEqual({ endpoint: '0.0.0.0:14268', max_request_body_size: 20 * 1024 * 1024, tls: null, include_metadata: false, auth: null, insecure: true, ...receiveLimitDefaults() });
  });

  it('reports every problem with its path', () => {
    expect(errorsOf(() => jaeger({ protocols: {} }))).toEqual([
      'protocols: must specify at least one protocol (grpc, thrift_http, thrift_compact or thrift_binary)',
    ]);
    expect(errorsOf(() => jaeger({ protocols: { thrift_udp: {}, grpc: { endpoint: 'nope' }, thrift_compact: { max_packet_size: 70000 } } }))).toEqual([
      'protocols.grpc.endpoint: expected host:port, got "nope"',
      'protocols.thrift_udp: unknown key (valid keys: grpc, thrift_http, thrift_compact, thrift_binary)',
      'protocols.thrift_compact.max_packet_size: must be between 1 and 65507 (the largest UDP payload), got 70000',
    ]);
  });
});
