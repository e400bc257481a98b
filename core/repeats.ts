/**
 * Requests a sender makes again. trailhouse's own exporters (otlp, otlphttp)
 * send each batch with its deduplication token in `x-trailhouse-dedup-token`,
 * the same on every retry and on a replay from their persistent queue after
 * a crash. When an answer is lost (the agent killed between the gateway
 * storing a batch and the agent noting it delivered, a connection cut after
 * the request), the batch comes again: a receiver keeps the tokens of the
 * requests it took recently, and answers a repeat as accepted without passing
 * it on again, so the agent → gateway hop stores a batch once.
 *
 * A token is scoped to who sent it: the authenticated subject when the
 * receiver has `auth`, else the sender's IP address, so a sender cannot
 * suppress another's batch by guessing its token. Bounded: at most
 * `maxTokens` (kept as digests), each for `window`; the oldest go first. Memory only: a gateway
 * restarted between an agent's two tries stores that batch twice (its
 * queue's own replay is covered by the queue's tokens downstream).
 */
import { createHash } from 'node:crypto';
import type { ClientInfo } from './client.ts';

export const DEDUP_HEADER = 'x-trailhouse-dedup-token';

/** What a token may be: printable ASCII, bounded (it is a key held in memory). */
const TOKEN = /^[\x21-\x7e]{1,256}$/;

export class BadTokenError extends Error {}

/**
 * The request's token from its header / metadata values: undefined when it
 * has none; BadTokenError when it is malformed or given twice (which one
 * would be meant is unknowable: refused, not guessed).
 */
export function dedupTokenOf(values: readonly (string | Buffer)[] | undefined): string | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new BadTokenError(`${DEDUP_HEADER} given ${values.length} times: send one`);
  const v = values[0];
  if (typeof v !== 'string' || !TOKEN.test(v)) throw new BadTokenError(`${DEDUP_HEADER} must be 1 to 256 printable ASCII characters`);
  return v;
}

export interface RepeatsOptions {
  /** Tokens kept at most (default 100 000). */
  maxTokens?: number;
  /** How long a token is remembered, ms (default one hour). */
  windowMs?: number;
  now?: () => number;
}

export class Repeats {
  /** key → when it was taken; insertion order is time order. */
  private readonly done = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly maxTokens: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Repeats answered without passing them on. */
  repeats = 0;

  constructor(opts: RepeatsOptions = {}) {
    this.maxTokens = opts.maxTokens ?? 100_000;
    this.windowMs = opts.windowMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The memory's key: a digest of signal, sender and token, so an entry costs
   * the same ~100 bytes however long the sender's name and token are (100 000
   * tokens stay ~10 MiB).
   */
  static key(signal: string, client: ClientInfo, token: string): string {
    const who = client.auth ? `auth:${client.auth.subject}` : `ip:${client.address}`;
    return createHash('sha256').update(`${signal}\u0000${who}\u0000${token}`).digest('base64');
  }

  /**
   * Runs `take` unless `key` was taken within the window (then resolves true
   * without running it). A repeat arriving while the first is still being
   * taken waits for it and shares its outcome; a failure is not remembered,
   * so the sender's next try runs again.
   */
  async once(key: string | undefined, take: () => Promise<void>): Promise<boolean> {
    if (key === undefined) {
      await take();
      return false;
    }
    this.expire();
    if (this.done.has(key)) {
      this.repeats++;
      return true;
    }
    const running = this.inFlight.get(key);
    if (running) {
      await running;
      this.repeats++;
      return true;
    }
    const p = take();
    this.inFlight.set(key, p);
    try {
      await p;
      this.done.set(key, this.now());
      if (this.done.size > this.maxTokens) this.done.delete(this.done.keys().next().value!);
    } finally {
      this.inFlight.delete(key);
    }
    return false;
  }

  private expire(): void {
    const before = this.now() - this.windowMs;
    for (const [k, t] of this.done) {
      if (t >= before) break;
      this.done.delete(k);
    }
  }
}
