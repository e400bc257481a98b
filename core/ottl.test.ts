import { describe, expect, it } from 'vitest';
import { KvList, newLogRecord, newSpan, type LogRecord, type Span } from './model.ts';
import { compileCondition, OttlEvalError, type OttlContext } from './ottl.ts';

const resource = { attributes: [{ key: 'service.name', value: 'checkout' }, { key: 'k8s.namespace.name', value: 'shop' }], droppedAttributesCount: 0 };
const scope = { name: 'envoy', version: '1.31', attributes: [], droppedAttributesCount: 0 };
const log = (init: Partial<LogRecord>) => ({ resource, scope, log: newLogRecord(init) });
const span = (init: Partial<Span>) => ({ resource, scope, span: newSpan(init) });
const cond = (src: string, ctx: OttlContext = 'log_record') => compileCondition(src, ctx);

describe('OTTL conditions (the subset filter configs use)', () => {
  it('paths, literals and comparisons on log records', () => {
    const r = log({
      body: 'GET /healthz 200',
      severityNumber: 9,
      severityText: 'INFO',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      attributes: [
        { key: 'http.status', value: 503n },
        { key: 'ratio', value: 0.25 },
        { key: 'ok', value: false },
        { key: 'req', value: new KvList([{ key: 'path', value: '/pay' }]) },
        { key: 'hops', value: ['a', 'b'] },
      ],
    });
    const t = (src: string) => cond(src)(r);
    expect(t('attributes["http.status"] == 503')).toBe(true);
    expect(t('attributes["http.status"] >= 500 and attributes["http.status"] < 600')).toBe(true);
    expect(t('attributes["http.status"] == "503"')).toBe(false); // int ≠ string
    expect(t('attributes["http.status"] != "503"')).toBe(true);
    expect(t('attributes["ratio"] < 0.5 and attributes["ratio"] > 0')).toBe(true); // double vs int
    expect(t('attributes["ok"] == false')).toBe(true);
    expect(t('attributes["req"]["path"] == "/pay"')).toBe(true);
    expect(t('attributes["hops"][1] == "b"')).toBe(true);
    expect(t('attributes["missing"] == nil')).toBe(true);
    expect(t('attributes["missing"] != nil')).toBe(false);
    expect(t('attributes["missing"] > 1')).toBe(false); // nil is never ordered
    expect(t('severity_number < SEVERITY_NUMBER_WARN')).toBe(true);
    expect(t('severity_number >= SEVERITY_NUMBER_INFO2')).toBe(false);
    expect(t('severity_text == "INFO"')).toBe(true);
    expect(t('trace_id.string == "0af7651916cd43dd8448eb211c80319c"')).toBe(true);
    expect(t('resource.attributes["service.name"] == "checkout"')).toBe(true);
    expect(t('instrumentation_scope.name == "envoy"')).toBe(true);
    expect(t('body > "GET"')).toBe(true); // strings order lexically
  });

  it('and / or / not / parentheses with the usual precedence; converters', () => {
    const r = log({ body: 'GET /healthz 200', attributes: [{ key: 'code', value: 200n }, { key: 'path', value: '/healthz' }] });
    const t = (src: string) => cond(src)(r);
    expect(t('false or true and true')).toBe(true);
    expect(t('(false or true) and false')).toBe(false);
    expect(t('not attributes["code"] == 500')).toBe(true);
    expect(t('not (attributes["code"] == 200 or false)')).toBe(false);
    expect(t('IsMatch(body, "/health")')).toBe(true); // unanchored, as Go's MatchString
    expect(t('IsMatch(body, "(?i)^get ")')).toBe(true);
    expect(t('IsMatch(attributes["code"], "^2\\\\d\\\\d$")')).toBe(true); // ints by their text
    expect(t('IsMatch(attributes["code"], "^2\\d\\d$")')).toBe(true); // an unknown escape is kept: \d stays \d
    expect(t('body == "GET /healthz 200" and "a\\"b" != "ab"')).toBe(true);
    expect(t('IsMatch(attributes["nope"], ".*")')).toBe(false);
    expect(t('HasPrefix(attributes["path"], "/health") and HasSuffix(body, "200")')).toBe(true);
    expect(t('IsString(body) and IsInt(attributes["code"]) and not IsDouble(attributes["code"]) and IsMap(attributes)')).toBe(true);
    expect(t('Len(body) == 16 and Len(attributes) == 2')).toBe(true);
    expect(() => t('HasPrefix(attributes["code"], "2")')).toThrow(OttlEvalError);
  });

  it('span and span event contexts', () => {
    const s = span({ name: 'GET /pay', kind: 2, status: { code: 2, message: 'boom' }, attributes: [{ key: 'http.route', value: '/pay' }] });
    expect(cond('kind == SPAN_KIND_SERVER and status.code == STATUS_CODE_ERROR', 'span')(s)).toBe(true);
    expect(cond('name == "GET /pay" and status.message == "boom"', 'span')(s)).toBe(true);
    expect(cond('end_time_unix_nano >= start_time_unix_nano and parent_span_id.string == ""', 'span')(s)).toBe(true);
    const ev = { ...s, event: { name: 'exception', timeUnixNano: 5n, attributes: [{ key: 'exception.type', value: 'IOError' }], droppedAttributesCount: 0 } };
    expect(cond('name == "exception" and attributes["exception.type"] == "IOError"', 'spanevent')(ev)).toBe(true);
    expect(cond('span.name == "GET /pay"', 'spanevent')(ev)).toBe(true);
    expect(cond('attributes["service.name"] == "checkout"', 'resource')({ resource })).toBe(true);
  });

  it('refuses what it does not offer, with a reason', () => {
    const err = (src: string, ctx: OttlContext = 'log_record') => {
      try {
        compileCondition(src, ctx);
        return 'compiled';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err('attributes["a"] == ')).toBe('expected a value, got the end');
    expect(err('name == "x"')).toBe('unknown path name in the log_record context');
    expect(err('body')).toMatch(/needs a comparison or a boolean converter/);
    expect(err('Split(body, ",") == nil')).toMatch(/function Split is not offered here \(offered: IsMatch/);
    expect(err('IsMatch(body, "(")')).toMatch(/IsMatch: invalid regular expression/);
    expect(err('IsMatch(body)')).toBe('IsMatch takes 2 arguments, got 1');
    expect(err('trace_id == "00"')).toMatch(/compare trace_id.string/);
    expect(err('severity_number > SEVERITY_NUMBER_LOUD')).toBe('unknown enum SEVERITY_NUMBER_LOUD');
    expect(err('body == "unterminated')).toBe('unterminated string');
    expect(err('attributes["a"] == 1 1')).toBe('unexpected "1"');
    expect(err('end_time_unix_nano - start_time_unix_nano > 1000', 'span')).toBe('arithmetic (+ - * /) is not offered here');
  });
});
