import bcrypt from 'bcryptjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { AuthFailure, type Credentials } from '../../core/auth.ts';
import { configFor, errorsOf, settingsFor } from '../../test/component-config.ts';
import { BasicAuthExtension, basicAuthFactory, BCRYPT_QUEUE, type BasicAuthConfig } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-basic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Cost 4: these tests are about the protocol, not bcrypt's cost.
const line = (user: string, pw: string) => `${user}:${bcrypt.hashSync(pw, 4).replace(/^\$2a\$/, '$2y$')}`;
const basic = (s: string | Buffer) => `Basic ${Buffer.from(s).toString('base64')}`;
const authz = (...v: string[]): Credentials => ({ get: (n) => (n === 'authorization' ? v : []) });

async function started(user: Record<string, unknown>) {
  const e = new BasicAuthExtension(settingsFor<BasicAuthConfig>(basicAuthFactory as Factory, user, { id: 'basicauth' }));
  await e.start();
  return e;
}

async function outcome(e: BasicAuthExtension, c: Credentials): Promise<string> {
  try {
    const ok = await e.authenticate(c);
    return `ok:${ok.subject}:${ok.attributes?.get('username')}`;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthFailure);
    return (err as AuthFailure).reason;
  }
}

describe('basicauth config', () => {
  it('needs htpasswd.file or .inline; client_auth is refused; only bcrypt entries, others refused with the reason', () => {
    expect(errorsOf(() => configFor(basicAuthFactory as Factory, {}))).toEqual(['htpasswd: no credential source provided: set htpasswd.file or htpasswd.inline']);
    expect(errorsOf(() => configFor(basicAuthFactory as Factory, { client_auth: { username: 'u', password: 'p' }, htpasswd: { inline: line('a', 'b') } }))).toEqual([
      'client_auth: not supported: no trailhouse exporter authenticates with basicauth; use htpasswd to authenticate senders',
    ]);
    const inline = [
      '# comment',
      'sha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=',
      'md5:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/',
      'des:rOx1X2pAexl8.',
      'plain:hunter2',
      'nocolon',
      'badbcrypt:$2y$10$short',
      line('good', 'pw'),
    ].join('\n');
    expect(errorsOf(() => configFor(basicAuthFactory as Factory, { htpasswd: { inline } }))).toEqual([
      'htpasswd.inline: line 2 (user "sha"): only bcrypt hashes are accepted (create with htpasswd -B): {SHA} is one unsalted SHA-1 (cracked at billions of guesses per second)',
      'htpasswd.inline: line 3 (user "md5"): only bcrypt hashes are accepted (create with htpasswd -B): MD5-crypt ($apr1$/$1$) is fast to crack',
      'htpasswd.inline: line 4 (user "des"): only bcrypt hashes are accepted (create with htpasswd -B): DES crypt keeps 8 characters of the password and is fast to crack',
      'htpasswd.inline: line 5 (user "plain"): only bcrypt hashes are accepted (create with htpasswd -B): not a recognised hash (a plain-text password?)',
      'htpasswd.inline: line 6: expected user:hash',
      'htpasswd.inline: line 7 (user "badbcrypt"): only bcrypt hashes are accepted (create with htpasswd -B): a malformed bcrypt hash',
    ]);
  });

  it('a weak entry in htpasswd.file fails the start with the reason; an unreadable file too', async () => {
    const file = join(dir, 'weak.htpasswd');
    writeFileSync(file, `${line('ok', 'pw')}\nold:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n`);
    await expect(started({ htpasswd: { file } })).rejects.toThrow(/line 2 \(user "old"\): only bcrypt hashes are accepted/);
    await expect(started({ htpasswd: { file: join(dir, 'absent') } })).rejects.toThrow(/^htpasswd\.file: cannot read .*absent: ENOENT$/);
  });
});

describe('basicauth authenticate', () => {
  it('accepts user:password against bcrypt ($2y$ as htpasswd -B writes it); inline overrides the file', async () => {
    const file = join(dir, 'users.htpasswd');
    writeFileSync(file, `${line('alice', 'old-password')}\n${line('bob', 'bob:pass word')}\n`);
    const e = await started({ htpasswd: { file, inline: line('alice', 'new-password') } });
    expect(await outcome(e, authz(basic('alice:new-password')))).toBe('ok:alice:alice');
    expect(await outcome(e, authz(basic('alice:old-password')))).toBe('invalid');
    // Only the first colon separates: the password may hold colons and spaces.
    expect(await outcome(e, authz(basic('bob:bob:pass word')))).toBe('ok:bob:bob');
    expect(await outcome(e, authz(`basic ${Buffer.from('bob:bob:pass word').toString('base64')}`))).toBe('ok:bob:bob');
  });

  it('refuses malformed credentials: no colon, not base64, not UTF-8, two headers, another scheme, unknown user', async () => {
    const e = await started({ htpasswd: { inline: line('alice', 'pw') } });
    expect(await outcome(e, authz())).toBe('missing');
    expect(await outcome(e, authz(basic('alicepw')))).toBe('malformed');
    expect(await outcome(e, authz('Basic !!!notbase64'))).toBe('malformed');
    expect(await outcome(e, authz('Basic YWxpY2U6cHc'))).toBe('malformed'); // unpadded
    expect(await outcome(e, authz(basic(Buffer.from([0x61, 0x3a, 0xff, 0xfe]))))).toBe('malformed');
    expect(await outcome(e, authz(basic('alice:pw'), basic('alice:pw')))).toBe('malformed');
    expect(await outcome(e, authz(`Bearer ${Buffer.from('alice:pw').toString('base64')}`))).toBe('malformed');
    expect(await outcome(e, authz(basic('mallory:pw')))).toBe('invalid');
    expect(await outcome(e, authz(basic('alice:p')))).toBe('invalid');
    expect(await outcome(e, authz(basic('alice:pw')))).toBe('ok:alice:alice');
  });

  it('remembers verifications: a repeated right or wrong credential costs no second bcrypt', async () => {
    const e = await started({ htpasswd: { inline: line('alice', 'pw') } });
    expect(await outcome(e, authz(basic('alice:pw')))).toBe('ok:alice:alice');
    expect(await outcome(e, authz(basic('alice:wrong')))).toBe('invalid');
    const n = e.verifications;
    for (let i = 0; i < 50; i++) {
      expect(await outcome(e, authz(basic('alice:pw')))).toBe('ok:alice:alice');
      expect(await outcome(e, authz(basic('alice:wrong')))).toBe('invalid');
    }
    expect(e.verifications).toBe(n);
    // A remembered success does not let another password in.
    expect(await outcome(e, authz(basic('alice:pw2')))).toBe('invalid');
    expect(e.verifications).toBe(n + 1);
  });

  it('a spray of new guesses beyond the bcrypt queue is refused as busy, not queued without bound', async () => {
    const e = await started({ htpasswd: { inline: line('alice', 'pw') } });
    const all = await Promise.all(Array.from({ length: BCRYPT_QUEUE + 50 }, (_, i) => outcome(e, authz(basic(`alice:guess-${i}`)))));
    expect(all.filter((o) => o === 'busy').length).toBeGreaterThan(0);
    expect(all.every((o) => o === 'busy' || o === 'invalid')).toBe(true);
    // Once the spray is over, the right password still works.
    expect(await outcome(e, authz(basic('alice:pw')))).toBe('ok:alice:alice');
  }, 60_000);
});
