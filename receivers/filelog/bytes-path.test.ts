/**
 * The bytes path's JSON parser (encode.ts + json-attrs.ts) against the
 * records path (operators.ts lineRecord, then encodeLogsProto as the otlp
 * exporter encodes records): for every line of a corpus, and for the corpus
 * as one request, the two give the SAME BYTES. The corpus: the bench's
 * Envoy and Istio lines, Istio's JSON access log, every JSON value type,
 * escapes, whitespace, numbers of every form, START_TIME forms, and what
 * the scanner leaves to the records path (nested values, invalid JSON,
 * duplicate keys, index-like keys, lone surrogates, non-UTF-8 ...), plus
 * random objects and random mutations of them. Lines the scanner is meant
 * to handle itself are checked not to fall back.
 */
import { describe, expect, it } from 'vitest';
import { emptyScope, type LogRecord } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { LinesEncoder } from './encode.ts';
import { bytesParser, compileOperators, lineRecord, startTimeNanos, type OperatorConfig } from './operators.ts';
import { startTimeBytes } from './start-time.ts';
import { HANDLED, OTHERS } from './testdata/json-lines.ts';

const OBSERVED = 1_765_000_000_123_456_789n;

interface Cut {
  buf: Buffer;
  ranges: Array<[number, number]>;
}

function cut(lines: ReadonlyArray<string | Buffer>): Cut {
  const parts: Buffer[] = [];
  const ranges: Array<[number, number]> = [];
  let at = 0;
  for (const l of lines) {
    const b = typeof l === 'string' ? Buffer.from(l) : l;
    parts.push(b, Buffer.from('\n'));
    ranges.push([at, at + b.length]);
    at += b.length + 1;
  }
  return { buf: Buffer.concat(parts), ranges };
}

/** Both paths over `lines`; returns [records path bytes, bytes path bytes, lines that fell back]. */
function both(lines: ReadonlyArray<string | Buffer>, op: OperatorConfig, name?: string, path?: string, given?: Cut): [Buffer, Buffer, number] {
  const ops = compileOperators([op]);
  const { buf, ranges } = given ?? cut(lines);
  const recs: LogRecord[] = [];
  for (const [s, e] of ranges) {
    const r = lineRecord(buf.toString('utf8', s, e), OBSERVED, name, path, ops);
    if (r) recs.push(r);
  }
  const want = encodeLogsProto({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, scopeLogs: [{ scope: emptyScope(), logRecords: recs, schemaUrl: '' }], schemaUrl: '' }] });
  const enc = new LinesEncoder();
  enc.reset(OBSERVED);
  enc.file(name, path);
  enc.chunk(buf, buf.length);
  let fellBack = 0;
  const parser = bytesParser([op])!;
  for (const [s, e] of ranges) {
    enc.addParsedLine(buf, s, e, parser, (line) => {
      fellBack++;
      return lineRecord(line, OBSERVED, name, path, ops);
    });
  }
  expect(enc.count).toBe(recs.length);
  return [Buffer.from(want), Buffer.from(enc.finish()), fellBack];
}

const OPS: OperatorConfig[] = [
  { type: 'envoy_json_parser', on_error: 'send_quiet' },
  { type: 'envoy_json_parser', on_error: 'drop' },
  { type: 'json_parser' },
  { type: 'json_parser', parse_to: 'attributes', on_error: 'drop_quiet' },
];
const FILES: Array<[string | undefined, string | undefined]> = [['pod-1.log', undefined], [undefined, undefined], ['a.log', '/var/log/pods/x/a.log']];

describe('filelog bytes-path JSON parser: the same bytes as the records path', () => {
  for (const op of OPS) {
    for (const [name, path] of FILES) {
      it(`${op.type} on_error=${op.on_error ?? 'send'} name=${name} path=${path}: line by line`, () => {
        for (const line of [...HANDLED, ...OTHERS]) {
          const [want, got, fellBack] = both([line], op, name, path);
          expect(got.toString('hex'), `line ${JSON.stringify(line.toString())}`).toBe(want.toString('hex'));
          if (HANDLED.includes(line as string)) expect(fellBack, `fell back: ${line as string}`).toBe(0);
        }
      });
      it(`${op.type} on_error=${op.on_error ?? 'send'} name=${name} path=${path}: the corpus as one request`, () => {
        const lines = [...HANDLED, ...OTHERS, ...HANDLED];
        const [want, got] = both(lines, op, name, path);
        expect(got.equals(want)).toBe(true);
      });
    }
  }

  it('a valid chunk cut into lines inside a character: each part checked for UTF-8 on its own', () => {
    for (const line of ['{"a":"é日😀"}', 'plain é日😀']) {
      const text = Buffer.from(line);
      for (let k = 0; k <= text.length; k++) {
        for (const op of OPS) {
          const [want, got] = both([], op, 'f.log', undefined, { buf: text, ranges: [[0, k], [k, text.length]] });
          expect(got.toString('hex'), `${line} cut at ${k}`).toBe(want.toString('hex'));
        }
      }
    }
  });

  it('random objects, random blanks, random mutations', () => {
    let seed = 20;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const chars = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '日', '😀', '\u2028', '_', '-', '.'];
    const char = () => (rnd() < 0.01 ? pick(['\ud800', '\udfff']) : pick(chars));
    const str = () => Array.from({ length: Math.floor(rnd() * 8) }, char).join('');
    const value = (): unknown =>
      rnd() < 0.03 ? pick([[1, 'x'], { k: 1 }]) : pick([() => str(), () => rnd() < 0.5, () => null, () => Math.floor(rnd() * 2e6) - 1e6, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20), () => 2 ** 53 + 2])();
    const blank = () => pick(['', '', ' ', '\t', '\r', '  \n ']);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rnd() * 8);
      const pool = ['a', 'b', 'start_time', 'x_y', 'é', 'path', 'method', 'duration', 'k\u00e9'];
      const keys = Array.from({ length: n }, () => (rnd() < 0.03 ? pick(['1', '__proto__', 'a', str()]) : pool.splice(Math.floor(rnd() * pool.length), 1)[0]!));
      let line = blank() + '{' + keys.map((k) => `${blank()}${JSON.stringify(k)}${blank()}:${blank()}${JSON.stringify(k === 'start_time' && rnd() < 0.7 ? new Date(rnd() * 4e12).toISOString() : value())}${blank()}`).join(',') + '}' + blank();
      if (rnd() < 0.25) {
        const at = Math.floor(rnd() * line.length);
        line = rnd() < 0.5 ? line.slice(0, at) : line.slice(0, at) + pick(['"', '\\', '}', ',', 'x', '1', '\\u', ' ']) + line.slice(at + 1);
      }
      lines.push(line);
    }
    for (const op of OPS.slice(0, 3)) {
      let fell = 0;
      for (const line of lines) {
        const [want, got, fellBack] = both([line], op, 'f.log');
        expect(got.toString('hex'), `line ${JSON.stringify(line)}`).toBe(want.toString('hex'));
        fell += fellBack;
      }
      // Both sides of the scanner are exercised: many lines it handles, many it leaves to the records path.
      expect(fell).toBeGreaterThan(lines.length / 10);
      expect(fell).toBeLessThan(lines.length * 0.9);
    }
  });

  it('START_TIME from bytes equals startTimeNanos of the string', () => {
    const out = { hasTime: false, timeLo: 0, timeHi: 0 };
    const forms = ['2024-05-14T09:12:03.456Z', '2038-01-19T03:14:08Z', '2099-12-31T23:59:59.999999999Z', '1970-01-01T00:00:00.000001Z', '2024-02-29T12:00:00.1234567Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z'];
    for (let i = 0; i < 2000; i++) {
      const iso = new Date(Math.floor(Math.random() * 4.1e12)).toISOString();
      const digits = String(Math.floor(Math.random() * 1e9)).padStart(9, '0').slice(0, 1 + Math.floor(Math.random() * 9));
      forms.push(iso.replace(/\.\d+Z$/, Math.random() < 0.1 ? 'Z' : `.${digits}Z`));
    }
    for (const f of forms) {
      const b = Buffer.from(f);
      startTimeBytes(b, 0, b.length, out);
      const want = BigInt.asUintN(64, startTimeNanos(f));
      expect(BigInt(out.timeHi) * 2n ** 32n + BigInt(out.timeLo), f).toBe(want);
      expect(out.hasTime).toBe(want !== 0n);
    }
  });
});
