/**
 * `trailhouse verify` against the real embedded engine: a pipeline writes
 * audit events through its signed log (checkpoints every second, a file
 * witness); untouched data verifies clean, an inclusion proof checks
 * offline; then the store is tampered with THROUGH THE ENGINE (SQL on the
 * same chDB, not through trailhouse), stage by stage, and verify names each
 * change while the query interface stays the read-only one an auditor uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlStore, type SqlStoreHandle } from '../lib/clickhouse/sql-store.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { proofCommand } from '../bin/commands/proof.ts';
import { keysCommand } from '../bin/commands/keys.ts';
import { waitFor } from './helpers.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { expectVerifies } from './verify-check.ts';
import { BODY_HASH_SQL } from '../lib/audit/verify-store.ts';
import { startInTempDir, type RunningService } from './service.ts';

type Running = RunningService & { dir: string };
let running: Running;
let handle: SqlStoreHandle;
let origin: string;
let witness: string;
let verifiers: string;
const RECORDS = 20; // each an RBAC denial on a sensitive path: two audit rows
let total = 0;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

interface Json {
  ok: boolean;
  summary: { checkpoints: number; checkpointsValid: number; rows: number; rowsValid: number; unwitnessed: number; failures: number };
  findings: { kind: string; index?: number; end?: number; field?: string; failure: boolean; eventId?: string }[];
  origins: { checkpoints: { size: number; valid: boolean; problems: string[]; sources: { source: string }[] }[] }[];
}

async function verify(extra: string[] = []): Promise<{ code: number; json: Json; err: string }> {
  const c = capture();
  const code = await verifyCommand(['--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers, '--json', ...extra], c.io);
  return { code, json: JSON.parse(c.out.join('')) as Json, err: c.err.join('') };
}

function denial(i: number) {
  return {
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n),
    body: { stringValue: `GET /admin/users/${i} 403` },
    attributes: [
      { key: 'http.response.status_code', value: { intValue: '403' } },
      { key: 'url.path', value: { stringValue: `/admin/users/${i}` } },
      { key: 'response_code_details', value: { stringValue: 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]' } },
      { key: 'downstream_peer_uri_san', value: { stringValue: `spiffe://cluster.local/ns/default/sa/user-${i}` } },
    ],
  };
}

const exec = (sql: string) => handle.store.exec(sql);
const failures = (j: Json) => j.findings.filter((f) => f.failure).map((f) => [f.kind, f.index, f.field ?? null]);

beforeAll(async () => {
  running = await startInTempDir(
    'th-verify-e2e-',
    (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit:
    path: ${dir}
    integrity: {checkpoint_interval: 1s}
    # verify's own queries are data_access events: stored in this log, they would grow it while the
    # tests count its rows. test/query-access-e2e.test.ts covers them in the log.
    security_events: false
exporters:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`,
  );
  witness = join(running.dir, 'witness', 'audit-checkpoints.jsonl');
  verifiers = join(running.dir, 'keys', 'verifiers');
  handle = openSqlStore({ endpoint: null, path: running.dir, username: 'default', password: '' });
  // Two requests, a checkpoint after each: the store holds more than one.
  for (const half of [0, 1]) {
    const records = Array.from({ length: RECORDS / 2 }, (_, k) => denial(half * (RECORDS / 2) + k));
    const res = await fetch(`http://${running.otlp.http!.address}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'istio-ingressgateway' } }] }, scopeLogs: [{ logRecords: records }] }] }),
    });
    expect(res.status).toBe(200);
    const counted = await running.waitRows<{ o: string; n: string }>(
      'SELECT LogOrigin AS o, toString(count()) AS n FROM otel.audit_events GROUP BY LogOrigin',
      (r) => r.length === 1 && Number(r[0]!.n) >= (half + 1) * (RECORDS / 2),
      'the audit rows',
    );
    origin = counted[0]!.o;
    total = Number(counted[0]!.n);
    // The checkpoint that covers every row so far, in the witness.
    await waitFor(() => readWitnessFile(witness).records.some((r) => r.size === total), 20_000, 'a checkpoint of every row');
  }
}, 120_000);

afterAll(async () => {
  await handle?.release();
  await running?.stop();
});

describe('trailhouse verify on the embedded engine', () => {
  it('untouched data verifies clean (exit 0), as JSON and as text', async () => {
    await expectVerifies(running.queryUrl, witness, verifiers);
    const { code, json } = await verify();
    expect(code).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.summary.rows).toBe(total);
    expect(json.summary.rowsValid).toBe(total);
    expect(json.summary.checkpointsValid).toBe(json.summary.checkpoints);
    const c = capture();
    expect(await verifyCommand(['--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(new RegExp(`\\d+/\\d+ checkpoints valid, ${total}/${total} rows valid`));
  });

  it('trailhouse keys prints the verifier key the checkpoints are signed with', async () => {
    const c = capture();
    expect(await keysCommand(['--key-file', join(running.dir, 'keys', 'audit-checkpoint.key')], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/^current +\S+\+[0-9a-f]{8}\+\S+\n$/);
    expect(c.out.join('')).toContain(readFileSync(verifiers, 'utf8').trim().split('\n')[0]!);
  });

  it('trailhouse proof gives a proof that verify --proof checks offline', async () => {
    const file = join(running.dir, 'proof.json');
    const c = capture();
    expect(await proofCommand([`${origin}@3`, '--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers, '--out', file], c.io)).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { treeSize: number; proof: string[]; row: { LogIndex: number } };
    expect(doc.row.LogIndex).toBe(3);
    expect(doc.treeSize).toBe(total);
    expect(doc.proof.length).toBe(Math.ceil(Math.log2(total)));
    const v = capture();
    expect(await verifyCommand(['--proof', file, '--pubkey', verifiers], v.io)).toBe(0);
    expect(v.out.join('')).toContain('proof valid');
  });

  it('a store that cannot hash bodies (a function missing on an older server): verify reads and hashes them itself, and says so', async () => {
    const { runVerify } = await import('../lib/audit/verify-run.ts');
    const { httpSource } = await import('../bin/commands/verify-store.ts');
    const real = httpSource({ endpoint: running.queryUrl, database: 'otel' });
    const asked: string[] = [];
    const older = {
      database: real.database,
      bytes(sql: string, params: Record<string, string>, format: 'RowBinary' | 'JSONEachRow') {
        asked.push(sql);
        if (sql.includes('SHA256(')) return Promise.reject(Object.assign(new Error('Code: 46. DB::Exception: Unknown function mapSort. (UNKNOWN_FUNCTION)'), { code: 46 }));
        return real.bytes(sql, params, format);
      },
    };
    const { parseWitnessFile } = await import('../lib/audit/verify-witness.ts');
    const w = parseWitnessFile(readFileSync(witness, 'utf8'), witness);
    const keys = readFileSync(verifiers, 'utf8').trim().split('\n');
    const { report } = await runVerify({ source: older, witness: w.checkpoints, trustedKeys: keys });
    expect(report.summary.rowsValid).toBe(total);
    expect(report.summary.failures).toBe(0);
    expect(report.remarks.join('\n')).toMatch(/cannot hash bodies/);
    expect(asked.some((q) => q.includes('Details FROM audit_events'))).toBe(true);
  });

  it('a store whose hashed rows page lies about a hash, or ends half-way, is not believed: the row is named, the cut page refused', async () => {
    const { runVerify } = await import('../lib/audit/verify-run.ts');
    const { httpSource } = await import('../bin/commands/verify-store.ts');
    const { parseWitnessFile } = await import('../lib/audit/verify-witness.ts');
    const real = httpSource({ endpoint: running.queryUrl, database: 'otel' });
    const w = parseWitnessFile(readFileSync(witness, 'utf8'), witness);
    const keys = readFileSync(verifiers, 'utf8').trim().split('\n');
    /** A source whose hashed rows pages (the ones with SHA256 in their query) go through `edit`. */
    const lying = (edit: (page: Buffer) => Buffer) => ({
      database: real.database,
      async bytes(sql: string, params: Record<string, string>, format: 'RowBinary' | 'JSONEachRow') {
        const b = await real.bytes(sql, params, format);
        return sql.includes('SHA256(') && params.a !== undefined ? edit(b) : b;
      },
    });
    // The first record's hash: after LogIndex, Timestamp and three short strings.
    const hashAt = (page: Buffer) => {
      let p = 16;
      for (let k = 0; k < 3; k++) p += 1 + page[p]!;
      expect(page[p]).toBe(32);
      return { p, index: Number(page.readBigUInt64LE(0)) };
    };
    let index = -1;
    const short = await runVerify({
      source: lying((page) => {
        const h = hashAt(page);
        index = h.index;
        // 31 bytes of hash instead of 32: the record stays well-formed, the hash is not one.
        return Buffer.concat([page.subarray(0, h.p), Buffer.from([31]), page.subarray(h.p + 1, h.p + 32), page.subarray(h.p + 33)]);
      }),
      witness: w.checkpoints,
      trustedKeys: keys,
    });
    expect(short.report.findings.filter((f) => f.failure).map((f) => [f.kind, f.index, f.field])).toEqual([['modified', index, 'body']]);
    const cut = runVerify({ source: lying((page) => page.subarray(0, hashAt(page).p + 10)), witness: w.checkpoints, trustedKeys: keys });
    await expect(cut).rejects.toThrow(/the page ends inside/);
  });

  it("SQL write access cannot shadow the functions the store's body hash uses with functions of its own", async () => {
    const used = new Set([...BODY_HASH_SQL.matchAll(/([A-Za-z][A-Za-z0-9_]*)\(/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(['SHA256', 'arrayMap', 'arrayStringConcat', 'concat', 'length', 'mapKeys', 'mapSort', 'mapValues', 'reinterpretAsString', 'reverse', 'toFixedString', 'toUInt32']);
    for (const name of used) await expect(exec(`CREATE FUNCTION ${name} AS (x) -> 'forged'`)).rejects.toThrow(/already exists/);
  });

  it('rows changed, deleted, inserted and reordered through the engine are each named (exit 1)', async () => {
    const ev = 'otel.audit_events';
    const at = (i: number) => `LogOrigin = '${origin}' AND LogIndex = ${i}`;
    await exec(`ALTER TABLE ${ev} UPDATE Principal = 'spiffe://cluster.local/ns/default/sa/innocent' WHERE ${at(2)} SETTINGS mutations_sync = 2`);
    await exec(`ALTER TABLE ${ev} UPDATE ServiceName = 'elsewhere' WHERE ${at(4)} SETTINGS mutations_sync = 2`);
    await exec(`ALTER TABLE ${ev} DELETE WHERE ${at(6)} SETTINGS mutations_sync = 2`);
    await exec(`INSERT INTO ${ev} SELECT * REPLACE ('spiffe://forged' AS Principal) FROM ${ev} WHERE ${at(8)}`);
    await exec(`ALTER TABLE ${ev} UPDATE LogIndex = if(LogIndex = 11, 14, 11) WHERE LogOrigin = '${origin}' AND LogIndex IN (11, 14) SETTINGS mutations_sync = 2`);
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(failures(json)).toEqual([
      ['modified', 2, 'body'],
      ['modified', 4, 'ServiceName'],
      ['deleted', 6, null],
      // The forged row copied LogBodyHash, so its leaf record (by the view) equals the genuine one: one finding.
      ['inserted', 8, null],
      ['reordered', 11, 'LogIndex'],
      ['reordered', 14, 'LogIndex'],
    ]);
    expect(json.origins[0]!.checkpoints.every((c) => c.valid)).toBe(true);
    expect(json.summary.rowsValid).toBe(total - 5);
    // The same verdicts with the bodies read and hashed by verify instead of the store.
    const local = await verify(['--hash-locally']);
    expect(local.code).toBe(1);
    expect(failures(local.json)).toEqual(failures(json));
    expect(local.json.summary).toEqual(json.summary);
  });

  it('a replaced checkpoint row is caught against the witness', async () => {
    const older = (await handle.store.query<{ Note: string; Size: string }>(`SELECT Note, toString(Size) AS Size FROM otel.audit_events_checkpoints WHERE Origin = '${origin}' ORDER BY Size LIMIT 1`))[0]!;
    expect(Number(older.Size)).toBeLessThan(total);
    const escaped = older.Note.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await exec(`ALTER TABLE otel.audit_events_checkpoints UPDATE Note = '${escaped}' WHERE Origin = '${origin}' AND Size = ${total} SETTINGS mutations_sync = 2`);
    const { code, json } = await verify();
    expect(code).toBe(1);
    const bad = json.origins[0]!.checkpoints.filter((c) => !c.valid);
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((c) => c.sources.every((s) => s.source === 'store'))).toBe(true);
    expect(bad[0]!.problems.join(' ')).toMatch(/says size|differs from the witness/);
  });

  it('the newest rows truncated with their leaf records and store checkpoints: the witness catches it', async () => {
    const cut = total - 3;
    await exec(`ALTER TABLE otel.audit_events DELETE WHERE LogOrigin = '${origin}' AND LogIndex >= ${cut} SETTINGS mutations_sync = 2`);
    await exec(`ALTER TABLE otel.audit_events_log_leaves DELETE WHERE LogOrigin = '${origin}' AND LogIndex >= ${cut} SETTINGS mutations_sync = 2`);
    await exec(`ALTER TABLE otel.audit_events_checkpoints DELETE WHERE Origin = '${origin}' AND Size > ${cut} SETTINGS mutations_sync = 2`);
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(json.findings).toContainEqual(expect.objectContaining({ kind: 'truncated', index: cut, end: total, failure: true }));
  });

  it('rows and leaf records rewritten alike, store checkpoints dropped: the signed root in the witness does not match', async () => {
    await exec(`ALTER TABLE otel.audit_events UPDATE Resource = '/harmless' WHERE LogOrigin = '${origin}' AND LogIndex = 1 SETTINGS mutations_sync = 2`);
    const r = (await handle.store.query<Record<string, unknown>>(`SELECT * FROM otel.audit_events WHERE LogOrigin = '${origin}' AND LogIndex = 1`))[0]!;
    const { bodyHash } = await import('../lib/audit/leaf.ts');
    const h = bodyHash({
      action: r.Action as string, principal: r.Principal as string, source: r.Source as string, destination: r.Destination as string, resource: r.Resource as string,
      policy: r.Policy as string, traceId: r.TraceId as string, spanId: r.SpanId as string, details: r.Details as Record<string, string>,
    }).toString('hex');
    await exec(`ALTER TABLE otel.audit_events_log_leaves UPDATE LogBodyHash = '${h}' WHERE LogOrigin = '${origin}' AND LogIndex = 1 SETTINGS mutations_sync = 2`);
    await exec(`ALTER TABLE otel.audit_events_checkpoints DELETE WHERE Origin = '${origin}' SETTINGS mutations_sync = 2`);
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(json.findings.some((f) => f.kind === 'modified' && f.index === 1)).toBe(false);
    expect(json.findings).toContainEqual(expect.objectContaining({ kind: 'unverified', index: 0, failure: true }));
    expect(json.origins[0]!.checkpoints.every((c) => !c.valid)).toBe(true);
  });

  it("the body encoding built from the store's RowBinary columns, and the body hash the store computes, are leaf.ts's (non-ASCII, astral keys by UTF-8 bytes, empty strings, many details, long strings, odd keys)", async () => {
    const many: Record<string, string> = {};
    for (let k = 0; k < 300; k++) many[`k${(k * 7919) % 300}`] = `v${k}`.repeat(k % 5);
    // Own keys that are integer-like (an object lists them first), __proto__, quotes and a backslash; a NUL in a value.
    const odd = JSON.parse('{"b":"1","10":"ten","2":"two","__proto__":"own","q\'\\\\":"x","a":"nul\\u0000byte"}') as Record<string, string>;
    const { bodyHash } = await import('../lib/audit/leaf.ts');
    // A body whose hash ends in a zero byte (a CAST of the engine's FixedString would drop it).
    const zeroEnd = { action: 'a', principal: '', source: '', destination: '', resource: '', policy: '', traceId: '', spanId: '', details: {} as Record<string, string> };
    for (let n = 0; bodyHash(zeroEnd)[31] !== 0; n++) zeroEnd.principal = `p${n}`;
    const bodies = [
      zeroEnd,
      { action: 'x'.repeat(70_000), principal: 'ü'.repeat(200), source: '', destination: '', resource: '', policy: '', traceId: '', spanId: '', details: odd },
      {
        action: 'ü', principal: '', source: 'spiffe://x/😀', destination: 'd', resource: '/a\tb', policy: 'p\'q', traceId: '', spanId: 's',
        // U+FFFF sorts after U+1F600 by UTF-16 units, before it by UTF-8 bytes
        details: { z: '1', 'é': '2', a: 'ü', '😀': '', Z: 'x', '\uffff': 'bmp', '': 'empty key' },
      },
      { action: '', principal: '', source: '', destination: '', resource: '', policy: '', traceId: '', spanId: '', details: {} },
      { action: 'rbac', principal: 'p'.repeat(200), source: 's', destination: 'd', resource: 'r', policy: 'p', traceId: 't', spanId: 's', details: many },
    ];
    const lit = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
    const { selectBytes } = await import('../bin/commands/oncall-http.ts');
    const { bodyEncoding } = await import('../lib/audit/body-rowbinary.ts');
    const { bodyBytes } = await import('../lib/audit/leaf.ts');
    const conn = { endpoint: running.queryUrl, database: 'otel', user: '', password: '' };
    const names = ['Action', 'Principal', 'Source', 'Destination', 'Resource', 'Policy', 'TraceId', 'SpanId', 'Details'];
    for (const body of bodies) {
      // The columns' types as in audit_events (lib/audit/schema.ts), the pairs in the object's order.
      const pairs = Object.entries(body.details).map(([k, v]) => `${lit(k)}, ${lit(v)}`).join(', ');
      const columns = [
        `CAST(${lit(body.action)} AS LowCardinality(String))`, lit(body.principal), lit(body.source), lit(body.destination), lit(body.resource),
        lit(body.policy), lit(body.traceId), lit(body.spanId), `CAST(map(${pairs}) AS Map(LowCardinality(String), String))`,
      ];
      const page = await selectBytes(conn, `SELECT ${columns.join(', ')}`, {}, 'RowBinary');
      expect(bodyEncoding(page, 0).toString('hex')).toBe(bodyBytes(body).toString('hex'));
      const named = columns.map((c, k) => `${c} AS ${names[k]}`).join(', ');
      const hashed = await selectBytes(conn, `SELECT ${BODY_HASH_SQL} FROM (SELECT ${named})`, {}, 'RowBinary');
      // One String of 32 bytes (its length prefix one byte): every byte of the hash, a trailing zero too.
      expect(hashed.length).toBe(33);
      expect(hashed[0]).toBe(32);
      expect(hashed.subarray(1).toString('hex')).toBe(bodyHash(body).toString('hex'));
    }
  });

  it("a page's query error arrives with the engine's code: a missing leaves table reads as none, a missing audit table is refused", async () => {
    const { auditTables, leavesPage, rowsPage } = await import('../bin/commands/verify-store.ts');
    const { QueryError } = await import('../bin/commands/oncall-http.ts');
    const c = { endpoint: running.queryUrl, database: 'otel' };
    const t = auditTables('no_such_audit_table');
    expect((await leavesPage(c, t, origin, 0, 10)).length).toBe(0);
    const err = await rowsPage(c, t, origin, 0, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as InstanceType<typeof QueryError>).code).toBe(60);
    expect((await rowsPage(c, auditTables(), origin, 0, 2)).length).toBeGreaterThan(0);
  });

  it('rows slipped in without LogOrigin: each listed as inserted up to a thousand, and the count of all of them in a remark', async () => {
    await exec(`INSERT INTO otel.audit_events (Timestamp, Category, Outcome, Principal, ServiceName) SELECT now64(9), 'authorization', 'allowed', concat('forged-', toString(number)), 'svc' FROM numbers(1001)`);
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(json.findings.filter((f) => f.kind === 'inserted' && f.index === undefined).length).toBe(1000);
    expect((json as Json & { remarks: string[] }).remarks).toContain('1001 rows without LogOrigin; the first 1000 are listed');
  });

  it('usage and connection errors exit 2', async () => {
    const c = capture();
    expect(await verifyCommand(['--from', 'yesterday-ish', '--pubkey', verifiers], c.io)).toBe(2);
    expect(await verifyCommand(['--endpoint', 'http://127.0.0.1:1', '--pubkey', verifiers], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/cannot reach/);
  });
});
