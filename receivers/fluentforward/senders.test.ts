/**
 * The fluentforward receiver with the official Fluent clients: npm
 * `fluent-logger` (Message, PackedForward and CompressedPackedForward modes
 * with require-ack, the shared-key handshake, TLS, a Unix socket) and
 * Python's `fluent-logger`. Istio access logs sent through forward (the text
 * line as `log`, and a JSON line) are classified as over OTLP.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAttr } from '../../core/model.ts';
import { RecordingConsumer, waitFor } from '../../test/helpers.ts';
import { compileRules, classifyRecord } from '../../processors/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { ENVOY_RBAC_DENIED, envoyOtel, ISTIO_LINES, istioText } from '../../processors/audit/testdata/fixtures.ts';
import { fluentLogger, pythonEmit, pythonFluent, type FluentLoggerModule, type FluentSender, type FluentSenderOptions } from './peers.ts';
import type { FluentForwardReceiver } from './receiver.ts';
import { startForward } from './testkit.ts';
import type { FluentForwardConfig } from './config.ts';

const tlsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'testdata', 'tls');
const tlsFile = (n: string) => path.join(tlsDir, n);

let fluent: FluentLoggerModule;
beforeAll(() => {
  fluent = fluentLogger();
  pythonFluent();
}, 180_000);

const started: FluentForwardReceiver[] = [];
const senders: FluentSender[] = [];
afterEach(async () => {
  senders.splice(0).forEach((s) => s.end());
  await Promise.all(started.splice(0).map((r) => r.shutdown()));
});

async function setup(cfg: Partial<FluentForwardConfig> = {}) {
  const sink = new RecordingConsumer();
  const s = await startForward(sink, cfg);
  started.push(s.r);
  return { ...s, sink };
}

function sender(tag: string, opts: FluentSenderOptions): FluentSender {
  const quiet = { info() {}, error() {} };
  const s = fluent.createFluentSender(tag, { host: '127.0.0.1', timeout: 3, reconnectInterval: 600_000, internalLogger: quiet, ...opts });
  s.on('error', () => {});
  senders.push(s);
  return s;
}

const emit = (s: FluentSender, label: string, data: Record<string, unknown>, time?: unknown) =>
  new Promise<void>((resolve, reject) => {
    const cb = (err?: Error) => (err ? reject(err) : resolve());
    if (time === undefined) s.emit(label, data, cb);
    else s.emit(label, data, time, cb);
  });

/** Emits and waits for the sender's handshake error (fluent-logger reports it as an event, not to the emit callback). */
const refused = (s: FluentSender, data: Record<string, unknown>) =>
  new Promise<Error>((resolve) => {
    s.on('error', resolve);
    s.emit('x', data, () => {});
  });

const rules = compileRules(defaultAuditRules());
const withoutTime = (events: { time: bigint }[]) => events.map(({ time: _t, ...e }) => e);

describe('npm fluent-logger → fluentforward', () => {
  for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward'] as const) {
    it(`${eventMode} with require-ack: the callback fires only once the records are accepted`, async () => {
      const { sink, port } = await setup();
      const s = sender('mesh', { port, eventMode, requireAckResponse: true, flushInterval: 10 });
      await Promise.all([
        emit(s, 'access', { log: ISTIO_LINES.rbacDenied, pod: 'httpbin-1' }, fluent.EventTime.fromDate(new Date(Date.UTC(2024, 4, 14, 9, 12, 3, 456)))),
        emit(s, 'app', { message: 'hello', level: 'info', n: 7 }),
      ]);
      expect(sink.logRecords).toHaveLength(2);
      const [access, app] = sink.logRecords;
      expect(getAttr(access!.attributes, 'fluent.tag')).toBe('mesh.access');
      expect(getAttr(access!.attributes, 'pod')).toBe('httpbin-1');
      expect(access!.timeUnixNano).toBe(1_715_677_923_456_000_000n);
      expect(app!.body).toBe('hello');
      expect(getAttr(app!.attributes, 'n')).toBe(7n);
      expect(withoutTime(classifyRecord(access!, [], rules))).toEqual(withoutTime(classifyRecord(istioText(ISTIO_LINES.rbacDenied), [], rules)));
    });
  }

  it('an Envoy JSON access line as `log` is classified as the same fields over OTLP', async () => {
    const { sink, port } = await setup();
    const s = sender('k8s', { port, requireAckResponse: true });
    await emit(s, 'istio-proxy', { log: JSON.stringify(ENVOY_RBAC_DENIED), stream: 'stdout' });
    const events = classifyRecord(sink.logRecords[0]!, [], rules);
    expect(events.map((e) => e.category)).toContain('authorization');
    expect(withoutTime(events)).toEqual(withoutTime(classifyRecord(envoyOtel(ENVOY_RBAC_DENIED, false), [], rules)));
  });

  it('shared-key handshake: the right key delivers, a wrong key delivers nothing', async () => {
    const security = { self_hostname: 'trailhouse-gw', shared_key: 'mesh-key', user_auth: false, users: [] };
    const { sink, port, metrics } = await setup({ security });
    const good = sender('sec', { port, requireAckResponse: true, security: { clientHostname: 'node-1', sharedKey: 'mesh-key' } });
    await emit(good, 'ok', { message: 'authenticated' });
    expect(sink.logPayloads[0]!.client?.auth?.subject).toBe('node-1');
    const bad = sender('sec', { port, requireAckResponse: true, security: { clientHostname: 'node-2', sharedKey: 'guess' } });
    expect((await refused(bad, { message: 'intruder' })).message).toMatch(/shared_key mismatch/);
    await waitFor(() => metrics.sum('trailhouse_receiver_auth_failures') >= 1);
    expect(sink.logRecords.map((r) => r.body)).toEqual(['authenticated']);
  });

  it('shared key with user auth', async () => {
    const security = { self_hostname: 'gw', shared_key: 'k', user_auth: true, users: [{ username: 'fluent', password: 'pw' }] };
    const { sink, port } = await setup({ security });
    const s = sender('u', { port, requireAckResponse: true, security: { clientHostname: 'n1', sharedKey: 'k', username: 'fluent', password: 'pw' } });
    await emit(s, 'x', { message: 'user ok' });
    expect(sink.logPayloads[0]!.client?.auth?.subject).toBe('fluent');
    const wrong = sender('u', { port, requireAckResponse: true, security: { clientHostname: 'n2', sharedKey: 'k', username: 'fluent', password: 'nope' } });
    expect((await refused(wrong, { message: 'bad pw' })).message).toMatch(/username\/password mismatch/);
    expect(sink.logRecords).toHaveLength(1);
  });

  it('TLS', async () => {
    const tls = { cert_file: tlsFile('server.crt'), key_file: tlsFile('server.key'), client_ca_file: null, min_version: '1.2' as const };
    const { sink, port } = await setup({ tls });
    const s = sender('tls', { port, tls: true, tlsOptions: { ca: readFileSync(tlsFile('ca.crt')), servername: 'localhost' }, requireAckResponse: true });
    await emit(s, 'x', { message: 'encrypted' });
    expect(sink.logRecords[0]!.body).toBe('encrypted');
  });

  it('Unix socket', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'th-ff-'));
    try {
      const sock = path.join(dir, 'fluent.sock');
      const { sink, r } = await setup({ endpoint: `unix://${sock}` });
      expect(r.address).toBe(`unix://${sock}`);
      const s = sender('unix', { path: sock, requireAckResponse: true });
      await emit(s, 'x', { message: 'over a socket file' });
      expect(sink.logRecords[0]!.body).toBe('over a socket file');
      expect(sink.logPayloads[0]!.client?.address).toBe('');
      // A file that is not a socket is never removed to listen there.
      const file = path.join(dir, 'not-a-socket');
      writeFileSync(file, 'keep me');
      await expect(startForward(new RecordingConsumer(), { endpoint: `unix://${file}` })).rejects.toThrow(/not a socket/);
      expect(readFileSync(file, 'utf8')).toBe('keep me');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Python fluent-logger → fluentforward', () => {
  it('Message mode with EventTime', async () => {
    const { sink, port } = await setup();
    const out = pythonEmit(port, 'py', 'access', [{ log: ISTIO_LINES.tlsVerifyFailed }, { message: 'from python', code: 5, ok: true }]);
    expect(out).toBe('ok');
    await waitFor(() => sink.logRecords.length === 2);
    const [a, b] = sink.logRecords;
    expect(getAttr(a!.attributes, 'fluent.tag')).toBe('py.access');
    expect(withoutTime(classifyRecord(a!, [], rules))).toEqual(withoutTime(classifyRecord(istioText(ISTIO_LINES.tlsVerifyFailed), [], rules)));
    expect(b!.body).toBe('from python');
    expect(getAttr(b!.attributes, 'code')).toBe(5n);
    expect(getAttr(b!.attributes, 'ok')).toBe(true);
    expect(Number(b!.timeUnixNano % 1_000_000_000n)).not.toBe(0); // nanosecond EventTime
  });
});
