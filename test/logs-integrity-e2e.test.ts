/**
 * The clickhouse exporter's Merkle log over otel_logs (exporters/clickhouse
 * `integrity`), end to end on the real embedded engine: records of a chosen
 * service become leaves (their log columns set, a leaves table, signed
 * checkpoints in the witness file the audit log shares), records of other
 * services are written as before; the leaves follow the documented
 * encoding (recomputed here from a RowBinary query and SHA-256 alone); a
 * restart continues the log; then otel_logs is tampered with THROUGH THE
 * ENGINE and `trailhouse verify --table otel_logs` names each change.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlStore, type SqlStoreHandle } from '../lib/clickhouse/sql-store.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { proofCommand } from '../bin/commands/proof.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { rootOf } from '../lib/tlog/tree.ts';
import { waitFor } from './helpers.ts';
import { startService, type RunningService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-logs-integrity-'));
const witness = join(dir, 'witness', 'audit-checkpoints.jsonl');
const verifiers = join(dir, 'keys', 'verifiers');
let running: RunningService;
let handle: SqlStoreHandle;
let origin = '';

const yaml = `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit:
    path: ${dir}
    integrity: {checkpoint_interval: 1s}
exporters:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
    integrity: {enabled: true, services: [checkout, payments], checkpoint_interval: 1s}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`;

function record(i: number, extra: { key: string; value: Record<string, unknown> }[] = []) {
  return {
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n + 123n),
    severityNumber: 9 + (i % 3),
    severityText: ['INFO', 'WARN', 'ERROR'][i % 3],
    traceId: i % 2 ? '5b8efff798038103d269b633813fc60c' : undefined,
    spanId: i % 2 ? 'eee19b7ec3c1b174' : undefined,
    body: { stringValue: `order ${i} placed ü` },
    attributes: [
      { key: 'order.id', value: { intValue: String(1000 + i) } },
      { key: 'http.route', value: { stringValue: '/cart/checkout' } },
      ...extra,
    ],
  };
}

async function send(service: string, from: number, n: number, extra: { key: string; value: Record<string, unknown> }[] = []): Promise<void> {
  const records = Array.from({ length: n }, (_, k) => record(from + k, extra));
  const res = await fetch(`http://${running.otlp.http!.address}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'k8s.pod.name', value: { stringValue: `${service}-7d9f` } }] },
        scopeLogs: [{ scope: { name: 'app', version: '2.1' }, logRecords: records }],
      }],
    }),
  });
  expect(res.status).toBe(200);
}

interface Json {
  ok: boolean;
  summary: { checkpoints: number; checkpointsValid: number; rows: number; rowsValid: number; failures: number };
  findings: { kind: string; origin: string; index?: number; field?: string; failure: boolean; detail: string }[];
  remarks: string[];
}

async function verify(table?: string, extra: string[] = []): Promise<{ code: number; json: Json; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await verifyCommand(
    ['--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers, '--json', ...(table ? ['--table', table] : []), ...extra],
    { out: (s) => void out.push(s), err: (s) => void err.push(s) },
  );
  return { code, json: JSON.parse(out.join('')) as Json, err: err.join('') };
}

const failures = (j: Json) => j.findings.filter((f) => f.failure).map((f) => [f.kind, f.index ?? null, f.field ?? null]);

async function covered(): Promise<number> {
  const r = await running.rows<{ n: string }>(`SELECT toString(count()) AS n FROM otel.otel_logs WHERE LogOrigin != ''`);
  return Number(r[0]!.n);
}

/** Waits until `n` covered rows are stored and a witnessed checkpoint covers them. */
async function settled(n: number): Promise<void> {
  await running.waitRows<{ n: string }>(`SELECT toString(count()) AS n FROM otel.otel_logs WHERE LogOrigin != ''`, (r) => Number(r[0]?.n) === n, 'the covered rows');
  await waitFor(() => readWitnessFile(witness).records.some((r) => r.origin.endsWith('/trailhouse/otel.otel_logs') && r.size === n), 20_000, `a checkpoint of ${n} log rows`);
}

beforeAll(async () => {
  running = await startService(yaml);
  handle = openSqlStore({ endpoint: null, path: dir, username: 'default', password: '' });
  await send('checkout', 0, 12);
  await send('frontend', 100, 5); // not chosen
  await send('payments', 200, 8, [{ key: 'payment.card', value: { stringValue: '****4242' } }]);
  await settled(20);
  const o = await running.rows<{ o: string }>(`SELECT DISTINCT LogOrigin AS o FROM otel.otel_logs WHERE LogOrigin != ''`);
  expect(o).toHaveLength(1);
  origin = o[0]!.o;
}, 120_000);

afterAll(async () => {
  await handle?.release();
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a Merkle log over otel_logs of chosen services', () => {
  it('gives the rows of chosen services contiguous indexes; other services have no log columns set', async () => {
    expect(origin).toMatch(/\/trailhouse\/otel\.otel_logs$/);
    const idx = await running.rows<{ i: string; s: string }>(`SELECT toString(LogIndex) AS i, ServiceName AS s FROM otel.otel_logs WHERE LogOrigin != '' ORDER BY LogIndex`);
    expect(idx.map((r) => Number(r.i))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(idx.map((r) => r.s))).toEqual(new Set(['checkout', 'payments']));
    const other = await running.rows<{ n: string; set: string }>(
      `SELECT toString(count()) AS n, toString(countIf(LogOrigin != '' OR LogIndex != 0 OR LogBatch != '' OR LogBodyHash != '')) AS set FROM otel.otel_logs WHERE ServiceName = 'frontend'`,
    );
    expect(other).toEqual([{ n: '5', set: '0' }]);
    const leaves = await running.rows<{ n: string }>(`SELECT toString(count()) AS n FROM otel.otel_logs_log_leaves WHERE ServiceName = 'frontend'`);
    expect(leaves).toEqual([{ n: '0' }]);
  });

  it('leaves follow the documented encoding: recomputed from a RowBinary query with SHA-256 alone, they give the witnessed root', async () => {
    const url = new URL(running.queryUrl);
    url.searchParams.set('param_o', origin);
    const res = await fetch(url, {
      method: 'POST',
      body: `SELECT LogIndex, toUnixTimestamp64Nano(Timestamp), CAST(SeverityText AS String), toString(SeverityNumber), CAST(ServiceName AS String),
        TimestampTime, TraceId, SpanId, TraceFlags, ResourceSchemaUrl, mapKeys(ResourceAttributes), mapValues(ResourceAttributes),
        ScopeSchemaUrl, ScopeName, ScopeVersion, mapKeys(ScopeAttributes), mapValues(ScopeAttributes), Body,
        mapKeys(LogAttributes), mapValues(LogAttributes), EventName
        FROM otel.otel_logs WHERE LogOrigin = {o:String} ORDER BY LogIndex FORMAT RowBinary`,
    });
    expect(res.status).toBe(200);
    const buf = Buffer.from(await res.arrayBuffer());
    // An independent reading of the README's encoding (not the exporter's code).
    let p = 0;
    const leb = () => {
      let n = 0;
      for (let shift = 0; ; shift += 7) {
        const b = buf[p++]!;
        n += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return n;
      }
    };
    const str = () => {
      const n = leb();
      p += n;
      return buf.subarray(p - n, p);
    };
    const array = () => {
      const n = leb();
      for (let k = 0; k < n; k++) str();
    };
    const map = () => (array(), array());
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const s = (b: Buffer) => Buffer.concat([u32(b.length), b]);
    const leaves: Buffer[] = [];
    while (p < buf.length) {
      const index = buf.readBigUInt64LE(p);
      const ts = buf.readBigInt64LE(p + 8);
      p += 16;
      const sevText = str();
      const sevNum = str();
      const svc = str();
      const bodyStart = p;
      p += 4; // TimestampTime
      str(); str(); p += 1; str(); map(); str(); str(); str(); map(); str(); map(); str();
      const body = createHash('sha256').update(buf.subarray(bodyStart, p)).digest();
      const i64 = Buffer.alloc(16);
      i64.writeBigUInt64BE(index, 0);
      i64.writeBigInt64BE(ts, 8);
      const entry = Buffer.concat([Buffer.from([1]), s(Buffer.from(origin)), i64, s(sevText), s(sevNum), s(svc), body]);
      leaves.push(createHash('sha256').update(Buffer.concat([Buffer.from([0]), entry])).digest());
    }
    expect(leaves).toHaveLength(20);
    const cp = readWitnessFile(witness).records.find((r) => r.origin === origin && r.size === 20)!;
    expect(rootOf(leaves).toString('base64')).toBe(cp.root);
  });

  it('untouched data verifies clean, and the audit trail sharing the witness file still does', async () => {
    const logs = await verify('otel_logs');
    expect(logs.err).toMatch(/^$/);
    expect(failures(logs.json)).toEqual([]);
    expect(logs.code).toBe(0);
    expect(logs.json.summary.rows).toBe(20);
    expect(logs.json.summary.rowsValid).toBe(20);
    const local = await verify('otel_logs', ['--hash-locally']);
    expect(local.code).toBe(0);
    expect(local.json.summary).toEqual(logs.json.summary);
    const audit = await verify();
    expect(failures(audit.json)).toEqual([]);
    expect(audit.code).toBe(0);
    expect(audit.json.remarks.join('\n')).toContain(`${origin}: `);
  });

  it('a restart continues the same log: the next rows take the next indexes', async () => {
    await running.stop();
    running = await startService(yaml);
    await send('checkout', 300, 6);
    await settled(26);
    const idx = await running.rows<{ i: string }>(`SELECT toString(LogIndex) AS i FROM otel.otel_logs WHERE LogOrigin = '${origin}' AND Body LIKE 'order 30_ %' ORDER BY LogIndex`);
    expect(idx.map((r) => Number(r.i))).toEqual([20, 21, 22, 23, 24, 25]);
    expect(await covered()).toBe(26);
    const v = await verify('otel_logs');
    expect(failures(v.json)).toEqual([]);
    expect(v.code).toBe(0);
    expect(v.json.summary.rowsValid).toBe(26);
  }, 120_000);

  it('trailhouse proof gives a proof of an otel_logs row that verify --proof and scripts/check-proof.py check offline', async () => {
    const file = join(dir, 'logs-proof.json');
    const err: string[] = [];
    const io = { out: () => undefined, err: (s: string) => void err.push(s) };
    expect(await proofCommand([`${origin}@4`, '--endpoint', running.queryUrl, '--table', 'otel_logs', '--checkpoints', witness, '--pubkey', verifiers, '--out', file], io), err.join('')).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: string; row: { RowBinary: string; ServiceName: string }; proof: string[]; treeSize: number };
    expect(doc.format).toBe('trailhouse-logs-proof/v1');
    expect(Buffer.from(doc.row.RowBinary, 'hex').toString('utf8')).toContain('order 4 placed ü');
    expect(doc.proof).toHaveLength(Math.ceil(Math.log2(doc.treeSize)));
    const out: string[] = [];
    expect(await verifyCommand(['--proof', file, '--pubkey', verifiers], { out: (s) => void out.push(s), err: () => undefined })).toBe(0);
    expect(out.join('')).toMatch(/proof valid/);
    const vkey = readFileSync(verifiers, 'utf8').trim().split('\n')[0]!;
    const py = spawnSync('python3', [join(import.meta.dirname, '../scripts/check-proof.py'), file, vkey], { encoding: 'utf8' });
    expect(py.stdout).toMatch(/proof valid/);
    expect(py.status).toBe(0);
    // A changed body no longer checks.
    writeFileSync(file, JSON.stringify({ ...doc, row: { ...doc.row, RowBinary: doc.row.RowBinary.replace(Buffer.from('order 4').toString('hex'), Buffer.from('order 5').toString('hex')) } }));
    expect(await verifyCommand(['--proof', file, '--pubkey', verifiers], { out: () => undefined, err: () => undefined })).toBe(1);
    expect(spawnSync('python3', [join(import.meta.dirname, '../scripts/check-proof.py'), file, vkey], { encoding: 'utf8' }).status).toBe(1);
  });

  it('names a modified Body, a deleted row and inserted rows, done through the engine', async () => {
    const exec = (sql: string) => handle.store.exec(sql);
    const o = origin.replace(/'/g, "\\'");
    await exec(`ALTER TABLE otel.otel_logs UPDATE Body = 'order 3 refunded' WHERE LogOrigin = '${o}' AND LogIndex = 3 SETTINGS mutations_sync = 2`);
    let v = await verify('otel_logs');
    expect(v.code).toBe(1);
    expect(failures(v.json)).toEqual([['modified', 3, 'body']]);

    await exec(`ALTER TABLE otel.otel_logs DELETE WHERE LogOrigin = '${o}' AND LogIndex = 7 SETTINGS mutations_sync = 2`);
    v = await verify('otel_logs');
    expect(failures(v.json)).toEqual([['modified', 3, 'body'], ['deleted', 7, null]]);

    // A forged row of a covered service without log columns, and one claiming an index the log has.
    await exec(`INSERT INTO otel.otel_logs (Timestamp, ServiceName, SeverityText, Body) VALUES (fromUnixTimestamp64Nano(1700000050000000000), 'checkout', 'INFO', 'order 999 placed')`);
    await exec(`INSERT INTO otel.otel_logs (Timestamp, ServiceName, SeverityText, Body, LogOrigin, LogIndex) VALUES (fromUnixTimestamp64Nano(1700000051000000000), 'payments', 'INFO', 'order 998 placed', '${o}', 12)`);
    v = await verify('otel_logs');
    expect(v.code).toBe(1);
    const f = failures(v.json);
    expect(f).toContainEqual(['modified', 3, 'body']);
    expect(f).toContainEqual(['deleted', 7, null]);
    // The row without log columns; at index 12 the forged row and the leaf record the leaves view made of it.
    expect(f.filter(([k]) => k === 'inserted'), JSON.stringify(v.json.findings)).toEqual([['inserted', null, null], ['inserted', 12, 'leaf record'], ['inserted', 12, null]]);
    expect(v.json.findings.find((x) => x.kind === 'inserted' && x.origin === '')!.detail).toContain('order 999 placed');
    // The same verdicts with the bodies read and hashed by verify instead of the store.
    const local = await verify('otel_logs', ['--hash-locally']);
    expect(local.code).toBe(1);
    expect(failures(local.json)).toEqual(f);
    expect(local.json.summary).toEqual(v.json.summary);
  }, 60_000);

  it("the store's body hash (formatRow RowBinary, SHA-256) is the hash of the RowBinary bytes, all 32 of them, for a row whose hash ends in a zero byte", async () => {
    const { LOGS_BODY_HASH_SQL } = await import('../lib/audit/verify-logs-store.ts');
    const { OTEL_LOGS_BODY_SQL } = await import('../lib/audit/otel-logs-verify.ts');
    // Rows with otel_logs' body columns, odd values among them (non-ASCII, a NUL, an empty map); Body varies with n.
    const rows = (where: string) => `(SELECT number, toDateTime('2026-01-02 03:04:05') AS TimestampTime, 'ab' AS TraceId, '' AS SpanId, toUInt8(1) AS TraceFlags, 'ü' AS ResourceSchemaUrl,
      map('service.name', 'checkout', 'k\\0', 'v') AS ResourceAttributes, '' AS ScopeSchemaUrl, 's' AS ScopeName, '1.0' AS ScopeVersion, map() :: Map(String, String) AS ScopeAttributes,
      concat('order ', toString(number)) AS Body, map('b', '2', 'a', '1') AS LogAttributes, '' AS EventName FROM numbers(5000) WHERE ${where})`;
    const q = async (sql: string) => {
      const res = await fetch(running.queryUrl, { method: 'POST', body: sql });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(body.toString('utf8'));
      return body;
    };
    const found = await q(`SELECT toString(n) FROM (SELECT number AS n, ${LOGS_BODY_HASH_SQL} AS h FROM ${rows('1')}) WHERE endsWith(h, '\\0') LIMIT 1 FORMAT TSVRaw`);
    const n = Number(found.toString('utf8').trim());
    expect(Number.isInteger(n) && found.length > 0).toBe(true);
    const hashed = await q(`SELECT ${LOGS_BODY_HASH_SQL} FROM ${rows(`number = ${n}`)} FORMAT RowBinary`);
    const plain = await q(`SELECT ${OTEL_LOGS_BODY_SQL} FROM ${rows(`number = ${n}`)} FORMAT RowBinary`);
    expect(hashed.length).toBe(33);
    expect(hashed[0]).toBe(32);
    expect(hashed[32]).toBe(0);
    expect(hashed.subarray(1).toString('hex')).toBe(createHash('sha256').update(plain).digest('hex'));
  });

  it('a row forged under the audit log\'s origin, or under an origin no checkpoint names, fails verify; the audit trail itself still verifies', async () => {
    const auditOrigin = readWitnessFile(witness).records.find((r) => r.origin.endsWith('/trailhouse/otel.audit_events'))!.origin;
    expect(auditOrigin).toBeDefined();
    const exec = (sql: string) => handle.store.exec(sql);
    const q = (x: string) => x.replace(/'/g, "\\'");
    await exec(`INSERT INTO otel.otel_logs (Timestamp, ServiceName, SeverityText, Body, LogOrigin, LogIndex) VALUES (fromUnixTimestamp64Nano(1700000052000000000), 'checkout', 'INFO', 'order 997 placed', '${q(auditOrigin)}', 0)`);
    let v = await verify('otel_logs');
    expect(v.code).toBe(1);
    expect(v.json.findings.filter((x) => x.failure && x.origin === auditOrigin).length, JSON.stringify(v.json.findings)).toBeGreaterThan(0);
    const audit = await verify();
    expect(failures(audit.json)).toEqual([]);
    expect(audit.code).toBe(0);

    const invented = 'elsewhere/trailhouse/otel.otel_logs';
    await exec(`INSERT INTO otel.otel_logs (Timestamp, ServiceName, SeverityText, Body, LogOrigin, LogIndex) VALUES (fromUnixTimestamp64Nano(1700000053000000000), 'checkout', 'INFO', 'order 996 placed', '${invented}', 0)`);
    v = await verify('otel_logs');
    expect(v.code).toBe(1);
    expect(v.json.findings.filter((x) => x.failure && x.origin === invented).length, JSON.stringify(v.json.findings)).toBeGreaterThan(0);
  }, 60_000);
});
