/**
 * The process's own logs: one JSON object per line on stderr, one line per
 * condition (a listener started, an export failing), never one per record.
 *
 * Nothing secret is written: every message and field goes through
 * core/secrets.ts first (credentials in URLs, headers and error messages
 * masked, values under keys like `password` masked whole, card numbers
 * masked), whoever logged it: a client library's error quoting a URL with
 * its password, a decode error quoting a sender's value.
 */
import { scrubFields, scrubText } from '../secrets.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. `{ component: 'exporter/clickhouse' }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; defaults to stderr. Tests pass an array sink. */
  write?: (line: string) => void;
  /** Also hands every line kept to this (the OTLP export of our own logs). */
  also?: (level: Level, msg: string, fields: LogFields) => void;
}

function serializeError(err: unknown): unknown {
  if (err instanceof Error) return { name: err.name, message: scrubText(err.message) };
  return scrubFields(err);
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    msg = scrubText(msg);
    const rec: LogFields = { ts: new Date().toISOString(), level, msg, ...(scrubFields(base) as LogFields) };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = k === 'error' ? serializeError(v) : scrubFields(v, k);
    write(JSON.stringify(rec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    if (opts.also) {
      const { ts: _ts, level: _l, msg: _m, ...rest } = rec;
      opts.also(level, msg, rest);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** A logger that drops everything (unit tests that don't look at logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });
