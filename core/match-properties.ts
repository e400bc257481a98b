/**
 * The Collector's match properties (`include` / `exclude` of the attributes
 * processor, the filter processor's legacy `logs`/`spans` sections): which
 * log records or spans something applies to.
 *
 * - `match_type` (required): `strict` (equal strings; attribute values equal
 *   in type and value) or `regexp` (Go RE2, unanchored: a pattern matches if
 *   it is found anywhere; attribute values matched on their string form).
 * - Every property given must match (AND); within a list, any item (OR).
 *   `attributes` and `resources`: every listed key must be present, with the
 *   value if one is given. `libraries`: the scope's name (and version if
 *   given).
 * - Spans: `services` (resource `service.name`, `<nil-service-name>` when
 *   absent), `span_names`, `span_kinds` (`SPAN_KIND_SERVER`, …). Logs:
 *   `log_bodies` (the body's string form), `log_severity_texts`,
 *   `log_severity_number: {min, match_undefined}`.
 * - With `include` and `exclude` both, a record is acted on when it matches
 *   include and not exclude.
 */
import { asString } from './otlp/anyvalue.ts';
import { s, type ConfigError, type Schema } from './config/schema.ts';
import { compilePattern } from './go-regexp.ts';
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, Resource, Span } from './model.ts';

export interface AttributeMatchConfig {
  key: string;
  value: unknown;
}

export interface MatchPropertiesConfig {
  match_type: string;
  regexp: unknown;
  services: string[];
  span_names: string[];
  span_kinds: string[];
  log_bodies: string[];
  log_severity_texts: string[];
  log_severity_number: { min: unknown; match_undefined: boolean } | null;
  metric_names: string[];
  attributes: AttributeMatchConfig[];
  resources: AttributeMatchConfig[];
  libraries: Array<{ name: string; version: string | null }>;
}

const attrSchema = s.object({ key: s.string(), value: s.any() });

export const matchPropertiesSchema: Schema = s.object({
  match_type: s.string(),
  // The Collector's regexp result cache: accepted, not needed (patterns are compiled once).
  regexp: s.object({ cacheenabled: s.bool(), cachemaxnumentries: s.int({ min: 0 }) }),
  services: s.list(s.string()),
  span_names: s.list(s.string()),
  span_kinds: s.list(s.string()),
  log_bodies: s.list(s.string()),
  log_severity_texts: s.list(s.string()),
  log_severity_number: s.optional(s.object({ min: s.any(), match_undefined: s.bool() })),
  metric_names: s.list(s.string()),
  attributes: s.list(attrSchema),
  resources: s.list(attrSchema),
  libraries: s.list(s.object({ name: s.string(), version: s.optional(s.string()) })),
});

/** A decoded match-properties object with every absent key filled in (list items come without defaults). */
export function matchDefaults(mp: Partial<MatchPropertiesConfig>): MatchPropertiesConfig {
  return {
    match_type: mp.match_type ?? '',
    regexp: mp.regexp ?? null,
    services: mp.services ?? [],
    span_names: mp.span_names ?? [],
    span_kinds: mp.span_kinds ?? [],
    log_bodies: mp.log_bodies ?? [],
    log_severity_texts: mp.log_severity_texts ?? [],
    log_severity_number: mp.log_severity_number ?? null,
    metric_names: mp.metric_names ?? [],
    attributes: (mp.attributes ?? []).map((a) => ({ key: a.key ?? '', value: a.value })),
    resources: (mp.resources ?? []).map((a) => ({ key: a.key ?? '', value: a.value })),
    libraries: (mp.libraries ?? []).map((l) => ({ name: l.name ?? '', version: l.version ?? null })),
  };
}

export const SPAN_KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** A severity as the Collector's configs write it: 1–24, or TRACE…FATAL4 (any case). 0 when invalid. */
export function severityNumber(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 24 ? v : 0;
  if (typeof v !== 'string') return 0;
  const t = v.trim().toUpperCase();
  if (/^\d+$/.test(t)) return severityNumber(Number(t));
  const m = /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)([234])?$/.exec(t);
  return m ? SEVERITY_NAMES.indexOf(m[1]!) * 4 + (m[2] ? Number(m[2]) : 1) : 0;
}

const SPAN_ONLY = ['services', 'span_names', 'span_kinds'] as const;
const LOG_ONLY = ['log_bodies', 'log_severity_texts'] as const;

/** What a match-properties object can apply to, or the errors that make it unusable. */
export function validateMatchProperties(mp: MatchPropertiesConfig, path: string): { errors: ConfigError[]; logs: boolean; traces: boolean } {
  const errors: ConfigError[] = [];
  const at = (k: string) => `${path}.${k}`;
  if (mp.match_type !== 'strict' && mp.match_type !== 'regexp') {
    errors.push({ path: at('match_type'), message: `expected strict or regexp, got ${JSON.stringify(mp.match_type)}` });
  }
  if (mp.metric_names.length) errors.push({ path: at('metric_names'), message: 'metrics are not carried by trailhouse pipelines' });
  const spanOnly = SPAN_ONLY.some((k) => mp[k].length > 0);
  const logOnly = LOG_ONLY.some((k) => mp[k].length > 0) || mp.log_severity_number !== null;
  if (spanOnly && logOnly) errors.push({ path, message: 'mixes span properties (services, span_names, span_kinds) with log properties (log_bodies, log_severity_*)' });
  const common = mp.attributes.length > 0 || mp.resources.length > 0 || mp.libraries.length > 0;
  if (!spanOnly && !logOnly && !common) {
    errors.push({ path, message: 'needs at least one of attributes, resources, libraries, services, span_names, span_kinds, log_bodies, log_severity_texts, log_severity_number' });
  }
  const regexp = mp.match_type === 'regexp';
  const checkPatterns = (k: string, list: string[]) => {
    if (!regexp) return;
    list.forEach((p, i) => {
      try {
        compilePattern(p);
      } catch (err) {
        errors.push({ path: `${at(k)}[${i}]`, message: `invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}` });
      }
    });
  };
  for (const k of ['services', 'span_names', 'span_kinds', 'log_bodies', 'log_severity_texts'] as const) checkPatterns(k, mp[k]);
  checkPatterns('libraries', mp.libraries.flatMap((l) => [l.name, ...(l.version !== null ? [l.version] : [])]));
  if (mp.match_type === 'strict') {
    mp.span_kinds.forEach((k, i) => {
      if (!SPAN_KIND_NAMES.includes(k)) errors.push({ path: `${at('span_kinds')}[${i}]`, message: `expected one of ${SPAN_KIND_NAMES.join(', ')}, got ${JSON.stringify(k)}` });
    });
  }
  for (const list of ['attributes', 'resources'] as const) {
    mp[list].forEach((a, i) => {
      const p = `${at(list)}[${i}]`;
      if (!a.key) errors.push({ path: `${p}.key`, message: 'is required' });
      if (a.value === undefined || a.value === null) return;
      if (regexp) {
        if (typeof a.value !== 'string') errors.push({ path: `${p}.value`, message: 'match_type regexp takes a string pattern' });
        else checkPatterns(`${list}[${i}].value`, [a.value]);
      } else if (!['string', 'number', 'boolean'].includes(typeof a.value)) {
        errors.push({ path: `${p}.value`, message: 'expected a string, number or boolean' });
      }
    });
  }
  if (mp.log_severity_number && severityNumber(mp.log_severity_number.min) === 0) {
    errors.push({ path: at('log_severity_number.min'), message: `expected a severity (1–24, or TRACE, DEBUG, INFO, WARN, ERROR, FATAL with an optional 2–4), got ${JSON.stringify(mp.log_severity_number.min)}` });
  }
  return { errors, logs: !spanOnly, traces: !logOnly };
}

type StringMatch = (v: string) => boolean;

function stringSet(list: string[], regexp: boolean): StringMatch | null {
  if (list.length === 0) return null;
  if (!regexp) {
    const set = new Set(list);
    return (v) => set.has(v);
  }
  // Unanchored, as Go's MatchString; compiled without the global flag so test() keeps no state.
  const res = list.map((p) => {
    const re = compilePattern(p);
    return new RegExp(re.source, re.flags.replace('g', ''));
  });
  return (v) => res.some((re) => re.test(v));
}

/** An attribute value as the Collector's regexp attribute match sees it; null for other types. */
function attrString(v: AnyValue): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'number':
      return Number.isFinite(v) && /e/i.test(String(v)) ? v.toFixed(20).replace(/\.?0+$/, '') : String(v);
    default:
      return null;
  }
}

/** A YAML value as the attribute value strict matching compares with (ints as OTLP ints). */
function yamlAttr(v: unknown): AnyValue {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v as AnyValue;
}

function attributesMatcher(list: AttributeMatchConfig[], regexp: boolean): ((attrs: readonly KeyValue[]) => boolean) | null {
  if (list.length === 0) return null;
  const checks = list.map(({ key, value }) => {
    if (value === undefined || value === null) return { key, test: (_v: AnyValue) => true };
    if (regexp) {
      const m = stringSet([value as string], true)!;
      return {
        key,
        test: (v: AnyValue) => {
          const s = attrString(v);
          return s !== null && m(s);
        },
      };
    }
    const want = yamlAttr(value);
    return { key, test: (v: AnyValue) => typeof v === typeof want && v === want };
  });
  return (attrs) => {
    for (const c of checks) {
      let found = false;
      for (let i = 0; i < attrs.length; i++) {
        if (attrs[i]!.key === c.key) {
          if (!c.test(attrs[i]!.value)) return false;
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  };
}

export interface RecordMatcher {
  log(r: LogRecord, resource: Resource, scope: InstrumentationScope): boolean;
  span(sp: Span, resource: Resource, scope: InstrumentationScope): boolean;
}

/** A validated match-properties object, compiled. */
export function compileMatch(mp: MatchPropertiesConfig): RecordMatcher {
  const re = mp.match_type === 'regexp';
  const attrs = attributesMatcher(mp.attributes, re);
  const resources = attributesMatcher(mp.resources, re);
  const libraries = mp.libraries.map((l) => ({ name: stringSet([l.name], re)!, version: l.version !== null ? stringSet([l.version], re) : null }));
  const services = stringSet(mp.services, re);
  const names = stringSet(mp.span_names, re);
  const kinds = stringSet(mp.span_kinds, re);
  const bodies = stringSet(mp.log_bodies, re);
  const sevTexts = stringSet(mp.log_severity_texts, re);
  const sev = mp.log_severity_number ? { min: severityNumber(mp.log_severity_number.min), undef: mp.log_severity_number.match_undefined } : null;
  const common = (attributes: readonly KeyValue[], resource: Resource, scope: InstrumentationScope): boolean => {
    for (const l of libraries) {
      if (!l.name(scope.name)) return false;
      if (l.version && !l.version(scope.version)) return false;
    }
    if (resources && !resources(resource.attributes)) return false;
    return !attrs || attrs(attributes);
  };
  return {
    log(r, resource, scope) {
      if (bodies && !bodies(asString(r.body))) return false;
      if (sevTexts && !sevTexts(r.severityText)) return false;
      if (sev && (r.severityNumber === 0 ? !sev.undef : r.severityNumber < sev.min)) return false;
      return common(r.attributes, resource, scope);
    },
    span(sp, resource, scope) {
      if (services) {
        const svc = resource.attributes.find((a) => a.key === 'service.name');
        if (!services(svc ? asString(svc.value) : '<nil-service-name>')) return false;
      }
      if (names && !names(sp.name)) return false;
      if (kinds && !kinds(SPAN_KIND_NAMES[sp.kind] ?? 'SPAN_KIND_UNSPECIFIED')) return false;
      return common(sp.attributes, resource, scope);
    },
  };
}

/**
 * Include and exclude together: `skip` says a record is NOT to be acted on
 * (does not match include, or matches exclude). Null when neither is set.
 */
export function compileSkip(include: MatchPropertiesConfig | null, exclude: MatchPropertiesConfig | null): RecordMatcher | null {
  if (!include && !exclude) return null;
  const inc = include ? compileMatch(include) : null;
  const exc = exclude ? compileMatch(exclude) : null;
  return {
    log: (r, res, sc) => (inc !== null && !inc.log(r, res, sc)) || (exc !== null && exc.log(r, res, sc)),
    span: (sp, res, sc) => (inc !== null && !inc.span(sp, res, sc)) || (exc !== null && exc.span(sp, res, sc)),
  };
}
