/** `trailhouse run` and `trailhouse validate`. */
import { builtinRegistry } from '../../components.ts';
import { loadConfigFile, type ServiceConfig } from '../../core/config/load.ts';
import { ConfigValidationError, formatErrors } from '../../core/config/schema.ts';
import { Service } from '../../core/service.ts';
import { createLogger } from '../../core/telemetry/logger.ts';
import { flag, parseArgs } from './args.ts';
import { pipelineEvent } from './lifecycle.ts';
import { productVersion } from './version.ts';

const VERSION = productVersion();

function load(path: string): ServiceConfig | undefined {
  try {
    return loadConfigFile(path, builtinRegistry());
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

export async function runCommand(argv: string[]): Promise<number> {
  const path = flag(parseArgs(argv), 'config') ?? 'pipeline.yaml';
  const cfg = load(path);
  if (!cfg) return 1;
  // The process's own logs as OTLP too, when service.telemetry.logs.processors says so.
  // The SDK is loaded only then.
  const otel = cfg.telemetry.logs.processors.length > 0 ? (await import('../../core/telemetry/otel-logs.ts')).otelLogSink(cfg.telemetry.logs.processors, VERSION) : undefined;
  const logger = createLogger({ level: cfg.telemetry.logs.level, also: otel ? (level, msg, fields) => otel.emit(level, msg, fields) : undefined });
  let service: Service;
  try {
    service = new Service(cfg, { logger });
  } catch (err) {
    logger.error('cannot build the pipeline', { error: err });
    return 1;
  }
  let stopping: Promise<number> | undefined;
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
    })());
  const done = new Promise<number>((resolve) => {
    process.once('SIGINT', () => void stop('SIGINT', 0).then(resolve));
    process.once('SIGTERM', () => void stop('SIGTERM', 0).then(resolve));
    service.onFatal((err) => void stop(`fatal: ${err.message}`, 1).then(resolve));
  });
  try {
    await service.start();
  } catch (err) {
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
