import type { ProcessorFactory } from '../../core/component.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import { matchDefaults, matchPropertiesSchema, validateMatchProperties, type MatchPropertiesConfig } from '../../core/match-properties.ts';
import { actionSchema, validateActions, withDefaults, type ActionConfig } from '../../lib/attributes/actions.ts';
import { attributesProcessor } from '../../lib/attributes/processor.ts';

export interface AttributesConfig {
  actions: ActionConfig[];
  /** The Collector's match properties: the actions apply to records matching include and not exclude. */
  include: MatchPropertiesConfig | null;
  exclude: MatchPropertiesConfig | null;
}

function validate(c: AttributesConfig): ConfigError[] {
  const errors = validateActions(c.actions.map(withDefaults));
  for (const k of ['include', 'exclude'] as const) {
    const mp = c[k];
    if (mp) errors.push(...validateMatchProperties(matchDefaults(mp), k).errors);
  }
  return errors;
}

export const attributesFactory: ProcessorFactory<AttributesConfig> = {
  kind: 'processor',
  reads: 'records',
  type: 'attributes',
  signals: ['logs', 'traces'],
  schema: s.object({ actions: s.list(actionSchema), include: s.optional(matchPropertiesSchema), exclude: s.optional(matchPropertiesSchema) }),
  defaultConfig: () => ({ actions: [], include: null, exclude: null }),
  validate,
  create: (settings, next) => {
    const c = settings.config;
    return attributesProcessor(settings, next, c.actions, 'records', {
      include: c.include ? matchDefaults(c.include) : null,
      exclude: c.exclude ? matchDefaults(c.exclude) : null,
    });
  },
};
