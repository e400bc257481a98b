/**
 * The forward protocol's shared-key handshake (Forward Protocol v1,
 * "Handshake Messages"), server side:
 *
 *   server → HELO  ["HELO", {nonce, auth: user-auth salt or "", keepalive: true}]
 *   client → PING  ["PING", client_hostname, shared_key_salt,
 *                   sha512_hex(shared_key_salt + client_hostname + nonce + shared_key),
 *                   username, sha512_hex(auth_salt + username + password)]
 *   server → PONG  ["PONG", ok, reason, self_hostname,
 *                   sha512_hex(shared_key_salt + self_hostname + nonce + shared_key)]
 *
 * The key itself never crosses the wire; a fresh nonce per connection makes
 * a recorded PING useless on another. Digests are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ForwardSecurity } from './config.ts';
import { encode } from './msgpack.ts';

export interface Helo {
  nonce: Buffer;
  /** Empty without user_auth. */
  authSalt: Buffer;
  bytes: Buffer;
}

export function helo(sec: ForwardSecurity): Helo {
  const nonce = randomBytes(16);
  const authSalt = sec.user_auth ? randomBytes(16) : Buffer.alloc(0);
  return { nonce, authSalt, bytes: encode(['HELO', { nonce, auth: authSalt, keepalive: true }]) };
}

export interface PingResult {
  ok: boolean;
  /** Ours, never the client's text; '' when ok. */
  reason: string;
  /** What the client calls itself (its self_hostname). */
  hostname: string;
  /** The user name it presented ('' without user auth). */
  username: string;
  /** The PONG to send back. */
  pong: Buffer;
}

function raw(v: unknown): Buffer | undefined {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

function sha512hex(...parts: Buffer[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function sameText(a: Buffer, b: string): boolean {
  const bb = Buffer.from(b, 'utf8');
  return a.length === bb.length && timingSafeEqual(a, bb);
}

/** Checks a PING against the HELO this connection was sent. */
export function checkPing(msg: unknown, sec: ForwardSecurity, h: Helo): PingResult {
  const fail = (reason: string, hostname = '', username = ''): PingResult => ({
    ok: false,
    reason,
    hostname,
    username,
    pong: encode(['PONG', false, reason, '', '']),
  });
  if (!Array.isArray(msg) || msg[0] !== 'PING') return fail('expected PING after HELO (this server requires the shared-key handshake)');
  if (msg.length !== 6) return fail(`PING must have 6 elements, got ${msg.length}`);
  const hostname = typeof msg[1] === 'string' ? msg[1] : undefined;
  const salt = raw(msg[2]);
  const digest = raw(msg[3]);
  const username = typeof msg[4] === 'string' ? msg[4] : raw(msg[4])?.toString('utf8');
  const passDigest = raw(msg[5]);
  if (hostname === undefined || !salt || !digest || username === undefined || !passDigest) return fail('PING fields have the wrong types');
  const key = Buffer.from(sec.shared_key, 'utf8');
  if (!sameText(digest, sha512hex(salt, Buffer.from(hostname, 'utf8'), h.nonce, key))) return fail('shared_key mismatch', hostname, username);
  if (sec.user_auth) {
    const user = sec.users.find((u) => u.username === username);
    // Compute a digest even for an unknown user, so timing does not tell which names exist.
    const want = sha512hex(h.authSalt, Buffer.from(username, 'utf8'), Buffer.from(user?.password ?? '\u0000', 'utf8'));
    if (!sameText(passDigest, want) || !user) return fail('username/password mismatch', hostname, username);
  }
  const pong = encode(['PONG', true, '', sec.self_hostname, sha512hex(salt, Buffer.from(sec.self_hostname, 'utf8'), h.nonce, key)]);
  return { ok: true, reason: '', hostname, username: sec.user_auth ? username : '', pong };
}
