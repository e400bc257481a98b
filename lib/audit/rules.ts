/**
 * The rules audit classification runs on (classify.ts): which paths are
 * sensitive, which destinations require a peer identity, which Kubernetes
 * changes count, where fields are read from. The audit processor's config
 * holds them (processors/audit/config.ts); the detect processor runs on the
 * audit processor's own compiled rules.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { DEFAULT_ATTRIBUTES, type AttributeMap } from '../mesh/attributes.ts';

export interface KubernetesRules {
  /** API groups (globs) whose changes are `configuration` events. Default: Istio, Gateway API, Linkerd, SMI, NetworkPolicy. */
  api_groups: string[];
  /** Which `authorization.k8s.io/decision`s become `authorization` events: denied (default), all, none. */
  decisions: 'denied' | 'all' | 'none';
  /** The change (request object) is kept in details.change up to this many bytes. Default 8192. */
  max_change_bytes: number;
}

export interface AuditRules {
  /** Path globs of sensitive endpoints (`*` one segment, `**` any). */
  sensitive_paths: string[];
  /** Rate-limit hits (`RL` flag or 429) on every path (`all`, default) or on sensitive paths only (`sensitive`). */
  rate_limits: 'all' | 'sensitive';
  /** 401s and 403s without mesh details become authentication/authorization events. Default true. */
  http_status: boolean;
  /** Destinations (globs on :authority or upstream cluster) where a request without a peer identity is an event. Default none. */
  require_peer_identity: string[];
  kubernetes: KubernetesRules;
  /** Per logical field, the attribute names to read (replaces that field's default list). */
  attributes: Partial<AttributeMap>;
}

export const DEFAULT_SENSITIVE_PATHS = [
  '/admin/**',
  '/debug/**',
  '/internal/**',
  '/actuator/**',
  '/config_dump',
  '/quitquitquit',
  '/.env',
  '/.git/**',
];

export const DEFAULT_MESH_API_GROUPS = [
  '*.istio.io',
  'gateway.networking.k8s.io',
  'networking.k8s.io',
  'linkerd.io',
  '*.linkerd.io',
  '*.smi-spec.io',
];

export const defaultAuditRules = (): AuditRules => ({
  sensitive_paths: [...DEFAULT_SENSITIVE_PATHS],
  rate_limits: 'all',
  http_status: true,
  require_peer_identity: [],
  kubernetes: { api_groups: [...DEFAULT_MESH_API_GROUPS], decisions: 'denied', max_change_bytes: 8192 },
  attributes: {},
});

export const auditRulesSchemaFields = {
  sensitive_paths: s.list(s.string({ nonEmpty: true })),
  rate_limits: s.string({ enum: ['all', 'sensitive'] }),
  http_status: s.bool(),
  require_peer_identity: s.list(s.string({ nonEmpty: true })),
  kubernetes: s.object({
    api_groups: s.list(s.string({ nonEmpty: true })),
    decisions: s.string({ enum: ['denied', 'all', 'none'] }),
    max_change_bytes: s.int({ min: 0 }),
  }),
  attributes: s.map(s.list(s.string({ nonEmpty: true }))),
};

export function validateAuditRules(c: AuditRules): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of Object.keys(c.attributes)) {
    if (!(k in DEFAULT_ATTRIBUTES)) {
      errors.push({ path: `attributes.${k}`, message: `unknown field (valid fields: ${Object.keys(DEFAULT_ATTRIBUTES).join(', ')})` });
    }
  }
  c.sensitive_paths.forEach((p, i) => {
    if (!p.startsWith('/') && !p.startsWith('*')) errors.push({ path: `sensitive_paths[${i}]`, message: `a path glob starts with "/", got ${JSON.stringify(p)}` });
  });
  return errors;
}
