/**
 * What the on-call commands (`trace`, `audit`) share: a tiny client for
 * ClickHouse's HTTP interface — the embedded store's read-only query server
 * (default http://127.0.0.1:8123) or any ClickHouse server — with query
 * parameters bound server-side (`{name:Type}` + `param_name`), and time
 * rendering.
 */
import { flag, type ParsedArgs } from './args.ts';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export const stdio: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

export interface Conn {
  endpoint: string;
  database: string;
  user?: string;
  password?: string;
}

export function connFrom(args: ParsedArgs): Conn {
  return {
    endpoint: flag(args, 'endpoint') ?? process.env.TRAILHOUSE_QUERY_ENDPOINT ?? 'http://127.0.0.1:8123',
    database: flag(args, 'database') ?? 'otel',
    user: flag(args, 'user') ?? process.env.TRAILHOUSE_QUERY_USER,
    password: flag(args, 'password') ?? process.env.TRAILHOUSE_QUERY_PASSWORD,
  };
}

export class QueryError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** Runs a SELECT in `format` and returns the answer's bytes. */
export async function selectBytes(c: Conn, sql: string, params: Record<string, string>, format: string): Promise<Buffer> {
  const url = new URL(c.endpoint.includes('://') ? c.endpoint : `http://${c.endpoint}`);
  url.searchParams.set('database', c.database);
  url.searchParams.set('default_format', format);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=UTF-8' };
  if (c.user) headers['X-ClickHouse-User'] = c.user;
  if (c.password) headers['X-ClickHouse-Key'] = c.password;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: `${sql}\nFORMAT ${format}`, headers });
  } catch (err) {
    throw new QueryError(`cannot reach ${url.origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, 0);
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok) {
    const text = body.toString('utf8');
    const code = Number(res.headers.get('X-ClickHouse-Exception-Code') ?? /Code: (\d+)/.exec(text)?.[1] ?? 0);
    throw new QueryError(text.trim().split('\n')[0]!.slice(0, 500), code);
  }
  return body;
}

/** Runs a SELECT and returns its rows (JSONEachRow). */
export async function select<T = Record<string, unknown>>(c: Conn, sql: string, params: Record<string, string> = {}): Promise<T[]> {
  const text = (await selectBytes(c, sql, params, 'JSONEachRow')).toString('utf8');
  const rows: T[] = [];
  for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T);
  return rows;
}

/** UNKNOWN_TABLE / UNKNOWN_DATABASE: that part of the store is not set up; treat as empty. */
export async function selectOptional<T>(c: Conn, sql: string, params: Record<string, string> = {}): Promise<T[] | null> {
  try {
    return await select<T>(c, sql, params);
  } catch (err) {
    if (err instanceof QueryError && (err.code === 60 || err.code === 81)) return null;
    throw err;
  }
}

/** Nanoseconds since the epoch (as ClickHouse's decimal string) → RFC 3339 UTC with nanoseconds. */
export function isoNanos(ns: string | number | bigint): string {
  const n = BigInt(ns);
  const ms = Number(n / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-05-14T09:12:03.456Z
  return `${iso.slice(0, 19)}.${(n % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** `1.5ms`, `2.31s`, `850µs`. */
export function fmtDuration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)}s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)}ms`;
  if (ns >= 1e3) return `${Math.round(ns / 1e3)}µs`;
  return `${ns}ns`;
}

/** Time column for people: `HH:MM:SS.ffffff` of an RFC 3339 string. */
export function clock(iso: string): string {
  return iso.slice(11, 26);
}

/**
 * Characters a terminal acts on or that reorder what it shows: C0/C1
 * controls (ESC starts the sequences that move the cursor, recolour, hide
 * text or retitle the window), DEL, bidirectional controls and the line
 * separators. Values from records (a principal, a reason) reach the
 * on-call's terminal through these commands.
 */
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `s` with every such character shown as `\u{…}`: what an on-call reads is what was stored. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/** Left-aligned columns padded to their widest cell (60 at most), every cell printable(). */
export function table(header: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
