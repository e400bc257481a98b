/**
 * The bearertokenauth extension, server side: a request is accepted when its
 * `header` (default Authorization) is `<scheme> <token>` for one of the
 * configured tokens. The scheme compares case-insensitively (RFC 7235), the
 * token byte for byte in constant time: both sides are hashed (SHA-256) and
 * the digests compared with timingSafeEqual against every token, so neither
 * a token's length nor which one matched shows in the timing.
 *
 * `filename` holds tokens one a line (blank lines skipped); it is re-read
 * when its size, mtime or inode changes (polled, so an atomic rename or a
 * Kubernetes secret's symlink swap is seen too). Changes are judged against
 * the file as it was when last read, not against the previous poll, so a
 * rotation right after start (before a watcher's first look) is not missed. A file that cannot be read
 * keeps the tokens last read; at start it is an error. An empty file accepts
 * no one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import type { Component, CreateSettings } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { AuthFailure, type AuthSuccess, type Credentials, type ServerAuthenticator } from '../../core/auth.ts';
import type { ClientAuthenticator } from '../../core/client-auth.ts';
import { tokenEntries, type BearerTokenAuthConfig } from './config.ts';

interface Accepted {
  digest: Buffer;
  subject: string;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

/** How often `filename` is checked for changes. */
export const FILE_POLL_MS = 500;

export class BearerTokenAuthExtension implements Component, ServerAuthenticator, ClientAuthenticator {
  readonly credentialHeader: string;
  readonly challenge: string;
  private accepted: Accepted[] = [];
  /** The file as it was when its tokens were read. */
  private loaded: Stats | undefined;
  private poller: NodeJS.Timeout | undefined;
  /** The error last reported while polling, so one failure is logged once. */
  private pollError: string | undefined;
  private readonly scheme: string;
  /** What an exporter naming this extension sends: `token`, else the first of `tokens`, else the file's first token. */
  private clientToken: string;

  constructor(private readonly settings: CreateSettings<BearerTokenAuthConfig>) {
    const c = settings.config;
    this.credentialHeader = c.header.toLowerCase();
    this.scheme = c.scheme.toLowerCase();
    this.challenge = `${c.scheme || 'Bearer'} realm="trailhouse"`;
    const entries = tokenEntries(c);
    this.clientToken = entries[0]?.token ?? '';
    if (!c.filename) this.accepted = this.entries(entries.map((e) => [e.token, e.subject]));
  }

  private entries(list: Array<[string, string]>): Accepted[] {
    return list.map(([token, subject]) => ({ digest: sha256(Buffer.from(token, 'utf8')), subject: subject || this.settings.id }));
  }

  private load(): Accepted[] {
    // Stat first: a change racing the read is seen by the next poll.
    const st = statSync(this.settings.config.filename);
    const text = readFileSync(this.settings.config.filename, 'utf8');
    this.loaded = st;
    const tokens = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    this.clientToken = tokens[0] ?? '';
    return this.entries(tokens.map((t) => [t, '']));
  }

  async start(): Promise<void> {
    const c = this.settings.config;
    if (!c.filename) return;
    if (c.token || c.tokens.length) this.settings.logger.warn('filename is set: token and tokens are ignored', { filename: c.filename });
    try {
      this.accepted = this.load();
    } catch (err) {
      throw new Error(`filename: cannot read ${c.filename}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    if (this.accepted.length === 0) this.settings.logger.warn('the token file holds no token: every request will be refused', { filename: c.filename });
    this.poller = setInterval(this.poll, FILE_POLL_MS);
    this.poller.unref();
  }

  private readonly poll = (): void => {
    const filename = this.settings.config.filename;
    try {
      const cur = statSync(filename);
      const was = this.loaded;
      if (was && cur.mtimeMs === was.mtimeMs && cur.size === was.size && cur.ino === was.ino) return;
      this.accepted = this.load();
      this.pollError = undefined;
      this.settings.logger.info('token file reloaded', { filename, tokens: this.accepted.length });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (code === this.pollError) return;
      this.pollError = code;
      this.settings.logger.error('cannot reload the token file; keeping the tokens last read', { filename, error: code });
    }
  };

  authenticate(creds: Credentials): AuthSuccess {
    const values = creds.get(this.credentialHeader);
    if (values.length === 0) throw new AuthFailure('missing', `no ${this.settings.config.header} header`);
    if (values.length > 1) throw new AuthFailure('malformed', `more than one ${this.settings.config.header} header`);
    const value = values[0]!;
    let token = value;
    if (this.scheme) {
      const sp = value.indexOf(' ');
      if (sp < 0 || value.slice(0, sp).toLowerCase() !== this.scheme) throw new AuthFailure('malformed', `expected "${this.settings.config.scheme} <token>"`);
      token = value.slice(sp + 1).replace(/^ +/, '');
    }
    // Header values arrive as latin1 strings: their bytes are the bytes sent.
    const digest = sha256(Buffer.from(token, 'latin1'));
    let match: Accepted | undefined;
    for (const a of this.accepted) if (timingSafeEqual(a.digest, digest) && !match) match = a;
    if (!match) throw new AuthFailure('invalid', 'the token is not accepted');
    return { subject: match.subject };
  }

  /**
   * Client side (an exporter's `auth: {authenticator: bearertokenauth}`):
   * `header: <scheme> <token>`, the token as last read from `filename` when set.
   */
  clientHeaders(): Record<string, string> {
    const c = this.settings.config;
    if (!this.clientToken) throw new Error(`${this.settings.id}: no token to send (set token, tokens or a non-empty filename)`);
    return { [this.credentialHeader]: c.scheme ? `${c.scheme} ${this.clientToken}` : this.clientToken };
  }

  readonly shutdown = once(async () => {
    clearInterval(this.poller);
    this.poller = undefined;
  });
}
