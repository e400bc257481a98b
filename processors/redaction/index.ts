export { redactionFactory } from './factory.ts';
export { Redactor, RedactionProcessor, SUMMARY_KEYS } from './redaction.ts';
export type { RedactionConfig } from './config.ts';
