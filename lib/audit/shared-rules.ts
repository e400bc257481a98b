/**
 * What an audit processor shares with the detect processor before it: its
 * compiled classification rules (the same rules give the same events, and the
 * same event ids), found by the audit processor's id among those started by
 * the same host. Processors start downstream-first, so an audit processor
 * after `detect` in a pipeline has registered when `detect` starts.
 */
import type { Host } from '../../core/component.ts';
import type { CompiledRules } from './classify.ts';

const byHost = new WeakMap<Host, Map<string, CompiledRules>>();

export function shareAuditRules(host: Host, id: string, rules: CompiledRules): void {
  let m = byHost.get(host);
  if (!m) byHost.set(host, (m = new Map()));
  if (!m.has(id)) m.set(id, rules);
}

/** The rules of the started audit processor `id`, or an error saying what is wrong. */
export function auditRulesOf(host: Host, id: string): CompiledRules {
  const rules = byHost.get(host)?.get(id);
  if (!rules) {
    throw new Error(`rules_from: no started audit processor "${id}" (list it after this processor in the logs pipeline, or name the audit processor's id)`);
  }
  return rules;
}
