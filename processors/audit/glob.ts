export * from '../../lib/audit/glob.ts';
