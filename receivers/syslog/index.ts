export { syslogFactory } from './factory.ts';
export { SyslogReceiver } from './receiver.ts';
export { parseSyslog } from './parse.ts';
export type { SyslogConfig } from './config.ts';
