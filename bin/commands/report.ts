/**
 * `trailhouse report`: the SOC 2 evidence report for a period, read through
 * the query interface (lib/report), written as report.html, report.json and
 * a detached signature report.sig (lib/report/sign.ts).
 *
 *   trailhouse report --from T --to T --out DIR [--gap 15m] [--key-file F | --unsigned]
 *                     [--endpoint URL] [--database otel] [--user U --password P]
 *                     [--pubkey VKEY|FILE]... [--checkpoints PATH]...
 *
 * The signing key is the pipeline's (default data/keys/audit-checkpoint.key);
 * without one the report is refused, unless --unsigned is given. --pubkey and
 * --checkpoints go to the integrity check (trailhouse verify).
 * Exit 0 written; 1 a query failed; 2 usage, key or output error; 3 the store
 * cannot be reached.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../core/config/schema.ts';
import { buildReportFacts } from '../../lib/report/facts.ts';
import type { ReportQuery } from '../../lib/report/figure.ts';
import { renderHtml } from '../../lib/report/html.ts';
import { signReport } from '../../lib/report/sign.ts';
import { loadOrCreateSigner } from '../../lib/tlog/keys.ts';
import type { NoteSigner } from '../../lib/tlog/note.ts';
import { flag, parseArgs } from './args.ts';
import { parseTime } from './audit.ts';
import { connFrom, QueryError, select, stdio, type Conn, type Io } from './oncall-http.ts';
import { integrityFacts } from './report-integrity.ts';
import { DEFAULT_KEY_FILE, multi } from './trust.ts';

const USAGE =
  'usage: trailhouse report --from T --to T --out DIR [--gap 15m] [--key-file F | --unsigned] [--endpoint URL] [--database otel] [--user U --password P] [--pubkey VKEY|FILE]... [--checkpoints PATH]...\n';

/** The pipeline's signing key, read (never created here); throws saying why it cannot sign. */
export function readSigner(file: string): NoteSigner {
  if (!existsSync(file)) throw new Error(`no signing key at ${file}: give the pipeline's key with --key-file, or --unsigned to write a report nothing attests`);
  const name = readFileSync(file, 'utf8').split('+')[2] ?? '';
  return loadOrCreateSigner(file, name);
}

export function queryOf(conn: Conn): ReportQuery {
  return { select: (sql, params) => select(conn, sql, params) };
}

export async function reportCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['unsigned', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const problems: string[] = [];
  const times: Partial<Record<'from' | 'to', bigint>> = {};
  for (const name of ['from', 'to'] as const) {
    const s = flag(args, name);
    if (s === undefined) problems.push(`--${name} is required (a time like 2024-05-14T00:00:00Z)`);
    else {
      const t = parseTime(s);
      if (t === undefined) problems.push(`--${name}: expected a time like 2024-05-14T00:00:00Z, got ${JSON.stringify(s)}`);
      else times[name] = t;
    }
  }
  if (times.from !== undefined && times.to !== undefined && times.from >= times.to) problems.push(`--from ${flag(args, 'from')} is not before --to ${flag(args, 'to')}`);
  const out = flag(args, 'out');
  if (!out) problems.push('--out DIR is required');
  const gap = flag(args, 'gap') ?? '15m';
  const gapMs = parseDuration(gap);
  if (gapMs === undefined || gapMs < 60_000 || gapMs % 60_000 !== 0) problems.push(`--gap: expected whole minutes like 15m or 1h, got ${JSON.stringify(gap)}`);
  const unsigned = args.flags.has('unsigned');
  if (unsigned && flag(args, 'key-file')) problems.push('give --key-file or --unsigned, not both');
  for (const f of ['from', 'to', 'out', 'gap', 'key-file', 'endpoint', 'database', 'user', 'password', 'pubkey', 'checkpoints']) if (args.flags.get(f) === true) problems.push(`--${f} needs a value`);
  if (args.positional.length) problems.push(`unexpected argument ${JSON.stringify(args.positional[0])}`);
  if (problems.length) {
    io.err(problems.map((p) => `trailhouse report: ${p}\n`).join('') + USAGE);
    return 2;
  }
  const fail = (msg: string, code: number) => (io.err(`trailhouse report: ${msg}\n`), code);
  const keyFile = flag(args, 'key-file') ?? DEFAULT_KEY_FILE;
  let signer: NoteSigner | null = null;
  if (!unsigned) {
    try {
      signer = readSigner(keyFile);
    } catch (err) {
      return fail((err as Error).message, 2);
    }
  } else io.err('trailhouse report: --unsigned: no report.sig is written; nothing attests that the report is unchanged\n');

  const conn = connFrom(args);
  const fromNs = times.from!;
  const toNs = times.to!;
  let html: Buffer;
  let json: Buffer;
  try {
    const integrity = await integrityFacts({ conn, fromNs, toNs, keyFile: flag(args, 'key-file'), pubkeys: multi(argv, 'pubkey'), checkpoints: multi(argv, 'checkpoints') });
    const facts = await buildReportFacts(queryOf(conn), {
      fromNs,
      toNs,
      gapMinutes: gapMs! / 60_000,
      source: { endpoint: conn.endpoint, database: conn.database, user: conn.user ?? '' },
      signedBy: signer?.name ?? null,
      integrity,
    });
    json = Buffer.from(JSON.stringify(facts, null, 2) + '\n');
    html = Buffer.from(renderHtml(facts));
  } catch (err) {
    const q = err instanceof QueryError ? err : (err as Error).cause;
    return fail((err as Error).message, q instanceof QueryError && q.code === 0 ? 3 : 1);
  }
  const period = JSON.parse(json.toString('utf8')).period as { from: string; to: string };
  try {
    mkdirSync(out!, { recursive: true });
    writeFileSync(join(out!, 'report.json'), json);
    writeFileSync(join(out!, 'report.html'), html);
    if (signer) writeFileSync(join(out!, 'report.sig'), signReport(period, { 'report.html': html, 'report.json': json }, signer));
    else rmSync(join(out!, 'report.sig'), { force: true });
  } catch (err) {
    return fail(`cannot write the report to ${out}: ${(err as Error).message}`, 2);
  }
  io.out(`wrote ${join(out!, 'report.html')}, report.json${signer ? `, report.sig (signed by ${signer.name})` : ' (UNSIGNED)'} for ${period.from} to ${period.to}\n`);
  return 0;
}
