export { redactionFactory } from './factory.ts';
export { Redactor, SUMMARY_KEYS } from './redaction.ts';
export { redactionProcessor, redactPayload } from './processor.ts';
export type { RedactionConfig } from './config.ts';
