/**
 * `${env:VAR}` and `${env:VAR:-default}` substitution, applied to string
 * values after YAML parsing (as the Collector's confmap does), so a variable
 * can never inject YAML structure. A value that is exactly one reference takes
 * the variable's YAML scalar type (`${env:PORT}` → 4317 as a number); inside a
 * longer string it is spliced as text. `$$` escapes a literal `$`.
 */
import { parse as parseYaml } from 'yaml';
import type { ConfigError } from './schema.ts';

const REF = /\$\$|\$\{(env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{(env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

function lookup(name: string, fallback: string | undefined, env: NodeJS.ProcessEnv): string {
  const v = env[name];
  if (v !== undefined && v !== '') return v;
  return fallback ?? '';
}

function scalar(text: string): unknown {
  try {
    const v: unknown = parseYaml(text);
    return v === null || typeof v === 'object' ? text : v;
  } catch {
    return text;
  }
}

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, path: string, errors: ConfigError[]): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return scalar(lookup(whole[2]!, whole[3], env));
    if (value.includes('${') && !/\$\{(env:)?[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/.test(value) && !value.includes('$${')) {
      errors.push({ path: path || '(root)', message: `malformed variable reference in ${JSON.stringify(value)}: expected \${env:NAME} or \${env:NAME:-default}` });
    }
    return value.replace(REF, (m, _env, name: string | undefined, def: string | undefined) =>
      m === '$$' ? '$' : lookup(name!, def, env),
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`, errors));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    // defineProperty: a `__proto__` key stays an own key (and is then refused
    // as unknown) rather than setting the copy's prototype.
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: expandEnv(v, env, path ? `${path}.${k}` : k, errors), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
