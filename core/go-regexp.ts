/**
 * Regular expressions as Collector configs write them (Go RE2), for
 * JavaScript: a leading inline flag group such as `(?i)` becomes the
 * JavaScript flag; the rest of RE2's syntax that people use in these configs
 * (classes, groups, alternation, quantifiers, anchors) means the same here.
 * Used by the redaction, attributes and resource processors.
 */

const INLINE_FLAGS = /^\(\?([imsU]+)\)/;

/**
 * A Go (RE2) pattern as a JavaScript RegExp, global for replacing. Throws a
 * readable error when it cannot be compiled.
 */
export function compilePattern(pattern: string): RegExp {
  let src = pattern;
  let flags = 'g';
  const m = INLINE_FLAGS.exec(src);
  if (m) {
    if (m[1]!.includes('U')) throw new Error(`the (?U) flag (ungreedy) has no JavaScript equivalent`);
    src = src.slice(m[0].length);
    for (const f of new Set(m[1]!)) flags += f;
  }
  try {
    return new RegExp(src, `${flags}u`);
  } catch {
    // Unicode mode refuses some escapes RE2 accepts (`\-` outside a class); retry without it.
    try {
      return new RegExp(src, flags);
    } catch (err) {
      throw new Error((err as Error).message.replace(/^Invalid regular expression: /, ''));
    }
  }
}

/**
 * Go's `(?P<name>…)` (or `(?<name>…)`) groups renamed g0, g1, … in order,
 * their names pushed to `names`: Go allows dots in group names (usual in
 * OTel attribute names), JavaScript does not.
 */
export function goNamedGroups(pattern: string, names?: string[]): string {
  let n = 0;
  return pattern.replace(/\(\?P?<([^>=!][^>]*)>/g, (_m, name: string) => {
    names?.push(name);
    return `(?<g${n++}>`;
  });
}
