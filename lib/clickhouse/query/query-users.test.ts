/** Users, hashes and the login throttle, without a server. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { decode, type ConfigError } from '../../../core/config/schema.ts';
import { clickhouseSchema, defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from '../../../exporters/clickhouse/config.ts';
import { LoginThrottle, sourceKey } from './login-throttle.ts';
import { UserDirectory, type QueryUserConfig } from './query-users.ts';

const HASH = bcrypt.hashSync('right', 8);
const SHA = createHash('sha256').update('fast-right').digest('hex');
const users: Record<string, QueryUserConfig> = {
  sre: { password_bcrypt_hash: HASH, password_sha256_hex: null, role: 'reader' },
  soc2: { password_bcrypt_hash: null, password_sha256_hex: SHA, role: 'auditor' },
};

afterEach(() => vi.restoreAllMocks());

describe('UserDirectory', () => {
  it('verifies bcrypt and sha256 users and gives their role', async () => {
    const d = new UserDirectory(users);
    expect(await d.verify('sre', 'right')).toBe('reader');
    expect(await d.verify('soc2', 'fast-right')).toBe('auditor');
    expect(await d.verify('sre', 'wrong')).toBeNull();
    expect(await d.verify('soc2', SHA)).toBeNull();
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) expect(await d.verify(name, 'right')).toBeNull();
  });

  it('an unknown user costs one bcrypt, as a wrong password does; so does a sha256 user\'s wrong password', async () => {
    const d = new UserDirectory(users);
    const compare = vi.spyOn(bcrypt, 'compare');
    await d.verify('nobody', 'x');
    expect(compare).toHaveBeenCalledTimes(1);
    await d.verify('sre', 'x');
    expect(compare).toHaveBeenCalledTimes(2);
    await d.verify('soc2', 'x');
    expect(compare).toHaveBeenCalledTimes(3);
    // A password past bcrypt's 72 bytes does not match on its prefix, and still costs one.
    expect(await d.verify('sre', 'right' + 'x'.repeat(80))).toBeNull();
    expect(compare).toHaveBeenCalledTimes(4);
  });

  it('remembers a successful bcrypt verification (not a failure), for a while only', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const d = new UserDirectory(users, { cacheTtlMs: 1000 });
      const compare = vi.spyOn(bcrypt, 'compare');
      expect(await d.verify('sre', 'right')).toBe('reader');
      expect(await d.verify('sre', 'right')).toBe('reader');
      expect(compare).toHaveBeenCalledTimes(1);
      expect(await d.verify('sre', 'righ')).toBeNull();
      expect(await d.verify('sre', 'righ')).toBeNull();
      expect(compare).toHaveBeenCalledTimes(3);
      vi.setSystemTime(Date.now() + 1001);
      expect(await d.verify('sre', 'right')).toBe('reader');
      expect(compare).toHaveBeenCalledTimes(4);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('LoginThrottle', () => {
  const cfg = { max_failures: 3, window: 10_000, block_duration: 60_000, max_sources: 4 };

  it('blocks a source after max_failures within the window, for block_duration; others are unaffected', () => {
    let now = 1_000_000;
    const t = new LoginThrottle(cfg, () => now);
    expect([t.fail('a'), t.fail('a'), t.fail('a')]).toEqual([false, false, true]);
    expect(t.blockedFor('a')).toBe(60);
    expect(t.blockedFor('b')).toBe(0);
    t.succeed('a'); // a right password does not lift a block
    expect(t.blockedFor('a')).toBe(60);
    now += 60_001;
    expect(t.blockedFor('a')).toBe(0);
    // Failures spread wider than the window do not add up.
    t.fail('c');
    now += 10_001;
    t.fail('c');
    now += 10_001;
    expect(t.fail('c')).toBe(false);
  });

  it('a successful login does not clear the count (one account must not reset the guessing at another)', () => {
    const t = new LoginThrottle(cfg, () => 1_000_000);
    t.fail('a');
    t.fail('a');
    t.succeed('a');
    expect(t.fail('a')).toBe(true);
    expect(t.blockedFor('a')).toBe(60);
  });

  it('tracks at most max_sources, dropping the oldest; 0 failures = off', () => {
    const t = new LoginThrottle(cfg, () => 5);
    for (let i = 0; i < 100; i++) t.fail(`10.0.0.${i}`);
    expect(t.size).toBe(4);
    const off = new LoginThrottle({ ...cfg, max_failures: 0 });
    for (let i = 0; i < 10; i++) off.fail('a');
    expect(off.blockedFor('a')).toBe(0);
  });

  it('keys IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(sourceKey('10.1.2.3')).toBe('10.1.2.3');
  });
});

describe('config', () => {
  function load(user: unknown): { cfg: ClickHouseConfig; errors: string[] } {
    const errors: ConfigError[] = [];
    const cfg = decode(clickhouseSchema, defaultClickHouseConfig(), user, '', errors) as ClickHouseConfig;
    return { cfg, errors: [...errors, ...validateClickHouse(cfg)].map((e) => `${e.path}: ${e.message}`) };
  }

  it('takes hashed users with roles, TLS, throttle and insecure', () => {
    const { cfg, errors } = load({
      query_endpoint: '0.0.0.0:8123',
      query_users: { sre: { password_bcrypt_hash: HASH, role: 'reader' }, 'soc2@corp': { password_sha256_hex: SHA, role: 'auditor' } },
      query_tls: { cert_file: '/c', key_file: '/k', client_ca_file: '/ca' },
      query_login_throttle: { max_failures: 10, window: '5m' },
    });
    expect(errors).toEqual([]);
    expect(cfg.query_users!.sre!.role).toBe('reader');
    expect(cfg.query_login_throttle).toEqual({ max_failures: 10, window: 300_000, block_duration: 300_000, max_sources: 10_000 });
    expect(cfg.query_tls).toMatchObject({ client_ca_file: '/ca', min_version: '1.2' });
  });

  it('refuses plain passwords, the old query_auth, bad hashes and roles, saying how to write a hash and never echoing the password', () => {
    const { errors } = load({
      query_auth: { username: 'sre', password: 'hunter2' },
      query_users: {
        a: { password: 'hunter2', role: 'reader' },
        b: { password_bcrypt_hash: 'hunter2', role: 'reader' },
        c: { password_sha256_hex: 'abc', role: 'admin' },
        d: { password_bcrypt_hash: HASH, password_sha256_hex: SHA },
        'bad name': { password_sha256_hex: SHA, role: 'reader' },
      },
    });
    expect(errors.join('\n')).not.toContain('hunter2');
    expect(errors.some((e) => /^query_auth: replaced by query_users .*trailhouse hash-password/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.a\.password: plain-text passwords are not accepted: .*hash-password/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.b\.password_bcrypt_hash: expected a bcrypt hash/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.c\.password_sha256_hex: expected 64 hex digits/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.c\.role: expected one of reader, auditor/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.d: give exactly one of/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.d\.role: required/.test(e))).toBe(true);
    expect(errors.some((e) => /^query_users\.bad name: a user name is/.test(e))).toBe(true);
  });

  it('fails closed: a non-loopback query_endpoint without users is refused unless query_insecure', () => {
    expect(load({ query_endpoint: '0.0.0.0:8123' }).errors).toEqual([
      'query_endpoint: 0.0.0.0:8123 is not loopback and no query_users are configured: anyone who reaches it could read every audit event; configure query_users, bind to 127.0.0.1, or set query_insecure: true to accept that',
    ]);
    expect(load({ query_endpoint: '[::]:8123' }).errors).toHaveLength(1);
    expect(load({ query_endpoint: '0.0.0.0:8123', query_insecure: true }).errors).toEqual([]);
    for (const ep of ['127.0.0.1:8123', 'localhost:8123', '[::1]:8123', '127.1.2.3:0']) expect(load({ query_endpoint: ep }).errors).toEqual([]);
    expect(load({ endpoint: 'http://ch:8123', query_users: { a: { password_sha256_hex: SHA, role: 'reader' } } }).errors.map((e) => e.split(':')[0])).toEqual(['query_users']);
  });
});
