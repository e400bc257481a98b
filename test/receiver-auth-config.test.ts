/**
 * Fail closed, at load and at start: a receiver server on anything but
 * loopback without `auth` is refused unless `insecure: true` says so (UDP
 * too: it cannot authenticate); `auth` must name an enabled authenticator
 * extension, or the start fails with the reason.
 */
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../components.ts';
import { isLoopbackHost } from '../core/auth-config.ts';
import { loadConfigText } from '../core/config/load.ts';
import { ConfigValidationError } from '../core/config/schema.ts';
import { Service } from '../core/service.ts';
import { testHost, testLogger } from './helpers.ts';
import { settingsFor } from './component-config.ts';
import type { Factory } from '../core/component.ts';
import { otlpFactory } from '../receivers/otlp/index.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';

const yaml = (receivers: string, extra = '', exts = '[bearertokenauth]') => `
receivers:
${receivers}
exporters:
  debug:
extensions:
  health_check: {endpoint: "127.0.0.1:0"}
  bearertokenauth: {token: "t0ken-for-tests"}
${extra}
service:
  extensions: ${exts}
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [${receivers.match(/^ {2}(\w+):/gm)!.map((m) => m.trim().slice(0, -1)).join(', ')}], exporters: [debug]}
`;

const errors = (text: string): string[] => {
  try {
    loadConfigText(text, builtinRegistry(), {});
    return [];
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
};

describe('fail closed on non-loopback endpoints', () => {
  it('loopback forms are loopback; names (but localhost), all-interfaces and private addresses are not', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
    for (const h of ['0.0.0.0', '', '::', '10.0.0.7', '192.168.1.1', 'gateway', 'localhost.evil.com', '127.0.0.1.nip.io', '128.0.0.1', '127.0.0.256']) expect([h, isLoopbackHost(h)]).toEqual([h, false]);
  });

  it('every HTTP, gRPC and UDP server of every receiver: refused with the reason, at its path', () => {
    const got = errors(
      yaml(`  otlp:
    protocols:
      grpc: {endpoint: "0.0.0.0:4317"}
      http: {endpoint: ":4318"}
  zipkin: {endpoint: "gateway:9411"}
  jaeger:
    protocols:
      grpc: {endpoint: "[::]:14250"}
      thrift_http: {endpoint: "10.0.0.7:14268"}
      thrift_compact: {endpoint: "0.0.0.0:6831"}
      thrift_binary: {endpoint: "0.0.0.0:6832", auth: {authenticator: bearertokenauth}}`),
    );
    const reason = 'is not a loopback address and no auth is configured, so anyone who can reach it could write to the audit store: set auth: {authenticator: <extension id>} (bearertokenauth or basicauth), or insecure: true beside endpoint to accept unauthenticated senders on purpose';
    expect(got).toEqual([
      `receivers.otlp.protocols.grpc.endpoint: 0.0.0.0:4317 ${reason}`,
      `receivers.otlp.protocols.http.endpoint: :4318 ${reason}`,
      `receivers.zipkin.endpoint: gateway:9411 ${reason}`,
      `receivers.jaeger.protocols.grpc.endpoint: [::]:14250 ${reason}`,
      `receivers.jaeger.protocols.thrift_http.endpoint: 10.0.0.7:14268 ${reason}`,
      'receivers.jaeger.protocols.thrift_compact.endpoint: 0.0.0.0:6831 is not a loopback address, and UDP senders cannot authenticate (no headers), so anyone who can reach it could write to the audit store: bind it to loopback (e.g. a node-local agent), or set insecure: true beside endpoint to accept that',
      'receivers.jaeger.protocols.thrift_binary.auth: UDP cannot authenticate (a datagram carries no credentials): use grpc or thrift_http with auth, or keep this port on loopback',
      expect.stringMatching(/^receivers\.jaeger\.protocols\.thrift_binary\.endpoint: 0\.0\.0\.0:6832 is not a loopback address, and UDP senders cannot/),
    ]);
  });

  it('accepted: loopback without auth, any address with auth, and insecure: true on purpose', () => {
    expect(
      errors(
        yaml(`  otlp:
    protocols:
      grpc: {endpoint: "0.0.0.0:4317", auth: {authenticator: bearertokenauth}}
      http: {endpoint: "0.0.0.0:4318", insecure: true}
  zipkin: {endpoint: "localhost:9411"}
  jaeger:
    protocols:
      grpc: {endpoint: "[::1]:14250"}
      thrift_http: {endpoint: "0.0.0.0:14268", auth: {authenticator: bearertokenauth}}
      thrift_compact: {endpoint: "0.0.0.0:6831", insecure: true}
      thrift_binary: {endpoint: "127.0.0.1:6832"}`),
      ),
    ).toEqual([]);
  });

  it('auth needs an authenticator id; unknown keys under auth are refused', () => {
    expect(errors(yaml('  zipkin: {endpoint: "127.0.0.1:0", auth: {}}'))).toEqual([
      'receivers.zipkin.auth.authenticator: required: the id of an authenticator extension (bearertokenauth or basicauth) listed in service.extensions',
    ]);
    expect(errors(yaml('  zipkin: {endpoint: "127.0.0.1:0", auth: {authenticator: bearertokenauth, request_params: [x]}}'))).toEqual([
      'receivers.zipkin.auth.request_params: unknown key (valid keys: authenticator)',
    ]);
  });
});

describe('the authenticator is resolved at start', () => {
  const start = async (text: string) => {
    const s = new Service(loadConfigText(text, builtinRegistry(), {}), { logger: testLogger(), serveMetrics: false });
    try {
      await s.start();
      return 'started';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await s.shutdown();
    }
  };
  const otlp = (id: string) => `  otlp:\n    protocols:\n      http: {endpoint: "127.0.0.1:0", auth: {authenticator: ${id}}}`;

  it('an id that names no configured extension, or one not enabled in service.extensions: refused at load, with the reason', () => {
    expect(errors(yaml(otlp('bearertokenauth/nope')))).toEqual(['receivers.otlp.protocols.http.auth.authenticator: extension "bearertokenauth/nope" is not configured under extensions']);
    expect(errors(yaml(otlp('bearertokenauth'), '', '[health_check]'))).toEqual(['receivers.otlp.protocols.http.auth.authenticator: extension "bearertokenauth" is not listed in service.extensions']);
  });

  it('an extension that is not an authenticator: the start fails with the reason', async () => {
    expect(await start(yaml(otlp('health_check'), '', '[health_check]'))).toBe(
      'failed to start receiver "otlp": protocols.http.auth.authenticator: extension "health_check" is not an authenticator (use bearertokenauth or basicauth)',
    );
    expect(await start(yaml('  zipkin: {endpoint: "127.0.0.1:0", auth: {authenticator: health_check}}', '', '[health_check]'))).toBe(
      'failed to start receiver "zipkin": auth.authenticator: extension "health_check" is not an authenticator (use bearertokenauth or basicauth)',
    );
    expect(await start(yaml(otlp('bearertokenauth'), '', '[bearertokenauth]'))).toBe('started');
  });

  it('a host without the extension (built outside the loader): the start fails with the reason, nothing listens', async () => {
    const r = otlpFactory.create(settingsFor(otlpFactory as Factory, { protocols: { http: { endpoint: '127.0.0.1:0', auth: { authenticator: 'basicauth' } } } }), {}) as OtlpReceiver;
    await expect(r.start(testHost())).rejects.toThrow('protocols.http.auth.authenticator: extension "basicauth" is not configured under extensions or not listed in service.extensions');
    expect(r.http!.address).toBe('');
    await r.shutdown();
  });
});
