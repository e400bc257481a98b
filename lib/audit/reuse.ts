/**
 * One classification for two taps: the detect processor (before correlate)
 * classifies a payload with the audit processor's own rules and leaves the
 * rows here; the audit processor (after correlate) takes them instead of
 * classifying again, when that gives exactly what classifying again would:
 *
 * - the payload is still the request bytes it classified (same parts; a
 *   payload decoded or changed in between is classified again);
 * - no patch correlate added sets an attribute the rules read (its context
 *   attributes are `trailhouse.*`, which the default map does not name);
 * - the trace and span ids correlate patched in are applied to the rows by
 *   the record ordinal their event id carries (event-id.ts).
 */
import type { LogsPayload } from '../../core/payload.ts';
import type { AuditRow } from './schema.ts';
import { accessKeys } from '../mesh/fields.ts';
import type { CompiledRules } from './classify.ts';
import { recordOfEventId } from './event-id.ts';

interface Classified {
  rules: CompiledRules;
  parts: readonly Uint8Array[];
  rows: Promise<AuditRow[]> | AuditRow[];
}

const classified = new WeakMap<LogsPayload, Classified>();

/** Leaves the rows of a payload still in bytes for the audit processor with `rules`. */
export function rememberClassified(payload: LogsPayload, rules: CompiledRules, rows: Promise<AuditRow[]> | AuditRow[]): void {
  const c = payload.content;
  if (c.kind === 'bytes') classified.set(payload, { rules, parts: c.parts, rows });
}

/** The rows left for this payload and rules, brought up to date; undefined = classify it. */
export async function takeClassified(payload: LogsPayload, rules: CompiledRules): Promise<AuditRow[] | undefined> {
  const got = classified.get(payload);
  if (!got) return undefined;
  classified.delete(payload);
  const c = payload.content;
  if (got.rules !== rules || c.kind !== 'bytes' || c.parts !== got.parts) return undefined;
  const patches = c.patches;
  if (patches) {
    const keys = accessKeys(rules.attributes);
    // Correlate's patches share one keys array per shape: each shape is checked once.
    let checked: readonly string[] | undefined;
    for (const p of patches) {
      if (!p || (p.keys !== undefined && p.keys === checked)) continue;
      const names = p.keys ?? p.attributes.map((kv) => kv.key);
      if (names.some((k) => keys.has(k))) return undefined;
      if (p.keys) checked = p.keys;
    }
  }
  let rows: AuditRow[];
  try {
    rows = await got.rows;
  } catch {
    return undefined;
  }
  if (patches) {
    for (const row of rows) {
      const i = recordOfEventId(row.event.details.event_id ?? '');
      if (i < 0) return undefined;
      const p = patches[i];
      const e = row.event;
      if (p?.traceId !== undefined && p.traceId !== e.traceId) {
        e.traceId = p.traceId;
        row.bodyHash = undefined; // the ids are in the body (leaf.ts)
      }
      if (p?.spanId !== undefined && p.spanId !== e.spanId) {
        e.spanId = p.spanId;
        row.bodyHash = undefined;
      }
    }
  }
  return rows;
}
