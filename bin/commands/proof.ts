/**
 * `trailhouse proof <origin@index>`: an inclusion proof of one audit row in
 * the newest checkpoint that covers it, as JSON (lib/audit/proof.ts), to
 * stdout or `--out FILE`. `trailhouse verify --proof FILE` checks one
 * offline (checkProofFile); README shows how without trailhouse.
 *
 *   trailhouse proof <event id> [--out FILE] [--endpoint URL] [--database otel] [--table audit_events|otel_logs]
 *                    [--checkpoints PATH]... [--pubkey VKEY|FILE]...
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildProof, checkProof } from '../../lib/audit/proof.ts';
import { auditLeafHash } from '../../lib/audit/leaf.ts';
import { parseWitnessFile } from '../../lib/audit/verify-witness.ts';
import { parseLeavesPage } from '../../lib/audit/verify-rowbinary.ts';
import { trustedVerifiers } from '../../lib/audit/verify-checkpoints.ts';
import type { CheckpointInput } from '../../lib/audit/verify-types.ts';
import { openNote, type NoteVerifier } from '../../lib/tlog/note.ts';
import { parseCheckpoint } from '../../lib/tlog/checkpoint.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, stdio, type Io } from './oncall-http.ts';
import { DEFAULT_WITNESS_FILE, multi, resolveTrust } from './trust.ts';
import { auditTables, badIdentifiers, fullRowsPage, leavesPage, PAGE, storeCheckpoints } from './verify-store.ts';
import { isLogsTable, logsLeavesPage, logsRowsPage } from './verify-logs.ts';
import { parseOtelLogsRows } from '../../lib/audit/otel-logs-verify.ts';

const USAGE = 'usage: trailhouse proof <origin@index> [--out FILE] [--endpoint URL] [--database otel] [--table audit_events|otel_logs] [--checkpoints PATH]... [--pubkey VKEY|FILE]...\n';

/** `verify --proof FILE`: exit 0 when the proof holds, 1 when it does not, 2 when it cannot be read. */
export function checkProofFile(file: string, keys: readonly string[], json: boolean, io: Io): number {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    io.err(`trailhouse verify: --proof ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  const r = checkProof(doc, trustedVerifiers(keys));
  if (json) io.out(JSON.stringify({ proof: file, ...r }, null, 2) + '\n');
  else {
    for (const s of r.steps) io.out(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step}${s.detail ? `: ${s.detail}` : ''}\n`);
    io.out(r.ok ? `proof valid: ${(doc as { eventId?: string }).eventId} is in the signed log\n` : 'proof INVALID\n');
  }
  return r.ok ? 0 : 1;
}

function openedText(note: string, verifiers: readonly NoteVerifier[] | null): string | null {
  try {
    if (verifiers) return openNote(note, verifiers).text;
    const cut = note.lastIndexOf('\n\n');
    return cut < 0 ? null : note.slice(0, cut + 1);
  } catch {
    return null;
  }
}

export async function proofCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['help']);
  if (args.flags.has('help')) return (io.out(USAGE), 0);
  const fail = (msg: string, code = 2) => (io.err(`trailhouse proof: ${msg}\n`), code);
  const id = args.positional[0];
  const at = id?.lastIndexOf('@') ?? -1;
  const index = id && at > 0 ? Number(id.slice(at + 1)) : NaN;
  if (!id || args.positional.length > 1 || !Number.isSafeInteger(index) || index < 0 || !/^\d+$/.test(id.slice(at + 1))) {
    io.err(`trailhouse proof: expected one event id <origin>@<index>, got ${JSON.stringify(args.positional.join(' '))}\n${USAGE}`);
    return 2;
  }
  const origin = id.slice(0, at);
  let verifiers: NoteVerifier[] | null = null;
  try {
    verifiers = trustedVerifiers(resolveTrust(multi(argv, 'pubkey'), flag(args, 'key-file')).keys);
  } catch (err) {
    io.err(`trailhouse proof: ${(err as Error).message}; the checkpoint is taken unchecked (the auditor checks it)\n`);
  }
  const witness: CheckpointInput[] = [];
  const paths = multi(argv, 'checkpoints');
  if (!paths.length && existsSync(DEFAULT_WITNESS_FILE)) paths.push(DEFAULT_WITNESS_FILE);
  for (const p of paths) {
    try {
      witness.push(...parseWitnessFile(readFileSync(p, 'utf8'), p).checkpoints);
    } catch (err) {
      return fail(`--checkpoints ${p}: ${(err as Error).message}`);
    }
  }
  const conn = connFrom(args);
  const badName = badIdentifiers(conn.database, flag(args, 'table'));
  if (badName) return fail(badName);
  const t = auditTables(flag(args, 'table'));
  let doc;
  try {
    // An otel_logs log's row is its header and RowBinary body (lib/audit/otel-logs-leaf.ts).
    const logs = await isLogsTable(conn, t.events);
    const rows = logs ? parseOtelLogsRows(await logsRowsPage(conn, t, origin, index, index + 1), origin) : await fullRowsPage(conn, t, origin, index, index + 1);
    if (rows.length !== 1) return fail(rows.length ? `${rows.length} rows at ${id}: run trailhouse verify` : `no row ${id} in ${conn.database}.${t.events}`, 1);
    // The newest checkpoint that covers the row (the largest size above its index).
    let best: { size: number; note: string } | undefined;
    for (const c of [...witness, ...((await storeCheckpoints(conn, t)) ?? [])]) {
      const text = openedText(c.note, verifiers);
      if (!text) continue;
      try {
        const cp = parseCheckpoint(text);
        if (cp.origin === origin && cp.size > index && (!best || cp.size > best.size)) best = { size: cp.size, note: c.note };
      } catch {
        // not a checkpoint: verify reports it
      }
    }
    if (!best) return fail(`no ${verifiers ? 'trusted ' : ''}checkpoint of ${origin} covers index ${index} yet (it is newer than the newest checkpoint)`, 1);
    const leaves: Buffer[] = [];
    for (let a = 0; a < best.size; a += PAGE) {
      const b = Math.min(best.size, a + PAGE);
      for (const r of parseLeavesPage(await (logs ? logsLeavesPage : leavesPage)(conn, t, origin, a, b), origin).sort((x, y) => x.index - y.index)) {
        if (r.index !== leaves.length) return fail(`leaf records of ${origin} around index ${leaves.length} are missing or repeated: run trailhouse verify`, 1);
        leaves.push(auditLeafHash({ origin, index: r.index, timeNs: r.timeNs, category: r.category, outcome: r.outcome, service: r.service, bodyHash: r.bodyHash }));
      }
    }
    if (leaves.length < best.size) return fail(`only ${leaves.length} of the ${best.size} leaf records of ${origin} are in the store: run trailhouse verify`, 1);
    doc = buildProof(rows[0]!, leaves, best.size, best.note);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (verifiers) {
    const check = checkProof(doc, verifiers);
    if (!check.ok) return fail(`the proof does not check: ${check.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`).join('; ')}`, 1);
  }
  const text = JSON.stringify(doc, null, 2) + '\n';
  const out = flag(args, 'out');
  if (out) {
    writeFileSync(out, text);
    io.err(`trailhouse proof: ${id} in the tree of size ${doc.treeSize}: ${out}\n`);
  } else io.out(text);
  return 0;
}
