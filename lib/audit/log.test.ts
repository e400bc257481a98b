/**
 * The audit log against the real embedded engine: contiguous indexes, no
 * leaf twice for a redelivered batch, a failed batch keeps its range until
 * it lands, checkpoints signed and witnessed, and a restart that continues
 * the same tree — or refuses to, when the store lost what a witness saw.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../core/errors.ts';
import { TimeSlice } from '../../core/yield.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { openSqlStore, type SqlStore, type SqlStoreHandle } from '../clickhouse/sql-store.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../tlog/keys.ts';
import { openNote, parseVerifierKey } from '../tlog/note.ts';
import { CompactTree, rootOf } from '../tlog/tree.ts';
import { leafHash } from '../tlog/hash.ts';
import { auditLeafHash, bodyBytes, bodyHash, leafEntry } from './leaf.ts';
import { AuditLog } from './log.ts';
import { logTablesSql } from './log-schema.ts';
import { auditRow, auditTableSql, databaseSql, type AuditRow } from './schema.ts';
import { FileWitness, readWitnessFile } from './witness.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-auditlog-'));
let handle: SqlStoreHandle;
const signer = () => loadOrCreateSigner(path.join(dir, 'keys', 'k.key'), 'test.example/log');
const witnessFile = path.join(dir, 'witness', 'cp.jsonl');

function rows(n: number, tag: string): AuditRow[] {
  return Array.from({ length: n }, (_, i) => ({
    event: {
      time: 1_700_000_000_000_000_000n + BigInt(i),
      category: 'authorization',
      action: 'rbac',
      outcome: i % 2 ? 'denied' : 'allowed',
      principal: `spiffe://cluster.local/ns/a/sa/${tag}-${i}`,
      source: '10.0.0.1:1234',
      destination: 'api.a:8080',
      resource: '/admin',
      policy: 'p',
      traceId: '',
      spanId: '',
      details: { z: '1', a: 'ü', status_code: '403' },
    },
    service: 'api',
    fallbackTime: 0n,
  }));
}

/** The store with a queue of failures for the next inserts. */
function failing(store: SqlStore, failures: Error[]): SqlStore {
  return { ...store, insert: (t, c, r, o) => (failures.length ? Promise.reject(failures.shift()!) : store.insert(t, c, r, o)) };
}

function open(store: SqlStore, origin = 'test.example/log', checkpointMs = 0, metrics?: MetricsRegistry): AuditLog {
  const s = signer();
  return new AuditLog({
    store,
    database: 'otel',
    table: 'audit_events',
    origin,
    sequenceBase: origin,
    signer: s,
    verifiers: [parseVerifierKey(verifierKeyOf(s))],
    witnesses: [new FileWitness(witnessFile)],
    checkpointMs,
    logger: silentLogger,
    metrics,
  });
}

const q = <T>(sql: string) => handle.store.query<T>(sql);

async function storedLeaves(origin: string): Promise<Buffer[]> {
  const rs = await q<{ idx: string; ns: string; Category: string; Outcome: string; ServiceName: string; LogBodyHash: string }>(
    `SELECT toString(LogIndex) AS idx, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Category, Outcome, ServiceName, LogBodyHash
     FROM otel.audit_events WHERE LogOrigin = '${origin}' ORDER BY LogIndex`,
  );
  rs.forEach((r, i) => expect(r.idx).toBe(String(i)));
  return rs.map((r) => auditLeafHash({ origin, index: Number(r.idx), timeNs: BigInt(r.ns), category: r.Category, outcome: r.Outcome, service: r.ServiceName, bodyHash: Buffer.from(r.LogBodyHash, 'hex') }));
}

beforeAll(async () => {
  handle = openSqlStore({ endpoint: null, path: dir, username: '', password: '' });
  await handle.store.exec(databaseSql('otel'));
  await handle.store.exec(auditTableSql({ database: 'otel', table: 'audit_events', ttlMs: 0 }));
  for (const sql of logTablesSql({ database: 'otel', table: 'audit_events' })) await handle.store.exec(sql);
});
afterAll(async () => {
  await handle.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('leaf encoding', () => {
  it('is the RFC 9162 leaf hash of the documented entry; the body hash covers every column and sorts details', () => {
    const f = { origin: 'o', index: 7, timeNs: -5n, category: 'c', outcome: 'x', service: 's', bodyHash: Buffer.alloc(32, 1) };
    expect(auditLeafHash(f).equals(leafHash(leafEntry(f)))).toBe(true);
    const entry = leafEntry(f);
    expect(entry.subarray(0, 6).toString('hex')).toBe('01000000016f'); // version, str("o")
    expect(entry.readBigUInt64BE(6)).toBe(7n);
    expect(entry.readBigInt64BE(14)).toBe(-5n);
    const b = { action: 'a', principal: 'p', source: 's', destination: 'd', resource: 'r', policy: 'y', traceId: 't', spanId: 'i', details: { b: '2', a: '1' } };
    expect(bodyHash(b).equals(bodyHash({ ...b, details: { a: '1', b: '2' } }))).toBe(true);
    for (const k of Object.keys(b) as (keyof typeof b)[]) {
      if (k !== 'details') expect(bodyHash({ ...b, [k]: `${b[k]}!` }).equals(bodyHash(b))).toBe(false);
    }
    expect(bodyHash({ ...b, details: { a: '1', b: '3' } }).equals(bodyHash(b))).toBe(false);
    // Keys sort by UTF-8 bytes (U+FF45 before U+1F600, the reverse of UTF-16 order); strings are UTF-8 with byte lengths.
    const astral = bodyBytes({ ...b, action: 'ab\u00fc', principal: `${'x'.repeat(70)}\u00e9`, details: { '\u{1F600}': '1', '\uFF45': '2' } });
    expect(astral.subarray(0, 8).toString('hex')).toBe('000000046162c3bc'); // "abü": 4 bytes
    expect(astral.readUInt32BE(8)).toBe(72);
    const tail = astral.subarray(astral.length - (4 + 4 + 3 + 4 + 1 + 4 + 4 + 4 + 1));
    expect(tail.toString('hex')).toBe(['00000002', '00000003', 'efbd85', '00000001', '32', '00000004', 'f09f9880', '00000001', '31'].join(''));
    // Length prefixes: moving a byte between two fields changes the hash.
    expect(bodyHash({ ...b, action: 'ap', principal: '' }).equals(bodyHash({ ...b, action: 'a', principal: 'p' }))).toBe(false);
  });

  it('remembers the order of the key lists it saw: every list, seen again or not, gives the bytes of the documented encoding', () => {
    // The encoding written out plainly, as an auditor would: u32be(UTF-8 length) ‖ UTF-8, details sorted by key bytes.
    const str = (v: string) => {
      const u = Buffer.from(v, 'utf8');
      const n = Buffer.alloc(4);
      n.writeUInt32BE(u.length);
      return [n, u];
    };
    const documented = (f: Parameters<typeof bodyBytes>[0]) => {
      const keys = Object.keys(f.details).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const n = Buffer.alloc(4);
      n.writeUInt32BE(keys.length);
      const fields = [f.action, f.principal, f.source, f.destination, f.resource, f.policy, f.traceId, f.spanId];
      return Buffer.concat([...fields.flatMap(str), n, ...keys.flatMap((k) => [...str(k), ...str(f.details[k]!)])]);
    };
    const base = { action: 'a', principal: 'p', source: 's', destination: 'd', resource: 'r', policy: 'y', traceId: 't', spanId: 'i' };
    // More lists than it remembers, each in two orders, one list a prefix of another, some keys not ASCII; seen in turns.
    const lists = Array.from({ length: 12 }, (_, i) => [`k${i}`, 'b', `a${i % 3}`, ...(i % 2 ? ['\u00e9', '\u{1F600}'] : []), ...(i % 4 === 0 ? ['z'] : [])]);
    lists.push(['k0', 'b']);
    for (let round = 0; round < 3; round++) {
      for (const keys of lists) {
        for (const order of [keys, [...keys].reverse()]) {
          const f = { ...base, details: Object.fromEntries(order.map((k, j) => [k, `${k}=${j}`])) };
          expect(bodyBytes(f).equals(documented(f)), `${order.join(',')}, round ${round}`).toBe(true);
        }
      }
    }
  });
});

describe('audit log on the event loop', () => {
  it('hands the event loop back while it hashes a large batch (receivers on the thread keep answering)', async () => {
    const saved = TimeSlice.ms;
    TimeSlice.ms = 0; // every chunk boundary yields: behaviour, not timing
    try {
      let turns = 0;
      let turnsAtInsert = -1;
      const store: SqlStore = { exec: async () => {}, query: async <T>() => [] as T[], insert: async () => void (turnsAtInsert = turns) };
      const log = open(store, 'test.example/yield');
      await log.start();
      // Another callback on the loop (as a receiver's I/O would be), counting its turns.
      let ticking = true;
      const tick = () => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      await log.append(rows(2000, 'y'), 'y1');
      ticking = false;
      // 2000 rows in chunks of 256: the loop let timers run several times before the insert.
      expect(turnsAtInsert).toBeGreaterThanOrEqual(3);
    } finally {
      TimeSlice.ms = saved;
    }
  });
});

describe('audit log with chDB', () => {
  it('gives contiguous indexes across batches, and adds no leaf for a batch it already holds', async () => {
    const log = open(handle.store, 'test.example/a');
    await log.start();
    await log.append(rows(3, 'x'), 'b1');
    await log.append(rows(2, 'y'), 'b2');
    await log.append(rows(3, 'x'), 'b1'); // redelivered
    await Promise.all([log.append(rows(4, 'z'), 'b3'), log.append(rows(1, 'w'), 'b4')]);
    const leaves = await storedLeaves('test.example/a');
    expect(leaves).toHaveLength(10);
    expect(log.heads()[0]).toEqual({ origin: 'test.example/a', size: 10, root: rootOf(leaves).toString('hex') });
    // Each batch is named on its first row.
    const idx = await q<{ LogBatch: string; i: string }>(`SELECT LogBatch, toString(LogIndex) AS i FROM otel.audit_events_log_leaves WHERE LogOrigin = 'test.example/a' AND LogBatch != '' ORDER BY LogIndex`);
    expect(idx.map((r) => r.LogBatch).sort()).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(idx.find((r) => r.LogBatch === 'b1')!.i).toBe('0');
    await log.close();
  });

  it('stores Details in the key order of the leaf\'s body encoding (UTF-8 bytes), in Native and in JSON, so verify sorts nothing', async () => {
    // Odd keys too: quotes and a backslash, and __proto__ as an own key (as a decoder makes it).
    const details = { z: '1', '\u{1F600}': 'e', '9': 'nine', '\uFF45': 'w', a: 'ü', '10': 'ten', ...(JSON.parse('{"__proto__":"p","k\\"\\\\":"q\\""}') as Record<string, string>) };
    const byBytes = ['10', '9', '__proto__', 'a', 'k"\\', 'z', '\uFF45', '\u{1F600}'];
    const batch = rows(2, 'order').map((r) => ({ ...r, event: { ...r.event, details: { ...details } } }));
    const log = open(handle.store, 'test.example/order');
    await log.start();
    await log.append(batch, 'o1');
    await log.close();
    const stored = await q<{ k: string[] }>(`SELECT mapKeys(Details) AS k FROM otel.audit_events WHERE LogOrigin = 'test.example/order'`);
    expect(stored.map((r) => r.k)).toEqual([byBytes, byBytes]);
    // The JSON rows (a ClickHouse server's path): the same order, integer-like keys included.
    const json = auditRow(batch[0]!);
    const keys = [...json.slice(json.indexOf('"Details":{')).matchAll(/"((?:[^"\\]|\\.)*)":"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(keys.slice(0, byBytes.length)).toEqual(byBytes);
    expect(JSON.parse(json).Details).toEqual(details);
  });

  it('keeps a failed batch\'s range until it lands; a permanently refused batch gives it back', async () => {
    const failures: Error[] = [];
    const log = open(failing(handle.store, failures), 'test.example/b');
    await log.start();
    await log.append(rows(2, 'a'), 'c1');
    failures.push(new Error('store unavailable'));
    await expect(log.append(rows(3, 'b'), 'c2')).rejects.toThrow('store unavailable');
    // Another batch first writes the pending one, at the range it was given.
    await log.append(rows(1, 'c'), 'c3');
    await log.append(rows(3, 'b'), 'c2'); // the upstream's redelivery: already held
    failures.push(new PermanentError('malformed rows'));
    await expect(log.append(rows(2, 'd'), 'c4')).rejects.toThrow('malformed');
    await log.append(rows(2, 'e'), 'c5');
    // A batch still pending when the store refuses it for good: that is its failure, not the next batch's.
    failures.push(new Error('store unavailable'), new PermanentError('malformed rows'));
    await expect(log.append(rows(1, 'f'), 'c6')).rejects.toThrow('store unavailable');
    await log.append(rows(1, 'g'), 'c7');
    const got = await q<{ idx: string; LogBatch: string }>(`SELECT toString(LogIndex) AS idx, LogBatch FROM otel.audit_events WHERE LogOrigin = 'test.example/b' ORDER BY LogIndex`);
    expect(got.map((r) => `${r.idx}:${r.LogBatch}`)).toEqual(['0:c1', '1:', '2:c2', '3:', '4:', '5:c3', '6:c5', '7:', '8:c7']);
    await log.close();
  });

  it('a batch that landed although its insert was reported failed: its retry adds neither the rows nor their leaf records twice', async () => {
    let failNext = true;
    const store: SqlStore = {
      ...handle.store,
      insert: async (t, c, r, o) => {
        await handle.store.insert(t, c, r, o);
        if (failNext) {
          failNext = false;
          throw new Error('timed out (but landed)');
        }
      },
    };
    const log = open(store, 'test.example/landed');
    await log.start();
    await expect(log.append(rows(2, 'a'), 'l1')).rejects.toThrow('landed');
    await log.append(rows(2, 'a'), 'l1'); // the upstream's redelivery retries the pending batch
    await log.append(rows(1, 'b'), 'l2');
    const idx = async (table: string) => (await q<{ i: string }>(`SELECT toString(LogIndex) AS i FROM otel.${table} WHERE LogOrigin = 'test.example/landed' ORDER BY LogIndex`)).map((r) => Number(r.i));
    expect([await idx('audit_events'), await idx('audit_events_log_leaves')]).toEqual([[0, 1, 2], [0, 1, 2]]);
    await log.close();
  });

  it('signs checkpoints to the witness file, then the store; a restart continues the same tree and remembers its batches', async () => {
    const origin = 'test.example/c';
    const first = open(handle.store, origin);
    await first.start();
    await first.append(rows(5, 'a'), 'd1');
    await first.checkpointAll();
    await first.append(rows(2, 'b'), 'd2'); // after the checkpoint: recovered from the leaves
    await first.close(); // final checkpoint at 7
    const witnessed = readWitnessFile(witnessFile).records.filter((r) => r.origin === origin);
    expect(witnessed.map((r) => r.size)).toEqual([5, 7]);
    const s = signer();
    const text = openNote(witnessed[1]!.note, [parseVerifierKey(verifierKeyOf(s))]).text;
    const cp = parseCheckpoint(text);
    expect(cp.size).toBe(7);
    expect(cp.root.equals(rootOf(await storedLeaves(origin)))).toBe(true);
    const stored = await q<{ size: string; Note: string }>(`SELECT toString(Size) AS size, Note FROM otel.audit_events_checkpoints WHERE Origin = '${origin}' ORDER BY Size`);
    expect(stored.map((r) => r.size)).toEqual(['5', '7']);
    expect(stored[1]!.Note).toBe(witnessed[1]!.note);

    // Continue from the size-5 checkpoint's right edge plus leaves 5 and 6: drop the newest store checkpoint.
    await handle.store.exec(`ALTER TABLE otel.audit_events_checkpoints DELETE WHERE Origin = '${origin}' AND Size = 7 SETTINGS mutations_sync = 1`);
    const second = open(handle.store, origin);
    await second.start();
    await second.append(rows(2, 'b'), 'd2'); // redelivered after the restart
    await second.append(rows(1, 'c'), 'd3');
    const leaves = await storedLeaves(origin);
    expect(leaves).toHaveLength(8);
    const tree = new CompactTree();
    for (const l of leaves) tree.append(l);
    expect(second.heads()[0]!.root).toBe(tree.root().toString('hex'));
    await second.close();
  });

  it('signs a log\'s first rows at once, then waits for the interval', async () => {
    const origin = 'test.example/f';
    const log = open(handle.store, origin, 3_600_000);
    await log.start();
    await log.append(rows(3, 'a'), 'g1');
    await log.append(rows(2, 'b'), 'g2');
    const sizes = () => readWitnessFile(witnessFile).records.filter((r) => r.origin === origin).map((r) => r.size);
    for (let i = 0; i < 100 && sizes().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sizes()).toEqual([3]);
    await log.close();
    expect(sizes()).toEqual([3, 5]);
  });

  it('refuses to continue a log whose store lost rows a witness saw; a forged stored checkpoint is skipped, the tree rebuilt from the leaves', async () => {
    const origin = 'test.example/d';
    const first = open(handle.store, origin);
    await first.start();
    await first.append(rows(4, 'a'), 'e1');
    await first.close();
    // Someone removes the newest leaf (row and leaf record).
    await handle.store.exec(`ALTER TABLE otel.audit_events DELETE WHERE LogOrigin = '${origin}' AND LogIndex = 3 SETTINGS mutations_sync = 1`);
    await handle.store.exec(`ALTER TABLE otel.audit_events_log_leaves DELETE WHERE LogOrigin = '${origin}' AND LogIndex = 3 SETTINGS mutations_sync = 1`);
    await handle.store.exec(`ALTER TABLE otel.audit_events_checkpoints DELETE WHERE Origin = '${origin}' SETTINGS mutations_sync = 1`);
    const metrics = new MetricsRegistry();
    const second = open(handle.store, origin, 0, metrics);
    await second.start();
    await expect(second.append(rows(1, 'b'), 'e2')).rejects.toThrow(/cannot continue: a witness holds a checkpoint of 4 leaves, the store only 3/);
    expect(metrics.exposition()).toContain(`trailhouse_audit_log_blocked{origin="${origin}"} 1`);
    await second.close().catch(() => undefined);

    const origin2 = 'test.example/e';
    const third = open(handle.store, origin2);
    await third.start();
    await third.append(rows(2, 'a'), 'f1');
    await third.close();
    await handle.store.exec(`ALTER TABLE otel.audit_events_checkpoints UPDATE Note = replaceOne(Note, '\n2\n', '\n3\n') WHERE Origin = '${origin2}' SETTINGS mutations_sync = 1`);
    const fourth = open(handle.store, origin2);
    await fourth.start();
    await fourth.append(rows(1, 'b'), 'f2');
    expect(fourth.heads()[0]!.root).toBe(rootOf(await storedLeaves(origin2)).toString('hex'));
    expect(fourth.heads()[0]!.size).toBe(3);
    await fourth.close();
  });
});
