import type { ReceiverFactory } from '../../core/component.ts';
import { defaultSyslogConfig, syslogSchema, validateSyslog, type SyslogConfig } from './config.ts';
import { SyslogReceiver } from './receiver.ts';

export const syslogFactory: ReceiverFactory<SyslogConfig> = {
  kind: 'receiver',
  type: 'syslog',
  signals: ['logs'],
  schema: syslogSchema,
  defaultConfig: defaultSyslogConfig,
  validate: validateSyslog,
  create: (settings, next) => new SyslogReceiver(settings, next),
};
