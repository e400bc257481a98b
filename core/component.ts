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
   * downstream reads records, only counts them and passes the payload's
   * protobuf bytes on (every processor `forwardsBytes`, every exporter
   * `forwardsBytes` for the signal). A receiver may then validate a protobuf
   * request without decoding it (core/otlp/lazy.ts). A hint only: such a
   * payload decodes itself if anything reads its records after all.
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
type ConfigTest<C> = { bivarianceHack(config: C): boolean }['bivarianceHack'];

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
  /**
   * True when the processor never changes records (or keeps the payload's raw
   * protobuf bytes right itself, as `batch` does); otherwise the service drops
   * those bytes before the processor sees the payload (core/model.ts rawProto).
   */
  readonly keepsRawProto?: boolean;
  /**
   * True when the processor neither reads nor changes records (counts at
   * most), or, as a function, when it does not with this config (redaction
   * tests a payload's bytes and decodes only those that may hold a secret):
   * see NextConsumers.bytesOnly.
   */
  readonly forwardsBytes?: boolean | ConfigTest<C>;
  create(settings: CreateSettings<C>, next: NextConsumers): Component & Partial<LogsConsumer & TracesConsumer>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  readonly signals: readonly Signal[];
  /** One instance per id, consuming every signal of the pipelines naming it. */
  create(settings: CreateSettings<C>): Component & Partial<LogsConsumer & TracesConsumer>;
  /**
   * True when, with this config, the exporter sends a payload of `signal`
   * from its protobuf bytes (rawProto) without reading its records: see
   * NextConsumers.bytesOnly.
   */
  forwardsBytes?(config: C, signal: Signal): boolean;
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
