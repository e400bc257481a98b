/**
 * The Collector redaction processor's diagnostic attributes: which keys a
 * stage removed, masked, allowed or ignored in a map, and how many, merged
 * into what an earlier stage wrote.
 */
import { setAttr, type KeyValue } from '../../core/model.ts';
import type { Summary } from './config.ts';

const SEP = ',';

/** The diagnostic attributes (always allowed: they survive a second redaction stage). */
export const SUMMARY_KEYS = {
  redactedKeys: 'redaction.redacted.keys',
  redactedCount: 'redaction.redacted.count',
  maskedKeys: 'redaction.masked.keys',
  maskedCount: 'redaction.masked.count',
  allowedKeys: 'redaction.allowed.keys',
  allowedCount: 'redaction.allowed.count',
  ignoredCount: 'redaction.ignored.count',
  bodyRedactedKeys: 'redaction.body.redacted.keys',
  bodyRedactedCount: 'redaction.body.redacted.count',
  bodyMaskedKeys: 'redaction.body.masked.keys',
  bodyMaskedCount: 'redaction.body.masked.count',
  bodyAllowedKeys: 'redaction.body.allowed.keys',
  bodyAllowedCount: 'redaction.body.allowed.count',
  bodyIgnoredCount: 'redaction.body.ignored.count',
} as const;

export interface Tally {
  redacted: string[];
  masked: string[];
  allowed: string[];
  ignored: string[];
}

export const tally = (): Tally => ({ redacted: [], masked: [], allowed: [], ignored: [] });

/** Adds a map's summary at `level` (nothing when silent or nothing happened). */
export function summarize(attrs: KeyValue[], t: Tally, body: boolean, level: Summary): void {
  if (level === 'silent') return;
  const K = SUMMARY_KEYS;
  meta(attrs, t.redacted, body ? K.bodyRedactedKeys : K.redactedKeys, body ? K.bodyRedactedCount : K.redactedCount, level);
  meta(attrs, t.masked, body ? K.bodyMaskedKeys : K.maskedKeys, body ? K.bodyMaskedCount : K.maskedCount, level);
  meta(attrs, t.allowed, body ? K.bodyAllowedKeys : K.allowedKeys, body ? K.bodyAllowedCount : K.allowedCount, level);
  meta(attrs, t.ignored, null, body ? K.bodyIgnoredCount : K.ignoredCount, level);
}

/** The Collector's addMetaAttrs: merges into values an earlier stage wrote. */
function meta(attrs: KeyValue[], keys: string[], keysAttr: string | null, countAttr: string, level: Summary): void {
  if (keys.length === 0) return;
  if (level === 'debug' && keysAttr) {
    const prev = attrs.find((a) => a.key === keysAttr)?.value;
    const all = typeof prev === 'string' && prev !== '' ? [...keys, ...prev.split(SEP)] : [...keys];
    setAttr(attrs, keysAttr, all.sort().join(SEP));
  }
  const prevCount = attrs.find((a) => a.key === countAttr)?.value;
  setAttr(attrs, countAttr, BigInt(keys.length) + (typeof prevCount === 'bigint' ? prevCount : 0n));
}
