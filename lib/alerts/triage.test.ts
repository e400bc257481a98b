/** The triage route on a real HTTP server, with the alert service faked: a slow store, and what is audited. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { watchSecurityEvents, type SecurityEvent } from '../../core/security-events.ts';
import { testLogger, waitFor } from '../../test/helpers.ts';
import { withStatus, type Alert } from './alert.ts';
import { AlertBook } from './book.ts';
import { parseNote, triageRoute, type TriageService } from './triage.ts';
import type { RouteCaller } from '../clickhouse/query/query-routes.ts';

let server: http.Server | undefined;
afterEach(() => {
  server?.close();
});

async function serve(service: TriageService, caller: RouteCaller, waitMs: number): Promise<string> {
  const route = triageRoute(service, testLogger(), waitMs);
  server = http.createServer((req, res) => void route(req, res, new URL(req.url!, 'http://x'), caller));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const alert: Alert = new AlertBook(1_000_000_000n, 1).raise({
  detector: 'config_change', severity: 'critical', key: 'k', time: 1n, principal: 'kube-admin', source: '', destination: 'AuthorizationPolicy',
  resource: 'shop/deny-admin', reason: 'deleted', count: 1, evidence: { eventIds: [], traceIds: [] }, details: {},
}).alert;

function slowService(ms: number): TriageService {
  return {
    find: async (id) => (id === alert.id ? alert : undefined),
    setStatus: async (_id, status, by, note) => {
      await new Promise((r) => setTimeout(r, ms));
      return { before: alert, after: withStatus(alert, status, by, note, 2n) };
    },
  };
}

const rita: RouteCaller = { user: 'rita', role: 'responder', authenticated: true, remote: '127.0.0.1' };

describe('triage route', () => {
  it('a store slower than the wait: 202, and the change is audited once it is stored', async () => {
    const events: SecurityEvent[] = [];
    const stop = watchSecurityEvents((e) => events.push(e));
    try {
      const url = await serve(slowService(300), rita, 50);
      const res = await fetch(`${url}/alerts/${alert.id}/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"note":"policy restored"}' });
      expect(res.status).toBe(202);
      expect(events.filter((e) => e.action === 'alert.resolve')).toHaveLength(0);
      await waitFor(() => events.some((e) => e.action === 'alert.resolve'), 5000, 'the audit event after the store answered');
      expect(events.find((e) => e.action === 'alert.resolve')).toMatchObject({ category: 'configuration', outcome: 'success', subject: 'rita', details: { alert_id: alert.id, note: 'policy restored', status_to: 'resolved' } });
    } finally {
      stop();
    }
  });

  it('reading an alert is a data_access event', async () => {
    const events: SecurityEvent[] = [];
    const stop = watchSecurityEvents((e) => events.push(e));
    try {
      const url = await serve(slowService(0), { ...rita, role: 'reader', user: 'sam' }, 1000);
      expect((await fetch(`${url}/alerts/${alert.id}`)).status).toBe(200);
      expect(events).toEqual([expect.objectContaining({ category: 'data_access', action: 'alert.read', outcome: 'allowed', subject: 'sam' })]);
    } finally {
      stop();
    }
  });

  it('parseNote takes exactly {"note": text}', () => {
    expect(parseNote('{"note":"multi\\nline\\ttext"}')).toBe('multi\nline\ttext');
    for (const bad of ['', 'null', '1', '{"note":1}', '{"note":"  "}', '{"Note":"x"}', '{"note":"x"}x']) expect(() => parseNote(bad)).toThrow();
  });
});
