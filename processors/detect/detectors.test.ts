// Each detector through the engine, on a hand-moved clock: thresholds, the
// learning period, eviction, forget_after, change windows, and state that
// survives a restart (rows written, read back by a new engine).
import { describe, expect, it } from 'vitest';
import { compileRules } from '../../lib/audit/classify.ts';
import { defaultAuditRules } from '../../lib/audit/rules.ts';
import { defaultDetectConfig, type DetectConfig } from './config.ts';
import { DetectEngine } from './engine.ts';
import { normalizePath } from './detector.ts';
import { parseChangeWindow } from './change-window.ts';
import type { LoadedRow } from './state-table.ts';
import { allowed, authFailure, change, Clock, denial, RecordingSink, sensitive } from './testdata/rows.ts';

const rules = compileRules(defaultAuditRules());
const H = 3_600_000;
const SA = 'spiffe://cluster.local/ns/shop/sa/cart';

function setup(tweak: (c: DetectConfig) => void = () => {}) {
  const cfg = defaultDetectConfig();
  cfg.learning_period = H;
  tweak(cfg);
  const clock = new Clock();
  const sink = new RecordingSink();
  const evicted: string[] = [];
  const engine = new DetectEngine(cfg, rules, sink, clock.now, { evicted: (d) => evicted.push(d) });
  return { cfg, clock, sink, engine, evicted };
}

/** What `a` wrote, as the state table gives it back. */
function rowsOf(engine: DetectEngine, now: number): LoadedRow[] {
  return engine.takeDirty().map((r) => ({ ...r, ingester: 'a', updated: now }));
}

describe('first_seen_access', () => {
  it('learns silently, then reports a principal on a new destination path once (one alert key per principal and destination)', () => {
    const { clock, sink, engine } = setup();
    engine.observe([allowed(SA, 'orders:8080', '/api/orders/41'), denial(SA, 'orders:8080', '/api/refunds')]);
    clock.advance(H);
    engine.observe([allowed(SA, 'orders:8080', '/api/orders/42'), denial(SA, 'orders:8080', '/api/refunds')]);
    expect(sink.signals).toEqual([]);
    engine.observe([allowed(SA, 'orders:8080', '/api/users/7'), allowed(SA, 'orders:8080', '/api/users/8'), denial(SA, 'orders:8080', '/api/cards')]);
    expect(sink.keys()).toEqual([`first_seen_access|${SA}|orders:8080`, `first_seen_access|${SA}|orders:8080`]);
    expect(sink.signals[0]!.resource).toBe('/api/users/7');
    expect(sink.signals[0]!.details.path).toBe('/api/users/*');
    expect(sink.signals[1]!.reason).toContain('was denied at');
    expect(sink.signals[0]!.evidence.eventIds).toHaveLength(1);
  });

  it('skips allowlisted paths, sensitive paths (sensitive_first_seen has them) and anonymous callers', () => {
    const { clock, sink, engine } = setup((c) => (c.detectors.first_seen_access.allow = { 'orders*': ['/healthz', '/metrics/**'] }));
    clock.advance(H);
    engine.observe([allowed(SA, 'orders:8080', '/healthz'), allowed(SA, 'orders:8080', '/metrics/prom'), allowed(SA, 'orders:8080', '/admin/x'), allowed('', 'orders:8080', '/api')]);
    expect(sink.signals.filter((s) => s.detector === 'first_seen_access')).toEqual([]);
  });

  it('forgets a key unseen for forget_after', () => {
    const { clock, sink, engine } = setup((c) => (c.detectors.first_seen_access.forget_after = 2 * H));
    engine.observe([allowed(SA, 'orders', '/api/a')]);
    clock.advance(H + 1);
    engine.observe([allowed(SA, 'orders', '/api/a')]); // seen within forget_after: refreshed
    clock.advance(2 * H - 1);
    engine.observe([allowed(SA, 'orders', '/api/a')]);
    expect(sink.signals).toEqual([]);
    clock.advance(2 * H + 1);
    engine.observe([allowed(SA, 'orders', '/api/a')]);
    expect(sink.signals).toHaveLength(1);
    expect(sink.signals[0]!.reason).toContain('forget_after');
  });

  it('keeps at most max_keys, forgetting the least recently seen (counted)', () => {
    const { clock, sink, engine, evicted } = setup((c) => (c.detectors.first_seen_access.max_keys = 2));
    engine.observe([allowed(SA, 'd', '/a'), allowed(SA, 'd', '/b')]);
    engine.observe([allowed(SA, 'd', '/a')]); // /a is the most recent now
    engine.observe([allowed(SA, 'd', '/c')]); // /b goes
    expect(evicted).toEqual(['first_seen_access']);
    clock.advance(H);
    engine.observe([allowed(SA, 'd', '/a'), allowed(SA, 'd', '/c')]);
    expect(sink.signals).toEqual([]);
    engine.observe([allowed(SA, 'd', '/b')]);
    expect(sink.signals.map((s) => s.resource)).toEqual(['/b']);
  });

  it('normalizes ids out of paths and keeps path_depth segments', () => {
    expect(normalizePath('/api/v1/users/42/orders', 3)).toBe('/api/v1/users');
    expect(normalizePath('/users/42', 3)).toBe('/users/*');
    expect(normalizePath('/o/3fa85f64-5717-4562-b3fc-2c963f66afa6/x', 3)).toBe('/o/*/x');
    expect(normalizePath('', 3)).toBe('/');
  });
});

describe('sensitive_first_seen', () => {
  it('reports a principal (or an anonymous source) on a sensitive path it was not seen on, one alert per path', () => {
    const { clock, sink, engine } = setup();
    engine.observe([sensitive('spiffe://cluster.local/ns/ops/sa/admin', 'billing', '/admin/users')]);
    clock.advance(H);
    engine.observe([sensitive('spiffe://cluster.local/ns/ops/sa/admin', 'billing', '/admin/users')]);
    expect(sink.signals).toEqual([]);
    engine.observe([sensitive(SA, 'billing', '/admin/users'), sensitive(SA, 'billing', '/admin/users'), sensitive('', 'billing', '/admin/export', '203.0.113.9:4000')]);
    expect(sink.keys()).toEqual([`sensitive_first_seen|${SA}|billing|/admin/users`, 'sensitive_first_seen|source:203.0.113.9|billing|/admin/export']);
    expect(sink.signals[0]!.severity).toBe('critical');
  });
});

describe('deny_surge', () => {
  const tweak = (c: DetectConfig) => {
    c.detectors.deny_surge = { ...c.detectors.deny_surge, window: 60_000, buckets: 6, min_count: 10, ratio: 3, alpha: 0.2 };
    c.detectors.first_seen_access.enabled = false;
  };

  it('needs both min_count and ratio × the learned baseline; once a window', () => {
    const { clock, sink, engine } = setup(tweak);
    // Learning: 5 denials a minute for this principal, steady.
    for (let m = 0; m < 60; m++) {
      for (let i = 0; i < 5; i++) engine.observe([denial(SA, `svc-${m % 3}`, '/x')]);
      clock.advance(60_000);
    }
    // Baseline ~5 a window: 12 in a window pass min_count but not 3 × 5.
    for (let i = 0; i < 12; i++) engine.observe([denial(SA, 'svc-9', '/x')]);
    expect(sink.signals.filter((s) => s.key.includes('principal'))).toEqual([]);
    for (let i = 0; i < 8; i++) engine.observe([denial(SA, 'svc-9', '/x', 'ab'.repeat(16))]);
    const principal = sink.signals.filter((s) => s.key === `deny_surge|principal|${SA}`);
    expect(principal).toHaveLength(1);
    expect(principal[0]!.count).toBeGreaterThanOrEqual(15);
    expect(principal[0]!.evidence.traceIds).toEqual(['ab'.repeat(16)]);
    expect(principal[0]!.evidence.eventIds.length).toBeLessThanOrEqual(20);
    // svc-9 had no baseline: its destination key alerted at min_count.
    expect(sink.keys()).toContain('deny_surge|destination|svc-9');
    for (let i = 0; i < 30; i++) engine.observe([denial(SA, 'svc-9', '/x')]);
    expect(sink.signals.filter((s) => s.key === `deny_surge|principal|${SA}`)).toHaveLength(1);
    // The next window: the surge raised the baseline, so it takes more to alert again.
    clock.advance(60_000);
    for (let i = 0; i < 40; i++) engine.observe([denial(SA, 'svc-9', '/x')]);
    expect(sink.signals.filter((s) => s.key === `deny_surge|principal|${SA}`)).toHaveLength(1);
    for (let i = 0; i < 200; i++) engine.observe([denial(SA, 'svc-9', '/x')]);
    expect(sink.signals.filter((s) => s.key === `deny_surge|principal|${SA}`)).toHaveLength(2);
  });

  it('raises nothing while learning, and ignores dry-run denials', () => {
    const { sink, engine } = setup(tweak);
    for (let i = 0; i < 50; i++) engine.observe([denial(SA, 'a', '/x')]);
    expect(sink.signals).toEqual([]);
  });
});

describe('auth_failure_burst', () => {
  it('counts authentication failures per source address and per destination', () => {
    const { clock, sink, engine } = setup((c) => (c.detectors.auth_failure_burst = { ...c.detectors.auth_failure_burst, min_count: 5, window: 60_000, buckets: 6 }));
    clock.advance(H);
    for (let i = 0; i < 4; i++) engine.observe([authFailure(`10.1.0.${i}:5000`, 'payments:8443')]);
    expect(sink.signals).toEqual([]);
    engine.observe([authFailure('10.1.0.9:5000', 'payments:8443', 'peer_identity_missing')]);
    expect(sink.keys()).toEqual(['auth_failure_burst|destination|payments:8443']);
    for (let i = 0; i < 5; i++) engine.observe([authFailure('10.2.0.1:6000', 'other', 'jwt')]);
    expect(sink.keys()).toContain('auth_failure_burst|source|10.2.0.1');
  });
});

describe('config_change', () => {
  it('always reports changes of the watched kinds, even while learning', () => {
    const { sink, engine } = setup();
    engine.observe([
      change('delete', 'authorizationpolicies.security.istio.io/foo/deny-admin', 'alice@example.com'),
      change('patch', 'virtualservices.networking.istio.io/foo/vs', 'bob'),
      change('get', 'peerauthentications.security.istio.io/foo/default', 'carol'),
    ]);
    expect(sink.keys()).toEqual(['config_change|delete|authorizationpolicies.security.istio.io/foo/deny-admin']);
    expect(sink.signals[0]!.principal).toBe('alice@example.com');
    expect(sink.signals[0]!.severity).toBe('warning');
  });

  it('raises the severity outside the change windows (UTC)', () => {
    const { sink, engine } = setup((c) => (c.detectors.config_change.change_windows = ['mon-fri 08:00-18:00']));
    const at = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
    engine.observe([
      change('patch', 'peerauthentications.security.istio.io/foo/default', 'a', at('2026-12-07T09:30:00Z')), // Monday
      change('patch', 'peerauthentications.security.istio.io/foo/default', 'a', at('2026-12-06T09:30:00Z')), // Sunday
      change('create', 'requestauthentications.security.istio.io/foo/jwt', 'a', at('2026-12-08T19:00:00Z')), // Tuesday evening
    ]);
    expect(sink.signals.map((s) => [s.severity, s.details.change_window])).toEqual([
      ['warning', 'inside'],
      ['critical', 'outside'],
      ['critical', 'outside'],
    ]);
  });

  it('parses windows, refusing what it cannot read', () => {
    expect(parseChangeWindow('sat,sun 22:00-02:00').window).toEqual({ days: 0b1000001, from: 22 * 60, to: 120 });
    expect(parseChangeWindow('weekdays 9-5').error).toMatch(/expected/);
    expect(parseChangeWindow('* 10:00-10:00').error).toMatch(/expected/);
  });
});

describe('source_silent', () => {
  it('reports a service silent longer than gap once, and again after it sent', () => {
    const { clock, sink, engine } = setup((c) => (c.detectors.source_silent.gap = 60_000));
    engine.seen('checkout');
    engine.seen('cart');
    clock.advance(30_000);
    engine.seen('cart');
    clock.advance(31_000);
    engine.tick();
    expect(sink.keys()).toEqual(['source_silent|checkout']);
    engine.tick();
    expect(sink.signals).toHaveLength(1);
    engine.seen('checkout');
    clock.advance(61_000);
    engine.tick();
    expect(sink.keys()).toEqual(['source_silent|checkout', 'source_silent|cart', 'source_silent|checkout']);
  });
});

describe('state rows', () => {
  it('a restarted engine keeps the learning start, first-seen keys and surge alerts: no repeat', () => {
    const a = setup((c) => (c.detectors.deny_surge.min_count = 5));
    a.engine.observe([allowed(SA, 'orders', '/api/a')]);
    a.clock.advance(H);
    for (let i = 0; i < 5; i++) a.engine.observe([denial(SA, 'orders', '/api/a')]);
    expect(a.sink.keys()).toEqual([`deny_surge|principal|${SA}`, 'deny_surge|destination|orders']);
    const rows = rowsOf(a.engine, a.clock.ms);

    const b = setup((c) => (c.detectors.deny_surge.min_count = 5));
    b.clock.ms = a.clock.ms + 1000;
    b.engine.load(rows);
    expect(b.engine.learningStarted).toBe(a.engine.learningStarted);
    expect(b.engine.learning()).toBe(false);
    b.engine.observe([allowed(SA, 'orders', '/api/a'), denial(SA, 'orders', '/api/a')]);
    expect(b.sink.signals).toEqual([]);
    // A new engine with no rows learns from scratch.
    const c = setup();
    c.engine.observe([allowed(SA, 'orders', '/api/zzz')]);
    expect(c.engine.learning()).toBe(true);
  });
});
