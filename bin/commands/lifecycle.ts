/**
 * The pipeline's own starts and stops, in the audit trail: a `configuration`
 * security event (core/security-events.ts) with action `pipeline.start` or
 * `pipeline.stop`, the version and the SHA-256 of the config file, so the
 * evidence report can list restarts and tell a clean stop from a crash (a
 * start with no stop before it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`;
  }
}

function fileSha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return ''; // read once already to start; a file gone since is not worth failing a stop for
  }
}

export function pipelineEvent(action: 'pipeline.start' | 'pipeline.stop', configPath: string, version: string, reason = ''): void {
  emitSecurityEvent({
    time: nowNanos(),
    category: 'configuration',
    action,
    outcome: 'success',
    subject: osUser(),
    source: os.hostname(),
    surface: 'pipeline',
    reason: '',
    details: { version, config: configPath, config_sha256: fileSha256(configPath), pid: String(process.pid), ...(reason ? { stop_reason: reason } : {}) },
  });
}
