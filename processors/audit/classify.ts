// Classification lives in lib/audit (the detect processor shares it); kept here for the processor's tests and callers.
export * from '../../lib/audit/classify.ts';
