/**
 * The bytes fast path and the built-in detectors over every place a secret
 * can hide in a log record or a span, through redactPayload as the
 * processor runs it.
 */
import { describe, expect, it } from 'vitest';
import { KvList, newLogRecord, type LogsData } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { meshAccessLogs, meshSpans } from '../../core/otlp/fixtures.ts';
import { configFor } from '../../test/component-config.ts';
import { INNOCENTS, leaks, plantedLogs, plantedSpans, scope } from '../../test/redaction-corpus.ts';
import { decidesFromBytes, defaultRedactionConfig, type RedactionConfig } from './config.ts';
import { redactionFactory } from './factory.ts';
import { newTally, redactPayload } from './processor.ts';
import { Redactor } from './redaction.ts';
import { Payload } from '../../core/payload.ts';

/** What the default pipeline.yaml configures. */
const DEFAULTS: RedactionConfig = { ...defaultRedactionConfig(), allow_all_keys: true, mask_credentials: true, mask_payment_cards: true, summary: 'debug' };

const dump = (d: unknown) => JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));

describe('redaction over every place, bytes in and bytes out', () => {
  it('logs: no planted secret survives; innocents, ints that are not cards, and the record count do', () => {
    const { data, secrets } = plantedLogs('P');
    const bytes = encodeLogsProto(data);
    expect(leaks(Buffer.from(bytes).toString('latin1'), secrets)).toHaveLength(secrets.length); // all planted
    const t = newTally();
    const out = redactPayload(new Redactor(DEFAULTS), Payload.scan('logs', bytes), true, t);
    expect(t).toMatchObject({ decoded: 1, changed: 1, passed: 0 });
    expect(out.content.kind).toBe('bytes'); // still bytes
    const stored = Buffer.from(out.bytes()![0]!).toString('latin1');
    expect(leaks(stored, secrets)).toEqual([]);
    for (const s of INNOCENTS) expect(stored).toContain(s);
    const rec = decodeLogsProto(out.bytes()![0]!).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    const attr = (k: string) => rec.attributes.find((a) => a.key === k)?.value;
    expect(attr('card.int')).toBe('****');
    expect(attr('gen_ai.usage.input_tokens')).toBe(1234n);
    expect(attr('note.0')).toBe('Authorization: Bearer ****');
    expect(attr('redaction.masked.keys')).toContain('http.request.header.authorization');
    expect(attr('redaction.body.masked.count')).toBe(1n);
  });

  it('traces: span names, events, links, status messages, resource and scope', () => {
    const { data, secrets } = plantedSpans('Q');
    const out = redactPayload(new Redactor(DEFAULTS), Payload.scan('traces', encodeTracesProto(data)), true);
    const stored = Buffer.from(out.bytes()![0]!).toString('latin1');
    expect(leaks(stored, secrets)).toEqual([]);
    for (const s of INNOCENTS) expect(stored).toContain(s);
    const span = decodeTracesProto(out.bytes()![0]!).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.name).toContain('Bearer ****');
    expect(span.status.message).toContain('access_token=****');
  });

  it('the records path (an OTLP/JSON payload, decoded) masks the same, and drops the received bytes it changed', () => {
    for (const [signal, planted] of [['logs', plantedLogs('J')], ['traces', plantedSpans('J')]] as const) {
      const d = planted.data;
      const before = dump(d);
      expect(leaks(before, planted.secrets)).toHaveLength(planted.secrets.length);
      // As the OTLP receiver hands on what it decoded, with the bytes.
      const p = Payload.ofRecords<typeof signal>(signal, d as never, undefined, [new Uint8Array([1])]);
      const out = redactPayload(new Redactor(DEFAULTS), p, true);
      expect(out).toBe(p);
      expect(out.bytes()).toBeUndefined();
      expect(leaks(dump(out.records()), planted.secrets)).toEqual([]);
    }
  });

  it('passes mesh traffic on as the very bytes it came as, undecoded', () => {
    const logs = Payload.scan('logs', encodeLogsProto(meshAccessLogs(200)));
    const spans = Payload.scan('traces', encodeTracesProto(meshSpans(200)));
    const parts = logs.bytes()!;
    const t = newTally();
    const r = new Redactor(DEFAULTS);
    expect(redactPayload(r, logs, true, t)).toBe(logs);
    expect(redactPayload(r, spans, true, t)).toBe(spans);
    expect(logs.bytes()!).toBe(parts); // not decoded
    expect(logs.bytes()).toBe(parts);
    expect(t).toMatchObject({ passed: 2, decoded: 0 });
  });

  it('rewrites only the request that holds a secret; count and client info carry over', () => {
    const clean = encodeLogsProto(meshAccessLogs(5));
    const dirty = encodeLogsProto(plantedLogs('D').data);
    const data = Payload.ofBytes('logs', [clean, dirty], 5 + 2);
    (data.client = { addr: '10.0.0.9', metadata: new Map() } as never);
    const out = redactPayload(new Redactor(DEFAULTS), data, true);
    const parts = out.bytes()!;
    expect(out === data).toBe(true); // the same payload, its bytes replaced
    expect(out.content.kind).toBe('bytes');
    expect(out.count).toBe(7);
    expect(parts[0]).toBe(clean);
    expect(parts[1]).not.toBe(dirty);
    expect(out.client).toBe(data.client);
  });

  it('a false positive costs a decode and nothing else: the original bytes go on', () => {
    const bytes = encodeLogsProto({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: scope(), schemaUrl: '', logRecords: [newLogRecord({ body: 'please refresh your token and retry' })] }] }] });
    const data = Payload.scan('logs', bytes);
    const t = newTally();
    expect(redactPayload(new Redactor(DEFAULTS), data, true, t)).toBe(data);
    expect(t).toMatchObject({ decoded: 1, changed: 0 });
  });

  it('a card held as an int is found in the bytes, with nothing else to trigger', () => {
    for (const value of [4111111111111111n, [378282246310005n], new KvList([{ key: 'n', value: 5555555555554444n }])]) {
      const bytes = encodeLogsProto({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: scope(), schemaUrl: '', logRecords: [newLogRecord({ attributes: [{ key: 'n', value }] })] }] }] });
      const out = redactPayload(new Redactor(DEFAULTS), Payload.scan('logs', bytes), true);
      const v = decodeLogsProto(out.bytes()![0]!).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes[0]!.value;
      expect(v).toEqual(Array.isArray(value) ? ['****'] : value instanceof KvList ? new KvList([{ key: 'n', value: '****' }]) : '****');
    }
  });

  it('the pre-check never misses what the records path would change (seeded fuzz over fragments)', () => {
    const frags = ['token', 'ToKeN', '=', '%3D', ':', ' ', 'Bearer ', 'basic ', 'YWxpY2U6cHc=', 'abc123', 'eyJhbGci', '.', 'x_Y', '4111', '1111', '-', '@', 'b@x.io',
      '://', 'u:p', '/', 'é', 'à', '\u00a0', '"', 'password', 'cookie', '5555', '4444', 'AUTHORIZATION', '\n', '-----BEGIN EC PRIVATE KEY-----'];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const r = new Redactor({ ...DEFAULTS, pseudonymize: { keys: ['user.id'], emails: true, hmac_key: 'k'.repeat(32), hmac_key_file: '', prefix: 'pii:' } });
    let changed = 0;
    for (let i = 0; i < 3000; i++) {
      const s = Array.from({ length: 1 + rnd(8) }, () => frags[rnd(frags.length)]).join('');
      const key = rnd(4) === 0 ? s : 'k';
      const d: LogsData = { resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: scope(), schemaUrl: '', logRecords: [newLogRecord({ body: s, attributes: [{ key, value: s }] })] }] }] };
      const bytes = encodeLogsProto(d);
      r.resetCounts();
      r.logs(d);
      if (!r.changed) continue;
      changed++;
      expect([s, r.b.precheck.mayHold(bytes)]).toEqual([s, true]);
    }
    expect(changed).toBeGreaterThan(300);
  });

  it('the pre-check costs linear time on hostile bytes', () => {
    const p = new Redactor(DEFAULTS).b.precheck;
    for (const text of [`x://${'a:'.repeat(60_000)}`, 'token'.repeat(30_000), '1 '.repeat(60_000), `a@${'b'.repeat(100_000)}`, '\x12\x0a\x18'.repeat(40_000), 'eyJ'.repeat(40_000)]) {
      const t0 = performance.now();
      p.mayHold(Buffer.from(text, 'latin1'));
      expect([text.slice(0, 12), performance.now() - t0 < 1500]).toEqual([text.slice(0, 12), true]);
    }
  });

  it('decides from bytes only with the built-in rules: user patterns or an allowed_keys list read every record', () => {
    expect(decidesFromBytes(configFor(redactionFactory, { allow_all_keys: true, mask_credentials: true }))).toBe(true);
    expect(decidesFromBytes(configFor(redactionFactory, { allow_all_keys: true, blocked_values: ['x'] }))).toBe(false);
    expect(decidesFromBytes(configFor(redactionFactory, { allowed_keys: ['a'] }))).toBe(false);
  });
});
