export { detectFactory } from './factory.ts';
export { DetectProcessor } from './detect.ts';
export { DetectEngine } from './engine.ts';
export { defaultDetectConfig, type DetectConfig } from './config.ts';
