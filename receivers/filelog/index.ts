import type { ReceiverFactory } from '../../core/component.ts';
import { defaultFilelogConfig, filelogSchema, validateFilelog, type FilelogConfig } from './config.ts';
import { FilelogReceiver } from './filelog.ts';

export const filelogFactory: ReceiverFactory<FilelogConfig> = {
  kind: 'receiver',
  type: 'filelog',
  signals: ['logs'],
  schema: filelogSchema,
  defaultConfig: defaultFilelogConfig,
  validate: (c) => {
    // Go's spelling of the encoding is accepted too.
    if ((c.encoding as string) === 'utf8') c.encoding = 'utf-8';
    return validateFilelog(c);
  },
  create: (settings, next) => new FilelogReceiver(settings, next),
};
export { FilelogReceiver } from './filelog.ts';
export type { FilelogConfig } from './config.ts';
