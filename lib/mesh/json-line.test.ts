import { describe, expect, it } from 'vitest';
import { getAttr, KvList, newLogRecord } from '../../core/model.ts';
import { jsonBodyFields, liftJsonBody } from './json-line.ts';

describe('JSON access lines in the body', () => {
  it('lifts top-level fields with OTLP types; existing attributes win; nulls are skipped', () => {
    const r = newLogRecord({ body: ' {"response_code":403,"duration":1.5,"path":"/admin","upstream":null,"tls":{"v":"1.3"},"flags":["UF"],"pod":"x"}', attributes: [{ key: 'pod', value: 'from-shipper' }] });
    expect(liftJsonBody(r)).toBe(true);
    expect(getAttr(r.attributes, 'response_code')).toBe(403n);
    expect(getAttr(r.attributes, 'duration')).toBe(1.5);
    expect(getAttr(r.attributes, 'tls')).toEqual(new KvList([{ key: 'v', value: '1.3' }]));
    expect(getAttr(r.attributes, 'flags')).toEqual(['UF']);
    expect(getAttr(r.attributes, 'pod')).toBe('from-shipper');
    expect(r.attributes.some((a) => a.key === 'upstream')).toBe(false);
    expect(typeof r.body).toBe('string');
  });

  it('leaves everything else alone', () => {
    for (const body of ['[2024-05-14T09:12:03.456Z] "GET / HTTP/1.1" 200', '{not json', '[1,2]', '"s"', '{', 42, undefined]) {
      expect(jsonBodyFields(body as never)).toBeUndefined();
    }
    expect(jsonBodyFields('{' + '"k":"v",'.repeat(10_000) + '"e":1}')).toBeUndefined(); // over the size bound
  });
});
