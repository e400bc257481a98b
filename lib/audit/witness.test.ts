/**
 * Witnesses: the file keeps one line per checkpoint (a torn last line is
 * reported, not taken; the file is 0600), the HTTP witness takes only a 2xx,
 * and a checkpoint a witness refused never reaches the store.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { Rows, SqlStore } from '../clickhouse/sql-store.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../tlog/keys.ts';
import { openNote, parseVerifierKey } from '../tlog/note.ts';
import { AuditLog } from './log.ts';
import { FileWitness, HttpWitness, readWitnessFile, type WitnessRecord } from './witness.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-witness-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const rec = (size: number): WitnessRecord => ({ origin: 'o.example/log', size, root: 'AA==', time: new Date(0).toISOString(), key: 'k+00000000', note: `o.example/log\n${size}\n` });

/** A store that holds audit rows in memory and answers the log's recovery with nothing (a fresh log). */
class MemoryStore implements SqlStore {
  statements: string[] = [];
  inserted = 0;
  async exec(sql: string): Promise<void> {
    this.statements.push(sql);
  }
  async insert(_t: string, _c: readonly string[], rows: Rows): Promise<void> {
    this.inserted += rows.json().split('\n').length;
  }
  async query<T>(): Promise<T[]> {
    return [];
  }
}

describe('file witness', () => {
  it('appends a line per checkpoint, mode 0600; a torn last line is reported, not taken', async () => {
    const file = path.join(dir, 'w', 'cp.jsonl');
    const w = new FileWitness(file);
    await w.append(rec(1));
    await Promise.all([w.append(rec(2)), w.append(rec(3))]);
    await w.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.appendFileSync(file, '{"origin":"o.example/log","si');
    const read = readWitnessFile(file);
    expect(read.records.map((r) => r.size)).toEqual([1, 2, 3]);
    expect(read.bad).toEqual([{ line: 4, reason: expect.stringMatching(/^torn last line/) }]);
    // Damage in the middle is named as such.
    fs.writeFileSync(file, `${JSON.stringify(rec(1))}\nnot json\n${JSON.stringify(rec(2))}\n`);
    expect(readWitnessFile(file).bad).toEqual([{ line: 2, reason: expect.not.stringMatching(/torn/) }]);
  });
});

describe('http witness', () => {
  const got: { body: WitnessRecord; auth: string | undefined }[] = [];
  let status = 204;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ body: JSON.parse(body) as WitnessRecord, auth: req.headers.authorization });
      res.writeHead(status).end();
    });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('POSTs every checkpoint as JSON with the configured headers; anything but a 2xx is a failure, and the store never gets that checkpoint', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
    const w = new HttpWitness({ endpoint, headers: { authorization: 'Bearer w1' }, timeoutMs: 2000 });
    await w.append(rec(5));
    expect(got[0]).toEqual({ body: rec(5), auth: 'Bearer w1' });
    status = 500;
    await expect(w.append(rec(6))).rejects.toThrow(/answered 500/);
    status = 302; // a redirect is not followed: the checkpoint is not taken
    await expect(w.append(rec(6))).rejects.toThrow();
    status = 500;

    const store = new MemoryStore();
    const metrics = new MetricsRegistry();
    const signer = loadOrCreateSigner(path.join(dir, 'keys', 'k.key'), 'o.example/log');
    const log = new AuditLog({
      store,
      database: 'otel',
      table: 'audit_events',
      origin: 'o.example/log',
      sequenceBase: 'o.example/log',
      signer,
      verifiers: [parseVerifierKey(verifierKeyOf(signer))],
      witnesses: [w],
      checkpointMs: 0,
      logger: silentLogger,
      metrics,
    });
    await log.start();
    const row = { event: { time: 1n, category: 'authorization' as const, action: 'rbac', outcome: 'denied' as const, principal: 'p', source: '', destination: '', resource: '/', policy: '', traceId: '', spanId: '', details: {} }, service: 's', fallbackTime: 1n };
    await log.append([row, { ...row }], 'b1');
    await expect(log.checkpointAll()).rejects.toThrow(/answered 500/);
    expect(store.statements.some((s) => s.includes('INSERT INTO otel.audit_events_checkpoints'))).toBe(false);
    expect(metrics.read('trailhouse_audit_log_checkpoint_failures')).toBe(1);
    status = 200;
    await log.checkpointAll();
    const last = got.at(-1)!.body;
    expect(last.size).toBe(2);
    expect(openNote(last.note, [parseVerifierKey(verifierKeyOf(signer))]).text).toMatch(/^o\.example\/log\n2\n/);
    expect(store.statements.filter((s) => s.includes('INSERT INTO otel.audit_events_checkpoints'))).toHaveLength(1);
    await log.close(); // nothing new: no further checkpoint
    expect(got.filter((g) => g.body.size === 2)).toHaveLength(2); // the refused one, then the taken one
  });
});
