import type { ProcessorFactory } from '../../core/component.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import { actionSchema, validateActions, withDefaults, type ActionConfig } from './actions.ts';
import { attributesProcessor } from './attributes.ts';

export interface AttributesConfig {
  actions: ActionConfig[];
  /** The Collector's match properties: refused with the reason (the actions apply to every record). */
  include: unknown;
  exclude: unknown;
}

function validate(c: AttributesConfig): ConfigError[] {
  const errors = validateActions(c.actions.map(withDefaults));
  for (const k of ['include', 'exclude'] as const) {
    if (c[k] !== undefined && c[k] !== null) errors.push({ path: k, message: 'not supported yet: the actions apply to every record; split the pipeline to act on some' });
  }
  return errors;
}

export const attributesFactory: ProcessorFactory<AttributesConfig> = {
  kind: 'processor',
  type: 'attributes',
  signals: ['logs', 'traces'],
  schema: s.object({ actions: s.list(actionSchema), include: s.any(), exclude: s.any() }),
  defaultConfig: () => ({ actions: [], include: undefined, exclude: undefined }),
  validate,
  create: (settings, next) => attributesProcessor(settings, next, settings.config.actions, 'records'),
};
