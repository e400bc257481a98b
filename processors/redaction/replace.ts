/** Go's regexp ReplaceAllStringFunc semantics over a JS RegExp (the Collector's masking). */

/**
 * Every match of `re` replaced by `fn(match)`, as Go's ReplaceAllStringFunc
 * does it: an empty match right after the previous match is skipped (so
 * `.*` masks "abc" once, not twice as String#replace would).
 */
export function replaceAllGo(s: string, re: RegExp, fn: (m: string) => string): string {
  re.lastIndex = 0;
  let out = '';
  let last = 0;
  let prevEnd = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const start = m.index;
    const len = m[0].length;
    if (len === 0) {
      const cp = s.codePointAt(start);
      re.lastIndex = start + (cp !== undefined && cp > 0xffff ? 2 : 1);
      if (start === prevEnd) continue;
    }
    out += s.slice(last, start) + fn(m[0]);
    last = start + len;
    prevEnd = last;
  }
  return last === 0 && prevEnd === -1 ? s : out + s.slice(last);
}
