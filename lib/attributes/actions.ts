/**
 * Attribute actions, as the Collector's attributes and resource processors
 * apply them (its `attraction` package), in config order, to one attribute
 * list:
 *
 * - `insert` (key absent), `update` (key present), `upsert` (either): the
 *   value from `value` (typed as written in YAML: string, int, double, bool),
 *   copied `from_attribute`, or `from_context`: the sender's `client.address`,
 *   `auth.<name>` (the authenticated sender: `auth.subject`, basicauth's
 *   `auth.username`; core/auth.ts), or a client metadata key
 *   (`metadata.x-tenant` or just `x-tenant`; its
 *   values joined with `;`), as the receiver kept it (`include_metadata`,
 *   core/client.ts) — no value there, no change;
 * - `delete`: the `key`, and every key matching `pattern`;
 * - `hash`: the value's SHA-256 in hex (strings by their bytes, ints and
 *   doubles as 8 little-endian bytes, bools as one byte), for `key` and keys
 *   matching `pattern`;
 * - `extract`: the named groups of `pattern` matched on the string value of
 *   `key` become attributes (overwriting);
 * - `convert`: to `converted_type` int, double or string; a value that does
 *   not convert is left as it is.
 */
import { createHash } from 'node:crypto';
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { setAttr, type AnyValue, type KeyValue } from '../../core/model.ts';
import { asString } from '../../core/otlp/anyvalue.ts';
import { compilePattern, goNamedGroups } from '../../core/go-regexp.ts';
import { authValue, metadataValues, type ClientInfo } from '../../core/client.ts';

export type ActionName = 'insert' | 'update' | 'upsert' | 'delete' | 'hash' | 'extract' | 'convert';
const ACTIONS: readonly ActionName[] = ['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert'];

export interface ActionConfig {
  key: string;
  action: string;
  value: unknown;
  from_attribute: string;
  from_context: string;
  pattern: string;
  converted_type: string;
}

export const actionSchema: Schema = s.object({
  key: s.string(),
  action: s.string(),
  value: s.any(),
  from_attribute: s.string(),
  from_context: s.string(),
  pattern: s.string(),
  converted_type: s.string(),
});

export const actionDefaults = (): ActionConfig => ({ key: '', action: '', value: undefined, from_attribute: '', from_context: '', pattern: '', converted_type: '' });

/** An action as decoded from a list item (absent keys undefined), with the defaults filled in. */
export function withDefaults(a: Partial<ActionConfig>): ActionConfig {
  const d = actionDefaults();
  for (const k of Object.keys(d) as Array<keyof ActionConfig>) if (a[k] !== undefined) (d as unknown as Record<string, unknown>)[k] = a[k];
  return d;
}

/** The YAML value as an attribute value: integers as OTLP ints, other numbers as doubles. */
function yamlValue(v: unknown): AnyValue | undefined {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  return undefined;
}

/** Checks the actions the Collector would refuse to start with; paths are `actions[i]…`. */
export function validateActions(actions: ActionConfig[]): ConfigError[] {
  const errors: ConfigError[] = [];
  if (actions.length === 0) errors.push({ path: 'actions', message: 'must list at least one action' });
  actions.forEach((a, i) => {
    const at = `actions[${i}]`;
    const action = a.action.toLowerCase() as ActionName;
    if (!ACTIONS.includes(action)) {
      errors.push({ path: `${at}.action`, message: `expected one of ${ACTIONS.join(', ')}, got ${JSON.stringify(a.action)}` });
      return;
    }
    const sources = (a.value !== undefined && a.value !== null ? 1 : 0) + (a.from_attribute ? 1 : 0) + (a.from_context ? 1 : 0);
    if (a.from_context === 'auth.' || a.from_context === 'auth') errors.push({ path: `${at}.from_context`, message: 'expected auth.<name>: auth.subject, auth.username (basicauth) or auth.authenticator' });
    if ((action === 'delete' || action === 'hash') ? !a.key && !a.pattern : !a.key) {
      errors.push({ path: `${at}.key`, message: action === 'delete' || action === 'hash' ? 'key or pattern is required' : 'is required' });
    }
    if (action === 'insert' || action === 'update' || action === 'upsert') {
      if (sources !== 1) errors.push({ path: at, message: 'exactly one of value, from_attribute or from_context is required' });
      if (a.value !== undefined && a.value !== null && yamlValue(a.value) === undefined) {
        errors.push({ path: `${at}.value`, message: 'expected a string, number or boolean' });
      }
    } else if (sources > 0) {
      errors.push({ path: at, message: `${action} takes no value, from_attribute or from_context` });
    }
    if (a.pattern && action !== 'delete' && action !== 'hash' && action !== 'extract') {
      errors.push({ path: `${at}.pattern`, message: `${action} takes no pattern` });
    }
    if (action === 'extract') {
      if (!a.pattern) errors.push({ path: `${at}.pattern`, message: 'is required for extract' });
      else if (!/\(\?<[A-Za-z_][A-Za-z0-9_.]*>/.test(a.pattern) && !/\(\?P<[A-Za-z_]/.test(a.pattern)) {
        errors.push({ path: `${at}.pattern`, message: 'needs named groups, like (?P<http.route>[^?]*) or (?<route>…)' });
      }
    }
    if (a.pattern) {
      try {
        compilePattern(goNamedGroups(a.pattern));
      } catch (err) {
        errors.push({ path: `${at}.pattern`, message: `invalid regular expression ${JSON.stringify(a.pattern)}: ${(err as Error).message}` });
      }
    }
    if (action === 'convert' ? !['int', 'double', 'string'].includes(a.converted_type) : a.converted_type !== '') {
      errors.push({ path: `${at}.converted_type`, message: action === 'convert' ? `expected int, double or string, got ${JSON.stringify(a.converted_type)}` : `${action} takes no converted_type` });
    }
  });
  return errors;
}

interface Compiled {
  action: ActionName;
  key: string;
  value: AnyValue | undefined;
  from: string;
  /** from_context: 'client.address', 'auth.<name>', or the metadata key (lowercase); '' = none. */
  context: string;
  re: RegExp | null;
  names: string[];
  to: 'int' | 'double' | 'string' | '';
}

function sha256(v: AnyValue): string {
  let bytes: Buffer | null = null;
  if (typeof v === 'string') bytes = Buffer.from(v, 'utf8');
  else if (typeof v === 'boolean') bytes = Buffer.from([v ? 1 : 0]);
  else if (typeof v === 'bigint') {
    bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt.asIntN(64, v));
  } else if (typeof v === 'number') {
    bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(v);
  }
  return bytes ? createHash('sha256').update(bytes).digest('hex') : '';
}

function convert(v: AnyValue, to: 'int' | 'double' | 'string'): AnyValue {
  if (to === 'string') return asString(v);
  if (to === 'int') {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : v;
    if (typeof v === 'string') {
      const t = v.trim();
      if (/^[+-]?\d+$/.test(t)) return BigInt(t);
      const f = Number(t);
      return t !== '' && Number.isFinite(f) ? BigInt(Math.trunc(f)) : v;
    }
    return v;
  }
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const f = Number(v.trim());
    return v.trim() !== '' && !Number.isNaN(f) ? f : v;
  }
  return v;
}

/** A config's actions, compiled once; `apply` changes one attribute list in place. */
export class AttrActions {
  private readonly list: Compiled[];

  constructor(actions: Array<Partial<ActionConfig>>) {
    this.list = actions.map(withDefaults).map((a) => {
      const names: string[] = [];
      const re = a.pattern ? compilePattern(goNamedGroups(a.pattern, names)) : null;
      return {
        action: a.action.toLowerCase() as ActionName,
        key: a.key,
        value: a.value === undefined || a.value === null ? undefined : yamlValue(a.value),
        from: a.from_attribute,
        context: a.from_context === 'client.address' || a.from_context.startsWith('auth.') ? a.from_context : a.from_context.replace(/^metadata\./, '').toLowerCase(),
        re,
        names,
        to: a.converted_type as Compiled['to'],
      };
    });
  }

  /** `client`: who sent the payload, for from_context. */
  apply(attrs: KeyValue[], client?: ClientInfo): KeyValue[] {
    for (const a of this.list) attrs = this.one(a, attrs, client);
    return attrs;
  }

  private one(a: Compiled, attrs: KeyValue[], client: ClientInfo | undefined): KeyValue[] {
    const find = (k: string) => attrs.find((kv) => kv.key === k);
    const matches = (k: string) => k === a.key || (a.re !== null && test(a.re, k));
    switch (a.action) {
      case 'delete':
        return attrs.filter((kv) => !matches(kv.key));
      case 'hash':
        for (const kv of attrs) if (matches(kv.key)) kv.value = sha256(kv.value);
        return attrs;
      case 'insert':
      case 'update':
      case 'upsert': {
        let src: AnyValue;
        if (a.value !== undefined) src = a.value;
        else if (a.context) {
          const v = a.context === 'client.address' ? (client?.address ? [client.address] : []) : a.context.startsWith('auth.') ? authValues(client, a.context.slice(5)) : metadataValues(client, a.context);
          if (v.length === 0) return attrs;
          src = v.join(';');
        } else {
          const from = find(a.from);
          if (!from) return attrs;
          src = from.value;
        }
        const cur = find(a.key);
        if (cur ? a.action === 'insert' : a.action === 'update') return attrs;
        if (cur) cur.value = src;
        else attrs.push({ key: a.key, value: src });
        return attrs;
      }
      case 'extract': {
        const v = find(a.key)?.value;
        if (typeof v !== 'string' || !a.re) return attrs;
        a.re.lastIndex = 0;
        const m = a.re.exec(v);
        if (!m?.groups) return attrs;
        a.names.forEach((name, i) => setAttr(attrs, name, m.groups![`g${i}`] ?? ''));
        return attrs;
      }
      case 'convert': {
        const cur = find(a.key);
        if (cur && a.to) cur.value = convert(cur.value, a.to);
        return attrs;
      }
    }
  }
}

function test(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

function authValues(client: ClientInfo | undefined, name: string): string[] {
  const v = authValue(client, name);
  return v === undefined || v === '' ? [] : [v];
}
