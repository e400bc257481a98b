/** The alerts extension over a real store: repeats fold into one alert, versions are stored, a restart keeps the open ones. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.ts';
import { MAX_EVIDENCE } from '../../lib/detect/signal.ts';
import { alertsProvider } from '../../lib/alerts/provider.ts';
import { signal, startFixture, type Fixture } from './fixture.test-helper.ts';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ repeat_window: 60_000 });
});
afterAll(async () => {
  await f?.stop();
});

interface Row {
  Id: string;
  Count: string;
  Status: string;
  EventIds: string[];
  Key: string;
}
const current = (where = '1') => f.rows<Row>(`SELECT Id, toString(Count) AS Count, Status, EventIds, Key FROM otel.audit_alerts FINAL WHERE ${where} ORDER BY FirstSeen`);

describe('alerts extension', () => {
  it('is found by the provider; a wrong id says what is wrong', () => {
    expect(alertsProvider(f.host, 'alerts').sink()).toBeDefined();
    expect(() => alertsProvider(f.host, 'nope')).toThrow(/no started extension "nope"/);
    expect(() => alertsProvider(f.host, 'file_storage')).toThrow(/not an alerts extension/);
  });

  it('folds repeats of a key within the window into one alert, with merged evidence', async () => {
    const sink = alertsProvider(f.host, 'alerts').sink();
    const key = 'deny_surge|principal|repeat-test';
    sink.raise(signal({ key, count: 5 }));
    sink.raise(signal({ key, count: 2 }));
    sink.raise(signal({ key, count: 1 }));
    const rows = await waitFor(async () => {
      const r = await current(`Key = '${key}'`);
      return r.length === 1 && r[0]!.Count === '8' ? r : undefined;
    }, 10_000, 'one alert counting 8');
    expect(rows[0]!.Status).toBe('open');
    expect(rows[0]!.EventIds).toHaveLength(3);
    expect(rows[0]!.Id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('opens a new alert for another key, and for a signal past the window of the last sighting', async () => {
    const sink = f.alerts.sink();
    const key = 'deny_surge|principal|window-test';
    const t0 = BigInt(Date.now()) * 1_000_000n;
    sink.raise(signal({ key, time: t0 - 120_000_000_000n }));
    sink.raise(signal({ key, time: t0 }));
    sink.raise(signal({ key: `${key}-other`, time: t0 }));
    await waitFor(async () => (await current(`Key LIKE '${key}%'`)).length === 3, 10_000, 'three alerts');
  });

  it('keeps at most MAX_EVIDENCE event ids, the first ones', async () => {
    const key = 'deny_surge|principal|evidence-test';
    for (let i = 0; i < MAX_EVIDENCE + 5; i++) f.alerts.raise(signal({ key, evidence: { eventIds: [`e${i}`], traceIds: [] } }));
    const rows = await waitFor(async () => {
      const r = await current(`Key = '${key}'`);
      return r[0]?.Count === String(MAX_EVIDENCE + 5) ? r : undefined;
    }, 10_000, 'the evidence alert');
    expect(rows[0]!.EventIds).toHaveLength(MAX_EVIDENCE);
    expect(rows[0]!.EventIds[0]).toBe('e0');
  });

  it('after a restart, a repeat updates the alert that was open instead of opening a duplicate', async () => {
    const key = 'deny_surge|principal|restart-test';
    f.alerts.raise(signal({ key, count: 3 }));
    await f.restartAlerts(); // shutdown stores what is buffered
    const before = await current(`Key = '${key}'`);
    expect(before).toHaveLength(1);
    f.alerts.raise(signal({ key, count: 2 }));
    const after = await waitFor(async () => {
      const r = await current(`Key = '${key}'`);
      return r[0]?.Count === '5' ? r : undefined;
    }, 10_000, 'the same alert counting 5');
    expect(after).toHaveLength(1);
    expect(after[0]!.Id).toBe(before[0]!.Id);
  });

  it('a resolved alert takes no repeats: the next signal opens a new one', async () => {
    const key = 'deny_surge|principal|resolved-test';
    f.alerts.raise(signal({ key }));
    await f.alerts.flushForTest();
    const [a] = await current(`Key = '${key}'`);
    await f.alerts.setStatus(a!.Id, 'resolved', 'alice', 'false positive: load test');
    f.alerts.raise(signal({ key }));
    const rows = await waitFor(async () => {
      const r = await current(`Key = '${key}'`);
      return r.length === 2 ? r : undefined;
    }, 10_000, 'a second alert');
    expect(rows.map((r) => r.Status).sort()).toEqual(['open', 'resolved']);
  });

  it('triage on an interface without users is refused: nobody to name', async () => {
    const key = 'deny_surge|principal|anonymous-test';
    f.alerts.raise(signal({ key }));
    await f.alerts.flushForTest();
    const [a] = await current(`Key = '${key}'`);
    const res = await fetch(`${f.store.queryUrl}/alerts/${a!.Id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"note":"x"}' });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/needs an authenticated user/);
    expect((await current(`Key = '${key}'`))[0]!.Status).toBe('open');
  });

  it('raise never throws, even with a malformed signal', () => {
    expect(() => f.alerts.raise(null as never)).not.toThrow();
    expect(f.metrics.read('trailhouse_alerts_not_stored')).toBe(1);
  });
});
