/**
 * `trailhouse query "SQL"|- [--endpoint URL] [--user U --password P]
 * [--database D] [--format F] [--param_<name> V]`: runs SQL (`-`: from stdin) against any
 * ClickHouse HTTP endpoint (by default the embedded store's read-only
 * interface) and prints an aligned table; with --format, or a FORMAT clause
 * in the SQL, prints ClickHouse's output as it is.
 */
import { flag, parseArgs } from './args.ts';

const USAGE = `usage: trailhouse query "SQL"|- [--endpoint http://127.0.0.1:8123] [--user U --password P]
                        [--database D] [--format F] [--param_<name> VALUE]`;

interface JsonCompact {
  meta: { name: string; type: string }[];
  data: unknown[][];
  rows: number;
  statistics?: { elapsed: number };
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v.replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** An aligned text table: header, a rule, rows; numeric columns right-aligned. */
export function renderTable(result: JsonCompact): string {
  const headers = result.meta.map((m) => m.name);
  const rows = result.data.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = result.meta.map((m) => NUMERIC.test(m.type));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const n = result.rows ?? rows.length;
  out.push(`(${n} row${n === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

export async function queryCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  let sql = args.positional.join(' ').trim();
  // `trailhouse query -` reads the SQL from stdin (a file of queries, a heredoc).
  if (sql === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    sql = Buffer.concat(chunks).toString('utf8').trim();
  }
  if (!sql || args.flags.has('help')) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const endpoint = flag(args, 'endpoint') ?? process.env.TRAILHOUSE_QUERY_ENDPOINT ?? 'http://127.0.0.1:8123';
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`);
  } catch {
    process.stderr.write(`--endpoint: expected a URL like http://127.0.0.1:8123, got ${JSON.stringify(endpoint)}\n`);
    return 2;
  }
  const format = flag(args, 'format');
  url.searchParams.set('default_format', format ?? 'JSONCompact');
  const database = flag(args, 'database');
  if (database) url.searchParams.set('database', database);
  for (const [k, v] of args.flags) if (k.startsWith('param_') && typeof v === 'string') url.searchParams.set(k, v);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=UTF-8' };
  const user = flag(args, 'user') ?? process.env.TRAILHOUSE_QUERY_USER;
  const password = flag(args, 'password') ?? process.env.TRAILHOUSE_QUERY_PASSWORD;
  if (user !== undefined || password !== undefined) {
    headers.Authorization = 'Basic ' + Buffer.from(`${user ?? 'default'}:${password ?? ''}`).toString('base64');
  }
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: sql, headers });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    process.stderr.write(`cannot reach ${url.origin}: ${cause ?? (err as Error).message}\n`);
    return 1;
  }
  const body = await res.text();
  if (!res.ok) {
    process.stderr.write(body.endsWith('\n') ? body : body + '\n');
    return 1;
  }
  // Raw output when asked for a format, or when the SQL named its own.
  if (format || (res.headers.get('x-clickhouse-format') ?? 'JSONCompact') !== 'JSONCompact') {
    process.stdout.write(body);
    return 0;
  }
  if (!body.trim()) return 0;
  let parsed: JsonCompact;
  try {
    parsed = JSON.parse(body) as JsonCompact;
  } catch {
    process.stdout.write(body);
    return 0;
  }
  process.stdout.write(renderTable(parsed));
  return 0;
}
