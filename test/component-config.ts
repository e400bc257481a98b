/** Builds a component's config the way the loader does: defaults, user YAML on top, validation. */
import type { CreateSettings, Factory } from '../core/component.ts';
import { ConfigValidationError, decode, type ConfigError } from '../core/config/schema.ts';
import type { Logger } from '../core/telemetry/logger.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';
import { testLogger } from './helpers.ts';

export function configFor<C>(factory: Factory, user: unknown): C {
  const errors: ConfigError[] = [];
  const config = decode(factory.schema, factory.defaultConfig(), user, '', errors) as C;
  errors.push(...((factory.validate as ((c: C) => ConfigError[]) | undefined)?.(config) ?? []));
  if (errors.length) throw new ConfigValidationError(errors);
  return config;
}

/** The `path: message` lines of the config errors `fn` throws ([] when it does not). */
export function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.errors.map((e) => `${e.path}: ${e.message}`);
    throw err;
  }
  return [];
}

export function settingsFor<C>(
  factory: Factory,
  user: unknown,
  opts: { id?: string; logger?: Logger; metrics?: MetricsRegistry } = {},
): CreateSettings<C> {
  return {
    id: opts.id ?? factory.type,
    config: configFor<C>(factory, user),
    logger: opts.logger ?? testLogger(),
    metrics: opts.metrics ?? new MetricsRegistry(),
  };
}
