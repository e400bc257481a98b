/**
 * Loki's stream labels in the protobuf push (`StreamAdapter.labels`): the
 * Prometheus series selector text `{job="envoy", namespace="mesh"}` (an
 * optional metric name before the braces is read as `__name__`, as
 * Prometheus' parser does). Values are double- or single-quoted with Go's
 * escapes. Anything else is refused with where and why.
 */
import type { KeyValue } from '../../core/model.ts';

const NAME_START = /[a-zA-Z_]/;
const NAME_CHAR = /[a-zA-Z0-9_]/;
const METRIC_CHAR = /[a-zA-Z0-9_:]/;

export class LabelError extends Error {
  override readonly name = 'LabelError';
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Parses `{a="b", …}` into attributes (appended to `into`, in order). */
export function parseLabels(text: string, into: KeyValue[]): void {
  let i = 0;
  const n = text.length;
  const fail = (why: string): never => {
    throw new LabelError(`invalid stream labels ${JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text)}: ${why} at offset ${i}`);
  };
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  ws();
  if (i < n && text[i] !== '{') {
    const start = i;
    if (!/[a-zA-Z_:]/.test(text[i]!)) fail('expected { or a metric name');
    while (i < n && METRIC_CHAR.test(text[i]!)) i++;
    into.push({ key: '__name__', value: text.slice(start, i) });
    ws();
  }
  if (text[i] !== '{') fail('expected {');
  i++;
  ws();
  while (i < n && text[i] !== '}') {
    const start = i;
    if (!NAME_START.test(text[i]!)) fail('expected a label name');
    while (i < n && NAME_CHAR.test(text[i]!)) i++;
    const key = text.slice(start, i);
    ws();
    if (text[i] !== '=') fail(`expected = after label ${key} (only equality matchers name a stream)`);
    i++;
    if (text[i] === '~') fail(`a regex matcher for label ${key} (only equality matchers name a stream)`);
    ws();
    const q = text[i];
    if (q !== '"' && q !== "'") fail('expected a quoted label value');
    i++;
    let value = '';
    let run = i;
    for (;;) {
      if (i >= n) fail('unterminated label value');
      const c = text[i]!;
      if (c === q) break;
      if (c === '\n') fail('newline in label value');
      if (c !== '\\') {
        i++;
        continue;
      }
      value += text.slice(run, i);
      const e = text[i + 1];
      if (e === undefined) fail('unterminated escape');
      if (ESCAPES[e!] !== undefined) {
        value += ESCAPES[e!];
        i += 2;
      } else if (e === 'u' || e === 'U' || e === 'x') {
        const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
        const hex = text.slice(i + 2, i + 2 + len);
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) fail(`bad \\${e} escape`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail(`escape \\${e}${hex} is not a Unicode code point`);
        value += String.fromCodePoint(cp);
        i += 2 + len;
      } else {
        fail(`unknown escape \\${e}`);
      }
      run = i;
    }
    value += text.slice(run, i);
    i++; // closing quote
    into.push({ key, value });
    ws();
    if (text[i] === ',') {
      i++;
      ws();
    } else if (text[i] !== '}') {
      fail('expected , or }');
    }
  }
  if (text[i] !== '}') fail('expected }');
  i++;
  ws();
  if (i !== n) fail('trailing text after }');
}
