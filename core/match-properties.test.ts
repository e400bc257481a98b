import { describe, expect, it } from 'vitest';
import { compileMatch, compileSkip, matchDefaults, severityNumber, validateMatchProperties, type MatchPropertiesConfig } from './match-properties.ts';
import { KvList, newLogRecord, newSpan, type KeyValue, type Resource } from './model.ts';

const mp = (p: Partial<MatchPropertiesConfig>) => matchDefaults(p);
const resource = (attrs: KeyValue[]): Resource => ({ attributes: attrs, droppedAttributesCount: 0 });
const scope = { name: 'io.opentelemetry.envoy', version: '1.31.2', attributes: [], droppedAttributesCount: 0 };
const checkout = resource([{ key: 'service.name', value: 'checkout' }, { key: 'k8s.namespace.name', value: 'shop' }]);

describe('match properties (the Collector\'s include/exclude)', () => {
  it('strict: lists are OR, properties AND; attribute values equal in type and value', () => {
    const m = compileMatch(mp({ match_type: 'strict', services: ['checkout', 'cart'], span_names: ['GET /pay'], attributes: [{ key: 'http.status_code', value: 500 }, { key: 'peer', value: undefined }] }));
    const span = (name: string, attrs: KeyValue[]) => newSpan({ name, attributes: attrs });
    const good = [{ key: 'http.status_code', value: 500n }, { key: 'peer', value: 'x' }];
    expect(m.span(span('GET /pay', good), checkout, scope)).toBe(true);
    expect(m.span(span('GET /pay', good), resource([{ key: 'service.name', value: 'ads' }]), scope)).toBe(false);
    expect(m.span(span('GET /payments', good), checkout, scope)).toBe(false); // strict: whole string
    expect(m.span(span('GET /pay', [{ key: 'http.status_code', value: '500' }, { key: 'peer', value: 1n }]), checkout, scope)).toBe(false); // string ≠ int
    expect(m.span(span('GET /pay', [{ key: 'http.status_code', value: 500n }]), checkout, scope)).toBe(false); // peer absent
  });

  it('regexp: unanchored RE2 patterns; attribute values by their string form', () => {
    const m = compileMatch(mp({ match_type: 'regexp', span_kinds: ['SERVER'], resources: [{ key: 'k8s.namespace.name', value: '^sh' }], attributes: [{ key: 'code', value: '^5\\d\\d$' }] }));
    const sp = (kind: number, code: unknown) => newSpan({ kind, attributes: [{ key: 'code', value: code as never }] });
    expect(m.span(sp(2, 503n), checkout, scope)).toBe(true);
    expect(m.span(sp(2, '502'), checkout, scope)).toBe(true);
    expect(m.span(sp(2, 404n), checkout, scope)).toBe(false);
    expect(m.span(sp(3, 503n), checkout, scope)).toBe(false); // SPAN_KIND_CLIENT
    expect(m.span(sp(2, new KvList([])), checkout, scope)).toBe(false); // maps have no string form here
    expect(m.span(sp(2, 503n), resource([{ key: 'k8s.namespace.name', value: 'mesh' }]), scope)).toBe(false);
  });

  it('logs: bodies, severity texts and numbers (match_undefined), libraries with versions', () => {
    const m = compileMatch(mp({ match_type: 'regexp', log_bodies: ['health'], log_severity_number: { min: 'warn', match_undefined: true }, libraries: [{ name: 'envoy$', version: '^1\\.31' }] }));
    const log = (body: string, severityNumber: number) => newLogRecord({ body, severityNumber });
    expect(m.log(log('GET /healthz', 13), checkout, scope)).toBe(true);
    expect(m.log(log('GET /healthz', 0), checkout, scope)).toBe(true); // undefined severity, match_undefined
    expect(m.log(log('GET /healthz', 9), checkout, scope)).toBe(false); // INFO < WARN
    expect(m.log(log('GET /cart', 17), checkout, scope)).toBe(false);
    expect(m.log(log('GET /healthz', 17), checkout, { ...scope, version: '1.30.0' })).toBe(false);
  });

  it('include then exclude: skip what include misses or exclude hits', () => {
    const skip = compileSkip(mp({ match_type: 'strict', services: ['checkout'] }), mp({ match_type: 'strict', span_names: ['health'] }))!;
    expect(skip.span(newSpan({ name: 'pay' }), checkout, scope)).toBe(false);
    expect(skip.span(newSpan({ name: 'health' }), checkout, scope)).toBe(true);
    expect(skip.span(newSpan({ name: 'pay' }), resource([]), scope)).toBe(true); // <nil-service-name>
    expect(compileSkip(null, null)).toBeNull();
  });

  it('validation as the Collector\'s, with what each object can select', () => {
    const v = (p: Partial<MatchPropertiesConfig>) => validateMatchProperties(mp(p), 'include');
    expect(v({ match_type: 'strict', services: ['a'] })).toEqual({ errors: [], logs: false, traces: true });
    expect(v({ match_type: 'strict', log_bodies: ['a'] })).toEqual({ errors: [], logs: true, traces: false });
    expect(v({ match_type: 'strict', attributes: [{ key: 'a', value: 1 }] })).toEqual({ errors: [], logs: true, traces: true });
    expect(v({ services: ['a'] }).errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['include.match_type: expected strict or regexp, got ""']);
    expect(v({ match_type: 'strict' }).errors[0]!.message).toMatch(/needs at least one of/);
    expect(v({ match_type: 'strict', services: ['a'], log_bodies: ['b'] }).errors[0]!.message).toMatch(/mixes span properties/);
    expect(v({ match_type: 'strict', span_kinds: ['SERVER'] }).errors[0]!.path).toBe('include.span_kinds[0]');
    expect(v({ match_type: 'regexp', span_names: ['(unclosed'] }).errors[0]!.path).toBe('include.span_names[0]');
    expect(v({ match_type: 'regexp', attributes: [{ key: 'a', value: 5 }] }).errors[0]!.message).toBe('match_type regexp takes a string pattern');
    expect(v({ match_type: 'strict', log_severity_number: { min: 'LOUD', match_undefined: false } }).errors[0]!.path).toBe('include.log_severity_number.min');
    expect([severityNumber('info'), severityNumber('WARN3'), severityNumber(24), severityNumber('17'), severityNumber('FATAL5')]).toEqual([9, 15, 24, 17, 0]);
  });
});
