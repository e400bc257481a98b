/** Counting a request's records by its framing alone (max_records_per_request before decoding). */
import { Reader } from './protowire.ts';
import { ExportLogsServiceRequestField, ResourceLogsField, ScopeLogsField } from './wire-fields.gen.ts';

/**
 * The number of records an Export*ServiceRequest frames, found by walking only
 * its resource and scope containers and skipping each record by its length
 * (a few ns per record), so a request of millions of tiny records is refused
 * before the decoder builds them. Framing it cannot follow ends the count:
 * the decoder reports that error.
 */
export function countRecords(data: Uint8Array): number {
  const r = new Reader(data);
  let n = 0;
  try {
    n = containers(r, r.len, 0);
  } catch {
    // malformed: the decoder says why
  }
  return n;
}

/**
 * depth 0: the request (its resource containers); 1: ResourceX (its scope
 * containers); 2: ScopeX (its records). The logs field numbers serve both
 * signals: the traces containers have the same ones (wire-fields.test.ts).
 */
function containers(r: Reader, end: number, depth: number): number {
  let n = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if ((tag & 7) !== 2) {
      r.skip(tag & 7, end);
      continue;
    }
    const fieldEnd = r.lenEnd(end);
    const field = tag >>> 3;
    if (depth === 0 && field === ExportLogsServiceRequestField.resource_logs) n += containers(r, fieldEnd, 1);
    else if (depth === 1 && field === ResourceLogsField.scope_logs) n += containers(r, fieldEnd, 2);
    else if (depth === 2 && field === ScopeLogsField.log_records) n++;
    r.pos = fieldEnd;
  }
  return n;
}
