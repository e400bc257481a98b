/** Status changes of one alert racing each other over a real store: they take turns, so the checks hold and every version is distinct. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signal, startFixture, type Fixture } from './fixture.test-helper.ts';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ repeat_window: 60_000 });
});
afterAll(async () => {
  await f?.stop();
});

describe('concurrent triage of one alert', () => {
  it('a resolve and an acknowledge at once: the second sees the first (409), and the store keeps the resolve', async () => {
    const key = 'deny_surge|principal|race';
    f.alerts.raise(signal({ key }));
    await f.alerts.flushForTest();
    const [{ Id: id }] = await f.rows<{ Id: string }>(`SELECT Id FROM otel.audit_alerts FINAL WHERE Key = '${key}'`);
    const [resolved, acked] = await Promise.allSettled([
      f.alerts.setStatus(id!, 'resolved', 'rita', 'fixed'),
      f.alerts.setStatus(id!, 'acknowledged', 'sam', 'looking'),
    ]);
    expect(resolved.status).toBe('fulfilled');
    expect(acked).toMatchObject({ status: 'rejected', reason: { status: 409 } });
    const rows = await f.rows<{ Status: string; StatusBy: string; V: string }>(`SELECT Status, StatusBy, toString(Version) AS V FROM otel.audit_alerts WHERE Id = '${id}' ORDER BY Version`);
    expect(new Set(rows.map((r) => r.V)).size).toBe(rows.length);
    expect(rows.at(-1)).toMatchObject({ Status: 'resolved', StatusBy: 'rita' });
  });

  it('an acknowledge then a resolve at once both land, in order, each on its own version', async () => {
    const key = 'deny_surge|principal|race-2';
    f.alerts.raise(signal({ key }));
    await f.alerts.flushForTest();
    const [{ Id: id }] = await f.rows<{ Id: string }>(`SELECT Id FROM otel.audit_alerts FINAL WHERE Key = '${key}'`);
    const [a, r] = await Promise.all([f.alerts.setStatus(id!, 'acknowledged', 'rita', 'mine'), f.alerts.setStatus(id!, 'resolved', 'rita', 'done')]);
    expect(a.before.status).toBe('open');
    expect(r.before.status).toBe('acknowledged');
    expect(r.after.version).toBeGreaterThan(a.after.version);
    const final = await f.rows<{ Status: string }>(`SELECT Status FROM otel.audit_alerts FINAL WHERE Id = '${id}'`);
    expect(final).toEqual([{ Status: 'resolved' }]);
  });
});
