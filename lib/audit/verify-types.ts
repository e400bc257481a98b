/**
 * What `verify` reads and what it reports. The inputs are plain values (the
 * CLI fills them from ClickHouse and witness files), so the verification
 * itself (verify.ts) does no I/O and can be tested on synthetic logs.
 */
import type { BodyFields, LeafFields } from './leaf.ts';

/** One copy of a signed checkpoint, from a witness file or from the store's audit_events_checkpoints. */
export interface CheckpointInput {
  source: 'witness' | 'store';
  /** For people: `file.jsonl:12` or `otel.audit_events_checkpoints`. */
  where: string;
  /** The whole signed note: the only part that is trusted (after its signature). */
  note: string;
  /** What the line / row says besides the note (columns, JSON fields); must agree with the note. */
  claimed?: { origin?: string; size?: number; root?: Buffer; key?: string };
}

/**
 * An audit_events row. `origin` '' = a row without LogOrigin. The body is
 * either its columns, or `body`: their canonical encoding (leaf.ts), built
 * from the bytes the store returned (body-rowbinary.ts) — hashed here, so a
 * store that returns anything but the logged content still fails (it cannot
 * invert SHA-256); it saves decoding every column to a string.
 */
export interface StoredRow extends Partial<BodyFields> {
  origin: string;
  index: number;
  /** Nanoseconds since the epoch. */
  timeNs: bigint;
  category: string;
  outcome: string;
  service: string;
  body?: Buffer;
  /** SHA-256 of the body encoding, as the store computed it (verify-store.ts hashedRowsPage). */
  bodyHash?: Buffer;
}

/** An audit_events_log_leaves record: the log's own index of what was written, kept past retention. */
export interface LeafRecord extends LeafFields {
  /** The batch that wrote it (not read by verify). */
  batch?: string;
}

export interface VerifyOptions {
  /** Trusted verifier keys (`name+hhhhhhhh+base64`). */
  trustedKeys: readonly string[];
  /** A leaf record whose row is missing: the retention rule that explains it, or null. */
  expiredUnder?: (record: LeafRecord) => string | null;
  /** Report only rows (and missing rows) with fromNs <= Timestamp < toNs; everything is still recomputed. */
  fromNs?: bigint;
  toNs?: bigint;
  /** Report only this log. */
  origin?: string;
}

export type FindingKind = 'modified' | 'deleted' | 'truncated' | 'inserted' | 'reordered' | 'unwitnessed' | 'expired' | 'unverified';

export interface Finding {
  kind: FindingKind;
  origin: string;
  /** First index concerned (absent for a row without LogOrigin). */
  index?: number;
  /** Exclusive end of a run of indexes (deleted, truncated, expired, unwitnessed, unverified). */
  end?: number;
  /** `origin@index`, for one row. */
  eventId?: string;
  /** The row's (or leaf record's) Timestamp, RFC 3339 with nanoseconds. */
  time?: string;
  /** modified: the header field that differs (`Timestamp`, `Category`, `Outcome`, `ServiceName`), `body`, or `leaf record`. */
  field?: string;
  /** expired: the retention rule. */
  rule?: string;
  detail: string;
  /** false for what is reported but is not tampering (unwitnessed, expired). */
  failure: boolean;
}

export interface CheckpointVerdict {
  origin: string;
  size: number;
  /** base64, as in the note. */
  root: string;
  time?: string;
  /** `name+hhhhhhhh` of the trusted key that signed it (or of the first signature when none is trusted). */
  key?: string;
  sources: { source: 'witness' | 'store'; where: string }[];
  /** Signed by a trusted key, and its claimed fields agree with the note. */
  signed: boolean;
  valid: boolean;
  problems: string[];
}

export interface OriginReport {
  origin: string;
  checkpoints: CheckpointVerdict[];
  /** Size of the newest validly signed checkpoint (0 when none). */
  witnessedSize: number;
  /** Indexes below this are covered by a checkpoint whose root the stored leaves reproduce. */
  verifiedSize: number;
  rows: { total: number; valid: number; unwitnessed: number };
}

export interface VerifyReport {
  origins: OriginReport[];
  /** Checkpoint copies that are not checkpoints at all (bad witness lines, unparsable notes). */
  unreadable: CheckpointVerdict[];
  findings: Finding[];
  /** Not failures: torn witness lines, checkpoints only in one place, … */
  remarks: string[];
  summary: { checkpoints: number; checkpointsValid: number; rows: number; rowsValid: number; unwitnessed: number; failures: number };
  ok: boolean;
}
