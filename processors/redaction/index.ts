export { redactionFactory } from './factory.ts';
export { Redactor, redactionProcessor, SUMMARY_KEYS } from './redaction.ts';
export type { RedactionConfig } from './config.ts';
