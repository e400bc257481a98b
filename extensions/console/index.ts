export { consoleFactory, ConsoleExtension } from './console.ts';
export { defaultConsoleConfig, type ConsoleConfig } from './config.ts';
