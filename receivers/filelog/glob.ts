/**
 * Finding the files to tail: `include` globs minus `exclude` globs, as
 * stanza's file finder (doublestar syntax: `*` and `?` within a path
 * segment, `[...]` a character class, `**` any number of directories).
 * Each glob is walked from its longest directory prefix without wildcards,
 * never deeper than it can match.
 */
import { readdir, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

export interface CompiledGlob {
  base: string;
  re: RegExp;
  /** Directory levels below base a match can be at; Infinity with `**`. */
  depth: number;
}

const WILD = /[*?[]/;

export function compileGlob(pattern: string): CompiledGlob {
  const abs = resolve(pattern);
  const parts = abs.split(sep);
  let i = 0;
  while (i < parts.length && !WILD.test(parts[i]!)) i++;
  const base = parts.slice(0, i).join(sep) || sep;
  const rest = parts.slice(i);
  const depth = rest.includes('**') ? Number.POSITIVE_INFINITY : Math.max(0, rest.length - 1);
  return { base: i === parts.length ? parts.slice(0, -1).join(sep) || sep : base, re: new RegExp(`^${translate(abs)}$`), depth: i === parts.length ? 0 : depth };
}

function translate(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `/**/` matches one `/` too (zero directories).
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i++;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!') || cls.startsWith('^')) cls = '^' + cls.slice(1);
        out += `[${cls}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return out;
}

const MAX_DEPTH = 32;

/** Paths of the regular files matching any include glob and no exclude glob, sorted. */
export async function findFiles(include: readonly CompiledGlob[], exclude: readonly CompiledGlob[]): Promise<string[]> {
  const found = new Set<string>();
  for (const g of include) await walk(g.base, g, 0, found);
  const out: string[] = [];
  for (const p of found) if (!exclude.some((e) => e.re.test(p))) out.push(p);
  return out.sort();
}

async function walk(dir: string, g: CompiledGlob, level: number, found: Set<string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // not there (yet), or unreadable: nothing to tail there
  }
  for (const e of entries) {
    const p = dir === sep ? sep + e.name : dir + sep + e.name;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = await stat(p);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isFile && g.re.test(p)) found.add(p);
    else if (isDir && level < g.depth && level < MAX_DEPTH) await walk(p, g, level + 1, found);
  }
}
