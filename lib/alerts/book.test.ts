import { describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers.ts';
import type { AlertSignal } from '../detect/signal.ts';
import { withStatus } from './alert.ts';
import { AlertBook } from './book.ts';
import { alertFromRow, alertRecord } from './table.ts';
import { AlertWriter } from './writer.ts';
import { PermanentError } from '../../core/errors.ts';

const S = 1_000_000_000n;
function sig(key: string, t: bigint, count = 1): AlertSignal {
  return { detector: 'config_change', severity: 'info', key, time: t, principal: 'u', source: '', destination: 'd', resource: 'r', reason: 'why', count, evidence: { eventIds: [], traceIds: [] }, details: {} };
}

describe('AlertBook', () => {
  it('a repeat within the window of the last sighting updates; past it, a new alert opens', () => {
    const b = new AlertBook(60n * S, 100);
    const a = b.raise(sig('k', 1000n * S));
    expect(a.opened).toBe(true);
    const r1 = b.raise(sig('k', 1050n * S, 4));
    expect(r1).toMatchObject({ opened: false, alert: { id: a.alert.id, count: 5 } });
    expect(r1.alert.version).toBeGreaterThan(a.alert.version);
    // 59 s after the last sighting (not the first): still the same alert
    expect(b.raise(sig('k', 1109n * S)).alert.id).toBe(a.alert.id);
    const later = b.raise(sig('k', 1200n * S));
    expect(later.opened).toBe(true);
    expect(later.alert.id).not.toBe(a.alert.id);
  });

  it('an acknowledged alert still takes repeats, a resolved one does not', () => {
    const b = new AlertBook(60n * S, 100);
    const { alert } = b.raise(sig('k', 1000n * S));
    b.update(withStatus(alert, 'acknowledged', 'rita', 'n', 1n));
    const r = b.raise(sig('k', 1001n * S));
    expect(r.alert).toMatchObject({ id: alert.id, status: 'acknowledged', count: 2 });
    b.update(withStatus(r.alert, 'resolved', 'rita', 'n', 2n));
    expect(b.raise(sig('k', 1002n * S)).opened).toBe(true);
  });

  it('stays within max_open, letting the least recently seen go; prune drops alerts past the window', () => {
    const b = new AlertBook(60n * S, 2);
    const first = b.raise(sig('a', 1000n * S)).alert;
    b.raise(sig('b', 1001n * S));
    b.raise(sig('a', 1002n * S)); // a is now the most recent
    b.raise(sig('c', 1003n * S));
    expect(b.size).toBe(2);
    expect(b.evicted).toBe(1);
    expect(b.byId(first.id)).toBeDefined();
    b.prune(1063n * S);
    expect(b.size).toBe(1);
  });

  it('load keeps what is not resolved', () => {
    const b = new AlertBook(60n * S, 10);
    const src = new AlertBook(60n * S, 10);
    const open = src.raise(sig('x', 1n * S)).alert;
    const resolved = withStatus(src.raise(sig('y', 1n * S)).alert, 'resolved', 'u', 'n', 2n);
    b.load([open, resolved]);
    expect(b.open().map((a) => a.key)).toEqual(['x']);
  });
});

describe('alert rows', () => {
  it('round-trip, and anything else is refused', () => {
    const a = new AlertBook(S, 1).raise(sig('k', 5n * S)).alert;
    expect(alertFromRow(alertRecord(a))).toEqual(a);
    expect(() => alertFromRow({ ...alertRecord(a), Status: 'closed' })).toThrow(/Status/);
    expect(() => alertFromRow({ ...alertRecord(a), Detector: 'x' })).toThrow(/Detector/);
    expect(() => alertFromRow({ ...alertRecord(a), CountS: '-1' })).toThrow(/CountS/);
    expect(() => alertFromRow({ ...alertRecord(a), EventIds: [1] })).toThrow(/EventIds/);
    expect(() => alertFromRow({ ...alertRecord(a), Details: { a: 1 } })).toThrow(/Details/);
  });
});

describe('AlertWriter', () => {
  it('retries a refused insert under the same token until it is stored; one row per alert per batch', async () => {
    const calls: Array<{ rows: number; token: string }> = [];
    let failures = 2;
    const w = new AlertWriter(
      async (_body, rows, token) => {
        calls.push({ rows, token });
        if (failures-- > 0) throw new Error('store unavailable');
      },
      { flushMs: 60_000, retryInitialMs: 10, retryMaxMs: 20 },
      testLogger(),
    );
    const b = new AlertBook(60n * S, 10);
    b.raise(sig('k', 1n * S));
    const v2 = b.raise(sig('k', 2n * S)).alert;
    w.add(b.raise(sig('j', 1n * S)).alert);
    await w.write(v2);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.token)).size).toBe(1);
    expect(calls[2]!.rows).toBe(2);
    await w.close();
  });

  it('a malformed batch is given up, counted, and its waiters are told', async () => {
    let counted = 0;
    const w = new AlertWriter(
      async () => {
        throw new PermanentError('bad row');
      },
      { flushMs: 60_000, retryInitialMs: 10, retryMaxMs: 20 },
      testLogger(),
      { add: (n: number) => void (counted += n) } as never,
    );
    await expect(w.write(new AlertBook(S, 1).raise(sig('k', 1n)).alert)).rejects.toThrow(/bad row/);
    expect(counted).toBe(1);
    await w.close();
  });
});

describe('signals from records are bounded', () => {
  it('cuts long fields, drops odd evidence ids, refuses what is not a signal', async () => {
    const { signalProblem, MAX_FIELD } = await import('./alert.ts');
    const long = 'p'.repeat(MAX_FIELD + 500);
    const s = { ...sig('k', 1n), principal: long, evidence: { eventIds: ['ok', 'x'.repeat(500), 7 as never], traceIds: [] }, details: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])) };
    const a = new AlertBook(S, 10).raise(s).alert;
    expect(a.principal.length).toBe(MAX_FIELD + 1);
    expect(a.eventIds).toEqual(['ok']);
    expect(Object.keys(a.details)).toHaveLength(32);
    expect(signalProblem({ ...s, detector: 'nope' as never })).toMatch(/unknown detector/);
    expect(signalProblem({ ...s, severity: 'loud' as never })).toMatch(/unknown severity/);
    expect(signalProblem({ ...s, key: '' })).toBe('no key');
    expect(signalProblem({ ...s, time: 5 as never })).toMatch(/time/);
    expect(signalProblem(s)).toBeUndefined();
  });
});
