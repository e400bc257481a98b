import { describe, expect, it, vi } from 'vitest';
import type { SecurityEvent } from './security-events.ts';

const event = (sql: string): SecurityEvent => ({
  time: 1n, category: 'data_access', action: 'query', outcome: 'allowed', subject: 'sre', source: '127.0.0.1', surface: 'query_interface', reason: '', details: { sql },
});

describe('security events raised before a writer subscribes', () => {
  it('are kept up to 10000 and 16 MiB, then dropped and counted; the first subscriber gets them', async () => {
    vi.resetModules();
    const m = await import('./security-events.ts');
    for (let i = 0; i < 10; i++) m.emitSecurityEvent(event('x'.repeat(4 * 1024 * 1024)));
    for (let i = 0; i < 5; i++) m.emitSecurityEvent(event('small'));
    expect(m.droppedSecurityEvents()).toBe(7);
    const got: SecurityEvent[] = [];
    const off = m.onSecurityEvent((e) => got.push(e));
    expect(got.map((e) => e.details.sql!.length)).toEqual([4194304, 4194304, 4194304, 5, 5, 5, 5, 5]);
    m.emitSecurityEvent(event('later'));
    expect(got).toHaveLength(9);
    off();
  });
});
