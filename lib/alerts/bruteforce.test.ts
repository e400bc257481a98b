import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/security-events.ts';
import type { AlertSignal } from '../detect/signal.ts';
import { addressOf, BruteforceDetector } from './bruteforce.ts';

const cfg = { enabled: true, window: 60_000, min_failures: 5, severity: 'warning' as const, max_sources: 3 };

function fail(source: string, surface = 'receiver/otlp', subject = 'svc'): SecurityEvent {
  return { time: 1n, category: 'authentication', action: 'otlp/http export', outcome: 'failure', subject, source, surface, reason: 'bad token', details: {} };
}

function detector() {
  const raised: AlertSignal[] = [];
  let now = 1_000_000;
  const d = new BruteforceDetector(cfg, { raise: (s) => raised.push(s) }, () => now);
  return { d, raised, advance: (ms: number) => (now += ms) };
}

describe('brute-force detector', () => {
  it('raises once min_failures from one source fall within the window, then adds up the rest per tick', () => {
    const { d, raised, advance } = detector();
    for (let i = 0; i < 4; i++) d.observe(fail('10.1.1.1:5000'));
    expect(raised).toHaveLength(0);
    d.observe(fail('10.1.1.1:5001'));
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ detector: 'receiver_auth_bruteforce', count: 5, source: '10.1.1.1', destination: 'receiver/otlp', principal: 'svc', key: 'receiver_auth_bruteforce|receiver/otlp|10.1.1.1' });
    for (let i = 0; i < 100; i++) d.observe(fail('10.1.1.1:6000'));
    expect(raised).toHaveLength(1);
    advance(1000);
    d.tick();
    expect(raised).toHaveLength(2);
    expect(raised[1]).toMatchObject({ count: 100, key: raised[0]!.key });
    d.tick();
    expect(raised).toHaveLength(2);
  });

  it('does not raise for failures spread wider than the window, nor for other outcomes', () => {
    const { d, raised, advance } = detector();
    for (let i = 0; i < 20; i++) {
      d.observe(fail('10.2.2.2'));
      advance(20_000);
    }
    for (let i = 0; i < 10; i++) d.observe({ ...fail('10.2.2.4'), category: 'data_access', outcome: 'denied' });
    expect(raised).toHaveLength(0);
  });

  it('a source blocked by the login throttle of its surface raises at once, with the failures seen', () => {
    const { d, raised } = detector();
    for (let i = 0; i < 3; i++) d.observe(fail('10.4.4.4', 'query_interface'));
    d.observe({ ...fail('10.4.4.4', 'query_interface'), outcome: 'rate_limited', reason: 'too many failed logins from this address' });
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ count: 3, destination: 'query_interface' });
    expect(raised[0]!.reason).toBe('3 refused authentications from 10.4.4.4 on query_interface, then blocked by its login throttle (too many failed logins from this address)');
  });

  it('counts per surface: failures split across two surfaces stay below the threshold', () => {
    const { d, raised } = detector();
    for (let i = 0; i < 4; i++) d.observe(fail('10.3.3.3', 'receiver/otlp'));
    for (let i = 0; i < 4; i++) d.observe(fail('10.3.3.3', 'query_interface'));
    expect(raised).toHaveLength(0);
    d.observe(fail('10.3.3.3', 'query_interface'));
    expect(raised[0]!.destination).toBe('query_interface');
  });

  it('tracks at most max_sources, letting the least recent go', () => {
    const { d } = detector();
    for (const s of ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5']) d.observe(fail(s));
    expect(d.tracked).toBe(3);
    expect(d.evicted).toBe(2);
  });

  it('keys a source by its address without the port', () => {
    expect(addressOf('10.0.0.1:443')).toBe('10.0.0.1');
    expect(addressOf('[::1]:443')).toBe('::1');
    expect(addressOf('::ffff:10.0.0.1')).toBe('::ffff:10.0.0.1');
    expect(addressOf('10.0.0.1')).toBe('10.0.0.1');
  });
});
