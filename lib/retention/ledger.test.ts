/**
 * The ledger and what the engine does around it (chDB): redelivered inserts
 * counted once, merges and DELETE WHERE rules, what is in force, and a
 * sweep's counts when the ledger insert fails.
 */
import { describe, expect, it } from 'vitest';
import { createAudit, DAY, db, insertAudit, lease, POLICY, row, service, useEngine } from './engine-fixture.ts';
import { testLogger, waitFor } from '../../test/helpers.ts';
import { ledgerName, type SqlRunner } from './ledger.ts';
import { RetentionService } from './sweep.ts';

useEngine();

describe('what the engine does with these TTLs', () => {
  it('a redelivered insert (same dedup token) is counted as arrived once', async () => {
    const r = service(POLICY, 'r7');
    await r.start(db);
    await createAudit(r, 'r7');
    const old = BigInt(Date.now() - 500 * DAY) * 1_000_000n;
    const body = Buffer.from(`{"Timestamp":${old},"Category":"authorization","Outcome":"allowed","Action":"a"}\n`);
    for (let i = 0; i < 2; i++) {
      await lease.store.insert({ table: 'r7.audit_events', columns: ['Timestamp', 'Category', 'Outcome', 'Action'], format: 'JSONEachRow', body, settings: { insert_deduplication_token: 'batch-1' } });
    }
    const [n] = await db.query<{ n: string }>(`SELECT toString(sum(Rows)) AS n FROM ${ledgerName('r7')} WHERE Source = 'arrived_expired'`);
    expect(n!.n).toBe('1');
    await r.close();
  });

  it('any merge deletes rows past a DELETE WHERE rule, whatever ttl_only_drop_parts says: why the TTL waits the grace for the sweep', async () => {
    await db.exec('CREATE DATABASE IF NOT EXISTS r8');
    for (const only of [1, 0]) {
      await db.exec(`CREATE TABLE r8.t${only} (Timestamp DateTime64(9), Category String) ENGINE = MergeTree ORDER BY Timestamp
        TTL toDateTime(Timestamp) + INTERVAL 1 DAY DELETE WHERE Category = 'a', toDateTime(Timestamp) + INTERVAL 100 DAY DELETE WHERE NOT (Category = 'a')
        SETTINGS ttl_only_drop_parts = ${only}`);
      await db.exec(`SYSTEM STOP MERGES r8.t${only}`);
      await db.exec(`INSERT INTO r8.t${only} VALUES (now64() - INTERVAL 2 DAY, 'a'), (now64() - INTERVAL 2 DAY, 'b')`);
      await db.exec(`SYSTEM START MERGES r8.t${only}`);
      await db.exec(`OPTIMIZE TABLE r8.t${only} FINAL`);
    }
    const kept = async (t: string) => (await db.query<{ Category: string }>(`SELECT Category FROM r8.${t} ORDER BY Category`)).map((x) => x.Category);
    expect(await kept('t0')).toEqual(['b']);
    expect(await kept('t1')).toEqual(['b']);
  });
});

describe('what is in force', () => {
  it('each application is recorded in retention_policy: the TTL and the rules in order', async () => {
    const r = service(POLICY, 'r9');
    await r.start(db);
    const { result } = await createAudit(r, 'r9');
    const rows = await db.query<{ Table: string; Ttl: string; Rules: { name: string; period_seconds: string; condition: string }[] }>('SELECT Table, Ttl, Rules FROM r9.retention_policy');
    expect(rows).toEqual([
      {
        Table: 'audit_events',
        Ttl: result.after,
        Rules: [
          { name: 'authz-denials', period_seconds: String(730 * 86_400), condition: "(Category = 'authorization') AND (Outcome = 'denied')" },
          { name: 'audit', period_seconds: String(400 * 86_400), condition: "NOT ((Category = 'authorization') AND (Outcome = 'denied'))" },
        ],
      },
    ]);
    await r.close();
  });
});

describe('the ledger after a deletion', () => {
  it('a sweep\'s counts retried under one token land once; an unwritable ledger leaves them in the log', async () => {
    const lines: string[] = [];
    const r = service(POLICY, 'r10', undefined, DAY, lines);
    await r.start(db);
    await createAudit(r, 'r10');
    const now = Date.now();
    await insertAudit('r10', [row(399.5, 'data_access', 'allowed', now)]);
    // the first ledger insert lands but its answer is lost: the retry is dropped as a duplicate
    let inserts = 0;
    const flaky: SqlRunner = {
      query: db.query,
      exec: async (sql) => {
        if (!sql.startsWith('INSERT INTO `r10`.`retention_ledger`')) return db.exec(sql);
        await db.exec(sql);
        if (++inserts === 1) throw new Error('connection reset');
      },
    };
    (r as unknown as { db: SqlRunner }).db = flaky;
    expect((await r.sweep(now + DAY)).map((w) => w.rows)).toEqual(['1']);
    expect(inserts).toBe(2);
    const [n] = await db.query<{ n: string }>(`SELECT toString(sum(Rows)) AS n FROM ${ledgerName('r10')} WHERE Source = 'sweep'`);
    expect(n!.n).toBe('1');
    // a ledger that refuses every insert: the sweep fails with the counts logged, and the next one records them once
    await insertAudit('r10', [row(399.5, 'data_access', 'denied', now)]);
    (r as unknown as { db: SqlRunner }).db = { query: db.query, exec: async (sql) => (sql.startsWith('INSERT INTO `r10`.`retention_ledger`') ? Promise.reject(new Error('disk full')) : db.exec(sql)) };
    await expect(r.sweep(now + DAY)).rejects.toThrow('disk full');
    const logged = lines.filter((l) => l.includes('retention ledger not written'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('"rule":"audit"');
    (r as unknown as { db: SqlRunner }).db = db;
    expect((await r.sweep(now + DAY)).map((w) => [w.rule, w.rows])).toEqual([['audit', '1']]);
    expect(await r.sweep(now + DAY)).toEqual([]);
    const [m] = await db.query<{ n: string }>(`SELECT toString(sum(Rows)) AS n FROM ${ledgerName('r10')} WHERE Source = 'sweep'`);
    expect(m!.n).toBe('2');
    await r.close();
  }, 20_000);
});

describe('the sweep journal', () => {
  it('a sweep killed after its intent (before or after the DELETE) is finished by the next start, recorded once', async () => {
    for (const [database, dieAt] of [['r11', 'DELETE FROM'], ['r12', 'INSERT INTO `r12`.`retention_ledger`']] as const) {
      const r = service(POLICY, database);
      await r.start(db);
      await createAudit(r, database);
      const now = Date.now();
      await insertAudit(database, [row(399.5, 'data_access', 'allowed', now), row(399.5, 'data_access', 'denied', now), row(1, 'x', 'y', now)]);
      // "kill -9": every statement from that one on never happens
      let dead = false;
      (r as unknown as { db: SqlRunner }).db = {
        query: db.query,
        exec: async (sql) => {
          if (sql.startsWith(dieAt)) dead = true;
          if (dead) throw new Error('killed');
          return db.exec(sql);
        },
      };
      await expect(r.sweep(now + DAY)).rejects.toThrow('killed');
      await r.close();
      const next = service(POLICY, database);
      await next.start(db); // finishes the interrupted sweep
      const [left] = await db.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${database}.audit_events`);
      expect(left!.n).toBe('1');
      await createAudit(next, database);
      expect(await next.sweep(now + DAY)).toEqual([]);
      const ledger = await db.query<{ Rule: string; n: string }>(`SELECT Rule, toString(sum(Rows)) AS n FROM ${ledgerName(database)} WHERE Source = 'sweep' GROUP BY Rule`);
      expect(ledger).toEqual([{ Rule: 'audit', n: '2' }]);
      await next.close();
    }
  }, 30_000);

  it('a forged journal row is refused with the reason; nothing it says is run', async () => {
    const lines: string[] = [];
    const r = service(POLICY, 'r13', undefined, DAY, lines);
    await r.start(db);
    await createAudit(r, 'r13');
    await db.exec(`INSERT INTO r13.retention_sweeps (Token, Database, Table, Kind, Policy, RuleIndex, NowMs, Counts, State) VALUES
      ('forged', 'r13', 'audit_events; DROP TABLE r13.audit_events', 'audit', '[]', 0, 0, '[]', 'intent')`);
    await expect(r.sweep()).rejects.toThrow('retention journal "forged": database and table must be names');
    const [t] = await db.query<{ n: string }>("SELECT toString(count()) AS n FROM system.tables WHERE database = 'r13' AND name = 'audit_events'");
    expect(t!.n).toBe('1');
    await r.close();
  });
});

describe('the sweep timer', () => {
  it('sweeps every sweep_interval, and not at all in a process told `sweep: false`', async () => {
    const idle = new RetentionService({ rules: POLICY, sweepMs: 1000, graceMs: DAY, sweep: false, ledgerDatabase: 'r14' }, testLogger());
    await idle.start(db);
    await createAudit(idle, 'r14');
    await insertAudit('r14', [row(400.5, 'data_access', 'allowed', Date.now())]); // expired, within the grace: only a sweep removes it
    await new Promise((res) => setTimeout(res, 2500));
    const count = async () => (await db.query<{ n: string }>('SELECT toString(count()) AS n FROM r14.audit_events'))[0]!.n;
    expect(await count()).toBe('1');
    await idle.close();
    const sweeper = new RetentionService({ rules: POLICY, sweepMs: 1000, graceMs: DAY, ledgerDatabase: 'r14' }, testLogger());
    await sweeper.start(db);
    await createAudit(sweeper, 'r14');
    await waitFor(async () => (await count()) === '0', 10_000, 'the timed sweep');
    const [n] = await db.query<{ n: string }>(`SELECT toString(sum(Rows)) AS n FROM ${ledgerName('r14')} WHERE Source = 'sweep'`);
    expect(n!.n).toBe('1');
    await sweeper.close();
  }, 20_000);
});
