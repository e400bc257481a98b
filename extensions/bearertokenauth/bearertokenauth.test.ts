import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { AuthFailure, type Credentials } from '../../core/auth.ts';
import { errorsOf, settingsFor } from '../../test/component-config.ts';
import { configFor } from '../../test/component-config.ts';
import { testLogger, waitFor } from '../../test/helpers.ts';
import { BearerTokenAuthExtension, bearerTokenAuthFactory, type BearerTokenAuthConfig } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-bearer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ext = (user: Record<string, unknown>, lines: string[] = []) =>
  new BearerTokenAuthExtension(settingsFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, user, { id: 'bearertokenauth/test', logger: testLogger(lines) }));
const headers = (h: Record<string, string[]>): Credentials => ({ get: (n) => h[n] ?? [] });
const authz = (...v: string[]) => headers({ authorization: v });

/** The reason a credential is refused, or 'ok:<subject>'. */
async function outcome(e: BearerTokenAuthExtension, c: Credentials): Promise<string> {
  try {
    return `ok:${(await e.authenticate(c)).subject}`;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthFailure);
    return (err as AuthFailure).reason;
  }
}

describe('bearertokenauth config (the Collector contrib keys)', () => {
  it('defaults: header Authorization, scheme Bearer; one of token, tokens or filename', () => {
    expect(configFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, { token: 't' })).toMatchObject({ header: 'Authorization', scheme: 'Bearer', token: 't' });
    expect(errorsOf(() => configFor(bearerTokenAuthFactory as Factory, {}))).toEqual([': no bearer token provided: set token, tokens or filename']);
    expect(errorsOf(() => configFor(bearerTokenAuthFactory as Factory, { token: 'a', tokens: ['b'] }))).toEqual(['tokens: either tokens or token should be provided, not both']);
    expect(errorsOf(() => configFor(bearerTokenAuthFactory as Factory, { tokens: ['', { token: 'x', role: 'admin' }, { subject: 's' }, 7], header: 'a b', scheme: 'Bear er' }))).toEqual([
      'tokens[0]: expected a non-empty token string or {token, subject}',
      'tokens[1]: unknown key "role" (valid keys: token, subject)',
      'tokens[2].token: required: a non-empty string',
      'tokens[3]: expected a non-empty token string or {token, subject}',
      'header: not a valid header name: "a b"',
      'scheme: must be one token without spaces (e.g. Bearer), or empty',
    ]);
  });
});

describe('bearertokenauth authenticate', () => {
  const e = ext({ tokens: ['plain-token-1234', { token: 's3cret-token-A', subject: 'tenant-a' }] });

  it('accepts a configured token; its subject is the entry\'s, or the extension id', async () => {
    expect(await outcome(e, authz('Bearer s3cret-token-A'))).toBe('ok:tenant-a');
    expect(await outcome(e, authz('Bearer plain-token-1234'))).toBe('ok:bearertokenauth/test');
  });

  it('the scheme is case-insensitive (RFC 7235) and may be followed by several spaces; the token is exact', async () => {
    expect(await outcome(e, authz('bearer s3cret-token-A'))).toBe('ok:tenant-a');
    expect(await outcome(e, authz('BEARER   s3cret-token-A'))).toBe('ok:tenant-a');
    expect(await outcome(e, authz('Bearer S3CRET-TOKEN-A'))).toBe('invalid');
  });

  it('refuses: missing, two headers, wrong scheme, no token, a prefix or an extension of a token, other bytes', async () => {
    expect(await outcome(e, headers({}))).toBe('missing');
    expect(await outcome(e, authz('Bearer s3cret-token-A', 'Bearer s3cret-token-A'))).toBe('malformed');
    expect(await outcome(e, authz('Basic s3cret-token-A'))).toBe('malformed');
    expect(await outcome(e, authz('s3cret-token-A'))).toBe('malformed');
    expect(await outcome(e, authz('Bearer'))).toBe('malformed');
    expect(await outcome(e, authz('Bearer s3cret-token'))).toBe('invalid');
    expect(await outcome(e, authz('Bearer s3cret-token-AB'))).toBe('invalid');
    expect(await outcome(e, authz('Bearer s3cret-token-A\u00ff'))).toBe('invalid');
    expect(await outcome(e, authz(`Bearer ${'A'.repeat(100_000)}`))).toBe('invalid');
    // The refusal's message is ours: it never carries what was presented.
    try {
      e.authenticate(authz('Bearer s3cret-token'));
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('custom header and an empty scheme (the header is the token)', async () => {
    const x = ext({ header: 'X-Api-Key', scheme: '', token: 'k-123' });
    expect(x.credentialHeader).toBe('x-api-key');
    expect(await outcome(x, headers({ 'x-api-key': ['k-123'] }))).toBe('ok:bearertokenauth/test');
    expect(await outcome(x, headers({ 'x-api-key': ['Bearer k-123'] }))).toBe('invalid');
    expect(await outcome(x, authz('Bearer k-123'))).toBe('missing');
  });
});

describe('bearertokenauth filename', () => {
  it('reads tokens one a line, ignores token/tokens (as the Collector), and reloads a changed file, also replaced by rename', async () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, 'first-token\n\n  second-token  \n');
    const lines: string[] = [];
    const e = ext({ filename: file, token: 'ignored-token' }, lines);
    await e.start();
    try {
      expect(await outcome(e, authz('Bearer first-token'))).toBe('ok:bearertokenauth/test');
      expect(await outcome(e, authz('Bearer second-token'))).toBe('ok:bearertokenauth/test');
      expect(await outcome(e, authz('Bearer ignored-token'))).toBe('invalid');
      expect(lines.join('\n')).toContain('token and tokens are ignored');

      writeFileSync(file, 'rotated-token\n');
      await waitFor(async () => (await outcome(e, authz('Bearer rotated-token'))) === 'ok:bearertokenauth/test', 15_000, 'the rewritten file to be read');
      expect(await outcome(e, authz('Bearer first-token'))).toBe('invalid');

      // A secret mounted by Kubernetes is swapped by rename, not rewritten.
      writeFileSync(`${file}.new`, 'renamed-token\n');
      renameSync(`${file}.new`, file);
      await waitFor(async () => (await outcome(e, authz('Bearer renamed-token'))) === 'ok:bearertokenauth/test', 15_000, 'the renamed file to be read');
      expect(await outcome(e, authz('Bearer rotated-token'))).toBe('invalid');

      // Unreadable: the last tokens stay; an empty file accepts no one.
      rmSync(file);
      await new Promise((r) => setTimeout(r, 1200));
      expect(await outcome(e, authz('Bearer renamed-token'))).toBe('ok:bearertokenauth/test');
      writeFileSync(file, '\n');
      await waitFor(async () => (await outcome(e, authz('Bearer renamed-token'))) === 'invalid', 15_000, 'the empty file to be read');
      expect(lines.join('\n')).not.toMatch(/first-token|rotated-token|renamed-token/);
    } finally {
      await e.shutdown();
    }
  }, 20_000);

  it('sees a file rotated right after start, before a watcher would have taken its first look', async () => {
    const file = join(dir, 'tokens-early');
    writeFileSync(file, 'old-token\n');
    const e = ext({ filename: file });
    await e.start();
    try {
      // Synchronously after start: a poller that took its baseline later would think nothing changed.
      writeFileSync(file, 'new-token-after-start\n');
      await waitFor(async () => (await outcome(e, authz('Bearer new-token-after-start'))) === 'ok:bearertokenauth/test', 10_000, 'the file rotated at start to be read');
      expect(await outcome(e, authz('Bearer old-token'))).toBe('invalid');
    } finally {
      await e.shutdown();
    }
  });

  it('a token file that cannot be read fails the start with the reason', async () => {
    const e = ext({ filename: join(dir, 'absent') });
    await expect(e.start()).rejects.toThrow(/^filename: cannot read .*absent: ENOENT$/);
    await e.shutdown();
  });
});
