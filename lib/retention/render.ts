/**
 * Retention rules as ClickHouse SQL: one `TTL <time> + INTERVAL DELETE WHERE
 * <cond>` per rule, the conditions made exclusive (rule i also says "and no
 * earlier rule matched") so the engine applies first-match-wins as ruleFor
 * does. Every value from the config reaches SQL through quote(), never raw.
 */
import type { RetentionRule, RetentionWhere, TableKind } from './policy.ts';

/** Where a table keeps what the rules look at. */
export interface TableShape {
  kind: TableKind;
  /** A DateTime expression the TTL is computed from. */
  time: string;
  /** The row's time as DateTime64(9), for the ledger's MinTime / MaxTime. */
  stamp: string;
}

export const SHAPES: Readonly<Record<TableKind, TableShape>> = {
  audit: { kind: 'audit', time: 'toDateTime(Timestamp)', stamp: 'Timestamp' },
  logs: { kind: 'logs', time: 'TimestampTime', stamp: 'Timestamp' },
  traces: { kind: 'traces', time: 'toDateTime(Timestamp)', stamp: 'Timestamp' },
  summary: { kind: 'summary', time: 'LastUpdate', stamp: 'toDateTime64(LastUpdate, 9)' },
  lookup: { kind: 'lookup', time: 'Start', stamp: 'toDateTime64(Start, 9)' },
};

/**
 * `s` as a ClickHouse string literal: backslash and quote escaped, and every
 * control character (NUL included) and DEL as \xHH, so nothing in a value can
 * end the literal or be read as anything but its bytes.
 */
export function quote(s: string): string {
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x27) out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += s[i];
  }
  return out + "'";
}

const inList = (col: string, values: readonly string[]): string =>
  values.length === 1 ? `${col} = ${quote(values[0]!)}` : `${col} IN (${values.map(quote).join(', ')})`;

/** The condition a rule's matchers give ('' = every row). */
export function whereSql(w: RetentionWhere): string {
  const parts: string[] = [];
  if (w.category) parts.push(inList('Category', w.category));
  if (w.outcome) parts.push(inList('Outcome', w.outcome));
  if (w.service) parts.push(inList('ServiceName', w.service));
  if (w.resource) parts.push(inList(`ResourceAttributes[${quote(w.resource.key)}]`, w.resource.values));
  if (w.severityNumber) {
    const { min, max } = w.severityNumber;
    // Integers checked by the config schema; Math.trunc keeps a hand-built rule from injecting text.
    parts.push(`SeverityNumber BETWEEN ${Math.trunc(min)} AND ${Math.trunc(max)}`);
  }
  if (w.severityText) parts.push(inList('SeverityText', w.severityText));
  return parts.map((p) => `(${p})`).join(' AND ');
}

/** Each rule's exclusive condition: its own, and none of the earlier ones ('' = every row). */
export function exclusiveConditions(rules: readonly RetentionRule[]): string[] {
  const earlier: string[] = [];
  return rules.map((r) => {
    const own = whereSql(r.where);
    const parts = [...(own ? [own] : []), ...earlier.map((e) => `NOT (${e})`)];
    earlier.push(own || '1');
    return parts.map((p) => (parts.length > 1 ? `(${p})` : p)).join(' AND ');
  });
}

/** A period as an INTERVAL (whole days when it is, else seconds). */
export function intervalSql(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return sec % 86_400 === 0 ? `INTERVAL ${sec / 86_400} DAY` : `INTERVAL ${sec} SECOND`;
}

/**
 * The table's TTL (without the `TTL` keyword), '' when no rule governs it:
 * each rule's period plus `graceMs`, DELETE WHERE its exclusive condition.
 */
export function ttlSql(rules: readonly RetentionRule[], shape: TableShape, graceMs: number): string {
  const conds = exclusiveConditions(rules);
  return rules
    .map((r, i) => {
      const c = conds[i]!;
      return `${shape.time} + ${intervalSql(r.periodMs + graceMs)} DELETE${c ? ` WHERE ${c}` : ''}`;
    })
    .join(', ');
}

/**
 * A SELECT-able expression: the name of the rule governing each row ('' for
 * none), first match wins; used by the ledger's counting.
 */
export function ruleNameSql(rules: readonly RetentionRule[]): string {
  if (rules.length === 0) return "''";
  const conds = rules.map((r) => whereSql(r.where) || '1');
  return `multiIf(${conds.map((c, i) => `${c}, ${quote(rules[i]!.name)}`).join(', ')}, '')`;
}

/** Rows past rule i's period (no grace) at `nowSql`, a DateTime expression. */
export function expiredSql(rules: readonly RetentionRule[], i: number, shape: TableShape, nowSql: string): string {
  const c = exclusiveConditions(rules)[i]!;
  const past = `${shape.time} <= ${nowSql} - ${intervalSql(rules[i]!.periodMs)}`;
  return c ? `(${c}) AND ${past}` : past;
}
