/**
 * The redaction processor: keeps only allowed attribute keys and masks
 * sensitive values before anything is stored or published, with the
 * Collector's `redaction` processor semantics, applied to resource, scope,
 * log record and span (and span event) attributes, and to log bodies.
 *
 * Per attribute, in order (the Collector's):
 *   1. an ignored key (`ignored_keys`, `ignored_key_patterns`) passes untouched;
 *   2. a key not allowed (unless `allow_all_keys`) is removed;
 *   3. a value matching `allowed_values` is kept as is;
 *   4. a key matching `blocked_key_patterns` has its whole value masked;
 *   5. every match of `blocked_values` in the value is masked.
 * Masking writes `****`, or the match's hex hash with `hash_function`.
 * Only string values are checked unless `redact_all_types` (then ints,
 * doubles, bools, bytes, maps and arrays by their AsString text; a masked
 * value becomes a string). A map body is walked key by key like attributes
 * (nested keys by path, `a.b`, `a.[0]`); a scalar body is masked by value.
 *
 * Then, with `mask_credentials` / `mask_payment_cards` / `pseudonymize`
 * (trailhouse's, builtins.ts), a key naming a credential masks its value,
 * a pseudonymised key's value becomes its pseudonym, and every string in a
 * kept value (nested maps, arrays, UTF-8 bytes), every log body, span name,
 * span event name, link attribute and status message is searched for
 * credentials, card numbers and e-mail addresses.
 *
 * `summary: info|debug` adds the Collector's diagnostic attributes
 * (`redaction.redacted.count`, `redaction.masked.keys`, …) to the map it
 * changed; they are always allowed, so a second redaction stage keeps and
 * adds to them.
 */
import { createHash, createHmac } from 'node:crypto';
import { KvList, type AnyValue, type KeyValue, type LogsData, type TracesData } from '../../core/model.ts';
import { asString } from '../../core/otlp/anyvalue.ts';
import { compilePattern } from '../../core/go-regexp.ts';
import type { RedactionConfig } from './config.ts';
import { Builtins, masksWhole } from './builtins.ts';
import { SUMMARY_KEYS, summarize, tally, type Tally } from './summary.ts';
import { replaceAllGo } from './replace.ts';
import { isSecretKey } from '../../core/secrets.ts';
import { Pseudonymizer, pseudonymizeEnabled } from './pseudonym.ts';

export { replaceAllGo, SUMMARY_KEYS };

const IGNORED = 1;
const REMOVED = 2;
const BLOCKED = 4;
const SECRET = 8;
const PSEUDO = 16;

/** The rules of one config, compiled; changes payloads in place. */
export class Redactor {
  private readonly allowed: Set<string>;
  private readonly ignored: Set<string>;
  private readonly ignoredPatterns: RegExp[];
  private readonly blockedKeys: RegExp[];
  private readonly blockedValues: RegExp[];
  private readonly allowedValues: RegExp[];
  private readonly hash: ((s: string) => string) | null;
  /** One alternation per flag set of blocked_values: a single scan tells whether any pattern matches. */
  private readonly anyBlocked: RegExp[];
  /** What the key rules say of a key (keys repeat: the regexes run once per distinct key). */
  private readonly keyRules = new Map<string, number>();
  private readonly t = tally();
  /** Removed attributes and masked values since the last read (metrics). */
  removed = 0;
  masked = 0;
  /** The built-in detectors (inactive unless configured). */
  readonly b: Builtins;
  private readonly pseudo: Pseudonymizer | null;

  /** `pseudonymKey`: the HMAC key when pseudonymize names a key file (read by the processor at start). */
  constructor(
    private readonly cfg: RedactionConfig,
    pseudonymKey?: Buffer,
  ) {
    this.allowed = new Set([...cfg.allowed_keys, ...Object.values(SUMMARY_KEYS)]);
    this.ignored = new Set(cfg.ignored_keys);
    this.ignoredPatterns = cfg.ignored_key_patterns.map(compilePattern);
    this.blockedKeys = cfg.blocked_key_patterns.map(compilePattern);
    this.blockedValues = cfg.blocked_values.map(compilePattern);
    this.allowedValues = cfg.allowed_values.map(compilePattern);
    const byFlags = new Map<string, string[]>();
    for (const re of this.blockedValues) {
      const flags = re.flags.replace('g', '');
      byFlags.set(flags, [...(byFlags.get(flags) ?? []), `(?:${re.source})`]);
    }
    this.anyBlocked = [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
    const h = cfg.hash_function;
    this.hash =
      h === 'none'
        ? null
        : h.startsWith('hmac-')
          ? (s) => createHmac(h === 'hmac-sha256' ? 'sha256' : 'sha512', cfg.hmac_key).update(s).digest('hex')
          : (s) => createHash(h === 'sha3' ? 'sha3-256' : h).update(s).digest('hex');
    const p = cfg.pseudonymize;
    const key = pseudonymKey ?? (p.hmac_key ? Buffer.from(p.hmac_key, 'utf8') : undefined);
    if (pseudonymizeEnabled(p) && !key) throw new Error('redaction: pseudonymize needs its HMAC key');
    this.pseudo = pseudonymizeEnabled(p) ? new Pseudonymizer(key!, p.prefix) : null;
    this.b = new Builtins(
      { credentials: cfg.mask_credentials, cards: cfg.mask_payment_cards, pseudonymKeys: p.keys, emails: p.emails },
      // An unkeyed hash of a password or token is a dictionary lookup away from
      // it: the built-in rules write a hash only with a keyed (hmac-*) function.
      h.startsWith('hmac-') ? this.mask : () => '****',
      this.pseudo,
    );
  }

  /** Values pseudonymised since the last read (metrics). */
  get pseudonymized(): number {
    return this.pseudo?.count ?? 0;
  }

  resetCounts(): void {
    this.removed = this.masked = this.b.count = 0;
    if (this.pseudo) this.pseudo.count = 0;
  }

  /** Whether anything was removed, masked or pseudonymised since the last reset. */
  get changed(): boolean {
    return this.removed + this.masked + this.b.count + this.pseudonymized > 0;
  }

  private changes(): number {
    return this.b.count + this.pseudonymized;
  }

  logs(data: LogsData): void {
    for (const rl of data.resourceLogs) {
      rl.resource.attributes = this.attrs(rl.resource.attributes);
      for (const sl of rl.scopeLogs) {
        sl.scope.attributes = this.attrs(sl.scope.attributes);
        for (const r of sl.logRecords) {
          r.attributes = this.attrs(r.attributes);
          if (r.body !== undefined) r.body = this.body(r.body, r.attributes);
          if (this.b.active && r.eventName) r.eventName = this.field(r.eventName);
        }
      }
    }
  }

  traces(data: TracesData): void {
    for (const rs of data.resourceSpans) {
      rs.resource.attributes = this.attrs(rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        ss.scope.attributes = this.attrs(ss.scope.attributes);
        for (const span of ss.spans) {
          span.attributes = this.attrs(span.attributes);
          for (const e of span.events) e.attributes = this.attrs(e.attributes);
          if (!this.b.active) continue;
          span.name = this.field(span.name);
          span.status.message = this.field(span.status.message);
          for (const e of span.events) e.name = this.field(e.name);
          // Links: the built-in rules only (the Collector's processor leaves links alone).
          for (const l of span.links) for (const kv of l.attributes) kv.value = this.b.value(kv.key, kv.value);
        }
      }
    }
  }

  /** A name or message searched by the built-in detectors. */
  private field(s: string): string {
    const out = this.b.text(s);
    if (out !== s) this.masked++;
    return out;
  }

  // ---------------------------------------------------------------- rules

  /** IGNORED | REMOVED | BLOCKED bits for a key, computed once per distinct key. */
  private keyRule(k: string): number {
    let r = this.keyRules.get(k);
    if (r === undefined) {
      r = 0;
      if (this.ignored.has(k) || this.ignoredPatterns.some((re) => test(re, k))) r |= IGNORED;
      if (!this.cfg.allow_all_keys && !this.allowed.has(k)) r |= REMOVED;
      if (this.blockedKeys.some((re) => test(re, k))) r |= BLOCKED;
      if (this.cfg.mask_credentials && isSecretKey(k)) r |= SECRET;
      if (this.b.pseudonymKey(k)) r |= PSEUDO;
      // Keys come from a small set; a flood of distinct ones must not grow the map without bound.
      if (this.keyRules.size >= 10_000) this.keyRules.clear();
      this.keyRules.set(k, r);
    }
    return r;
  }

  private isIgnored(k: string): boolean {
    return (this.keyRule(k) & IGNORED) !== 0;
  }

  private isRemoved(k: string): boolean {
    return (this.keyRule(k) & REMOVED) !== 0;
  }

  private isBlockedKey(k: string): boolean {
    return (this.keyRule(k) & BLOCKED) !== 0;
  }

  private isAllowedValue(v: string): boolean {
    return this.allowedValues.length > 0 && this.allowedValues.some((re) => test(re, v));
  }

  private mask = (match: string): string => (this.hash ? this.hash(match) : '****');

  private maskValues(v: string): string {
    if (!this.anyBlocked.some((re) => re.test(v))) return v;
    let out = v;
    for (const re of this.blockedValues) out = replaceAllGo(out, re, this.mask);
    return out;
  }

  /** The text rules look at, or null when the value is not checked (a non-string without redact_all_types). */
  private text(v: AnyValue): string | null {
    if (typeof v === 'string') return v;
    return this.cfg.redact_all_types ? asString(v) : null;
  }

  // ---------------------------------------------------------------- attributes

  /** Applies the rules to one attribute map (compacted in place) and adds its summary. */
  private attrs(attrs: KeyValue[]): KeyValue[] {
    if (attrs.length === 0) return attrs;
    // One tally reused for every map (attrs() does not nest): no garbage per record.
    const t = this.t;
    t.redacted.length = t.masked.length = t.allowed.length = t.ignored.length = 0;
    let w = 0;
    for (let i = 0; i < attrs.length; i++) {
      const kv = attrs[i]!;
      const k = kv.key;
      const rule = this.keyRule(k);
      if (rule & IGNORED) {
        t.ignored.push(k);
        attrs[w++] = kv;
        continue;
      }
      if (rule & REMOVED) {
        t.redacted.push(k);
        continue;
      }
      attrs[w++] = kv;
      const text = this.text(kv.value);
      if (this.isAllowedValue(text ?? '')) {
        t.allowed.push(k);
        continue;
      }
      if (rule & BLOCKED) {
        t.masked.push(k);
        kv.value = this.mask(text ?? '');
        continue;
      }
      if (rule & SECRET && masksWhole(kv.value)) {
        t.masked.push(k);
        kv.value = this.b.mask(text ?? '');
        continue;
      }
      if (rule & PSEUDO && (typeof kv.value === 'string' || typeof kv.value === 'bigint' || typeof kv.value === 'number')) {
        kv.value = this.pseudo!.value(String(kv.value));
        continue;
      }
      let masked = false;
      if (text !== null) {
        const out = this.maskValues(text);
        if (out !== text) {
          masked = true;
          kv.value = out;
        }
      }
      if (this.b.active) {
        const before = this.changes();
        kv.value = this.b.value(null, kv.value);
        masked ||= this.changes() !== before;
      }
      if (masked) t.masked.push(k);
    }
    attrs.length = w;
    this.removed += t.redacted.length;
    this.masked += t.masked.length;
    summarize(attrs, t, false, this.cfg.summary);
    return attrs;
  }

  // ---------------------------------------------------------------- log bodies

  private body(body: AnyValue, attrs: KeyValue[]): AnyValue {
    const t = tally();
    let out: AnyValue;
    if (body instanceof KvList) {
      body.values = this.bodyMap(body.values, '', t);
      out = body;
    } else if (Array.isArray(body)) {
      out = body.map((v, i) => this.bodyValue(v, `[${i}]`, t));
    } else {
      const text = asString(body);
      out = body;
      if (!this.isAllowedValue(text)) {
        const masked = this.maskValues(text);
        if (masked !== text) {
          t.masked.push('body');
          out = masked;
        }
      }
    }
    if (this.b.active) {
      const before = this.changes();
      out = this.b.value(null, out);
      if (this.changes() !== before && !t.masked.includes('body')) t.masked.push('body');
    }
    this.removed += t.redacted.length;
    this.masked += t.masked.length;
    summarize(attrs, t, true, this.cfg.summary);
    return out;
  }

  private bodyMap(values: KeyValue[], prefix: string, t: Tally): KeyValue[] {
    const kept: KeyValue[] = [];
    for (const kv of values) {
      const path = prefix ? `${prefix}.${kv.key}` : kv.key;
      if (this.isIgnored(kv.key)) {
        t.ignored.push(path);
        kept.push(kv);
      } else if (this.isRemoved(kv.key)) {
        t.redacted.push(path);
      } else if (this.isBlockedKey(kv.key)) {
        t.masked.push(path);
        kv.value = this.mask(typeof kv.value === 'string' ? kv.value : '');
        kept.push(kv);
      } else {
        kv.value = this.bodyValue(kv.value, path, t);
        kept.push(kv);
      }
    }
    return kept;
  }

  private bodyValue(v: AnyValue, path: string, t: Tally): AnyValue {
    if (v instanceof KvList) {
      v.values = this.bodyMap(v.values, path, t);
      return v;
    }
    if (Array.isArray(v)) return v.map((x, i) => this.bodyValue(x, `${path}.[${i}]`, t));
    const text = asString(v);
    if (this.isAllowedValue(text)) {
      t.allowed.push(path);
      return v;
    }
    const masked = this.maskValues(text);
    if (masked === text) return v;
    t.masked.push(path);
    return masked;
  }
}

function test(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}
