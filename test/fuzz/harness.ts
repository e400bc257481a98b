/**
 * The fuzz loop and its oracle. Case `i` of a run seeded `S` uses its own
 * PRNG seeded caseSeed(S, i): it picks a seed payload (and a second one to
 * splice from), mutates it (format-aware, format-blind or both), sends it,
 * and judges the answer:
 *   - no uncaught exception or unhandled rejection while it ran (crash);
 *   - an answer within the timeout (hang);
 *   - HTTP never 5xx; gRPC only OK or INVALID_ARGUMENT; a UDP packet is
 *     either handed on or dropped and counted, never lost in between;
 *   - whatever was accepted is valid (the sink could decode and re-encode it),
 *     and nothing refused reached the sink.
 * A failure carries everything needed to replay it (format, case seed, the
 * mutations and framing chosen, the input).
 */
import * as grpc from '@grpc/grpc-js';
import { Prng, caseSeed, hex32 } from './prng.ts';
import { mutateBytes } from './mutate-bytes.ts';
import type { Format } from './rig.ts';
import type { Outcome } from './transport.ts';

export interface Failure {
  format: string;
  caseSeed: string;
  reason: string;
  mutations: string;
  input: Buffer;
}

export interface RunStats {
  format: string;
  cases: number;
  ms: number;
  failures: Failure[];
  /** Answers seen: "200", "400", "grpc 3", "udp dropped", … */
  answers: Record<string, number>;
  /** The slowest request (a decode that takes long is a denial of service even when it ends). */
  slowest: { ms: number; caseSeed: string };
}

/** Uncaught exceptions and unhandled rejections, as they happen. */
const crashes: string[] = [];
let trapped = false;
export function trapCrashes(): void {
  if (trapped) return;
  trapped = true;
  process.on('uncaughtException', (err) => crashes.push(`uncaught exception: ${err.stack ?? String(err)}`));
  process.on('unhandledRejection', (err) => crashes.push(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
}

/** Builds the input of one case (deterministic in `seed`). */
export function makeInput(fmt: Format, seed: number, rng = new Prng(seed)): { input: Buffer; log: string[] } {
  const log: string[] = [];
  const base = rng.pick(fmt.seeds);
  const other = rng.pick(fmt.seeds);
  const how = rng.int(10);
  let input: Buffer | null = null;
  if (how < 6 || how === 9) input = fmt.aware(rng, base, other, log);
  if (input === null || how >= 6) input = mutateBytes(rng, input ?? base, other, log, how === 9 ? 2 : 3);
  return { input, log };
}

const ACCEPTED_GRPC = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT]);

function answerKey(o: Outcome): string {
  if (o.kind === 'http') return String(o.status);
  if (o.kind === 'grpc') return `grpc ${grpc.status[o.code] ?? o.code}`;
  return o.refused ? 'udp refused' : 'udp handled';
}

/** What is wrong with an outcome, if anything. */
function judge(o: Outcome, received: number): string | undefined {
  if (o.kind === 'http') {
    if (o.status >= 500) return `HTTP ${o.status} for bad input: ${o.body.trim()}`;
    if (o.status >= 300 && received > 0) return `HTTP ${o.status} but the payload reached the pipeline`;
  } else if (o.kind === 'grpc') {
    if (!ACCEPTED_GRPC.has(o.code)) return `gRPC ${grpc.status[o.code] ?? o.code}: ${o.details}`;
    if (o.code !== grpc.status.OK && received > 0) return `gRPC ${grpc.status[o.code]} but the payload reached the pipeline`;
  } else if (o.refused) return 'UDP packet decoded but its spans could not be handed on (lost without a count)';
  return undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timeout: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Runs one case; returns the reason it failed (undefined when it passed) and what it saw. */
export async function runCase(fmt: Format, seed: number, timeoutMs: number): Promise<{ reason?: string; answer: string; input: Buffer; log: string[]; ms?: number }> {
  const rng = new Prng(seed);
  let made: { input: Buffer; log: string[] };
  try {
    made = makeInput(fmt, seed, rng);
  } catch (err) {
    return { reason: `fuzzer error (not a receiver finding): ${(err as Error).stack}`, answer: 'fuzzer error', input: Buffer.alloc(0), log: [] };
  }
  const { input, log } = made;
  const received = fmt.sink.received;
  const invalid = fmt.sink.invalid.length;
  const crashed = crashes.length;
  let outcome: Outcome;
  const t0 = performance.now();
  try {
    outcome = await withTimeout(fmt.send(input, rng, log, timeoutMs), timeoutMs + 1000);
  } catch (err) {
    const msg = (err as Error).message;
    return { reason: msg.startsWith('timeout') ? `hang: ${msg}` : `no answer: ${msg}`, answer: 'error', input, log };
  }
  // Let a crash or rejection the request caused surface before judging.
  await new Promise((r) => setImmediate(r));
  const answer = outcome.kind === 'udp' && !outcome.refused ? (fmt.sink.received > received ? 'udp accepted' : 'udp dropped or empty') : answerKey(outcome);
  if (crashes.length > crashed) return { reason: crashes.slice(crashed).join('\n'), answer, input, log };
  if (outcome.kind === 'grpc' && outcome.code === grpc.status.DEADLINE_EXCEEDED) return { reason: 'hang: gRPC deadline exceeded', answer, input, log };
  const reason = judge(outcome, fmt.sink.received - received) ?? fmt.sink.invalid.slice(invalid)[0];
  return { reason, answer, input, log, ms: performance.now() - t0 };
}

export interface RunOptions {
  runSeed: number;
  cases: number;
  timeoutMs?: number;
  /** Stop a format after this many failures (default 20). */
  maxFailures?: number;
  onFailure?: (f: Failure) => void;
}

export async function fuzzFormat(fmt: Format, opts: RunOptions): Promise<RunStats> {
  trapCrashes();
  const stats: RunStats = { format: fmt.name, cases: 0, ms: 0, failures: [], answers: {}, slowest: { ms: 0, caseSeed: '' } };
  const t0 = performance.now();
  for (let i = 0; i < opts.cases && stats.failures.length < (opts.maxFailures ?? 20); i++) {
    const seed = caseSeed(opts.runSeed, i);
    const r = await runCase(fmt, seed, opts.timeoutMs ?? 5000);
    const ms = r.ms ?? 0; // the request alone, not building the input
    if (ms > stats.slowest.ms) stats.slowest = { ms, caseSeed: hex32(seed) };
    stats.cases++;
    stats.answers[r.answer] = (stats.answers[r.answer] ?? 0) + 1;
    if (!r.reason) continue;
    const f: Failure = { format: fmt.name, caseSeed: hex32(seed), reason: r.reason, mutations: r.log.join(' '), input: r.input };
    stats.failures.push(f);
    opts.onFailure?.(f);
  }
  stats.ms = performance.now() - t0;
  return stats;
}

/** A failure as text: enough to replay it, with the start of the input in hex. */
export function describe(f: Failure): string {
  const hex = f.input.subarray(0, 256).toString('hex').replace(/(.{64})/g, '$1\n    ');
  return [
    `${f.format} case ${f.caseSeed}: ${f.reason}`,
    `  replay: npm run fuzz -- --format ${f.format} --replay ${f.caseSeed}`,
    `  mutations: ${f.mutations}`,
    `  input (${f.input.length} bytes${f.input.length > 256 ? ', first 256' : ''}):`,
    `    ${hex}`,
  ].join('\n');
}

/**
 * After a run: every seed of the format, sent plainly, is still accepted and
 * reaches the sink (the receiver is healthy). Returns what went wrong.
 */
export async function healthCheck(fmt: Format, timeoutMs = 5000): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, seed] of fmt.seeds.entries()) {
    const before = fmt.sink.received;
    const invalid = fmt.sink.invalid.length;
    const o = await withTimeout(fmt.sendPlain(seed, timeoutMs), timeoutMs + 1000).catch((err: Error) => err);
    if (o instanceof Error) {
      problems.push(`${fmt.name} seed ${i}: ${o.message}`);
      continue;
    }
    const ok = o.kind === 'http' ? o.status >= 200 && o.status < 300 : o.kind === 'grpc' ? o.code === grpc.status.OK : !o.refused;
    if (!ok) problems.push(`${fmt.name} seed ${i}: a valid request got ${answerKey(o)}`);
    // Seeds with no spans or records (`[]`, an empty Jaeger batch) are all under 60 bytes and reach no sink.
    else if (fmt.sink.received === before && seed.length > 60) problems.push(`${fmt.name} seed ${i}: accepted but nothing reached the pipeline`);
    if (fmt.sink.invalid.length > invalid) problems.push(`${fmt.name} seed ${i}: ${fmt.sink.invalid.at(-1)}`);
  }
  return problems;
}
