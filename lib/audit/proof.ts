/**
 * An inclusion proof for one audit row (or one row of another table's log,
 * otel_logs: LOGS_PROOF_FORMAT), as a self-contained JSON document
 * that an auditor can check offline with SHA-256 and an Ed25519 verifier
 * alone (README: "How an auditor checks a proof without trailhouse"):
 * the row's columns, its body hash, entry and leaf hash, its index, the tree
 * size, the ⌈log2 n⌉ sibling hashes (RFC 9162 §2.1.3), and the signed
 * checkpoint note whose root they lead to.
 */
import { openNote, type NoteVerifier } from '../tlog/note.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { createHash } from 'node:crypto';
import { leafHash } from '../tlog/hash.ts';
import { inclusionProof, verifyInclusion } from '../tlog/tree.ts';
import { bodyHash, leafEntry, type BodyFields } from './leaf.ts';
import type { StoredRow } from './verify-types.ts';

export const PROOF_FORMAT = 'trailhouse-audit-proof/v1';
/** A row of another table's log (otel_logs, otel-logs-leaf.ts): its header columns and its body as the RowBinary bytes hashed. */
export const LOGS_PROOF_FORMAT = 'trailhouse-logs-proof/v1';

export interface LogsProofRow {
  LogOrigin: string;
  LogIndex: number;
  /** Nanoseconds since the epoch, decimal. */
  Timestamp: string;
  SeverityText: string;
  /** Decimal, as in the entry. */
  SeverityNumber: string;
  ServiceName: string;
  /** hex: the body (otel-logs-leaf.ts), the RowBinary of the row's other columns. */
  RowBinary: string;
}

export interface ProofRow {
  LogOrigin: string;
  LogIndex: number;
  /** Nanoseconds since the epoch, decimal. */
  Timestamp: string;
  Category: string;
  Outcome: string;
  ServiceName: string;
  Action: string;
  Principal: string;
  Source: string;
  Destination: string;
  Resource: string;
  Policy: string;
  TraceId: string;
  SpanId: string;
  Details: Record<string, string>;
}

export interface AuditProof {
  format: typeof PROOF_FORMAT | typeof LOGS_PROOF_FORMAT;
  eventId: string;
  row: ProofRow | LogsProofRow;
  /** hex: SHA-256 of the body encoding. */
  bodyHash: string;
  /** hex: the leaf entry (without the 0x00 leaf prefix). */
  entry: string;
  /** hex: SHA-256(0x00 ‖ entry). */
  leafHash: string;
  index: number;
  treeSize: number;
  /** hex sibling hashes, bottom up. */
  proof: string[];
  /** The whole signed checkpoint note (tree size treeSize). */
  checkpoint: string;
}

function proofRow(r: StoredRow & BodyFields): ProofRow {
  return {
    LogOrigin: r.origin,
    LogIndex: r.index,
    Timestamp: r.timeNs.toString(),
    Category: r.category,
    Outcome: r.outcome,
    ServiceName: r.service,
    Action: r.action,
    Principal: r.principal,
    Source: r.source,
    Destination: r.destination,
    Resource: r.resource,
    Policy: r.policy,
    TraceId: r.traceId,
    SpanId: r.spanId,
    Details: { ...r.details },
  };
}

function storedRow(p: ProofRow): StoredRow & BodyFields {
  return {
    origin: p.LogOrigin,
    index: p.LogIndex,
    timeNs: BigInt(p.Timestamp),
    category: p.Category,
    outcome: p.Outcome,
    service: p.ServiceName,
    action: p.Action,
    principal: p.Principal,
    source: p.Source,
    destination: p.Destination,
    resource: p.Resource,
    policy: p.Policy,
    traceId: p.TraceId,
    spanId: p.SpanId,
    details: p.Details,
  };
}

/** `leaves` = the tree's first `size` leaf hashes; the row's own must be among them. Throws if it is not. `row.body` set: an otel_logs row (its RowBinary body). */
export function buildProof(row: StoredRow & Partial<BodyFields>, leaves: readonly Buffer[], size: number, note: string): AuditProof {
  const logs = row.body !== undefined;
  const bh = logs ? sha256(row.body!) : bodyHash(row as StoredRow & BodyFields);
  const entry = leafEntry({ origin: row.origin, index: row.index, timeNs: row.timeNs, category: row.category, outcome: row.outcome, service: row.service, bodyHash: bh });
  const leaf = leafHash(entry);
  if (!leaves[row.index]?.equals(leaf)) throw new Error(`the row at ${row.origin}@${row.index} does not match its leaf: run trailhouse verify`);
  return {
    format: logs ? LOGS_PROOF_FORMAT : PROOF_FORMAT,
    eventId: `${row.origin}@${row.index}`,
    row: logs ? logsProofRow(row) : proofRow(row as StoredRow & BodyFields),
    bodyHash: bh.toString('hex'),
    entry: entry.toString('hex'),
    leafHash: leaf.toString('hex'),
    index: row.index,
    treeSize: size,
    proof: inclusionProof(row.index, size, leaves.slice(0, size)).map((h) => h.toString('hex')),
    checkpoint: note,
  };
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

function logsProofRow(r: StoredRow): LogsProofRow {
  return {
    LogOrigin: r.origin,
    LogIndex: r.index,
    Timestamp: r.timeNs.toString(),
    SeverityText: r.category,
    SeverityNumber: r.outcome,
    ServiceName: r.service,
    RowBinary: r.body!.toString('hex'),
  };
}

/** The row of a proof document, and its body hash: the audit body's columns, or a logs row's RowBinary body. */
function rowOf(p: AuditProof): { row: StoredRow; bh: Buffer } {
  if (p.format === LOGS_PROOF_FORMAT) {
    const r = p.row as LogsProofRow;
    if (typeof r.RowBinary !== 'string' || !/^([0-9a-f]{2})*$/.test(r.RowBinary)) throw new Error('row.RowBinary is not hex');
    if (typeof r.SeverityNumber !== 'string') throw new Error('row.SeverityNumber is not a string');
    const body = Buffer.from(r.RowBinary, 'hex');
    return { row: { origin: r.LogOrigin, index: r.LogIndex, timeNs: BigInt(r.Timestamp), category: r.SeverityText, outcome: r.SeverityNumber, service: r.ServiceName, body }, bh: sha256(body) };
  }
  const row = storedRow(p.row as ProofRow);
  return { row, bh: bodyHash(row) };
}

export interface ProofCheck {
  ok: boolean;
  /** Each step and whether it held; the first failing one says why. */
  steps: { step: string; ok: boolean; detail?: string }[];
}

/** Checks a proof document offline, step by step, with the trusted verifier keys. */
export function checkProof(doc: unknown, verifiers: readonly NoteVerifier[]): ProofCheck {
  const steps: ProofCheck['steps'] = [];
  const done = (step: string, ok: boolean, detail?: string): boolean => (steps.push({ step, ok, ...(detail ? { detail } : {}) }), ok);
  const p = doc as AuditProof;
  const shaped =
    typeof p === 'object' && p !== null && (p.format === PROOF_FORMAT || p.format === LOGS_PROOF_FORMAT) && typeof p.row === 'object' && p.row !== null && Number.isSafeInteger(p.index) && Number.isSafeInteger(p.treeSize) &&
    Array.isArray(p.proof) && p.proof.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)) && typeof p.checkpoint === 'string' && typeof p.entry === 'string' && typeof p.leafHash === 'string';
  if (!done('format', shaped, shaped ? undefined : `not a ${PROOF_FORMAT} or ${LOGS_PROOF_FORMAT} document`)) return { ok: false, steps };
  let row: StoredRow;
  try {
    const got = rowOf(p);
    row = got.row;
    if (row.index !== p.index) throw new Error(`row.LogIndex ${row.index} is not index ${p.index}`);
    const bh = got.bh;
    if (!done('body hash', bh.toString('hex') === p.bodyHash, `SHA-256(body) = ${bh.toString('hex')}`)) return { ok: false, steps };
    const entry = leafEntry({ origin: row.origin, index: row.index, timeNs: row.timeNs, category: row.category, outcome: row.outcome, service: row.service, bodyHash: bh });
    if (!done('entry', entry.toString('hex') === p.entry, 'the entry encodes the row')) return { ok: false, steps };
  } catch (err) {
    done('row', false, (err as Error).message);
    return { ok: false, steps };
  }
  const leaf = leafHash(Buffer.from(p.entry, 'hex'));
  if (!done('leaf hash', leaf.toString('hex') === p.leafHash, `SHA-256(0x00 ‖ entry) = ${leaf.toString('hex')}`)) return { ok: false, steps };
  let text: string;
  try {
    text = openNote(p.checkpoint, verifiers).text;
    done('signature', true, 'the checkpoint is signed by a trusted key');
  } catch (err) {
    done('signature', false, (err as Error).message);
    return { ok: false, steps };
  }
  let cp;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    done('checkpoint', false, (err as Error).message);
    return { ok: false, steps };
  }
  if (!done('checkpoint', cp.origin === row.origin && cp.size === p.treeSize, `origin ${cp.origin}, size ${cp.size}`)) return { ok: false, steps };
  const included = p.index < p.treeSize && verifyInclusion(p.index, p.treeSize, leaf, p.proof.map((h) => Buffer.from(h, 'hex')), cp.root);
  done('inclusion', included, `the ${p.proof.length} proof hashes lead from the leaf to the root ${cp.root.toString('base64')}`);
  return { ok: included, steps };
}
