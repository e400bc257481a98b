import { s, type ConfigError } from '../../core/config/schema.ts';
import { defaultIntegrity, integrityFields, validateIntegrity, type IntegrityConfig } from './integrity.ts';
import { defaultSelfVerify, selfVerifySchema, type SelfVerifyConfig } from '../../lib/audit/self-verify.ts';
import { storeConfigDefaults, storeConfigSchemaFields, validateStoreConfig, type StoreConfig } from '../../lib/clickhouse/store-config.ts';

export { DEFAULT_ATTRIBUTES, type AttributeMap, type Field } from '../../lib/mesh/attributes.ts';
import { auditRulesSchemaFields, defaultAuditRules, validateAuditRules, type AuditRules } from '../../lib/audit/rules.ts';
export { DEFAULT_MESH_API_GROUPS, DEFAULT_SENSITIVE_PATHS, auditRulesSchemaFields, defaultAuditRules, validateAuditRules, type AuditRules, type KubernetesRules } from '../../lib/audit/rules.ts';

export interface AuditConfig extends AuditRules, StoreConfig {
  /** Table the events are written to. Default `audit_events`. */
  table: string;
  /** Data older than this is dropped (0 = keep). Default 0. */
  ttl: number;
  /** The signed Merkle log over the events (integrity.ts), and the pipeline's periodic check of it (lib/audit/self-verify.ts). */
  integrity: IntegrityConfig & { self_verify?: SelfVerifyConfig };
  /**
   * Store the process's own security events (queries of the store, refused
   * logins, triage) in this table. The first audit processor to start with
   * it takes them; set false on the others to choose which. Default true.
   */
  security_events: boolean;
}

export const defaultAuditConfig = (): AuditConfig => ({
  ...storeConfigDefaults(),
  table: 'audit_events',
  ttl: 0,
  integrity: { ...defaultIntegrity(), self_verify: defaultSelfVerify() },
  security_events: true,
  ...defaultAuditRules(),
});

export const auditSchema = s.object({
  ...storeConfigSchemaFields,
  table: s.string({ nonEmpty: true }),
  ttl: s.duration(),
  integrity: s.object({ ...integrityFields, self_verify: selfVerifySchema }),
  security_events: s.bool(),
  ...auditRulesSchemaFields,
});

export function validateAudit(c: AuditConfig): ConfigError[] {
  return [...validateAuditRules(c), ...validateStoreConfig(c as AuditConfig & Record<string, unknown>, ['table']), ...validateIntegrity(c.integrity)];
}
