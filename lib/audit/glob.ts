/**
 * Path globs for sensitive endpoints and `trailhouse audit --path`:
 * `*` matches within one segment, `**` across segments, `?` one character.
 * As in Spring's AntPathMatcher, a trailing `/**` also matches the bare
 * prefix (`/admin/**` matches `/admin`), which is what people mean by it.
 */

const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (re) return re;
  // `/admin/**` → the prefix `/admin` followed by nothing or by `/...`.
  const src = glob.endsWith('/**') ? translate(glob.slice(0, -3)) + '(?:/.*)?' : translate(glob);
  re = new RegExp(`^${src}$`);
  if (cache.size < 1000) cache.set(glob, re);
  return re;
}

function translate(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

export function matchAny(globs: readonly RegExp[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}
