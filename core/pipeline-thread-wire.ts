/**
 * What crosses between the main thread and the pipeline thread
 * (core/pipeline-thread.ts, core/pipeline-thread-worker.ts): the messages
 * each way, errors as plain data rebuilt as the same class, and a sender's
 * client as data that clones.
 */
import type { ClientInfo } from './client.ts';
import { PermanentError, RefusedError, ThrottledError, type RefusalReason } from './errors.ts';
import type { Signal } from './model.ts';
import type { SecurityEvent } from './security-events.ts';
import type { LogFields, Level } from './telemetry/logger.ts';
import type { MetricsSnapshot } from './telemetry/metrics.ts';
import type { ThreadMemory } from './thread-memory.ts';

/** What the worker is started with. */
export interface PipelineThreadData {
  role: 'pipeline-thread';
  /** The config as the main thread read it (not read again: both halves come from one reading of the file). */
  configText: string;
  /** Hand every log line to the main thread too (its OTLP export of our own logs). */
  forwardLogs: boolean;
}

export interface WireError {
  name: string;
  message: string;
  reason?: RefusalReason;
  retryAfterSeconds?: number;
  retryAfterMs?: number;
}

export type ToThread =
  | { t: 'parts'; id: number; parts: Uint8Array[] }
  | { t: 'drop'; id: number }
  | { t: 'push'; id: number; name: string; signal: Signal; parts: Uint8Array[]; count: number; token?: string; sequence?: string; client?: ClientInfo }
  | { t: 'sec'; e: SecurityEvent }
  | { t: 'metrics'; id: number }
  | { t: 'mainMetrics'; id: number; snap: MetricsSnapshot }
  | { t: 'gc' }
  | { t: 'stop' };

export type FromThread =
  | { t: 'started' }
  | { t: 'failed'; message: string }
  | { t: 'done'; id: number; err?: WireError; parts?: Uint8Array[] }
  | { t: 'metrics'; id: number; snap: MetricsSnapshot }
  | { t: 'fatal'; message: string }
  | { t: 'stopped'; message?: string }
  | { t: 'log'; level: Level; msg: string; fields: LogFields }
  | { t: 'line'; line: string }
  | { t: 'mainMetrics?'; id: number }
  | { t: 'mem'; m: ThreadMemory };

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const out: WireError = { name: e.name, message: e.message };
  if (e instanceof RefusedError) Object.assign(out, { reason: e.reason, retryAfterSeconds: e.retryAfterSeconds });
  if (e instanceof ThrottledError) out.retryAfterMs = e.retryAfterMs;
  return out;
}

export function fromWire(w: WireError): Error {
  if (w.reason) return new RefusedError(w.message, w.reason, w.retryAfterSeconds);
  if (w.retryAfterMs !== undefined) return new ThrottledError(w.message, w.retryAfterMs);
  if (w.name === 'PermanentError' || w.name === 'TooManyRecordsError') return new PermanentError(w.message);
  return new Error(w.message);
}

/** The client as plain data (its maps clone); undefined when it cannot be carried. */
export function clientToWire(c: ClientInfo | undefined): ClientInfo | undefined {
  if (!c) return undefined;
  try {
    return structuredClone({ address: c.address, metadata: c.metadata, ...(c.auth ? { auth: c.auth } : {}) });
  } catch {
    return { address: c.address, metadata: new Map() };
  }
}

