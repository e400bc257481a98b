/** `trailhouse run` and `trailhouse validate`. */
import { builtinRegistry } from '../../components.ts';
import { readFileSync } from 'node:fs';
import { loadConfigText, type ServiceConfig } from '../../core/config/load.ts';
import { ConfigValidationError, formatErrors } from '../../core/config/schema.ts';
import { Service } from '../../core/service.ts';
import { holdEngineLibrary } from '../../lib/clickhouse/store.ts';
import { splitAtSpool } from '../../core/service-split.ts';
import { niceNamedThreads, niceThisThread } from '../../core/thread-nice.ts';
import { PipelineThread } from '../../core/pipeline-thread.ts';
import { servePipelineThread, threadLogWriter } from '../../core/pipeline-thread-worker.ts';
import type { PipelineThreadData } from '../../core/pipeline-thread-wire.ts';
import { parentPort } from 'node:worker_threads';
import { createLogger } from '../../core/telemetry/logger.ts';
import { flag, parseArgs } from './args.ts';
import { pipelineEvent } from './lifecycle.ts';
import { productVersion } from './version.ts';

const VERSION = productVersion();

/** The config, and the text it was read from (the pipeline thread builds its half from that same text). */
function load(path: string): (ServiceConfig & { text: string }) | undefined {
  try {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigValidationError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }]);
    }
    return { ...loadConfigText(text, builtinRegistry()), text };
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${path}: invalid configuration (${err.errors.length} problem${err.errors.length === 1 ? '' : 's'}):\n${formatErrors(err.errors)}\n`);
      return undefined;
    }
    throw err;
  }
}

export async function validateCommand(argv: string[]): Promise<number> {
  const path = flag(parseArgs(argv), 'config') ?? 'pipeline.yaml';
  const cfg = load(path);
  if (!cfg) return 1;
  process.stdout.write(`${path}: valid (${cfg.pipelines.map((p) => p.id).join(', ')})\n`);
  return 0;
}

/** A store in `cfg` runs the embedded engine (no `endpoint`, directly or through a clickhouse_store extension). */
function usesEmbeddedEngine(cfg: ServiceConfig): boolean {
  const embedded = (cc: { factory: unknown; config: unknown }, types: string[]) =>
    types.includes((cc.factory as { type: string }).type) && !(cc.config as { endpoint?: string | null }).endpoint && !(cc.config as { store?: string | null }).store;
  return cfg.serviceExtensions.some((id) => embedded(cfg.extensions.get(id)!, ['clickhouse_store'])) || cfg.pipelines.some((p) => p.exporters.some((id) => cfg.exporters.has(id) && embedded(cfg.exporters.get(id)!, ['clickhouse'])));
}

export async function runCommand(argv: string[]): Promise<number> {
  const path = flag(parseArgs(argv), 'config') ?? 'pipeline.yaml';
  const cfg = load(path);
  if (!cfg) return 1;
  // The process's own logs as OTLP too, when service.telemetry.logs.processors says so.
  // The SDK is loaded only then.
  const otel = cfg.telemetry.logs.processors.length > 0 ? (await import('../../core/telemetry/otel-logs.ts')).otelLogSink(cfg.telemetry.logs.processors, VERSION) : undefined;
  const logger = createLogger({ level: cfg.telemetry.logs.level, also: otel ? (level, msg, fields) => otel.emit(level, msg, fields) : undefined });
  // The pipelines behind the spool on a thread of their own (core/pipeline-thread.ts), when the config splits there.
  const split = splitAtSpool(cfg);
  let thread: PipelineThread | undefined;
  let service: Service;
  try {
    service = new Service('reason' in split ? cfg : split.front, { logger, beforeExportersStop: async () => thread?.stop() });
  } catch (err) {
    logger.error('cannot build the pipeline', { error: err });
    return 1;
  }
  let stopping: Promise<number> | undefined;
  // Whatever stops the service (a signal, a fatal error on either thread) settles `done` with the exit code.
  let finished!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finished = resolve));
  const stop = (why: string, code: number): Promise<number> =>
    (stopping ??= (async () => {
      logger.info('shutting down', { reason: why });
      // Raised before the audit writer closes, so its final flush stores it.
      pipelineEvent('pipeline.stop', path, VERSION, why);
      try {
        await service.shutdown();
        return code;
      } catch (err) {
        logger.error('shutdown finished with errors', { error: err });
        return 1;
      }
    })().then((c) => (finished(c), c)));
  process.once('SIGINT', () => void stop('SIGINT', 0));
  process.once('SIGTERM', () => void stop('SIGTERM', 0));
  service.onFatal((err) => void stop(`fatal: ${err.message}`, 1));
  try {
    if ('reason' in split) logger.debug('the pipelines run on one thread', { reason: split.reason });
    else {
      if (usesEmbeddedEngine(split.back)) await holdEngineLibrary();
      thread = await PipelineThread.start({
        configText: cfg.text,
        channels: split.channels,
        logger,
        metrics: service.metrics,
        onFatal: (err) => void stop(`fatal: pipeline thread: ${err.message}`, 1),
        writeLine: (line) => process.stderr.write(line + '\n'),
        onLog: otel ? (level, msg, fields) => otel.emit(level, msg, fields) : undefined,
      });
      logger.info('pipelines behind the spool run on their own thread', { pipelines: split.back.pipelines.map((p) => p.id) });
    }
    await service.start();
  } catch (err) {
    await thread?.stop().catch(() => undefined);
    logger.error('cannot start the pipeline', { error: err });
    await otel?.shutdown().catch(() => undefined);
    return 1;
  }
  pipelineEvent('pipeline.start', path, VERSION);
  // From dist/ (bin/trailhouse.mjs ran the bundle) or from the sources through tsx.
  logger.info('trailhouse running', { config: path, version: VERSION, code: process.env.TRAILHOUSE_CODE ?? 'source' });
  const code = await done;
  // The last lines (shutting down, stopped) go out before the process ends.
  await otel?.shutdown().catch(() => undefined);
  // Nothing else should keep the process alive after a clean shutdown; a
  // stray handle in a dependency must not hang a deploy.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/**
 * The pipeline thread's entry (bin/trailhouse.mjs calls it on the worker):
 * builds the half of the config behind the spool and serves the main thread.
 */
export async function pipelineThreadMain(data: PipelineThreadData): Promise<void> {
  const cfg = loadConfigText(data.configText, builtinRegistry());
  const split = splitAtSpool(cfg);
  if ('reason' in split) {
    parentPort?.postMessage({ t: 'failed', message: split.reason });
    return;
  }
  // Before anything starts threads of its own (the engine's inherit it).
  let nice: number | undefined;
  let niceError: unknown;
  try {
    nice = niceThisThread(split.nice);
  } catch (err) {
    niceError = err;
  }
  const forward = data.forwardLogs ? (level: string, msg: string, fields: unknown) => parentPort?.postMessage({ t: 'log', level, msg, fields }) : undefined;
  const logger = createLogger({ level: cfg.telemetry.logs.level, write: threadLogWriter(), also: forward }, { thread: 'pipeline' });
  if (niceError) logger.warn('cannot lower the pipeline thread\'s priority; it runs at the front\'s', { error: niceError });
  else if (nice !== undefined) logger.debug('pipeline thread priority', { nice });
  await servePipelineThread(new Service(split.back, { logger, serveMetrics: false }));
  if (nice === undefined) return;
  // The engine's pools, including threads it started from elsewhere or grows later.
  const renice = () => niceNamedThreads(nice);
  renice();
  setInterval(renice, RENICE_EVERY_MS).unref();
}

/** How often the pipeline thread brings threads the engine started since to its priority. */
const RENICE_EVERY_MS = 10_000;
