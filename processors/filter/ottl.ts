/**
 * OTTL boolean conditions, the subset filter configs use, compiled once into
 * functions over one record:
 *
 *   cond   := or;  or := and ("or" and)*;  and := not ("and" not)*
 *   not    := "not" not | "(" cond ")" | value [op value]
 *   op     := == != < <= > >=
 *   value  := "string" | 12 | -1.5 | true | false | nil | ENUM | path | Converter(args)
 *
 * Paths of the log_record, span, spanevent and resource contexts
 * (`attributes["k"]["nested"]`, `body`, `severity_number`, `name`, `kind`,
 * `status.code`, `trace_id.string`, `resource.attributes["k"]`,
 * `instrumentation_scope.name`, …); enums (`SEVERITY_NUMBER_WARN`,
 * `SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`); converters `IsMatch`,
 * `IsString`, `IsInt`, `IsDouble`, `IsBool`, `IsMap`, `IsList`, `HasPrefix`,
 * `HasSuffix`, `Len`. Comparisons follow OTTL: nil equals only nil; ints and
 * doubles compare numerically; strings lexically; values of different types
 * are never equal and never ordered. Anything else is refused when the config
 * is loaded, naming what is offered.
 */
import { asString } from '../../exporters/clickhouse/anyvalue.ts';
import { compilePattern } from '../../core/go-regexp.ts';
import { KvList, type AnyValue, type InstrumentationScope, type KeyValue, type LogRecord, type Resource, type Span, type SpanEvent } from '../../core/model.ts';

export type OttlContext = 'log_record' | 'span' | 'spanevent' | 'resource';

/** What a condition sees. `record` is the log record, span or span event of the context. */
export interface Env {
  resource: Resource;
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
          const e = src[i++];
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
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
  };
  return fields[ctx][name] ?? null;
}

function basePath(ctx: OttlContext, dotted: string): Getter | null {
  if (dotted === 'resource.attributes' || (ctx === 'resource' && dotted === 'attributes')) return (e) => attrsOf(e.resource.attributes);
  if (dotted === 'resource.dropped_attributes_count' || (ctx === 'resource' && dotted === 'dropped_attributes_count')) {
    return (e) => BigInt(e.resource.droppedAttributesCount);
  }
  if (ctx !== 'resource') {
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

export const CONVERTERS = ['IsMatch', 'IsString', 'IsInt', 'IsDouble', 'IsBool', 'IsMap', 'IsList', 'HasPrefix', 'HasSuffix', 'Len'] as const;

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

  private value(): { get: Getter; bool: boolean } {
    const t = this.next();
    if (t.t === 'str') return { get: () => t.v, bool: false };
    if (t.t === 'num') {
      const v: Val = /[.eE]/.test(t.v) ? Number(t.v) : BigInt(t.v);
      return { get: () => v, bool: false };
    }
    if (t.t !== 'id') throw new Error(`expected a value, got ${describe(t)}`);
    if (t.v === 'true' || t.v === 'false') {
      const v = t.v === 'true';
      return { get: () => v, bool: true };
    }
    if (t.v === 'nil') return { get: () => null, bool: false };
    if (ENUMS.has(t.v)) {
      const v = ENUMS.get(t.v)!;
      return { get: () => v, bool: false };
    }
    if (this.isOp('(')) return this.call(t.v);
    if (/^[A-Z]/.test(t.v)) throw new Error(`unknown enum ${t.v}`);
    return { get: this.path(t.v), bool: false };
  }

  private path(first: string): Getter {
    const names = [first];
    while (this.isOp('.')) {
      this.pos++;
      const t = this.next();
      if (t.t !== 'id') throw new Error(`expected a field name after ".", got ${describe(t)}`);
      names.push(t.v);
    }
    const dotted = names.join('.');
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
      const key = k.t === 'str' ? k.v : Number(k.v);
      const inner: Getter = get;
      get = (e: Env): Val => index(inner(e), key);
    }
    return get;
  }

  private call(name: string): { get: Getter; bool: boolean } {
    if (!(CONVERTERS as readonly string[]).includes(name)) throw new Error(`function ${name} is not offered here (offered: ${CONVERTERS.join(', ')})`);
    this.expect('(');
    const args: Array<{ get: Getter; literal: string | null }> = [];
    if (!this.isOp(')')) {
      for (;;) {
        const t = this.peek();
        const v = this.value();
        args.push({ get: v.get, literal: t.t === 'str' ? t.v : null });
        if (this.isOp(',')) {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.expect(')');
    const arity = name === 'IsMatch' || name === 'HasPrefix' || name === 'HasSuffix' ? 2 : 1;
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

/** Compiles one condition of `ctx`; throws a readable error for what is not offered. */
export function compileCondition(src: string, ctx: OttlContext): Condition {
  return new Parser(tokenize(src), ctx).parse();
}
