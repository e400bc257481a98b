/**
 * What the tests require of report.html: it fetches nothing (no src, no
 * external href, no url() or @import, no script, no link element), and it
 * parses: every non-void element closes in order and no stray `<` is left in
 * text (data reaching the page unescaped would show up as one).
 */
import { expect } from 'vitest';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'area', 'base', 'wbr', 'source']);

export function checkHtml(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(html).not.toMatch(/\ssrc\s*=/i);
  expect(html).not.toMatch(/<(script|link|iframe|object|embed|img)\b/i);
  expect(html).not.toMatch(/url\(|@import/i);
  for (const m of html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)) expect(m[1]!.startsWith('#'), m[1]).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"<]*")?)*)\s*(\/?)>/g;
  let last = 0;
  const text: string[] = [];
  for (const m of html.slice(html.indexOf('>') + 1).matchAll(tag)) {
    text.push(html.slice(html.indexOf('>') + 1).slice(last, m.index));
    last = m.index! + m[0].length;
    const [, close, name, , selfClose] = m;
    const n = name!.toLowerCase();
    if (close) {
      expect(stack.pop(), `closing </${n}>`).toBe(n);
    } else if (!selfClose && !VOID.has(n)) stack.push(n);
  }
  expect(stack).toEqual([]);
  for (const t of text) expect(t, 'a stray < in text').not.toContain('<');
  // <style> content is text too: it must not hold a tag.
}
