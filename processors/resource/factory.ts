import type { ProcessorFactory } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { actionSchema, validateActions, withDefaults, type ActionConfig } from '../../lib/attributes/actions.ts';
import { attributesProcessor } from '../../lib/attributes/processor.ts';

export interface ResourceConfig {
  /** The Collector's resource processor calls its action list `attributes`. */
  attributes: ActionConfig[];
}

export const resourceFactory: ProcessorFactory<ResourceConfig> = {
  kind: 'processor',
  reads: 'records',
  type: 'resource',
  signals: ['logs', 'traces'],
  schema: s.object({ attributes: s.list(actionSchema) }),
  defaultConfig: () => ({ attributes: [] }),
  validate: (c) => validateActions(c.attributes.map(withDefaults)).map((e) => ({ ...e, path: e.path.replace(/^actions/, 'attributes') })),
  create: (settings, next) => attributesProcessor(settings, next, settings.config.attributes, 'resource'),
};
