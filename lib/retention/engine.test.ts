/**
 * Retention on the real embedded engine (chDB): rendered TTLs are accepted
 * and read back, a policy change alters an existing table and raises the
 * configuration event, the sweep counts and deletes exactly the expired
 * rows, rows arriving expired are counted by the engine, and hostile values
 * stay data.
 */
import { describe, expect, it } from 'vitest';
import { onSecurityEvent, type SecurityEvent } from '../../core/security-events.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { audit, createAudit, DAY, db, insertAudit, POLICY, row, service, useEngine } from './engine-fixture.ts';
import { ledgerName } from './ledger.ts';
import { parsePolicyJson, type RetentionRule } from './policy.ts';
import { quote } from './render.ts';

useEngine();

describe('retention on the embedded engine', () => {
  it('quote() round-trips hostile strings through the engine', async () => {
    const hostile = ["it's", 'back\\slash', "\\'", 'nul\0byte', "'; DROP TABLE x; --", 'tab\tnew\nline\r', '__proto__', 'ünïcødé ✓', '\x7f\x01', "''", '\\'];
    const [got] = await db.query<Record<string, string>>(`SELECT ${hostile.map((h, i) => `${quote(h)} AS v${i}`).join(', ')}`);
    expect(hostile.map((_, i) => got![`v${i}`])).toEqual(hostile);
  });

  it('CREATE uses the rules; the TTL in force reads back equal, so a restart changes nothing', async () => {
    const events: SecurityEvent[] = [];
    const off = onSecurityEvent((e) => events.push(e));
    try {
      const r = service(POLICY, 'r1');
      await r.start(db);
      const { result } = await createAudit(r, 'r1');
      // created with the policy: nothing to alter, but the first application is recorded
      expect(result).toMatchObject({ changed: false, recorded: true });
      expect(result.after).toBe(
        "toDateTime(Timestamp) + toIntervalDay(731) WHERE (Category = 'authorization') AND (Outcome = 'denied'), toDateTime(Timestamp) + toIntervalDay(401) WHERE NOT ((Category = 'authorization') AND (Outcome = 'denied'))",
      );
      const [t] = await db.query<{ engine_full: string }>("SELECT engine_full FROM system.tables WHERE database = 'r1' AND name = 'audit_events'");
      expect(t!.engine_full).toContain(`TTL ${result.after} SETTINGS`);
      expect(t!.engine_full).toContain('ttl_only_drop_parts = 0');
      const again = await r.enforce(db, r.plan(audit('r1')));
      expect(again).toMatchObject({ changed: false, recorded: false });
      const ev = events.filter((e) => e.category === 'configuration');
      expect(ev).toHaveLength(1);
      expect(ev[0]!.details).toMatchObject({ resource: 'r1.audit_events', old_ttl: result.after, new_ttl: result.after, old_policy: '' });
      expect(parsePolicyJson(ev[0]!.details.policy!)).toEqual(POLICY);
      await r.close();
    } finally {
      off();
    }
  });

  it('a policy change alters the existing table and is raised as a configuration event with the old and new TTL', async () => {
    const events: SecurityEvent[] = [];
    const off = onSecurityEvent((e) => events.push(e));
    try {
      const old = service(POLICY, 'r2');
      await old.start(db);
      const { result: first } = await createAudit(old, 'r2');
      await old.close();
      events.length = 0;
      const changed = service([{ ...POLICY[0]!, periodMs: 365 * DAY }, POLICY[1]!], 'r2');
      await changed.start(db);
      const views = async () => (await db.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'r2' AND name LIKE 'audit_events_retention_arrived_%' ORDER BY name")).map((v) => v.name);
      const before = await views();
      expect(before).toHaveLength(1);
      const res = await changed.enforce(db, changed.plan(audit('r2')));
      expect(res.changed).toBe(true);
      // the view of the new rules replaced the old one; an unchanged policy keeps it
      const after = await views();
      expect(after).toHaveLength(1);
      expect(after).not.toEqual(before);
      await changed.enforce(db, changed.plan(audit('r2')));
      expect(await views()).toEqual(after);
      expect(res.before).toBe(first.after);
      expect(res.after).toContain('toIntervalDay(366)');
      const [t] = await db.query<{ engine_full: string }>("SELECT engine_full FROM system.tables WHERE database = 'r2' AND name = 'audit_events'");
      expect(t!.engine_full).toContain(res.after);
      const ev = events.filter((e) => e.category === 'configuration');
      expect(ev).toHaveLength(1);
      expect(ev[0]).toMatchObject({ action: 'retention.update', outcome: 'success', surface: 'retention' });
      expect(ev[0]!.subject).not.toBe('');
      expect(ev[0]!.details).toMatchObject({ resource: 'r2.audit_events', old_ttl: first.after, new_ttl: res.after, rules: 'authz-denials,audit' });
      expect(parsePolicyJson(ev[0]!.details.old_policy!)[0]!.periodMs).toBe(730 * DAY);
      expect(parsePolicyJson(ev[0]!.details.policy!)[0]!.periodMs).toBe(365 * DAY);
      // no rules left for the table: the TTL is removed, and that is a change too
      const none = service([], 'r2');
      await none.start(db);
      const removed = await none.enforce(db, none.plan(audit('r2')));
      expect(removed).toMatchObject({ changed: true, after: '' });
      const [t2] = await db.query<{ engine_full: string }>("SELECT engine_full FROM system.tables WHERE database = 'r2' AND name = 'audit_events'");
      expect(t2!.engine_full).not.toContain(' TTL ');
      // and no rules: no arrived-expired view either
      expect(await db.query("SELECT name FROM system.tables WHERE database = 'r2' AND name LIKE 'audit_events_retention_arrived_%'")).toEqual([]);
      expect(events.filter((e) => e.category === 'configuration')).toHaveLength(2);
      await changed.close();
      await none.close();
    } finally {
      off();
    }
  });

  it('the sweep counts expired rows per rule and day, deletes exactly those, and records them in the ledger', async () => {
    const metrics = new MetricsRegistry();
    const r = service(POLICY, 'r3', metrics);
    await r.start(db);
    await createAudit(r, 'r3');
    const now = Date.now();
    // none is past its rule yet (so the engine keeps them all); two days on, four are
    await insertAudit('r3', [
      row(729, 'authorization', 'denied', now),
      row(727, 'authorization', 'denied', now), // kept: denials 730d
      row(399, 'authorization', 'allowed', now),
      row(398.5, 'authentication', 'failure', now),
      row(10, 'authorization', 'allowed', now), // kept
      row(600, 'authorization', 'denied', now), // kept
    ]);
    const later = now + 2 * DAY;
    const written = await r.sweep(later);
    const total = (rule: string) => written.filter((w) => w.rule === rule).reduce((a, w) => a + Number(w.rows), 0);
    expect([total('authz-denials'), total('audit')]).toEqual([1, 2]);
    expect(written.every((w) => w.source === 'sweep' && w.table === 'audit_events')).toBe(true);
    const day = (ageDays: number) => new Date(now - ageDays * DAY).toISOString().slice(0, 10);
    expect(new Set(written.map((w) => w.day))).toEqual(new Set([day(729), day(399), day(398.5)]));
    const left = await db.query<{ Category: string; Outcome: string }>('SELECT Category, Outcome FROM r3.audit_events ORDER BY Timestamp');
    expect(left).toEqual([
      { Category: 'authorization', Outcome: 'denied' },
      { Category: 'authorization', Outcome: 'denied' },
      { Category: 'authorization', Outcome: 'allowed' },
    ]);
    const ledger = await db.query<{ Rule: string; Rows: string }>(`SELECT Rule, toString(sum(Rows)) AS Rows FROM ${ledgerName('r3')} WHERE Source = 'sweep' GROUP BY Rule ORDER BY Rule`);
    expect(ledger).toEqual([
      { Rule: 'audit', Rows: '2' },
      { Rule: 'authz-denials', Rows: '1' },
    ]);
    // nothing arrived expired, and a second sweep finds nothing more
    const arrived = await db.query(`SELECT * FROM ${ledgerName('r3')} WHERE Source = 'arrived_expired'`);
    expect(arrived).toEqual([]);
    expect(await r.sweep(later)).toEqual([]);
    expect(metrics.exposition()).toMatch(/trailhouse_retention_expired_rows\{[^}]*rule="audit"[^}]*\} 2/);
    await r.close();
  });

  it('rows already past their rule on arrival are counted by the engine at insert; stored ones go at the next sweep', async () => {
    const metrics = new MetricsRegistry();
    const r = service(POLICY, 'r6', metrics);
    await r.start(db);
    await createAudit(r, 'r6');
    const now = Date.now();
    await insertAudit('r6', [
      row(500, 'authorization', 'allowed', now), // past 400d + the 1d grace: the engine's TTL drops it
      row(400.5, 'authorization', 'allowed', now), // past 400d, within the grace: stored until the sweep
      row(800, 'authorization', 'denied', now), // past 730d + grace
      row(5, 'authorization', 'allowed', now),
    ]);
    const arrived = await db.query<{ Rule: string; Rows: string }>(`SELECT Rule, toString(sum(Rows)) AS Rows FROM ${ledgerName('r6')} WHERE Source = 'arrived_expired' GROUP BY Rule ORDER BY Rule`);
    expect(arrived).toEqual([
      { Rule: 'audit', Rows: '2' },
      { Rule: 'authz-denials', Rows: '1' },
    ]);
    await db.exec('OPTIMIZE TABLE r6.audit_events FINAL');
    const stored = await db.query<{ Outcome: string; age: string }>(`SELECT Outcome, toString(intDiv(${now} - toUnixTimestamp64Milli(Timestamp), ${DAY})) AS age FROM r6.audit_events ORDER BY Timestamp`);
    expect(stored).toEqual([
      { Outcome: 'allowed', age: '400' },
      { Outcome: 'allowed', age: '5' },
    ]);
    const swept = await r.sweep(now);
    expect(swept.map((w) => [w.rule, w.rows])).toEqual([['audit', '1']]);
    await new Promise((res) => setTimeout(res, 1100));
    await r.pollArrived();
    expect(metrics.exposition()).toMatch(/trailhouse_retention_arrived_expired_rows\{[^}]*rule="audit"[^}]*\} 2/);
    expect(metrics.exposition()).toMatch(/trailhouse_retention_arrived_expired_rows\{[^}]*rule="authz-denials"[^}]*\} 1/);
    await r.close();
  });

  it('hostile rule names and values are quoted: the TTL applies, and matches exactly that value', async () => {
    const evil = "x'); DROP TABLE r4.audit_events; --\\\0";
    const rules: RetentionRule[] = [
      { name: "__proto__'\\", table: 'audit_events', periodMs: DAY, where: { category: [evil], outcome: ['__proto__'] } },
      { name: 'rest', table: 'audit_events', periodMs: 1000 * DAY, where: {} },
    ];
    const r = service(rules, 'r4');
    await r.start(db);
    const { result } = await createAudit(r, 'r4');
    expect(result.after).toContain('WHERE (Category = ');
    const now = Date.now();
    // 1.5 days: past the rule's 1d, before its TTL (1d + the 1d grace), so the sweep decides
    await insertAudit('r4', [row(1.5, evil, '__proto__', now), row(1.5, evil + 'x', '__proto__', now), row(1.5, 'x', '__proto__', now)]);
    const written = await r.sweep(now);
    expect(written.map((w) => [w.rule, w.rows])).toEqual([["__proto__'\\", '1']]);
    const left = await db.query<{ Category: string }>('SELECT Category FROM r4.audit_events ORDER BY Category');
    expect(left.map((l) => l.Category)).toEqual(['x', evil + 'x']);
    await r.close();
  });

  it('refuses a writer ttl beside rules for the same table, and matchers the table lacks', () => {
    const r = service(POLICY, 'r5');
    expect(() => r.plan({ ...audit('r5'), writerTtlMs: DAY })).toThrow(
      'processors.audit.ttl and the store\'s retention rules (authz-denials, audit) both govern audit_events: remove processors.audit.ttl, the retention rules decide',
    );
    const other = service([{ name: 'sev', table: 'my_audit', periodMs: DAY, where: { severityText: ['INFO'] } }], 'r5');
    expect(() => other.plan(audit('r5', 'my_audit'))).toThrow(/rule "sev": table my_audit has no severityText to match/);
    // a writer ttl alone is the rule equivalent
    const plain = service([], 'r5');
    expect(plain.plan({ ...audit('r5'), writerTtlMs: 3 * DAY })).toMatchObject({ rules: [{ name: 'ttl', periodMs: 3 * DAY, where: {} }], onlyDropParts: true });
  });
});
