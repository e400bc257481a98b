/**
 * The in-process channel between a `spool` exporter and a `spool` receiver of
 * the same `name`: the embedded default's stand-in for a Kafka topic. The
 * exporter side owns durability (its sending queue on a storage extension);
 * this channel only hands each batch to the receiver's pipelines and reports
 * back when they accepted it.
 */
import type { NextConsumers } from './component.ts';
import { RefusedError } from './errors.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from './payload.ts';

export type SpoolHandler = (p: AnyPayload) => Promise<void>;

interface Channel {
  handler: SpoolHandler | undefined;
  ready: Promise<void>;
  markReady: () => void;
  /** The receiver was attached and has detached (shut down): refuse at once instead of waiting. */
  detached: boolean;
}

const channels = new Map<string, Channel>();

function channel(name: string): Channel {
  let c = channels.get(name);
  if (!c) {
    let markReady!: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    c = { handler: undefined, ready, markReady, detached: false };
    channels.set(name, c);
  }
  return c;
}

/** Attaches the receiving side; returns a detach function. */
export function attachSpool(name: string, handler: SpoolHandler): () => void {
  // A receiver of this name that shut down before (a restart in the same process): start afresh.
  if (channels.get(name)?.detached) channels.delete(name);
  const c = channel(name);
  if (c.handler) throw new Error(`spool "${name}" already has a receiver`);
  c.handler = handler;
  c.markReady();
  return () => {
    // Batches sent from now on are refused at once (shutting_down): the
    // exporter keeps them queued for the next start instead of waiting out
    // its timeout for a receiver that is gone.
    c.handler = undefined;
    c.detached = true;
  };
}

/**
 * Sends one batch through the channel. Waits (bounded by `signal`) for the
 * receiver to start, since exporters start before receivers and a persistent
 * queue replays at start; refuses (shutting_down) once the receiver shut down.
 */
export async function sendSpool(name: string, p: AnyPayload, abort: AbortSignal): Promise<void> {
  const c = channel(name);
  if (c.detached) throw new RefusedError(`spool "${name}" receiver is shut down`, 'shutting_down');
  if (!c.handler) {
    await Promise.race([
      c.ready,
      new Promise<void>((_, reject) => abort.addEventListener('abort', () => reject(abort.reason ?? new Error('aborted')), { once: true })),
    ]);
  }
  if (!c.handler) throw new Error(`spool "${name}" has no receiver`);
  return c.handler(p);
}

export function nextFor(next: NextConsumers): SpoolHandler {
  return (p) => {
    if (p.signal === 'logs') {
      if (!next.logs) return Promise.reject(new Error('spool receiver is in no logs pipeline'));
      return next.logs.consumeLogs(p as LogsPayload);
    }
    if (!next.traces) return Promise.reject(new Error('spool receiver is in no traces pipeline'));
    return next.traces.consumeTraces(p as TracesPayload);
  };
}
