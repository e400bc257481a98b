/**
 * The `retention` key of the clickhouse_store extension: the policy as YAML,
 * decoded strictly (unknown keys are refused by the schema, every other
 * problem with its path and reason) into RetentionRules.
 *
 *   retention:
 *     sweep_interval: 10m
 *     ttl_grace: 1d
 *     rules:
 *       - {name: authz-denials, table: audit_events, match: {category: authorization, outcome: denied}, period: 730d}
 *       - {name: audit, table: audit_events, period: 400d}
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { checkTableRules, KNOWN_TABLES, knownKind, type RetentionRule, type RetentionWhere } from './policy.ts';

export interface RetentionMatchConfig {
  category: unknown;
  outcome: unknown;
  service: unknown;
  resource: { key: string; value: unknown } | null;
  severity_number: { min: number; max: number } | null;
  severity_text: unknown;
}

export interface RetentionRuleConfig {
  name: string;
  table: string;
  period: number;
  match: RetentionMatchConfig;
}

export interface RetentionConfig {
  /** How often expired rows are counted into the ledger and deleted. Default 10m. */
  sweep_interval: number;
  /** The engine's TTL fires this long after a rule's period: the backstop when no sweep ran. Default 1d. */
  ttl_grace: number;
  /**
   * Whether this process sweeps. Several ingesters writing one ClickHouse
   * server must leave it on for one of them only: two sweeps of one table
   * would both count the rows they delete. Default true.
   */
  sweep: boolean;
  rules: RetentionRuleConfig[];
}

export const retentionDefaults = (): RetentionConfig => ({ sweep_interval: 600_000, ttl_grace: 86_400_000, sweep: true, rules: [] });

const matchSchema = s.object({
  category: s.any(),
  outcome: s.any(),
  service: s.any(),
  resource: s.optional(s.object({ key: s.string({ nonEmpty: true }), value: s.any() })),
  severity_number: s.optional(s.object({ min: s.int({ min: 0, max: 255 }), max: s.int({ min: 0, max: 255 }) })),
  severity_text: s.any(),
});

export const retentionSchema = s.section(
  s.object({
    sweep_interval: s.duration(),
    ttl_grace: s.duration(),
    sweep: s.bool(),
    rules: s.list(s.object({ name: s.string({ nonEmpty: true }), table: s.string({ nonEmpty: true }), period: s.duration(), match: matchSchema })),
  }),
  retentionDefaults,
);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A match value: one string or a non-empty list of strings. */
function values(v: unknown, path: string, errors: ConfigError[]): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x) => typeof x === 'string' || typeof x === 'number')) {
    errors.push({ path, message: `expected a string or a non-empty list of strings, got ${JSON.stringify(v)}` });
    return undefined;
  }
  return list.map(String);
}

/** The rules of a decoded `retention` section, with every problem found (paths relative to `retention`). */
export function retentionRules(c: RetentionConfig, errors: ConfigError[], prefix = 'retention'): RetentionRule[] {
  const rules: RetentionRule[] = [];
  const names = new Set<string>();
  if (c.sweep_interval < 1000) errors.push({ path: `${prefix}.sweep_interval`, message: 'must be at least 1s' });
  c.rules.forEach((r, i) => {
    const at = `${prefix}.rules[${i}]`;
    const before = errors.length;
    if (typeof r.name !== 'string') errors.push({ path: `${at}.name`, message: 'required: the rule\'s name, as the ledger and verify report it' });
    else if (names.has(r.name)) errors.push({ path: `${at}.name`, message: `rule name ${JSON.stringify(r.name)} is used twice` });
    else names.add(r.name);
    if (typeof r.table !== 'string') errors.push({ path: `${at}.table`, message: `required: the table it governs (${Object.keys(KNOWN_TABLES).join(', ')}, or a writer's own table name)` });
    else if (!IDENT.test(r.table)) errors.push({ path: `${at}.table`, message: `expected a table name (letters, digits, _), got ${JSON.stringify(r.table)}` });
    if (typeof r.period !== 'number') errors.push({ path: `${at}.period`, message: 'required: how long matching rows are kept, e.g. 730d' });
    else if (r.period < 1000 || r.period % 1000 !== 0) errors.push({ path: `${at}.period`, message: 'must be whole seconds, at least 1s' });
    const m = r.match;
    const where: RetentionWhere = {};
    const set = <K extends keyof RetentionWhere>(k: K, v: RetentionWhere[K] | undefined): void => {
      if (v !== undefined) where[k] = v;
    };
    set('category', values(m.category, `${at}.match.category`, errors));
    set('outcome', values(m.outcome, `${at}.match.outcome`, errors));
    set('service', values(m.service, `${at}.match.service`, errors));
    set('severityText', values(m.severity_text, `${at}.match.severity_text`, errors));
    if (m.resource) {
      const v = values(m.resource.value, `${at}.match.resource.value`, errors);
      if (m.resource.value === undefined || m.resource.value === null) errors.push({ path: `${at}.match.resource.value`, message: 'required: the attribute value (or a list of them)' });
      if (v) where.resource = { key: m.resource.key, values: v };
    }
    if (m.severity_number) {
      const { min, max } = m.severity_number;
      if (min > max) errors.push({ path: `${at}.match.severity_number`, message: `min ${min} is above max ${max}` });
      else where.severityNumber = { min, max };
    }
    if (errors.length === before) rules.push({ name: r.name, table: r.table, periodMs: r.period, where });
  });
  for (const table of new Set(rules.map((r) => r.table))) {
    const kind = knownKind(table);
    if (kind) for (const message of checkTableRules(rules, table, kind)) errors.push({ path: `${prefix}.rules`, message });
  }
  return rules;
}
