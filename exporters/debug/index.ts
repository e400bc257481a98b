export { debugFactory } from './factory.ts';
export { DebugExporter, type DebugConfig } from './debug.ts';
