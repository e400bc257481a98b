/**
 * The checkpoint half of `verify`, before any row is read: open each signed
 * note with the trusted keys, merge the copies of one checkpoint (witness
 * and store), and find what checkpoints alone reveal — a signature that does
 * not verify, a store row whose columns disagree with its note, a store copy
 * that is not the witness's, two signed roots for one size (a fork), a log
 * that shrank over time. Whether a root matches the stored leaves is decided
 * later (verify.ts), against the recomputed tree.
 */
import { NoteError, openNote, parseVerifierKey, type NoteVerifier } from '../tlog/note.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import type { CheckpointInput, CheckpointVerdict } from './verify-types.ts';

export interface ParsedCheckpoint {
  verdict: CheckpointVerdict;
  origin: string;
  size: number;
  root: Buffer;
  timeMs?: number;
  /** The signature verifies with a trusted key (the claimed columns may still disagree: see verdict.problems). */
  signed: boolean;
  note: string;
}

export interface CheckpointSet {
  byOrigin: Map<string, ParsedCheckpoint[]>;
  /** Copies whose note is not a checkpoint at all (no origin to file them under). */
  unreadable: CheckpointVerdict[];
  remarks: string[];
}

export function trustedVerifiers(keys: readonly string[]): NoteVerifier[] {
  return keys.map((k) => {
    try {
      return parseVerifierKey(k.trim());
    } catch (err) {
      throw new Error(`verifier key ${JSON.stringify(k.slice(0, 80))}: ${(err as Error).message}`);
    }
  });
}

function keyLabel(name: string, id: number): string {
  return `${name}+${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/** The note's text: everything up to the blank line before the signatures. */
function noteText(note: string): string {
  const cut = note.lastIndexOf('\n\n');
  return cut < 0 ? note : note.slice(0, cut + 1);
}

function firstSignatureKey(note: string): string | undefined {
  const m = /\n\n\u2014 (\S+) ([A-Za-z0-9+/=]+)\n/.exec(note);
  if (!m) return undefined;
  const raw = Buffer.from(m[2]!, 'base64');
  return raw.length >= 4 ? keyLabel(m[1]!, raw.readUInt32BE(0)) : m[1];
}

function parseOne(input: CheckpointInput, verifiers: readonly NoteVerifier[]): ParsedCheckpoint | CheckpointVerdict {
  const problems: string[] = [];
  let text: string;
  let signed = false;
  let key: string | undefined;
  try {
    const opened = openNote(input.note, verifiers);
    text = opened.text;
    const good = opened.signatures.find((s) => s.verified);
    signed = good !== undefined;
    key = good ? keyLabel(good.name, good.keyId) : undefined;
    if (!signed) problems.push('signature: no trusted key signed it');
  } catch (err) {
    if (!(err instanceof NoteError)) throw err;
    text = noteText(input.note);
    key = firstSignatureKey(input.note);
    problems.push(`signature: ${err.message}`);
  }
  const sources = [{ source: input.source, where: input.where }];
  let cp;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    return { origin: input.claimed?.origin ?? '?', size: input.claimed?.size ?? 0, root: '', key, sources, signed: false, valid: false, problems: [...problems, `not a checkpoint: ${(err as Error).message}`] };
  }
  const c = input.claimed;
  if (c?.origin !== undefined && c.origin !== cp.origin) problems.push(`${input.where} says origin ${JSON.stringify(c.origin)}, its note ${JSON.stringify(cp.origin)}`);
  if (c?.size !== undefined && c.size !== cp.size) problems.push(`${input.where} says size ${c.size}, its note ${cp.size}`);
  if (c?.root !== undefined && !c.root.equals(cp.root)) problems.push(`${input.where} says root ${c.root.toString('base64')}, its note ${cp.root.toString('base64')}`);
  if (c?.key !== undefined && key !== undefined && c.key !== key) problems.push(`${input.where} says key ${c.key}, its note is signed by ${key}`);
  const verdict: CheckpointVerdict = {
    origin: cp.origin,
    size: cp.size,
    root: cp.root.toString('base64'),
    time: cp.time?.toISOString(),
    key,
    sources,
    signed,
    valid: false,
    problems,
  };
  return { verdict, origin: cp.origin, size: cp.size, root: cp.root, timeMs: cp.time?.getTime(), signed, note: input.note };
}

/** Parses, merges and cross-checks every copy; row-independent problems land in each verdict. */
export function readCheckpoints(inputs: readonly CheckpointInput[], verifiers: readonly NoteVerifier[]): CheckpointSet {
  const byOrigin = new Map<string, ParsedCheckpoint[]>();
  const unreadable: CheckpointVerdict[] = [];
  const remarks: string[] = [];
  const merged = new Map<string, ParsedCheckpoint>();
  const copies = new Map<ParsedCheckpoint, CheckpointInput[]>();
  for (const input of inputs) {
    const key = `${input.source === 'store' ? 'S' : 'W'}${input.note}`;
    const p = parseOne(input, verifiers);
    if (!('verdict' in p)) {
      unreadable.push(p);
      continue;
    }
    // One checkpoint = one note; the same note from both places is one checkpoint seen twice.
    const same = merged.get(input.note);
    if (same && (same.verdict.problems.length === 0) === (p.verdict.problems.length === 0)) {
      same.verdict.sources.push(...p.verdict.sources);
      copies.get(same)!.push(input);
      continue;
    }
    merged.set(same ? key : input.note, p);
    copies.set(p, [input]);
    let list = byOrigin.get(p.origin);
    if (!list) byOrigin.set(p.origin, (list = []));
    list.push(p);
  }
  const anyWitness = inputs.some((i) => i.source === 'witness');
  for (const [origin, list] of byOrigin) {
    list.sort((a, b) => a.size - b.size || (a.timeMs ?? 0) - (b.timeMs ?? 0));
    crossCheck(origin, list, copies, anyWitness, remarks);
  }
  return { byOrigin, unreadable, remarks };
}

function crossCheck(origin: string, list: ParsedCheckpoint[], copies: Map<ParsedCheckpoint, CheckpointInput[]>, anyWitness: boolean, remarks: string[]): void {
  const bySize = new Map<number, ParsedCheckpoint[]>();
  for (const p of list) {
    let same = bySize.get(p.size);
    if (!same) bySize.set(p.size, (same = []));
    same.push(p);
  }
  for (const [size, same] of bySize) {
    const fromWitness = same.filter((p) => p.signed && copies.get(p)!.some((c) => c.source === 'witness'));
    for (const p of same) {
      const srcs = copies.get(p)!;
      const inStore = srcs.some((c) => c.source === 'store');
      const inWitness = srcs.some((c) => c.source === 'witness');
      if (inStore && !inWitness) {
        if (fromWitness.length && !fromWitness.some((w) => w.note === p.note)) p.verdict.problems.push(`the store's copy differs from the witness's (${fromWitness[0]!.verdict.sources[0]!.where})`);
        else if (anyWitness && p.signed) remarks.push(`${origin}: checkpoint of size ${size} is in the store but in no witness given`);
      }
      if (inWitness && !inStore && p.signed) remarks.push(`${origin}: checkpoint of size ${size} is in the witness but not in the store (${p.verdict.sources[0]!.where})`);
      // A fork: two roots for one size, each signed.
      if (p.signed) {
        const other = same.find((q) => q !== p && q.signed && !q.root.equals(p.root));
        if (other) p.verdict.problems.push(`fork: ${other.verdict.sources[0]!.where} has root ${other.verdict.root} for the same size`);
      }
    }
  }
  // Append-only over time: a later checkpoint never has a smaller tree.
  // Only checkpoints nothing else is wrong with: a fork or a replaced copy is already blamed.
  const timed = list.filter((p) => p.signed && p.timeMs !== undefined && p.verdict.problems.length === 0);
  for (let i = 1; i < timed.length; i++) {
    const a = timed[i - 1]!;
    const b = timed[i]!;
    if (b.size > a.size && b.timeMs! < a.timeMs!) b.verdict.problems.push(`not consistent: it is older (${b.verdict.time}) than the smaller checkpoint of size ${a.size} (${a.verdict.time})`);
  }
}
