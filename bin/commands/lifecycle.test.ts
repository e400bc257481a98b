/** The pipeline's start/stop events carry the config's path and hash, never a credential from a fatal error. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { watchSecurityEvents, type SecurityEvent } from '../../core/security-events.ts';
import { pipelineEvent } from './lifecycle.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pipeline lifecycle events', () => {
  it('a stop reason holding credentials is scrubbed; the config is named and hashed, its contents never appear', () => {
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, 'extensions:\n  bearertokenauth:\n    tokens: [{token: "CANARY-config-token", subject: acme}]\n');
    const events: SecurityEvent[] = [];
    const stop = watchSecurityEvents((e) => events.push(e));
    try {
      pipelineEvent('pipeline.stop', config, '1.2.3', 'fatal: insert failed http://ingest:CANARY-url-pw@db:8123/ (Authorization: Bearer CANARY-bearer) password=CANARY-pw');
    } finally {
      stop();
    }
    expect(events).toHaveLength(1);
    const text = JSON.stringify({ ...events[0], time: String(events[0]!.time) });
    expect(text).not.toMatch(/CANARY/);
    expect(events[0]!.details).toMatchObject({ config, version: '1.2.3', config_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(events[0]!.details.stop_reason).toMatch(/^fatal: insert failed http:\/\/ingest:\*{4}@db:8123\//);
  });
});
