import { afterAll, describe, expect, it, vi } from 'vitest';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pseudonymCommand } from '../../bin/commands/pseudonym.ts';
import { newLogRecord, type KeyValue, type LogsData } from '../../core/model.ts';
import { decodeLogsProto, encodeLogsProto } from '../../core/otlp/index.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { configFor, settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, testLogger } from '../../test/helpers.ts';
import { scope } from '../../test/redaction-corpus.ts';
import { defaultRedactionConfig, validateRedaction, type RedactionConfig } from './config.ts';
import { Pseudonymizer, defaultPseudonymizeConfig } from './pseudonym.ts';
import { redactionFactory } from './factory.ts';
import { redactPayload } from './processor.ts';
import { Redactor } from './redaction.ts';
import { Payload } from '../../core/payload.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-pseudonym-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'a-pseudonymisation-key-of-32-byt';
const cfg = (pseudonymize: object, extra: object = {}): RedactionConfig =>
  configFor(redactionFactory, { allow_all_keys: true, mask_credentials: true, pseudonymize, ...extra });

const logs = (attributes: KeyValue[], body = ''): LogsData => ({
  resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: scope(), schemaUrl: '', logRecords: [newLogRecord({ attributes, body })] }] }],
});
const rec = (d: LogsData) => d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
const expected = (v: string) => `pii:${createHmac('sha256', KEY).update(v).digest('hex').slice(0, 24)}`;

describe('pseudonymisation', () => {
  it('replaces configured keys and e-mail addresses by keyed pseudonyms that still join', () => {
    const r = new Redactor(cfg({ keys: ['user.id', 'enduser.id'], emails: true, hmac_key: KEY }));
    const a = logs([{ key: 'user.id', value: 'u-1001' }, { key: 'enduser.id', value: 'u-1001' }, { key: 'note', value: 'mail Bob@Example.com now' }], 'from bob@example.com');
    r.logs(a);
    const attrs = Object.fromEntries(rec(a).attributes.map((kv) => [kv.key, kv.value]));
    expect(attrs['user.id']).toBe(expected('u-1001'));
    expect(attrs['enduser.id']).toBe(attrs['user.id']); // joinable
    expect(attrs.note).toBe(`mail ${expected('bob@example.com')} now`); // lowercased first
    expect(rec(a).body).toBe(`from ${expected('bob@example.com')}`);
    // A second stage keeps pseudonyms as they are.
    const again = JSON.stringify(rec(a).attributes, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    r.logs(a);
    expect(JSON.stringify(rec(a).attributes, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(again);
  });

  it('built-in masks are never an unkeyed hash of the secret (a password\'s md5 is a lookup away)', () => {
    const plain = logs([{ key: 'password', value: 'hunter2' }], 'Authorization: Bearer abc123XYZ');
    new Redactor(cfg({}, { hash_function: 'md5' })).logs(plain);
    expect(rec(plain).attributes[0]!.value).toBe('****');
    expect(rec(plain).body).toBe('Authorization: Bearer ****');
    const keyed = logs([{ key: 'password', value: 'hunter2' }]);
    new Redactor(cfg({}, { hash_function: 'hmac-sha256', hmac_key: KEY })).logs(keyed);
    expect(rec(keyed).attributes[0]!.value).toBe(createHmac('sha256', KEY).update('hunter2').digest('hex'));
  });

  it('e-mail search costs linear time on hostile input', () => {
    const p = new Pseudonymizer(Buffer.from(KEY), 'pii:');
    for (const text of [`${'a'.repeat(50_000)}@${'-'.repeat(50_000)}`, `a@b${'.b'.repeat(50_000)}!`, `${'a@'.repeat(50_000)}`]) {
      const t0 = performance.now();
      p.emails(text);
      p.of(text);
      expect(performance.now() - t0).toBeLessThan(1500);
    }
  });

  it('is found by the bytes pre-check from the key alone', () => {
    const r = new Redactor(cfg({ keys: ['uid'], hmac_key: KEY }));
    const out = redactPayload(r, Payload.scan('logs', encodeLogsProto(logs([{ key: 'uid', value: '42' }]))), true);
    expect(decodeLogsProto(out.bytes()![0]!).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes[0]!.value).toBe(expected('42'));
  });

  it('fails closed on a missing, doubled or short key, without printing the key', () => {
    const errs = (p: object) =>
      validateRedaction({ ...defaultRedactionConfig(), pseudonymize: { ...defaultPseudonymizeConfig(), ...p } }).map((e) => `${e.path}: ${e.message}`);
    expect(errs({ keys: ['user.id'] })).toEqual(['pseudonymize: exactly one of hmac_key and hmac_key_file is required with keys or emails']);
    expect(errs({ emails: true, hmac_key: KEY, hmac_key_file: '/k' })).toHaveLength(1);
    const short = errs({ emails: true, hmac_key: 'tiny-secret' });
    expect(short).toEqual(['pseudonymize.hmac_key: at least 16 bytes are required (got 11)']);
    expect(short.join()).not.toContain('tiny-secret');
    expect(errs({ hmac_key: 'unused but harmless key' })).toEqual([]); // off without keys or emails
  });

  it('reads a key file at start; an unreadable one stops the start with its path, not its content', async () => {
    const file = join(dir, 'key');
    writeFileSync(file, `${KEY}\n`);
    const next = new RecordingConsumer();
    const p = redactionFactory.create(settingsFor(redactionFactory, { allow_all_keys: true, pseudonymize: { keys: ['user.id'], hmac_key_file: file } }), { logs: next });
    await p.start({ logger: testLogger(), metrics: new MetricsRegistry(), getExtension: () => undefined, reportFatal: () => {} });
    await p.consumeLogs!(Payload.logs(logs([{ key: 'user.id', value: 'u-7' }])));
    expect(next.logRecords[0]!.attributes[0]!.value).toBe(expected('u-7'));
    const missing = redactionFactory.create(settingsFor(redactionFactory, { allow_all_keys: true, pseudonymize: { emails: true, hmac_key_file: join(dir, 'nope') } }), { logs: next });
    await expect(missing.start({ logger: testLogger(), metrics: new MetricsRegistry(), getExtension: () => undefined, reportFatal: () => {} })).rejects.toThrow(/hmac_key_file: cannot read ".*nope": ENOENT/);
  });

  it('`trailhouse pseudonym` prints what the processor stores, from the same config', async () => {
    const keyFile = join(dir, 'cli-key');
    writeFileSync(keyFile, KEY);
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
processors:
  redaction: {allow_all_keys: true, pseudonymize: {keys: [user.email], emails: true, hmac_key_file: ${keyFile}}}
exporters: {debug: {}}
service: {pipelines: {logs: {receivers: [otlp], processors: [redaction], exporters: [debug]}}}
`);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      expect(await pseudonymCommand(['Alice@Example.COM', '--config', config])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const r = new Redactor(cfg({ keys: ['user.email'], hmac_key: KEY }));
    const d = logs([{ key: 'user.email', value: 'alice@example.com' }]);
    r.logs(d);
    expect(out.join('')).toBe(`${rec(d).attributes[0]!.value as string}\n`);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await pseudonymCommand(['x', '--config', config, '--processor', 'redaction/other'])).toBe(1);
      expect(await pseudonymCommand([])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
