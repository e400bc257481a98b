import type { ExporterFactory } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { DebugExporter, type DebugConfig } from './debug.ts';

export const debugFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  type: 'debug',
  signals: ['logs', 'traces'],
  schema: s.object({ verbosity: s.string({ enum: ['basic', 'normal', 'detailed'] }) }),
  defaultConfig: () => ({ verbosity: 'basic' }),
  create: (settings) => new DebugExporter(settings),
};
