/**
 * A synthetic audit log as the store would hold it: rows, their leaf records,
 * and signed checkpoints (witness and store copies), built with lib/tlog and
 * lib/audit/leaf.ts — for verify's tests and its bench.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactTree } from '../../tlog/tree.ts';
import { signNote, type NoteSigner } from '../../tlog/note.ts';
import { checkpointText } from '../../tlog/checkpoint.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../../tlog/keys.ts';
import { auditLeafHash, bodyHash, type BodyFields } from '../leaf.ts';
import type { CheckpointInput, LeafRecord, StoredRow } from '../verify-types.ts';

export const ORIGIN = 'test.example/trailhouse/audit';
export const T0 = 1_715_677_923_000_000_000n;

export function newSigner(name = 'test.example'): NoteSigner {
  return loadOrCreateSigner(join(mkdtempSync(join(tmpdir(), 'th-verify-key-')), 'audit-checkpoint.key'), name);
}

export function row(origin: string, index: number, n = index): StoredRow & BodyFields {
  return {
    origin,
    index,
    timeNs: T0 + BigInt(n) * 1_000_000n,
    category: n % 7 === 0 ? 'authorization' : 'sensitive_access',
    outcome: n % 3 === 0 ? 'denied' : 'allowed',
    service: 'istio-ingressgateway',
    action: 'rbac',
    principal: `spiffe://cluster.local/ns/default/sa/user-${n % 50}`,
    source: `10.0.${n % 250}.7:5${n % 1000}`,
    destination: 'httpbin.foo:8000',
    resource: `/admin/users/${n}`,
    policy: 'ns[default]-policy[deny-admin]-rule[0]',
    traceId: (BigInt(n) * 7919n).toString(16).padStart(32, '0'),
    spanId: (BigInt(n) * 104729n).toString(16).padStart(16, '0'),
    details: { method: 'GET', status_code: n % 3 === 0 ? '403' : '200', 'x-request-id': `req-${n}` },
  };
}

export function recordOf(r: StoredRow & BodyFields, batch = 'b0'): LeafRecord {
  return { origin: r.origin, index: r.index, timeNs: r.timeNs, category: r.category, outcome: r.outcome, service: r.service, bodyHash: bodyHash(r), batch };
}

export function leafOf(r: StoredRow & BodyFields): Buffer {
  return auditLeafHash({ origin: r.origin, index: r.index, timeNs: r.timeNs, category: r.category, outcome: r.outcome, service: r.service, bodyHash: bodyHash(r) });
}

export function checkpointNote(signer: NoteSigner, origin: string, size: number, root: Buffer, time: Date): string {
  return signNote(checkpointText({ origin, size, root, time }), [signer]);
}

export function witnessLine(note: string, origin: string, size: number, root: Buffer, time: Date, key: string): string {
  return JSON.stringify({ origin, size, root: root.toString('base64'), time: time.toISOString(), key, note }) + '\n';
}

export interface SyntheticLog {
  signer: NoteSigner;
  vkey: string;
  rows: (StoredRow & BodyFields)[];
  leaves: LeafRecord[];
  /** Witness copies first, then store copies. */
  checkpoints: CheckpointInput[];
  /** The witness file's text (same checkpoints as the witness copies). */
  witness: string;
  roots: Map<number, Buffer>;
}

/** `n` rows of one origin with checkpoints at `sizes` (each in the witness and in the store). */
export function syntheticLog(n: number, sizes: number[], signer = newSigner(), origin = ORIGIN): SyntheticLog {
  const rows: (StoredRow & BodyFields)[] = [];
  const leaves: LeafRecord[] = [];
  const roots = new Map<number, Buffer>();
  const tree = new CompactTree();
  const want = new Set(sizes);
  for (let i = 0; i < n; i++) {
    const r = row(origin, i);
    rows.push(r);
    leaves.push(recordOf(r, `batch-${Math.floor(i / 100)}`));
    tree.append(leafOf(r));
    if (want.has(i + 1)) roots.set(i + 1, tree.root());
  }
  const key = `${signer.name}+${signer.keyId.toString(16).padStart(8, '0')}`;
  const witnessCopies: CheckpointInput[] = [];
  const storeCopies: CheckpointInput[] = [];
  let witness = '';
  sizes.forEach((size, k) => {
    const root = roots.get(size)!;
    const time = new Date(Number((T0 + BigInt(size) * 1_000_000n) / 1_000_000n) + 1000 + k);
    const note = checkpointNote(signer, origin, size, root, time);
    witness += witnessLine(note, origin, size, root, time, key);
    witnessCopies.push({ source: 'witness', where: `witness.jsonl:${k + 1}`, note, claimed: { origin, size, root, key } });
    storeCopies.push({ source: 'store', where: 'otel.audit_events_checkpoints', note, claimed: { origin, size, root, key } });
  });
  return { signer, vkey: verifierKeyOf(signer), rows, leaves, checkpoints: [...witnessCopies, ...storeCopies], witness, roots };
}

// RowBinary pages as the store returns them to verify (verify-store.ts, verify-rowbinary.ts).
function str(v: string | Buffer): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  const len: number[] = [];
  let n = b.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return Buffer.concat([Buffer.from(len), b]);
}

function int64(v: bigint, signed: boolean): Buffer {
  const b = Buffer.alloc(8);
  if (signed) b.writeBigInt64LE(v);
  else b.writeBigUInt64LE(v);
  return b;
}

function leb(n: number): Buffer {
  return str(Buffer.alloc(n)).subarray(0, -n || undefined);
}

/** A row's body columns as RowBinary; Details' pairs in `keys` order (the object's own by default). */
export function bodyColumns(r: BodyFields, keys = Object.keys(r.details)): Buffer {
  return Buffer.concat([
    ...[r.action, r.principal, r.source, r.destination, r.resource, r.policy, r.traceId, r.spanId].map((v) => str(v)),
    leb(keys.length),
    ...keys.flatMap((k) => [str(k), str(r.details[k]!)]),
  ]);
}

export function rowsPage(rows: readonly (StoredRow & BodyFields)[]): Buffer {
  return Buffer.concat(rows.flatMap((r) => [int64(BigInt(r.index), false), int64(r.timeNs, true), str(r.category), str(r.outcome), str(r.service), bodyColumns(r)]));
}

export function leavesPage(recs: readonly LeafRecord[]): Buffer {
  return Buffer.concat(recs.flatMap((l) => [int64(BigInt(l.index), false), int64(l.timeNs, true), str(l.category), str(l.outcome), str(l.service), str(l.bodyHash)]));
}
