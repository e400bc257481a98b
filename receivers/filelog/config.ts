/**
 * The filelog receiver's config: the Collector contrib filelog receiver's
 * keys (stanza's file input), the ones we implement, and the rest refused
 * by name with the reason.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { OPERATOR_TYPES, validateOperators, type OperatorConfig } from './operators.ts';

export interface MultilineConfig {
  line_start_pattern: string | null;
  line_end_pattern: string | null;
}

export interface FilelogConfig {
  /** Globs of files to tail (`*`, `?`, `[...]`, `**`). Required. */
  include: string[];
  exclude: string[];
  /** Where to start in a file found at startup with no saved offset: end (default) or beginning. Files appearing later are read from their beginning. */
  start_at: 'end' | 'beginning';
  poll_interval: number;
  /** Bytes at a file's start that identify it (so a moved file is the same file). Default 1000. */
  fingerprint_size: number;
  /** Longest record; a longer line is cut into records of this size. Default 1 MiB. */
  max_log_size: number;
  /** Most files open at once. Default 1024. */
  max_concurrent_files: number;
  /** An unterminated last line is emitted after it stopped growing for this long. Default 500ms. */
  force_flush_period: number;
  encoding: 'utf-8' | 'ascii';
  include_file_name: boolean;
  include_file_path: boolean;
  multiline: MultilineConfig | null;
  /** A storage extension (file_storage) for the offsets; null = kept in memory only. */
  storage: string | null;
  operators: OperatorConfig[];
  /** Most bytes read per poll over all files, so a backlog is read in bounded slices. Default 1 MiB. */
  max_batch_bytes: number;
}

export const defaultFilelogConfig = (): FilelogConfig => ({
  include: [],
  exclude: [],
  start_at: 'end',
  poll_interval: 200,
  fingerprint_size: 1000,
  max_log_size: 1024 * 1024,
  max_concurrent_files: 1024,
  force_flush_period: 500,
  encoding: 'utf-8',
  include_file_name: true,
  include_file_path: false,
  multiline: null,
  storage: null,
  operators: [],
  max_batch_bytes: 1024 * 1024,
});

const onlyFalse = (what: string) => s.refused(`only false is accepted: ${what}`, (v) => v === false);

export const filelogSchema = s.object({
  include: s.list(s.string({ nonEmpty: true })),
  exclude: s.list(s.string({ nonEmpty: true })),
  start_at: s.string({ enum: ['end', 'beginning'] }),
  poll_interval: s.duration(),
  fingerprint_size: s.bytes(),
  max_log_size: s.bytes(),
  max_concurrent_files: s.int({ min: 2 }),
  force_flush_period: s.duration(),
  encoding: s.string({ enum: ['utf-8', 'utf8', 'ascii'] }),
  include_file_name: s.bool(),
  include_file_path: s.bool(),
  include_file_name_resolved: onlyFalse('symlinks are not resolved into attributes'),
  include_file_path_resolved: onlyFalse('symlinks are not resolved into attributes'),
  include_file_owner_name: onlyFalse('file owners are not read'),
  include_file_owner_group_name: onlyFalse('file owners are not read'),
  include_file_record_number: onlyFalse('record numbers are not kept'),
  multiline: s.section(
    s.object({ line_start_pattern: s.optional(s.string({ nonEmpty: true })), line_end_pattern: s.optional(s.string({ nonEmpty: true })), omit_pattern: onlyFalse('the pattern stays in the record') }),
    () => ({ line_start_pattern: null, line_end_pattern: null }),
  ),
  storage: s.optional(s.string({ nonEmpty: true })),
  operators: s.list(s.any()),
  max_batch_bytes: s.bytes(),
  retry_on_failure: s.refused('not needed: a batch the next stage refuses is read again from the same offset on the next poll, until it is taken'),
  delete_after_read: onlyFalse('files are never deleted'),
  compression: s.refused('not offered: compressed files are not read'),
  ordering_criteria: s.refused('not offered: every matching file is tailed'),
  preserve_leading_whitespaces: onlyFalse('leading whitespace is kept as it is'),
  preserve_trailing_whitespaces: onlyFalse('a trailing CR is dropped, other whitespace kept'),
  attributes: s.refused('not offered: add attributes with the attributes or resource processor'),
  resource: s.refused('not offered: add resource attributes with the resource processor'),
  header: s.refused('not offered: file headers are not parsed'),
  exclude_older_than: s.refused('not offered'),
  acquire_fs_lock: onlyFalse('files are not locked'),
  polls_to_archive: s.refused('not offered'),
});

export function validateFilelog(c: FilelogConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.include.length === 0) errors.push({ path: 'include', message: 'required: at least one glob of files to tail' });
  if (c.fingerprint_size < 16) errors.push({ path: 'fingerprint_size', message: `must be at least 16 bytes, got ${c.fingerprint_size}` });
  if (c.max_log_size < 64) errors.push({ path: 'max_log_size', message: `must be at least 64 bytes, got ${c.max_log_size}` });
  if (c.poll_interval <= 0) errors.push({ path: 'poll_interval', message: 'must be positive' });
  if (c.max_batch_bytes < c.max_log_size) errors.push({ path: 'max_batch_bytes', message: 'must be at least max_log_size' });
  const m = c.multiline;
  if (m) {
    if (!!m.line_start_pattern === !!m.line_end_pattern) errors.push({ path: 'multiline', message: 'set exactly one of line_start_pattern and line_end_pattern' });
    for (const k of ['line_start_pattern', 'line_end_pattern'] as const) {
      const p = m[k];
      if (!p) continue;
      try {
        new RegExp(p);
      } catch (err) {
        errors.push({ path: `multiline.${k}`, message: `not a valid regular expression: ${(err as Error).message}` });
      }
    }
  }
  errors.push(...validateOperators(c.operators));
  return errors;
}

export { OPERATOR_TYPES };
