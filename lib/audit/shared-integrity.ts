/**
 * What an audit processor's signed log shares with the console running in
 * the same pipeline (found through the host, as shared-rules.ts does): the
 * signing key, to sign the evidence reports the console renders exactly as
 * `trailhouse report` does, and the local witness file and trusted keys, to
 * verify the trail for those reports. The console starts before the
 * processors, so it asks at request time.
 */
import type { Host } from '../../core/component.ts';
import type { NoteSigner } from '../tlog/note.ts';

export interface SharedIntegrity {
  signer: NoteSigner;
  keyFile: string;
  verifiersFile: string;
  witnessFile: string | null;
  database: string;
  table: string;
}

const byHost = new WeakMap<Host, SharedIntegrity>();

/** The first audit processor with a log to start shares it. */
export function shareIntegrity(host: Host, i: SharedIntegrity): void {
  if (!byHost.has(host)) byHost.set(host, i);
}

export function integrityOf(host: Host): SharedIntegrity | undefined {
  return byHost.get(host);
}
