/**
 * The audit trail as an append-only Merkle log (merkle-log.ts): every row
 * written to audit_events is a leaf, its leaf the canonical encoding of
 * leaf.ts, its origin, index, batch and body hash stored with it.
 */
import { TimeSlice } from '../../core/yield.ts';
import { bodyHashHex, storedLeafLatin1 } from './leaf.ts';
import { AUDIT_COLUMNS, auditNative, auditRow, auditRowTime, auditTableName, type AuditRow } from './schema.ts';
import { LOG_INSERT_SETTINGS, logTablesSql } from './log-schema.ts';
import { MerkleLog, type LeafSource, type MerkleLogOptions } from './merkle-log.ts';

export type AuditLogOptions = Omit<MerkleLogOptions<AuditRow[]>, 'source'>;

/** audit_events rows as leaves: their body hashed (leaf.ts), then the entry of each at its index. */
export function auditLeafSource(o: AuditLogOptions): LeafSource<AuditRow[]> {
  return {
    size: (rows) => rows.length,
    async place(rows, origin, first, batch) {
      const leaves = new Array<string>(rows.length);
      // Thousands of rows take tens of milliseconds to hash: hand the event loop back between
      // chunks (core/yield.ts), so the receivers on this thread keep answering. The log's chain
      // keeps the tree as it is meanwhile.
      const slice = new TimeSlice();
      for (let i = 0; i < rows.length; i++) {
        if (i % 256 === 255) await slice.maybeYield();
        const r = rows[i]!;
        const e = r.event;
        // The event has the body's fields under the body's names (BodyFields); classification may have hashed it.
        const body = r.bodyHash ?? bodyHashHex(e);
        const index = first + i;
        // The batch is named on its first row only: the rows after it, up to the next named one, are its.
        r.log = { origin, index, batch: i === 0 ? batch : '', bodyHash: body };
        leaves[i] = storedLeafLatin1(origin, index, auditRowTime(r), e.category, e.outcome, r.service, body);
      }
      return leaves;
    },
    insert(rows, dedupToken) {
      const encoded = { json: () => rows.map(auditRow).join('\n'), native: () => auditNative(rows) };
      return o.store.insert(auditTableName(o), AUDIT_COLUMNS, encoded, { dedupToken, settings: LOG_INSERT_SETTINGS });
    },
    tablesSql: () => logTablesSql(o),
  };
}

export class AuditLog extends MerkleLog<AuditRow[]> {
  constructor(o: AuditLogOptions) {
    super({ ...o, source: auditLeafSource(o) });
  }
}
