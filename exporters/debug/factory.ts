import type { ExporterFactory } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { DebugExporter, type DebugConfig } from './debug.ts';

export const debugFactory: ExporterFactory<DebugConfig> = {
  kind: 'exporter',
  reads: () => 'records',
  type: 'debug',
  signals: ['logs', 'traces'],
  schema: s.object({ verbosity: s.string({ enum: ['basic', 'normal', 'detailed'] }), sampling_initial: s.int({ min: 0 }), sampling_thereafter: s.int({ min: 1 }) }),
  defaultConfig: () => ({ verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 1 }),
  create: (settings) => new DebugExporter(settings),
};
