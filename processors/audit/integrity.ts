/**
 * The audit processor's `integrity` section: its schema, defaults and how
 * the log is opened live in lib/audit/integrity.ts, shared with the
 * clickhouse exporter's log over otel_logs (one key, one witness file).
 */
export { defaultIntegrity, integrityFields, integritySchema, validateIntegrity, integrityPaths, openAuditLog, type IntegrityConfig, type KafkaWitnessConfig, type OpenLogSettings } from '../../lib/audit/integrity.ts';
