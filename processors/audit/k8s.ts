export * from '../../lib/audit/k8s.ts';
