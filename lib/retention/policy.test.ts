import { describe, expect, it } from 'vitest';
import { decode, type ConfigError } from '../../core/config/schema.ts';
import { retentionDefaults, retentionRules, retentionSchema, type RetentionConfig } from './config.ts';
import { checkTableRules, expired, parsePolicyJson, policyJson, ruleFor, type RetentionRule } from './policy.ts';

const DAY = 86_400_000;

function load(user: unknown): { rules: RetentionRule[]; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const c = decode(retentionSchema, undefined, user, 'retention', errors) as RetentionConfig;
  const rules = errors.length ? [] : retentionRules(c, errors);
  return { rules, errors };
}

const POLICY = {
  rules: [
    { name: 'authz-denials', table: 'audit_events', match: { category: 'authorization', outcome: 'denied' }, period: '730d' },
    { name: 'audit', table: 'audit_events', period: '400d' },
    { name: 'shop-debug', table: 'otel_logs', match: { resource: { key: 'k8s.namespace.name', value: ['shop', 'cart'] }, severity_number: { min: 1, max: 8 } }, period: '3d' },
    { name: 'access-logs', table: 'otel_logs', match: { service: 'envoy' }, period: '30d' },
    { name: 'spans', table: 'otel_traces', period: '7d' },
  ],
};

describe('retention policy', () => {
  it('decodes the rules in order with their periods', () => {
    const { rules, errors } = load(POLICY);
    expect(errors).toEqual([]);
    expect(rules.map((r) => [r.name, r.table, r.periodMs / DAY])).toEqual([
      ['authz-denials', 'audit_events', 730],
      ['audit', 'audit_events', 400],
      ['shop-debug', 'otel_logs', 3],
      ['access-logs', 'otel_logs', 30],
      ['spans', 'otel_traces', 7],
    ]);
    expect(rules[0]!.where).toEqual({ category: ['authorization'], outcome: ['denied'] });
    expect(rules[2]!.where).toEqual({ resource: { key: 'k8s.namespace.name', values: ['shop', 'cart'] }, severityNumber: { min: 1, max: 8 } });
  });

  it('first match wins, from the audit columns alone', () => {
    const { rules } = load(POLICY);
    expect(ruleFor(rules, 'audit_events', { category: 'authorization', outcome: 'denied', service: 'x' })?.name).toBe('authz-denials');
    expect(ruleFor(rules, 'audit_events', { category: 'authorization', outcome: 'allowed' })?.name).toBe('audit');
    expect(ruleFor(rules, 'audit_events', {})?.name).toBe('audit');
    expect(ruleFor(rules, 'otel_logs', { service: 'envoy', resource: { 'k8s.namespace.name': 'shop' }, severityNumber: 5 })?.name).toBe('shop-debug');
    expect(ruleFor(rules, 'otel_logs', { service: 'envoy', resource: { 'k8s.namespace.name': 'shop' }, severityNumber: 9 })?.name).toBe('access-logs');
    expect(ruleFor(rules, 'otel_logs', { service: 'api' })).toBeNull();
    expect(ruleFor(rules, 'trace_summary', {})).toBeNull();
    // a prototype name is no attribute
    expect(ruleFor(rules, 'otel_logs', { resource: {}, severityNumber: 1 })).toBeNull();
  });

  it('expired: at the period, not before', () => {
    const { rules } = load(POLICY);
    const spans = rules[4]!;
    expect(expired(spans, 0, 7 * DAY)).toBe(true);
    expect(expired(spans, 1000, 7 * DAY)).toBe(false);
    // whole seconds, as the engine's toDateTime(Timestamp): 0.999 s counts as 0
    expect(expired(spans, 999, 7 * DAY)).toBe(true);
  });

  it('refuses unknown keys, missing fields, bad periods and values, with the reason', () => {
    const bad = load({
      rules: [
        { name: 'a', table: 'audit_events', period: '1d', match: { categroy: 'authorization' } },
        { name: 'b', table: 'audit_events', period: '3 days' },
        { table: 'otel_logs', period: '1d' },
        { name: 'd', table: 'otel-logs', period: '1d' },
        { name: 'e', table: 'otel_logs', period: '1500ms', match: { service: [] } },
        { name: 'f', table: 'otel_logs', period: '1d', match: { severity_number: { min: 9, max: 2 } } },
        { name: 'f', table: 'otel_logs', period: '1d', extra: 1 },
      ],
      sweep_interval: '0',
    });
    const text = bad.errors.map((e) => `${e.path}: ${e.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/rules\[0\]\.match\.categroy: unknown key \(valid keys: category, outcome/),
        expect.stringMatching(/rules\[1\]\.period: expected a duration/),
        expect.stringMatching(/rules\[6\]\.extra: unknown key/),
      ]),
    );
    const decoded = decode(retentionSchema, undefined, { sweep_interval: '0', rules: [
      { table: 'otel_logs', period: '1d' },
      { name: 'd', table: 'otel-logs', period: '1d' },
      { name: 'e', table: 'otel_logs', period: '1500ms', match: { service: [] } },
      { name: 'f', table: 'otel_logs', period: '1d', match: { severity_number: { min: 9, max: 2 } } },
      { name: 'f', table: 'otel_logs', period: '1d' },
      { name: 'g', table: 'otel_logs' },
    ] }, 'retention', []) as RetentionConfig;
    const errors: ConfigError[] = [];
    retentionRules(decoded, errors);
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'retention.sweep_interval: must be at least 1s',
      "retention.rules[0].name: required: the rule's name, as the ledger and verify report it",
      'retention.rules[1].table: expected a table name (letters, digits, _), got "otel-logs"',
      'retention.rules[2].period: must be whole seconds, at least 1s',
      'retention.rules[2].match.service: expected a string or a non-empty list of strings, got []',
      'retention.rules[3].match.severity_number: min 9 is above max 2',
      'retention.rules[4].name: rule name "f" is used twice',
      'retention.rules[5].period: required: how long matching rows are kept, e.g. 730d',
    ]);
  });

  it('refuses a matcher the table cannot evaluate, and a rule after a catch-all', () => {
    const { errors } = load({
      rules: [
        { name: 'a', table: 'audit_events', period: '1d', match: { severity_text: 'INFO' } },
        { name: 'all', table: 'otel_traces', period: '7d' },
        { name: 'later', table: 'otel_traces', period: '30d', match: { service: 'x' } },
      ],
    });
    expect(errors.map((e) => e.message)).toEqual([
      'rule "a": table audit_events has no severityText to match (it can match category, outcome, service)',
      'rule "later" never applies: rule "all" before it matches every row of otel_traces',
    ]);
  });

  it('hostile names are data: __proto__ as a rule name, table or attribute key', () => {
    const { rules, errors } = load({
      rules: [
        { name: '__proto__', table: '__proto__', period: '1d' },
        { name: 'constructor', table: 'otel_logs', period: '1d', match: { resource: { key: '__proto__', value: 'toString' } } },
      ],
    });
    expect(errors).toEqual([]);
    expect(ruleFor(rules, '__proto__', {})?.name).toBe('__proto__');
    expect(ruleFor(rules, 'otel_logs', { resource: {} })).toBeNull();
    expect(ruleFor(rules, 'otel_logs', { resource: JSON.parse('{"__proto__":"toString"}') as Record<string, string> })?.name).toBe('constructor');
    expect(checkTableRules(rules, '__proto__', 'summary')).toEqual([]);
  });

  it('defaults: sweep every 10m, TTL grace 1d, this process sweeps, no rules', () => {
    expect(retentionDefaults()).toEqual({ sweep_interval: 600_000, ttl_grace: 86_400_000, sweep: true, rules: [] });
  });

  it('policyJson round-trips through parsePolicyJson, which refuses anything else with the reason', () => {
    const { rules } = load(POLICY);
    const json = policyJson(rules);
    expect(parsePolicyJson(json)).toEqual(rules);
    expect(policyJson(parsePolicyJson(json))).toBe(json);
    expect(() => parsePolicyJson('{')).toThrow(/retention policy JSON: /);
    expect(() => parsePolicyJson('[{"name":"a","table":"t","periodMs":1000,"where":{"tenant":["x"]}}]')).toThrow('retention policy JSON: rule 0: unknown matcher "tenant"');
    expect(() => parsePolicyJson('[{"name":"a","table":"t","periodMs":-1,"where":{}}]')).toThrow('periodMs must be a positive integer');
    expect(() => parsePolicyJson('[{"name":"a","table":"t","periodMs":1000,"where":{"category":[]}}]')).toThrow('where.category must be a non-empty list of strings');
    expect(() => parsePolicyJson('[{"name":"a","table":"t","periodMs":1000,"where":{},"__proto__":{}}]')).toThrow('unknown key "__proto__"');
  });
});
