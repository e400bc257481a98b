/**
 * The retention policy: rules matched on a table and on a row's content, each
 * with a period; the first rule that matches a row decides how long it is
 * kept. Pure: the same rules are rendered as ClickHouse TTLs (render.ts),
 * swept and counted (sweep.ts), and evaluated by `verify` to tell "expired
 * under rule R" from a deletion nobody explains.
 *
 * For audit_events a rule can only look at Category, Outcome and ServiceName
 * (and the time), so ruleFor can be evaluated from those columns alone.
 */

/** What a rule matches; every matcher given must hold (AND); a list matches any of its values (OR). */
export interface RetentionWhere {
  /** audit_events Category. */
  category?: readonly string[];
  /** audit_events Outcome. */
  outcome?: readonly string[];
  /** ServiceName. */
  service?: readonly string[];
  /** A resource attribute (a namespace or tenant): ResourceAttributes[key] is one of values. */
  resource?: { key: string; values: readonly string[] };
  /** Logs: SeverityNumber within [min, max]. */
  severityNumber?: { min: number; max: number };
  /** Logs: SeverityText one of these. */
  severityText?: readonly string[];
}

export interface RetentionRule {
  name: string;
  /** The table the rule governs, by name (the writer's table name; `trace_summary` for correlate's summary). */
  table: string;
  /** How long a matching row is kept after its time. */
  periodMs: number;
  where: RetentionWhere;
}

/** The row as ruleFor sees it; a matcher on a field the row does not carry does not match. */
export interface RetentionRow {
  category?: string;
  outcome?: string;
  service?: string;
  resource?: Readonly<Record<string, string>>;
  severityNumber?: number;
  severityText?: string;
}

export type Matcher = keyof RetentionWhere;

/** The kinds of tables trailhouse writes, and which matchers each can evaluate. */
/** `lookup`: a table derived from another (the traces' trace-id lookup), kept as long as the longest rule of its source. */
export type TableKind = 'audit' | 'logs' | 'traces' | 'summary' | 'lookup';

export const MATCHERS_OF: Readonly<Record<TableKind, readonly Matcher[]>> = {
  audit: ['category', 'outcome', 'service'],
  logs: ['service', 'resource', 'severityNumber', 'severityText'],
  traces: ['service', 'resource'],
  summary: [],
  lookup: [],
};

/** The default table names and their kinds (a writer with another table name says its kind when it applies the policy). */
export const KNOWN_TABLES: Readonly<Record<string, TableKind>> = {
  audit_events: 'audit',
  otel_logs: 'logs',
  otel_traces: 'traces',
  trace_summary: 'summary',
};

/** The kind of a default table name; undefined for any other name (never an Object.prototype member). */
export function knownKind(table: string): TableKind | undefined {
  return Object.hasOwn(KNOWN_TABLES, table) ? KNOWN_TABLES[table] : undefined;
}

const has = (list: readonly string[] | undefined, v: string | undefined): boolean => list === undefined || (v !== undefined && list.includes(v));

/** Whether `row` satisfies every matcher of `where`. */
export function matches(where: RetentionWhere, row: RetentionRow): boolean {
  if (!has(where.category, row.category) || !has(where.outcome, row.outcome) || !has(where.service, row.service)) return false;
  if (!has(where.severityText, row.severityText)) return false;
  const sn = where.severityNumber;
  if (sn && (row.severityNumber === undefined || row.severityNumber < sn.min || row.severityNumber > sn.max)) return false;
  const r = where.resource;
  if (r) {
    const v = row.resource && Object.hasOwn(row.resource, r.key) ? row.resource[r.key] : undefined;
    if (v === undefined || !r.values.includes(v)) return false;
  }
  return true;
}

/** The rule that governs `row` of `table`: the first that matches, or null (kept without limit). */
export function ruleFor(rules: readonly RetentionRule[], table: string, row: RetentionRow): RetentionRule | null {
  for (const rule of rules) if (rule.table === table && matches(rule.where, row)) return rule;
  return null;
}

/**
 * Whether a row of time `timeMs` is past `rule`'s period at `nowMs`, at the
 * engine's resolution: TTLs and the sweep compare `toDateTime(Timestamp)`,
 * whole seconds, so a row the store deleted is always expired() here.
 */
export function expired(rule: RetentionRule, timeMs: number, nowMs: number): boolean {
  return Math.floor(timeMs / 1000) * 1000 + rule.periodMs <= nowMs;
}

/** The rules of one table, in policy order. */
export function rulesOf(rules: readonly RetentionRule[], table: string): RetentionRule[] {
  return rules.filter((r) => r.table === table);
}

/** Matchers a rule uses. */
export function matchersOf(where: RetentionWhere): Matcher[] {
  return (Object.keys(where) as Matcher[]).filter((k) => where[k] !== undefined);
}

/**
 * Problems with a table's rules for a table of `kind`: a matcher the table
 * has no column for, or a rule after a catch-all (it could never match).
 */
export function checkTableRules(rules: readonly RetentionRule[], table: string, kind: TableKind): string[] {
  const out: string[] = [];
  let catchAll: string | undefined;
  for (const r of rules) {
    if (r.table !== table) continue;
    for (const m of matchersOf(r.where)) {
      if (!MATCHERS_OF[kind].includes(m)) {
        out.push(`rule "${r.name}": table ${table} has no ${m} to match (it can match ${MATCHERS_OF[kind].join(', ') || 'nothing: only a rule without match'})`);
      }
    }
    if (catchAll !== undefined) out.push(`rule "${r.name}" never applies: rule "${catchAll}" before it matches every row of ${table}`);
    else if (matchersOf(r.where).length === 0) catchAll = r.name;
  }
  return out;
}

const WHERE_KEYS: readonly Matcher[] = ['category', 'outcome', 'service', 'resource', 'severityNumber', 'severityText'];

/**
 * Rules as canonical JSON (fixed key order): what the `retention.update`
 * audit event and retention_policy carry, so `verify` can rebuild the policy
 * a deletion happened under from the (tamper-evident) audit trail.
 */
export function policyJson(rules: readonly RetentionRule[]): string {
  return JSON.stringify(
    rules.map((r) => {
      const where: Record<string, unknown> = {};
      for (const k of WHERE_KEYS) if (r.where[k] !== undefined) where[k] = r.where[k];
      return { name: r.name, table: r.table, periodMs: r.periodMs, where };
    }),
  );
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');

/** policyJson's output back as rules; throws with the reason on anything else (fail closed). */
export function parsePolicyJson(text: string): RetentionRule[] {
  const fail = (why: string): never => {
    throw new Error(`retention policy JSON: ${why}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (!Array.isArray(v)) return fail('expected a list of rules');
  return v.map((r: unknown, i): RetentionRule => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return fail(`rule ${i}: expected an object`);
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['name', 'table', 'periodMs', 'where'].includes(k)) fail(`rule ${i}: unknown key ${JSON.stringify(k)}`);
    if (typeof o.name !== 'string' || typeof o.table !== 'string') return fail(`rule ${i}: name and table must be strings`);
    if (typeof o.periodMs !== 'number' || !Number.isSafeInteger(o.periodMs) || o.periodMs <= 0) return fail(`rule ${i}: periodMs must be a positive integer`);
    const w = o.where;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) return fail(`rule ${i}: where must be an object`);
    const where: RetentionWhere = {};
    for (const [k, val] of Object.entries(w)) {
      if (k === 'category' || k === 'outcome' || k === 'service' || k === 'severityText') {
        if (!strings(val)) fail(`rule ${i}: where.${k} must be a non-empty list of strings`);
        where[k] = val as string[];
      } else if (k === 'resource') {
        const res = val as { key?: unknown; values?: unknown };
        if (typeof res !== 'object' || res === null || typeof res.key !== 'string' || !strings(res.values) || Object.keys(res).length !== 2) fail(`rule ${i}: where.resource must be {key, values}`);
        where.resource = { key: res.key as string, values: res.values as string[] };
      } else if (k === 'severityNumber') {
        const sn = val as { min?: unknown; max?: unknown };
        if (typeof sn !== 'object' || sn === null || !Number.isInteger(sn.min) || !Number.isInteger(sn.max) || Object.keys(sn).length !== 2) fail(`rule ${i}: where.severityNumber must be {min, max}`);
        where.severityNumber = { min: sn.min as number, max: sn.max as number };
      } else fail(`rule ${i}: unknown matcher ${JSON.stringify(k)}`);
    }
    return { name: o.name, table: o.table, periodMs: o.periodMs, where };
  });
}
