import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { insertMetrics, insertWithPolicy } from './insert.ts';
import type { InsertRequest, Store } from './store.ts';

/** A store whose inserts fail as scripted, recording what each attempt carried. */
function scriptedStore(outcomes: Array<Error | 'ok' | 'hang'>): { store: Store; seen: InsertRequest[] } {
  const seen: InsertRequest[] = [];
  const store = {
    kind: 'server',
    key: 'test',
    insert: (req: InsertRequest) => {
      seen.push(req);
      const o = outcomes[seen.length - 1] ?? 'ok';
      if (o === 'ok') return Promise.resolve();
      if (o === 'hang') return new Promise<void>((_, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      return Promise.reject(o);
    },
  } as unknown as Store;
  return { store, seen };
}

const req = (): InsertRequest => ({ table: 'otel.audit_events', columns: ['a'], format: 'JSONEachRow', body: Buffer.from('{"a":1}\n'), settings: { insert_deduplication_token: 'tok-1' } });
const fast = { timeoutMs: 200, retries: 2, backoffMs: 1 };

describe('insertWithPolicy', () => {
  it('retries a retryable failure with the same dedup token, and counts the rows once', async () => {
    const { store, seen } = scriptedStore([Object.assign(new Error('Code: 252. DB::Exception: Too many parts'), {}), 'ok']);
    const reg = new MetricsRegistry();
    await insertWithPolicy(store, req(), 1, fast, insertMetrics(reg));
    expect(seen.map((r) => r.settings.insert_deduplication_token)).toEqual(['tok-1', 'tok-1']);
    expect(reg.read('trailhouse_store_inserted_rows', { table: 'otel.audit_events' })).toBe(1);
  });

  it('does not retry rows the store rejects as malformed: PermanentError at once', async () => {
    const { store, seen } = scriptedStore([new Error('Code: 27. DB::Exception: Cannot parse input')]);
    const reg = new MetricsRegistry();
    await expect(insertWithPolicy(store, req(), 1, fast, insertMetrics(reg))).rejects.toBeInstanceOf(PermanentError);
    expect(seen).toHaveLength(1);
    expect(reg.read('trailhouse_store_insert_failed_rows', { table: 'otel.audit_events' })).toBe(1);
  });

  it('gives up after the retries with the last error, still retryable for the queue upstream', async () => {
    const { store, seen } = scriptedStore([new Error('ECONNRESET'), new Error('ECONNRESET'), new Error('ECONNRESET')]);
    const err = await insertWithPolicy(store, req(), 1, fast).catch((e: unknown) => e);
    expect(seen).toHaveLength(3);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentError);
  });

  it('times out an attempt that hangs, then retries it', async () => {
    const { store, seen } = scriptedStore(['hang', 'ok']);
    await insertWithPolicy(store, req(), 1, { timeoutMs: 50, retries: 1, backoffMs: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.signal?.aborted).toBe(true);
  });
});
