import { describe, expect, it } from 'vitest';
import { receiveLimitDefaults } from '../../core/inflight.ts';
import type { Factory } from '../../core/component.ts';
import { configFor, errorsOf } from '../../test/component-config.ts';
import type { ZipkinReceiverConfig } from './config.ts';
import { zipkinFactory } from './factory.ts';


describe('zipkin receiver config', () => {
  it('has the Collector defaults and rejects unknown keys', () => {
    const z = configFor<ZipkinReceiverConfig>(zipkinFactory as Factory, null);
    expect(z).toEqual({ endpoint: '127.0.0.1:9411', parse_string_tags: false, max_request_body_size: 20 * 1024 * 1024, tls: null, include_metadata: false, auth: null, insecure: false, ...receiveLimitDefaults() });
    expect(configFor<ZipkinReceiverConfig>(zipkinFactory as Factory, { parse_string_tags: true }).parse_string_tags).toBe(true);
    expect(errorsOf(() => configFor(zipkinFactory as Factory, { endpoint: ':9411', parse_strings: true }))).toEqual([
      'parse_strings: unknown key (valid keys: endpoint, parse_string_tags, max_request_body_size, tls, include_metadata, auth, insecure, max_inflight_bytes_per_client, max_inflight_bytes, body_idle_timeout, max_connections, max_records_per_request)',
      // :9411 is every interface: fail closed without auth or insecure (core/auth-config.ts).
      expect.stringMatching(/^endpoint: :9411 is not a loopback address and no auth is configured/),
    ]);
  });
});
