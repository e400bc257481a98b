/**
 * OTTL, the subset Collector configs use in the filter and transform
 * processors, compiled once into functions over one record.
 *
 * Conditions (filter; transform's `where` and group `conditions`):
 *
 *   cond   := or;  or := and ("or" and)*;  and := not ("and" not)*
 *   not    := "not" not | "(" cond ")" | value [op value]
 *   op     := == != < <= > >=
 *   value  := "string" | 12 | -1.5 | true | false | nil | ENUM | path | Converter(args) | [value, …]
 *
 * Statements (transform): `editor(args) [where cond]` with the editors set,
 * delete_key, delete_matching_keys, keep_keys, keep_matching_keys,
 * replace_pattern, replace_all_patterns, truncate_all, merge_maps.
 *
 * Paths of the log_record, span, spanevent, resource and scope contexts
 * (`attributes["k"]["nested"]`, `body`, `severity_number`, `name`, `kind`,
 * `status.code`, `trace_id.string`, `resource.attributes["k"]`,
 * `instrumentation_scope.name`, …); enums (`SEVERITY_NUMBER_WARN`,
 * `SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`); converters `IsMatch`,
 * `IsString`, `IsInt`, `IsDouble`, `IsBool`, `IsMap`, `IsList`, `HasPrefix`,
 * `HasSuffix`, `Len`, `Concat`, `ToLowerCase`, `ToUpperCase`, `SHA256`, `ParseJSON`.
 * Comparisons follow OTTL: nil equals only nil; ints and doubles compare
 * numerically; strings lexically; values of different types are never equal
 * and never ordered. Anything else is refused when the config is loaded,
 * naming what is offered.
 */
import { createHash } from 'node:crypto';
import { asString } from './otlp/anyvalue.ts';
import type { ClientInfo } from './client.ts';
import type { ConfigError } from './config/schema.ts';
import { PermanentError } from './errors.ts';
import type { Logger } from './telemetry/logger.ts';
import { compilePattern } from './go-regexp.ts';
import { KvList, type AnyValue, type InstrumentationScope, type KeyValue, type LogRecord, type Resource, type Span, type SpanEvent } from './model.ts';

export type OttlContext = 'log_record' | 'span' | 'spanevent' | 'resource' | 'scope' | 'request';

/** What a condition sees. `record` is the log record, span or span event of the context. */
export interface Env {
  resource: Resource;
  /** Who sent the payload (the request context: `request["x-tenant"]`). */
  client?: ClientInfo;
  scope?: InstrumentationScope;
  log?: LogRecord;
  span?: Span;
  event?: SpanEvent;
}

/** A value during evaluation: OTLP's types, enums and times as ints (bigint), nil as null. */
type Val = string | bigint | number | boolean | Uint8Array | KvList | AnyValue[] | null;
type Getter = (env: Env) => Val;
export type Condition = (env: Env) => boolean;

/** A condition that cannot be evaluated on this record (error_mode decides what happens). */
export class OttlEvalError extends Error {
  override readonly name = 'OttlEvalError';
}

// ---------------------------------------------------------------- tokens

type Tok = { t: 'str'; v: string } | { t: 'num'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string } | { t: 'end' };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new Error('unterminated string');
        const d = src[i++]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[i++] ?? '';
          // \n \t \r \" \\ as in OTTL; any other escape is kept as written (\d in a pattern stays \d).
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '"' || e === '\\' ? e : `\\${e}`;
        } else v += d;
      }
      out.push({ t: 'str', v });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>='].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || !/[\w)\]"]$/.test(src.slice(0, i).trimEnd()))) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    if ('()[],.<>'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    if ('+-*/'.includes(c)) throw new Error('arithmetic (+ - * /) is not offered here');
    throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
  }
  out.push({ t: 'end' });
  return out;
}

// ---------------------------------------------------------------- enums

const ENUMS = new Map<string, bigint>([
  ['SEVERITY_NUMBER_UNSPECIFIED', 0n],
  ['SPAN_KIND_UNSPECIFIED', 0n],
  ['SPAN_KIND_INTERNAL', 1n],
  ['SPAN_KIND_SERVER', 2n],
  ['SPAN_KIND_CLIENT', 3n],
  ['SPAN_KIND_PRODUCER', 4n],
  ['SPAN_KIND_CONSUMER', 5n],
  ['STATUS_CODE_UNSET', 0n],
  ['STATUS_CODE_OK', 1n],
  ['STATUS_CODE_ERROR', 2n],
]);
['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((name, i) => {
  ENUMS.set(`SEVERITY_NUMBER_${name}`, BigInt(i * 4 + 1));
  for (const n of [2, 3, 4]) ENUMS.set(`SEVERITY_NUMBER_${name}${n}`, BigInt(i * 4 + n));
});

// ---------------------------------------------------------------- paths

const attr = (v: AnyValue): Val => (v === undefined ? null : (v as Val));
const attrsOf = (list: KeyValue[] | undefined): Val => (list ? new KvList(list) : null);

function recordField(ctx: OttlContext, name: string): Getter | null {
  const L = (f: (r: LogRecord) => Val): Getter => (e) => (e.log ? f(e.log) : null);
  const S = (f: (r: Span) => Val): Getter => (e) => (e.span ? f(e.span) : null);
  const E = (f: (r: SpanEvent) => Val): Getter => (e) => (e.event ? f(e.event) : null);
  const fields: Record<OttlContext, Record<string, Getter>> = {
    log_record: {
      body: L((r) => attr(r.body)),
      attributes: L((r) => attrsOf(r.attributes)),
      severity_number: L((r) => BigInt(r.severityNumber)),
      severity_text: L((r) => r.severityText),
      'trace_id.string': L((r) => r.traceId),
      'span_id.string': L((r) => r.spanId),
      time_unix_nano: L((r) => r.timeUnixNano),
      observed_time_unix_nano: L((r) => r.observedTimeUnixNano),
      flags: L((r) => BigInt(r.flags)),
      dropped_attributes_count: L((r) => BigInt(r.droppedAttributesCount)),
      event_name: L((r) => r.eventName),
    },
    span: {
      name: S((r) => r.name),
      kind: S((r) => BigInt(r.kind)),
      attributes: S((r) => attrsOf(r.attributes)),
      'status.code': S((r) => BigInt(r.status.code)),
      'status.message': S((r) => r.status.message),
      'trace_id.string': S((r) => r.traceId),
      'span_id.string': S((r) => r.spanId),
      'parent_span_id.string': S((r) => r.parentSpanId),
      trace_state: S((r) => r.traceState),
      start_time_unix_nano: S((r) => r.startTimeUnixNano),
      end_time_unix_nano: S((r) => r.endTimeUnixNano),
      dropped_attributes_count: S((r) => BigInt(r.droppedAttributesCount)),
      dropped_events_count: S((r) => BigInt(r.droppedEventsCount)),
      dropped_links_count: S((r) => BigInt(r.droppedLinksCount)),
    },
    spanevent: {
      name: E((r) => r.name),
      attributes: E((r) => attrsOf(r.attributes)),
      time_unix_nano: E((r) => r.timeUnixNano),
      dropped_attributes_count: E((r) => BigInt(r.droppedAttributesCount)),
    },
    resource: {},
    request: {},
    scope: {
      name: (e) => e.scope?.name ?? null,
      version: (e) => e.scope?.version ?? null,
      attributes: (e) => attrsOf(e.scope?.attributes),
    },
  };
  return fields[ctx][name] ?? null;
}

function basePath(ctx: OttlContext, dotted: string): Getter | null {
  // The request context: the sender's metadata as a map, `request["x-tenant"]` its first value.
  if (ctx === 'request') {
    if (dotted !== 'request') return null;
    return (e) => {
      const md = e.client?.metadata;
      if (!md) return new KvList([]);
      const kv: KeyValue[] = [];
      for (const [key, values] of md) if (values.length) kv.push({ key, value: values[0]! });
      return new KvList(kv);
    };
  }
  if (dotted === 'resource.attributes' || (ctx === 'resource' && dotted === 'attributes')) return (e) => attrsOf(e.resource.attributes);
  if (dotted === 'resource.dropped_attributes_count' || (ctx === 'resource' && dotted === 'dropped_attributes_count')) {
    return (e) => BigInt(e.resource.droppedAttributesCount);
  }
  if (ctx !== 'resource' && ctx !== 'scope') {
    const scope: Record<string, Getter> = {
      'instrumentation_scope.name': (e) => e.scope?.name ?? null,
      'instrumentation_scope.version': (e) => e.scope?.version ?? null,
      'instrumentation_scope.attributes': (e) => attrsOf(e.scope?.attributes),
    };
    if (scope[dotted]) return scope[dotted]!;
  }
  if (ctx === 'spanevent' && dotted.startsWith('span.')) {
    const f = recordField('span', dotted.slice(5));
    if (f) return f;
  }
  return recordField(ctx, dotted);
}

/** `[key]` / `[index]` on a map or list value; nil when absent. */
function index(v: Val, key: string | number): Val {
  if (v instanceof KvList && typeof key === 'string') {
    for (const kv of v.values) if (kv.key === key) return attr(kv.value);
    return null;
  }
  if (Array.isArray(v) && typeof key === 'number') return key >= 0 && key < v.length ? attr(v[key]) : null;
  return null;
}

// ---------------------------------------------------------------- setters (transform)

type Setter = (env: Env, v: Val) => void;

/** A value as an attribute value (nil has none). */
function toAny(v: Val): AnyValue {
  return v === null ? undefined : (v as AnyValue);
}

/** The attribute list a map path names, readable and replaceable (for set and the map editors). */
export interface AttrSlot {
  get(env: Env): KeyValue[] | undefined;
  set(env: Env, list: KeyValue[]): void;
}

function attrSlot(ctx: OttlContext, dotted: string): AttrSlot | null {
  const resource: AttrSlot = { get: (e) => e.resource.attributes, set: (e, l) => (e.resource.attributes = l) };
  const scope: AttrSlot = { get: (e) => e.scope?.attributes, set: (e, l) => e.scope && (e.scope.attributes = l) };
  const span: AttrSlot = { get: (e) => e.span?.attributes, set: (e, l) => e.span && (e.span.attributes = l) };
  if (dotted === 'resource.attributes') return resource;
  if (dotted === 'instrumentation_scope.attributes' && ctx !== 'resource' && ctx !== 'scope') return scope;
  if (dotted === 'span.attributes' && ctx === 'spanevent') return span;
  if (dotted !== 'attributes') return null;
  switch (ctx) {
    case 'resource':
      return resource;
    case 'scope':
      return scope;
    case 'span':
      return span;
    case 'log_record':
      return { get: (e) => e.log?.attributes, set: (e, l) => e.log && (e.log.attributes = l) };
    default:
      return { get: (e) => e.event?.attributes, set: (e, l) => e.event && (e.event.attributes = l) };
  }
}

function fieldSetter(ctx: OttlContext, dotted: string): Setter | null {
  const str = (f: (e: Env, v: string) => void): Setter => (e, v) => typeof v === 'string' && f(e, v);
  const int = (f: (e: Env, v: number) => void): Setter => (e, v) => typeof v === 'bigint' && f(e, Number(v));
  const byCtx: Partial<Record<OttlContext, Record<string, Setter>>> = {
    log_record: {
      body: (e, v) => e.log && (e.log.body = toAny(v)),
      severity_text: str((e, v) => e.log && (e.log.severityText = v)),
      severity_number: int((e, v) => e.log && (e.log.severityNumber = v)),
      event_name: str((e, v) => e.log && (e.log.eventName = v)),
    },
    span: {
      name: str((e, v) => e.span && (e.span.name = v)),
      kind: int((e, v) => e.span && (e.span.kind = v)),
      'status.code': int((e, v) => e.span && (e.span.status.code = v)),
      'status.message': str((e, v) => e.span && (e.span.status.message = v)),
    },
    spanevent: { name: str((e, v) => e.event && (e.event.name = v)) },
    scope: {
      name: str((e, v) => e.scope && (e.scope.name = v)),
      version: str((e, v) => e.scope && (e.scope.version = v)),
    },
  };
  return byCtx[ctx]?.[dotted] ?? null;
}

/** Where `set` writes: a field, or one key of an attribute map. */
function setterFor(ctx: OttlContext, ref: PathRef): Setter {
  if (ref.keys.length === 0) {
    const f = fieldSetter(ctx, ref.dotted);
    if (f) return f;
  } else if (ref.keys.length === 1 && typeof ref.keys[0] === 'string') {
    const slot = attrSlot(ctx, ref.dotted);
    const key = ref.keys[0];
    if (slot) {
      return (e, v) => {
        const list = slot.get(e);
        if (!list) return;
        const value = toAny(v);
        const i = list.findIndex((kv) => kv.key === key);
        if (i >= 0) list[i]!.value = value;
        else list.push({ key, value });
      };
    }
  }
  throw new Error(`${ref.text} cannot be set here (settable: attributes["key"], body, severity_text, severity_number, name, kind, status.code, status.message, … of the ${ctx} context)`);
}

// ---------------------------------------------------------------- values and comparisons

function typeOf(v: Val): string {
  if (v === null) return 'nil';
  if (typeof v === 'bigint' || typeof v === 'number') return 'number';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof KvList) return 'map';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

function compare(a: Val, b: Val, op: string): boolean {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta !== tb) return op === '!=';
  let c: number;
  switch (ta) {
    case 'nil':
      c = 0;
      break;
    case 'number': {
      const x = a as number | bigint;
      const y = b as number | bigint;
      if (typeof x === 'bigint' && typeof y === 'bigint') c = x < y ? -1 : x > y ? 1 : 0;
      else {
        const fx = Number(x);
        const fy = Number(y);
        if (Number.isNaN(fx) || Number.isNaN(fy)) return op === '!=';
        c = fx < fy ? -1 : fx > fy ? 1 : 0;
      }
      break;
    }
    case 'string':
      c = (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
      break;
    case 'boolean':
      if (op !== '==' && op !== '!=') return false;
      c = a === b ? 0 : 1;
      break;
    default:
      // bytes, maps and lists: equality by content only
      if (op !== '==' && op !== '!=') return false;
      c = asString(a as AnyValue) === asString(b as AnyValue) ? 0 : 1;
  }
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

/** A string-like value as IsMatch sees it (ints, doubles and bools as their text); null for nil. */
function stringLike(v: Val): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  return asString(v as AnyValue);
}

// ---------------------------------------------------------------- parser

export const CONVERTERS = [
  'IsMatch',
  'IsString',
  'IsInt',
  'IsDouble',
  'IsBool',
  'IsMap',
  'IsList',
  'HasPrefix',
  'HasSuffix',
  'Len',
  'Concat',
  'ToLowerCase',
  'ToUpperCase',
  'SHA256',
  'ParseJSON',
] as const;

export const EDITORS = [
  'set',
  'delete_key',
  'delete_matching_keys',
  'keep_keys',
  'keep_matching_keys',
  'replace_pattern',
  'replace_all_patterns',
  'truncate_all',
  'merge_maps',
] as const;

/** A path as written: `attributes["k"]` is dotted `attributes`, keys ["k"]. */
interface PathRef {
  text: string;
  dotted: string;
  keys: Array<string | number>;
  get: Getter;
}

/** A parsed argument: its value, and what it was written as (for editors that take paths or literals). */
interface Arg {
  get: Getter;
  bool: boolean;
  literal: string | null;
  ref: PathRef | null;
  list: Arg[] | null;
}

export type Statement = (env: Env) => void;

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly ctx: OttlContext,
  ) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private next(): Tok {
    return this.toks[this.pos++]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === 'id' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new Error(`expected ${JSON.stringify(v)}`);
    this.pos++;
  }

  parse(): Condition {
    const c = this.or();
    if (this.peek().t !== 'end') throw new Error(`unexpected ${describe(this.peek())}`);
    return c;
  }

  private or(): Condition {
    const parts = [this.and()];
    while (this.isWord('or')) {
      this.pos++;
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0]! : (e) => parts.some((p) => p(e));
  }

  private and(): Condition {
    const parts = [this.not()];
    while (this.isWord('and')) {
      this.pos++;
      parts.push(this.not());
    }
    return parts.length === 1 ? parts[0]! : (e) => parts.every((p) => p(e));
  }

  private not(): Condition {
    if (this.isWord('not')) {
      this.pos++;
      const inner = this.not();
      return (e) => !inner(e);
    }
    if (this.isOp('(')) {
      this.pos++;
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    const left = this.value();
    const t = this.peek();
    if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.pos++;
      const right = this.value();
      const op = t.v;
      return (e) => compare(left.get(e), right.get(e), op);
    }
    if (!left.bool) throw new Error(`a condition needs a comparison or a boolean converter, got a value before ${describe(t)}`);
    return (e) => left.get(e) === true;
  }

  private value(): Arg {
    const t = this.peek();
    const plain = (get: Getter, bool = false): Arg => ({ get, bool, literal: null, ref: null, list: null });
    if (t.t === 'op' && t.v === '[') {
      this.pos++;
      const items: Arg[] = [];
      while (!this.isOp(']')) {
        items.push(this.value());
        if (!this.isOp(',')) break;
        this.pos++;
      }
      this.expect(']');
      return { ...plain((e) => items.map((i) => toAny(i.get(e)))), list: items };
    }
    this.pos++;
    if (t.t === 'str') return { ...plain(() => t.v), literal: t.v };
    if (t.t === 'num') {
      const v: Val = /[.eE]/.test(t.v) ? Number(t.v) : BigInt(t.v);
      return plain(() => v);
    }
    if (t.t !== 'id') throw new Error(`expected a value, got ${describe(t)}`);
    if (t.v === 'true' || t.v === 'false') {
      const v = t.v === 'true';
      return plain(() => v, true);
    }
    if (t.v === 'nil') return plain(() => null);
    if (ENUMS.has(t.v)) {
      const v = ENUMS.get(t.v)!;
      return plain(() => v);
    }
    if (this.isOp('(')) {
      if ((EDITORS as readonly string[]).includes(t.v)) throw new Error(`${t.v} is an editor (a transform statement), not a value`);
      const c = this.call(t.v);
      return plain(c.get, c.bool);
    }
    if (/^[A-Z]/.test(t.v)) throw new Error(`unknown enum ${t.v}`);
    const ref = this.path(t.v);
    return { ...plain(ref.get), ref };
  }

  private path(first: string): PathRef {
    const names = [first];
    while (this.isOp('.')) {
      this.pos++;
      const t = this.next();
      if (t.t !== 'id') throw new Error(`expected a field name after ".", got ${describe(t)}`);
      names.push(t.v);
    }
    const dotted = names.join('.');
    const keys: Array<string | number> = [];
    let text = dotted;
    let get: Getter | null = basePath(this.ctx, dotted);
    if (!get) {
      if (/^(trace_id|span_id|parent_span_id)$/.test(dotted)) throw new Error(`${dotted} is bytes here; compare ${dotted}.string with a hex string`);
      throw new Error(`unknown path ${dotted} in the ${this.ctx} context`);
    }
    while (this.isOp('[')) {
      this.pos++;
      const k = this.next();
      if (k.t !== 'str' && !(k.t === 'num' && /^\d+$/.test(k.v))) throw new Error(`expected a string key or an index in [], got ${describe(k)}`);
      this.expect(']');
      // Request metadata names are case-insensitive (kept lowercase).
      const key = k.t === 'str' ? (this.ctx === 'request' ? k.v.toLowerCase() : k.v) : Number(k.v);
      keys.push(key);
      text += `[${JSON.stringify(key)}]`;
      const inner: Getter = get;
      get = (e: Env): Val => index(inner(e), key);
    }
    return { text, dotted, keys, get };
  }

  private args(): Arg[] {
    this.expect('(');
    const args: Arg[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.value());
        if (!this.isOp(',')) break;
        this.pos++;
      }
    }
    this.expect(')');
    return args;
  }

  /** `editor(args) [where condition]`. */
  statement(): Statement {
    const t = this.next();
    if (t.t !== 'id' || !this.isOp('(')) throw new Error(`a statement starts with an editor call, like set(attributes["k"], "v"), got ${describe(t)}`);
    if (!(EDITORS as readonly string[]).includes(t.v)) throw new Error(`editor ${t.v} is not offered here (offered: ${EDITORS.join(', ')})`);
    const edit = this.editor(t.v, this.args());
    let where: Condition | null = null;
    if (this.isWord('where')) {
      this.pos++;
      where = this.or();
    }
    if (this.peek().t !== 'end') throw new Error(`unexpected ${describe(this.peek())}`);
    return where ? (e) => void (where(e) && edit(e)) : edit;
  }

  private editor(name: string, args: Arg[]): Statement {
    const arity: Record<string, number> = { set: 2, delete_key: 2, delete_matching_keys: 2, keep_keys: 2, keep_matching_keys: 2, replace_pattern: 3, replace_all_patterns: 4, truncate_all: 2, merge_maps: 3 };
    if (args.length !== arity[name]) throw new Error(`${name} takes ${arity[name]} arguments, got ${args.length}`);
    const map = (): AttrSlot => {
      const ref = args[0]!.ref;
      const slot = ref && ref.keys.length === 0 ? attrSlot(this.ctx, ref.dotted) : null;
      if (!slot) throw new Error(`${name} takes an attribute map first (attributes, resource.attributes, …), got ${ref?.text ?? 'a value'}`);
      return slot;
    };
    const literal = (i: number, what: string): string => {
      const l = args[i]!.literal;
      if (l === null) throw new Error(`${name} takes its ${what} as a string literal`);
      return l;
    };
    const regex = (i: number): RegExp => {
      const p = literal(i, 'pattern');
      try {
        const g = compilePattern(p);
        return new RegExp(g.source, g.flags.replace('g', ''));
      } catch (err) {
        throw new Error(`${name}: invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}`);
      }
    };
    const filterKeys = (slot: AttrSlot, keep: (key: string) => boolean): Statement => (e) => {
      const list = slot.get(e);
      if (list) slot.set(e, list.filter((kv) => keep(kv.key)));
    };
    switch (name) {
      case 'set': {
        const ref = args[0]!.ref;
        if (!ref) throw new Error('set takes a path to set first');
        const set = setterFor(this.ctx, ref);
        const value = args[1]!.get;
        return (e) => {
          const v = value(e);
          if (v !== null) set(e, v); // set with nil changes nothing, as in OTTL
        };
      }
      case 'delete_key': {
        const slot = map();
        const key = literal(1, 'key');
        return filterKeys(slot, (k) => k !== key);
      }
      case 'delete_matching_keys': {
        const slot = map();
        const re = regex(1);
        return filterKeys(slot, (k) => !re.test(k));
      }
      case 'keep_keys': {
        const slot = map();
        const list = args[1]!.list;
        if (!list || list.some((i) => i.literal === null)) throw new Error('keep_keys takes a list of string keys, like ["a", "b"]');
        const keep = new Set(list.map((i) => i.literal!));
        return filterKeys(slot, (k) => keep.has(k));
      }
      case 'keep_matching_keys': {
        const slot = map();
        const re = regex(1);
        return filterKeys(slot, (k) => re.test(k));
      }
      case 'replace_pattern': {
        const ref = args[0]!.ref;
        if (!ref) throw new Error('replace_pattern takes a path first');
        const set = setterFor(this.ctx, ref);
        const re = new RegExp(regex(1).source, regex(1).flags + 'g');
        const replacement = goReplacement(literal(2, 'replacement'));
        return (e) => {
          const v = ref.get(e);
          if (typeof v === 'string') set(e, v.replace(re, replacement));
        };
      }
      case 'replace_all_patterns': {
        const slot = map();
        const mode = literal(1, 'mode');
        if (mode !== 'key' && mode !== 'value') throw new Error('replace_all_patterns takes mode "key" or "value"');
        const re = new RegExp(regex(2).source, regex(2).flags + 'g');
        const replacement = goReplacement(literal(3, 'replacement'));
        return (e) => {
          const list = slot.get(e);
          if (!list) return;
          for (const kv of list) {
            if (mode === 'key') kv.key = kv.key.replace(re, replacement);
            else if (typeof kv.value === 'string') kv.value = kv.value.replace(re, replacement);
          }
        };
      }
      case 'merge_maps': {
        // merge_maps(target, source, "insert" | "update" | "upsert"): the source map's entries into the target's
        const slot = map();
        const source = args[1]!.get;
        const strategy = literal(2, 'strategy');
        if (!['insert', 'update', 'upsert'].includes(strategy)) throw new Error('merge_maps takes the strategy "insert", "update" or "upsert"');
        return (e) => {
          const src = source(e);
          if (src === null) return;
          if (!(src instanceof KvList)) throw new OttlEvalError(`merge_maps: expected a map to merge, got ${typeOf(src)}`);
          const list = slot.get(e);
          if (!list) return;
          for (const kv of src.values) {
            const i = list.findIndex((x) => x.key === kv.key);
            if (i >= 0 ? strategy === 'insert' : strategy === 'update') continue;
            if (i >= 0) list[i]!.value = kv.value;
            else list.push({ key: kv.key, value: kv.value });
          }
        };
      }
      default: {
        // truncate_all: string values cut to `limit` characters
        const slot = map();
        const limit = args[1]!.get({ resource: { attributes: [], droppedAttributesCount: 0 } });
        if (typeof limit !== 'bigint' || limit < 0n) throw new Error('truncate_all takes a limit, a non-negative int');
        const n = Number(limit);
        return (e) => {
          for (const kv of slot.get(e) ?? []) if (typeof kv.value === 'string' && kv.value.length > n) kv.value = [...kv.value].slice(0, n).join('');
        };
      }
    }
  }

  private call(name: string): { get: Getter; bool: boolean } {
    if (!(CONVERTERS as readonly string[]).includes(name)) throw new Error(`function ${name} is not offered here (offered: ${CONVERTERS.join(', ')})`);
    const args = this.args();
    const arity = name === 'IsMatch' || name === 'HasPrefix' || name === 'HasSuffix' || name === 'Concat' ? 2 : 1;
    if (args.length !== arity) throw new Error(`${name} takes ${arity} argument${arity > 1 ? 's' : ''}, got ${args.length}`);
    const target = args[0]!.get;
    const is = (pred: (v: Val) => boolean) => ({ get: (e: Env) => pred(target(e)), bool: true });
    switch (name) {
      case 'IsMatch': {
        const pattern = args[1]!.literal;
        if (pattern === null) throw new Error('IsMatch takes its pattern as a string literal');
        let re: RegExp;
        try {
          const g = compilePattern(pattern);
          re = new RegExp(g.source, g.flags.replace('g', ''));
        } catch (err) {
          throw new Error(`IsMatch: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
        }
        return is((v) => {
          const s = stringLike(v);
          return s !== null && re.test(s);
        });
      }
      case 'HasPrefix':
      case 'HasSuffix': {
        const affix = args[1]!.literal;
        if (affix === null) throw new Error(`${name} takes its ${name === 'HasPrefix' ? 'prefix' : 'suffix'} as a string literal`);
        return is((v) => {
          if (v === null) return false;
          if (typeof v !== 'string') throw new OttlEvalError(`${name}: expected a string, got ${typeOf(v)}`);
          return name === 'HasPrefix' ? v.startsWith(affix) : v.endsWith(affix);
        });
      }
      case 'IsString':
        return is((v) => typeof v === 'string');
      case 'IsInt':
        return is((v) => typeof v === 'bigint');
      case 'IsDouble':
        return is((v) => typeof v === 'number');
      case 'IsBool':
        return is((v) => typeof v === 'boolean');
      case 'IsMap':
        return is((v) => v instanceof KvList);
      case 'IsList':
        return is((v) => Array.isArray(v));
      case 'Concat': {
        const sep = args[1]!.literal;
        const items = args[0]!.list;
        if (items === null || sep === null) throw new Error('Concat takes a list [..] and a string delimiter');
        // nil items are skipped; the rest by their text
        return { get: (e) => items.flatMap((i) => { const s = stringLike(i.get(e)); return s === null ? [] : [s]; }).join(sep), bool: false };
      }
      case 'ToLowerCase':
      case 'ToUpperCase':
        return {
          get: (e) => {
            const v = target(e);
            if (v === null) return null;
            if (typeof v !== 'string') throw new OttlEvalError(`${name}: expected a string, got ${typeOf(v)}`);
            return name === 'ToLowerCase' ? v.toLowerCase() : v.toUpperCase();
          },
          bool: false,
        };
      case 'ParseJSON':
        // A JSON object as a map (numbers as doubles, null as empty, as OTTL's ParseJSON).
        return {
          get: (e) => {
            const v = target(e);
            if (v === null) return null;
            if (typeof v !== 'string') throw new OttlEvalError(`ParseJSON: expected a string, got ${typeOf(v)}`);
            let parsed: unknown;
            try {
              parsed = JSON.parse(v);
            } catch (err) {
              throw new OttlEvalError(`ParseJSON: ${(err as Error).message}`);
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OttlEvalError('ParseJSON: expected a JSON object');
            return jsonValue(parsed) as Val;
          },
          bool: false,
        };
      case 'SHA256':
        return {
          get: (e) => {
            const v = target(e);
            if (v === null) return null;
            if (typeof v !== 'string') throw new OttlEvalError(`SHA256: expected a string, got ${typeOf(v)}`);
            return createHash('sha256').update(v).digest('hex');
          },
          bool: false,
        };
      default:
        // Len: characters of a string, entries of a map, items of a list, bytes of bytes.
        return {
          get: (e) => {
            const v = target(e);
            if (typeof v === 'string') return BigInt([...v].length);
            if (v instanceof KvList) return BigInt(v.values.length);
            if (Array.isArray(v) || v instanceof Uint8Array) return BigInt(v.length);
            throw new OttlEvalError(`Len: expected a string, map, list or bytes, got ${typeOf(v)}`);
          },
          bool: false,
        };
    }
  }
}

function describe(t: Tok): string {
  return t.t === 'end' ? 'the end' : t.t === 'str' ? JSON.stringify(t.v) : `"${t.v}"`;
}

/** A parsed JSON value as an attribute value (OTTL's ParseJSON: numbers are doubles). */
function jsonValue(v: unknown): AnyValue {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map(jsonValue);
  if (typeof v === 'object') return new KvList(Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, value: jsonValue(x) })));
  return v as string | number | boolean;
}

/** Go's replacement syntax (`$1`, `${1}`, `${name}`, `$$`) in JavaScript's (`$1`, `$<name>`, `$$`). */
function goReplacement(r: string): string {
  return r.replace(/\$(\$|\{(\w+)\}|(\d+))/g, (_m, all: string, braced?: string, digits?: string) => {
    if (all === '$') return '$$';
    const name = braced ?? digits!;
    return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
  });
}

/** Compiles one transform statement of `ctx` (`editor(args) [where condition]`). */
export function compileStatement(src: string, ctx: OttlContext): Statement {
  return new Parser(tokenize(src), ctx).statement();
}

/** Compiles one condition of `ctx`; throws a readable error for what is not offered. */
export function compileCondition(src: string, ctx: OttlContext): Condition {
  return new Parser(tokenize(src), ctx).parse();
}

// ---------------------------------------------------------------- the flat form

const PREFIXES = new Set(['log', 'span', 'spanevent', 'resource', 'scope', 'instrumentation_scope']);

/**
 * The flat form of the Collector's newer configs, where every path names its
 * context (`set(log.attributes["k"], resource.attributes["r"])`): the
 * statement runs in the most specific context it names (spanevent > span >
 * log > scope > resource), and its paths are rewritten to that context's
 * (`log.attributes` → `attributes`, `scope.name` → `instrumentation_scope.name`).
 */
function flatten(src: string, signal: 'logs' | 'traces'): { toks: Tok[]; ctx: OttlContext } {
  const toks = tokenize(src);
  const starts: number[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (t.t === 'id' && PREFIXES.has(t.v) && next?.t === 'op' && next.v === '.' && !(prev?.t === 'op' && prev.v === '.')) starts.push(i);
  }
  const named = new Set(starts.map((i) => (toks[i] as { v: string }).v));
  const order: Array<[string, OttlContext]> =
    signal === 'logs'
      ? [['log', 'log_record'], ['scope', 'scope'], ['instrumentation_scope', 'scope'], ['resource', 'resource']]
      : [['spanevent', 'spanevent'], ['span', 'span'], ['scope', 'scope'], ['instrumentation_scope', 'scope'], ['resource', 'resource']];
  const other = signal === 'logs' ? ['span', 'spanevent'] : ['log'];
  for (const o of other) if (named.has(o)) throw new Error(`${o}.… paths are not of a ${signal} context`);
  const hit = order.find(([p]) => named.has(p));
  if (!hit) throw new Error('the flat form needs paths that name their context (log.…, span.…, resource.…, …)');
  const [prefix, ctx] = hit;
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    if (!starts.includes(i)) {
      out.push(toks[i]!);
      continue;
    }
    const p = (toks[i] as { v: string }).v;
    const own = p === prefix || (ctx === 'scope' && (p === 'scope' || p === 'instrumentation_scope')) || (ctx === 'spanevent' && p === 'spanevent');
    if (own) {
      i++; // drop "prefix" and "."
      continue;
    }
    if (p === 'scope') out.push({ t: 'id', v: 'instrumentation_scope' });
    else out.push(toks[i]!); // resource.…, span.… (in spanevent), instrumentation_scope.…
  }
  return { toks: out, ctx };
}

/** A flat-form statement (context from its paths) of a logs or traces pipeline. */
export function compileFlatStatement(src: string, signal: 'logs' | 'traces'): { ctx: OttlContext; run: Statement } {
  const { toks, ctx } = flatten(src, signal);
  return { ctx, run: new Parser(toks, ctx).statement() };
}

/** A flat-form condition (context from its paths) of a logs or traces pipeline. */
export function compileFlatCondition(src: string, signal: 'logs' | 'traces'): { ctx: OttlContext; test: Condition } {
  const { toks, ctx } = flatten(src, signal);
  return { ctx, test: new Parser(toks, ctx).parse() };
}

// ---------------------------------------------------------------- error_mode

/** The Collector's `error_mode` of the OTTL components (filter, transform, routing). */
export const ERROR_MODES: readonly string[] = ['propagate', 'ignore', 'silent'];

/** The config error of an `error_mode` value, if it is not one. */
export function errorModeError(mode: unknown, path: string): ConfigError | null {
  return ERROR_MODES.includes(mode as string) ? null : { path, message: `expected propagate, ignore or silent, got ${JSON.stringify(mode)}` };
}

/**
 * What `error_mode` makes of an error while evaluating `what` (e.g. `filter
 * condition "…"`) on one item: anything but an evaluation error, and every
 * error under `propagate`, refuses the payload as permanent; `ignore` logs
 * `<kind> failed on a record; <outcome>` and goes on; `silent` just goes on.
 */
export function onEvalError(err: unknown, mode: string, logger: Logger, what: { kind: string; src?: string; outcome: string; fields?: Record<string, unknown> }): void {
  const label = what.src === undefined ? what.kind : `${what.kind} ${JSON.stringify(what.src)}`;
  if (!(err instanceof OttlEvalError) || mode === 'propagate') throw new PermanentError(`${label}: ${(err as Error).message}`, { cause: err });
  if (mode === 'ignore') logger.warn(`${what.kind} failed on a record; ${what.outcome}`, { ...what.fields, error: err.message });
}
