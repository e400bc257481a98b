import { describe, expect, it } from 'vitest';
import { compressSync } from 'snappy';
import type { KeyValue } from '../../core/model.ts';
import { KvList } from '../../core/model.ts';
import { addJsonLineAttributes } from '../../lib/mesh/json-line.ts';
import { SnappyTooLarge, snappyBlockDecode, snappyDeclaredLength } from '../../lib/snappy-block.ts';
import { parseLabels } from './labels.ts';

const parse = (t: string) => {
  const out: KeyValue[] = [];
  parseLabels(t, out);
  return Object.fromEntries(out.map((kv) => [kv.key, kv.value]));
};

describe('stream labels', () => {
  it("reads Prometheus' selector text with Go escapes, either quote, spacing and a trailing comma", () => {
    expect(parse('{a="b"}')).toEqual({ a: 'b' });
    expect(parse(' { a = "x\\ny\\t\\\\z" , b=\'q"\', c="\\u00e9\\U0001F600\\x41", } ')).toEqual({ a: 'x\ny\t\\z', b: 'q"', c: 'é😀A' });
    expect(parse('up{job="envoy"}')).toEqual({ __name__: 'up', job: 'envoy' });
    expect(parse('{}')).toEqual({});
  });

  it('refuses anything else with where and why', () => {
    for (const [t, why] of [
      ['a="b"', /expected \{/], ['{a="b"', /expected , or \}/], ['{a=b}', /quoted label value/], ['{a!="b"}', /expected = after label a/],
      ['{a="b\\q"}', /unknown escape/], ['{a="b}', /unterminated/], ['{1a="b"}', /label name/], ['{a="b"} x', /trailing text/],
      ['{a="\\ud800"}', /bad \\u escape|not a Unicode code point/], ['{a="\\u12"}', /bad \\u escape/],
    ] as const) {
      expect(() => parse(t), t).toThrow(why);
    }
  });

  it('is linear on long hostile input', () => {
    const t0 = performance.now();
    expect(() => parse('{' + 'a="b",'.repeat(200_000))).toThrow(/expected \}/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('snappy block bound', () => {
  it('checks the declared length before decompressing', () => {
    const block = compressSync(Buffer.alloc(10_000, 7));
    expect(snappyDeclaredLength(block)).toBe(10_000);
    expect(snappyBlockDecode(block, 10_000)).toEqual(Buffer.alloc(10_000, 7));
    expect(() => snappyBlockDecode(block, 9_999)).toThrow(SnappyTooLarge);
    expect(() => snappyDeclaredLength(Buffer.from([0x80, 0x80]))).toThrow(/truncated/);
    expect(() => snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/32-bit/);
  });
});

describe('JSON lines into attributes', () => {
  it('adds top-level fields of an object line, typed, without replacing existing keys; leaves other lines alone', () => {
    const attrs: KeyValue[] = [{ key: 'app', value: 'label' }];
    expect(addJsonLineAttributes(' {"app":"x","code":403,"ratio":0.5,"ok":true,"none":null,"nested":{"a":[1]}}', attrs)).toBe(true);
    expect(attrs.slice(0, 4)).toEqual([{ key: 'app', value: 'label' }, { key: 'code', value: 403n }, { key: 'ratio', value: 0.5 }, { key: 'ok', value: true }]);
    expect(attrs[4]!.value).toEqual(new KvList([{ key: 'a', value: [1n] }]));
    for (const line of ['plain', '[1,2]', '{"broken"', '"{}"', '']) expect(addJsonLineAttributes(line, [])).toBe(false);
  });
});
