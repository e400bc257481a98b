/**
 * A small config schema language. Each component declares the shape of its
 * config once; `decode` overlays the user's YAML on the component's defaults,
 * rejects unknown keys, converts durations and sizes, and collects every
 * problem with its path instead of stopping at the first
 * (`exporters.clickhouse.ttl: expected a duration like 72h, got "3 days"`).
 * Decoding is pure: no I/O, no network.
 */

import { isSecretKey, scrubText } from '../secrets.ts';

export interface ConfigError {
  path: string;
  message: string;
}

export type Schema =
  | { kind: 'string'; enum?: readonly string[]; nonEmpty?: boolean }
  /** `aliases`: words that stand for a number (`all` for -1). */
  | { kind: 'int'; min?: number; max?: number; aliases?: Readonly<Record<string, number>> }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'bool' }
  /** Go-style duration ("500ms", "10s", "1h30m"), decoded to milliseconds. 0 allowed. */
  | { kind: 'duration' }
  /** A byte size: an integer, or "20MiB", "512KiB", "1GB"; decoded to bytes. */
  | { kind: 'bytes' }
  /** host:port. */
  | { kind: 'endpoint' }
  | { kind: 'object'; fields: Record<string, Schema>; allowNull?: boolean }
  | { kind: 'map'; values: Schema }
  | { kind: 'list'; items: Schema }
  /** Kept as is (free-form user data). */
  | { kind: 'any' }
  /** May be absent / null (decoded to null), otherwise the inner schema. */
  | { kind: 'optional'; inner: Schema }
  /**
   * A feature switched on by naming it, as the Collector's receiver protocols:
   * absent → null (off); present, even as a bare `key:` → `defaults()` overlaid
   * with what is given.
   */
  | { kind: 'section'; inner: Schema; defaults: () => unknown }
  /**
   * A key the Collector has and this component cannot honour: absent is
   * fine, and so is a value `accepts` (one that asks for what the component
   * does anyway); any other value is refused with `reason`, so a config
   * carried over from the Collector fails on that key with why, never
   * silently.
   */
  | { kind: 'refused'; reason: string; accepts?: (v: unknown) => boolean }
  /** A list decoded by `list`, or a mapping by `map` (a key the Collector changed from one form to the other). */
  | { kind: 'listOrMap'; list: Schema; map: Schema };

export const s = {
  string: (opts: { enum?: readonly string[]; nonEmpty?: boolean } = {}): Schema => ({ kind: 'string', ...opts }),
  int: (opts: { min?: number; max?: number; aliases?: Readonly<Record<string, number>> } = {}): Schema => ({ kind: 'int', ...opts }),
  number: (opts: { min?: number; max?: number } = {}): Schema => ({ kind: 'number', ...opts }),
  bool: (): Schema => ({ kind: 'bool' }),
  duration: (): Schema => ({ kind: 'duration' }),
  bytes: (): Schema => ({ kind: 'bytes' }),
  endpoint: (): Schema => ({ kind: 'endpoint' }),
  object: (fields: Record<string, Schema>, opts: { allowNull?: boolean } = {}): Schema => ({
    kind: 'object',
    fields,
    ...opts,
  }),
  map: (values: Schema): Schema => ({ kind: 'map', values }),
  list: (items: Schema): Schema => ({ kind: 'list', items }),
  any: (): Schema => ({ kind: 'any' }),
  optional: (inner: Schema): Schema => ({ kind: 'optional', inner }),
  section: (inner: Schema, defaults: () => unknown): Schema => ({ kind: 'section', inner, defaults }),
  listOrMap: (list: Schema, map: Schema): Schema => ({ kind: 'listOrMap', list, map }),
  refused: (reason: string, accepts?: (v: unknown) => boolean): Schema => ({ kind: 'refused', reason, ...(accepts ? { accepts } : {}) }),
};

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses "1h30m", "250ms", "10s", "0" into milliseconds; undefined when invalid. */
export function parseDuration(v: unknown): number | undefined {
  if (v === 0 || v === '0') return 0;
  if (typeof v !== 'string') return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === v.length && v.length > 0 ? total : undefined;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Overlays `user` on `defaults` following `schema`. Returns the merged value;
 * problems are pushed to `errors`, each with its dotted path.
 */
export function decode(schema: Schema, defaults: unknown, user: unknown, path: string, errors: ConfigError[]): unknown {
  const fail = (message: string): unknown => {
    // A wrongly typed password is still a password: never echo a secret key's value.
    const last = path.slice(path.lastIndexOf('.') + 1);
    if (isSecretKey(last)) message = message.replace(/, got [\s\S]*$/, ' (the value is not shown)');
    errors.push({ path, message: scrubText(message) });
    return defaults;
  };
  if (schema.kind === 'optional') {
    if (user === undefined) return defaults ?? null;
    if (user === null) return null;
    return decode(schema.inner, defaults ?? undefined, user, path, errors);
  }
  if (schema.kind === 'section') {
    if (user === undefined) return defaults ?? null;
    return decode(schema.inner, defaults ?? schema.defaults(), user ?? {}, path, errors);
  }
  if (schema.kind === 'refused') {
    if (user === undefined) return defaults;
    if (schema.accepts?.(user)) return user;
    errors.push({ path, message: schema.reason });
    return undefined;
  }
  if (schema.kind === 'listOrMap') {
    if (user === undefined) return defaults;
    return decode(Array.isArray(user) ? schema.list : schema.map, Array.isArray(user) ? undefined : defaults, user, path, errors);
  }
  if (user === undefined) {
    if (schema.kind === 'object') return decode(schema, defaults, {}, path, errors);
    return defaults;
  }
  switch (schema.kind) {
    case 'string': {
      if (typeof user === 'number' || typeof user === 'boolean') user = String(user);
      if (typeof user !== 'string') return fail(`expected a string, got ${describe(user)}`);
      if (schema.enum && !schema.enum.includes(user)) {
        return fail(`expected one of ${schema.enum.join(', ')}, got ${JSON.stringify(user)}`);
      }
      if (schema.nonEmpty && user === '') return fail('must not be empty');
      return user;
    }
    case 'int':
    case 'number': {
      if (schema.kind === 'int' && typeof user === 'string' && schema.aliases && Object.hasOwn(schema.aliases, user)) return schema.aliases[user];
      const n = typeof user === 'string' && user.trim() !== '' ? Number(user) : user;
      if (typeof n !== 'number' || Number.isNaN(n)) return fail(`expected a number, got ${describe(user)}`);
      if (schema.kind === 'int' && !Number.isInteger(n)) return fail(`expected an integer, got ${describe(user)}`);
      if (schema.min !== undefined && n < schema.min) return fail(`must be at least ${schema.min}, got ${n}`);
      if (schema.max !== undefined && n > schema.max) return fail(`must be at most ${schema.max}, got ${n}`);
      return n;
    }
    case 'bool':
      if (user === 'true' || user === 'false') return user === 'true';
      if (typeof user !== 'boolean') return fail(`expected true or false, got ${describe(user)}`);
      return user;
    case 'duration': {
      const ms = parseDuration(user);
      return ms === undefined ? fail(`expected a duration like 72h, 30s or 500ms, got ${describe(user)}`) : ms;
    }
    case 'bytes': {
      const n = parseBytes(user);
      return n === undefined ? fail(`expected a size like 20MiB or 1048576, got ${describe(user)}`) : n;
    }
    case 'endpoint': {
      if (typeof user !== 'string' || !/^(\[[^\]]+\]|[^:\s]*):\d{1,5}$/.test(user)) {
        return fail(`expected host:port, got ${describe(user)}`);
      }
      const port = Number(user.slice(user.lastIndexOf(':') + 1));
      if (port > 65535) return fail(`port must be at most 65535, got ${port}`);
      return user;
    }
    case 'any':
      return user;
    case 'list': {
      if (!Array.isArray(user)) return fail(`expected a list, got ${describe(user)}`);
      return user.map((item, i) => decode(schema.items, undefined, item, `${path}[${i}]`, errors));
    }
    case 'map': {
      if (user === null) return defaults ?? {};
      if (!isPlainObject(user)) return fail(`expected a mapping, got ${describe(user)}`);
      const base = isPlainObject(defaults) ? defaults : {};
      const out: Record<string, unknown> = { ...base };
      for (const [k, v] of Object.entries(user)) {
        // `__proto__` would set the result's prototype rather than add an entry.
        if (k === '__proto__') {
          errors.push({ path: join(path, k), message: 'a key named __proto__ is not allowed' });
          continue;
        }
        out[k] = decode(schema.values, own(base, k), v, join(path, k), errors);
      }
      return out;
    }
    case 'object': {
      // A bare `key:` in YAML is null: the component with its defaults.
      if (user === null) user = {};
      if (!isPlainObject(user)) return fail(`expected a mapping, got ${describe(user)}`);
      const base = isPlainObject(defaults) ? defaults : {};
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(schema.fields)) {
        out[k] = decode(sub, own(base, k), own(user, k), join(path, k), errors);
      }
      for (const k of Object.keys(user)) {
        // Own keys only: `constructor:` or `toString:` is unknown, not Object's.
        if (!Object.hasOwn(schema.fields, k)) {
          errors.push({
            path: join(path, k),
            message: `unknown key (valid keys: ${Object.keys(schema.fields).join(', ') || 'none'})`,
          });
        }
      }
      return out;
    }
  }
}

/** `o[k]` if `o` has it as its own key (never a prototype's member). */
function own(o: Record<string, unknown>, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function formatErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(readonly errors: readonly ConfigError[]) {
    super(`invalid configuration:\n${formatErrors(errors)}`);
  }
}
