/**
 * The seams every component plugs into.
 *
 * Data flows through consumers: `consumeLogs` / `consumeTraces` return a
 * promise that settles only when the next stage has accepted the data (queued
 * durably, or written). Refusals and errors travel back up that promise to the
 * receiver, which turns them into protocol status (core/errors.ts).
 *
 * Components are built by factories from config (no I/O in construction),
 * then `start(host)` opens sockets and connections and `shutdown()` drains.
 * Shutdown must be idempotent and safe before start.
 */
import type { Schema, ConfigError } from './config/schema.ts';
import type { Logger } from './telemetry/logger.ts';
import type { MetricsRegistry } from './telemetry/metrics.ts';
import type { Signal } from './model.ts';
import type { LogsPayload, TracesPayload } from './payload.ts';

export interface LogsConsumer {
  consumeLogs(payload: LogsPayload): Promise<void>;
}

export interface TracesConsumer {
  consumeTraces(payload: TracesPayload): Promise<void>;
}

/** The next stage(s) a component feeds, one per signal it is wired for. */
export interface NextConsumers {
  logs?: LogsConsumer;
  traces?: TracesConsumer;
  /**
   * Per signal, set by the service for receivers: true when no stage
   * downstream `reads: 'records'` (see Reads). A receiver may then validate
   * a protobuf request without decoding it (core/payload.ts Payload.scan).
   * A hint only: a stage that reads records after all decodes them there.
   */
  bytesOnly?: Partial<Record<Signal, boolean>>;
}

export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

/** Extensions that want to know when the pipelines are up (e.g. health_check). */
export interface PipelineWatcher {
  ready(): void;
  notReady(): void;
}

export function isPipelineWatcher(c: unknown): c is PipelineWatcher {
  return typeof (c as PipelineWatcher | undefined)?.ready === 'function' && typeof (c as PipelineWatcher).notReady === 'function';
}

export type Kind = 'receiver' | 'processor' | 'exporter' | 'extension' | 'connector';

/**
 * What a processor or exporter does with a payload's records: the one
 * declaration the service derives its bytes handling from (DESIGN.md "One
 * envelope per payload").
 * - `nothing`: neither reads nor changes them; counts at most and passes the
 *   payload on as it came (memory_limiter, batch).
 * - `bytes`: works from the payload's protobuf bytes while it has them
 *   (records otherwise), and keeps it bytes for the stages after (redaction
 *   with only built-in rules, correlate, audit, the spool, kafka otlp_proto,
 *   clickhouse Native).
 * - `records`: reads or changes the records (attributes, filter, debug, …).
 * A pipeline none of whose stages reads `records` lets its receivers hand on
 * protobuf undecoded (NextConsumers.bytesOnly); an exporter that reads
 * `bytes` gets the bytes its persistent queue wrote (QueueStorage keepRaw).
 * Changing records in place is said where it happens, by taking them with
 * Payload.recordsToChange (which lets the stale bytes go), not declared.
 */
export type Reads = 'nothing' | 'bytes' | 'records';

/** What a running component may ask of the process hosting it. */
export interface Host {
  logger: Logger;
  metrics: MetricsRegistry;
  /** A started extension by id (e.g. `file_storage`), or undefined. */
  getExtension(id: string): Component | undefined;
  /** Reports a fatal condition; the process shuts down. */
  reportFatal(err: Error): void;
}

/** What a factory gets when asked to build a component. */
export interface CreateSettings<C> {
  /** The component id, `type[/name]`. */
  id: string;
  config: C;
  logger: Logger;
  metrics: MetricsRegistry;
}

interface FactoryBase<C> {
  readonly type: string;
  /** The defaults the user's YAML is overlaid on. A fresh object per call. */
  defaultConfig(): C;
  /** The config's shape: unknown keys are rejected against it. */
  readonly schema: Schema;
  /**
   * Semantic checks after decoding (pure, no I/O): every problem, each with a
   * path relative to the component (the loader prefixes `exporters.<id>`).
   */
  validate?(config: C): ConfigError[];
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  readonly signals: readonly Signal[];
  /** One instance per id, shared by every pipeline that names it. */
  create(settings: CreateSettings<C>, next: NextConsumers): Component;
}

/** A test of a component's config, checked like a method (bivariantly), so a ProcessorFactory<C> is still a Factory. */
type ConfigTest<C> = { bivarianceHack(config: C): Reads }['bivarianceHack'];

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  readonly signals: readonly Signal[];
  /**
   * Per-pipeline processors (the default, as in the Collector) get one
   * instance per pipeline. A shared processor (e.g. `correlate`, which must
   * see logs and traces together) gets one instance per id, wired to the next
   * stage of each pipeline it appears in (at most one pipeline per signal).
   */
  readonly shared?: boolean;
  /** What it does with records (see Reads), or, as a function, what it does with this config. */
  readonly reads: Reads | ConfigTest<C>;
  create(settings: CreateSettings<C>, next: NextConsumers): Component & Partial<LogsConsumer & TracesConsumer>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  readonly signals: readonly Signal[];
  /** One instance per id, consuming every signal of the pipelines naming it. */
  create(settings: CreateSettings<C>): Component & Partial<LogsConsumer & TracesConsumer>;
  /** What, with this config, it does with the records of a payload of `signal` (see Reads). */
  reads(config: C, signal: Signal): Reads;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  create(settings: CreateSettings<C>): Component;
}

/**
 * A connector (the Collector's `connectors:`) is an exporter of some pipelines
 * and a receiver of others, of the same signal here. `routes` maps each
 * pipeline that names the connector among its receivers to that pipeline's
 * first stage; the service fills it before anything starts.
 */
export interface ConnectorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'connector';
  readonly signals: readonly Signal[];
  create(settings: CreateSettings<C>, routes: ReadonlyMap<string, NextConsumers>): Component & Partial<LogsConsumer & TracesConsumer>;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory | ConnectorFactory;

/** `type[/name]` → type. */
export function componentType(id: string): string {
  const i = id.indexOf('/');
  return i < 0 ? id : id.slice(0, i);
}

/**
 * Wraps `fn` so every call returns the same promise: shutdown is idempotent,
 * as the Collector's lifecycle contract and opentelemetry-js' BindOnceFuture.
 */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
