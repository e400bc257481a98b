/**
 * The credentials a query request carries, read the ways ClickHouse's HTTP
 * interface takes them: `Authorization: Basic` (what @clickhouse/client and
 * Grafana send) or `X-ClickHouse-User` / `X-ClickHouse-Key` (what curl users
 * and `trailhouse query` send); the user name alone may also come as the
 * `user` URL parameter.
 *
 * Refused, with the reason and never the value:
 * - a `password` URL parameter (URLs end up in proxy logs, shell history and
 *   Referer headers);
 * - credentials given two ways (Basic and X-ClickHouse-*, header and URL user)
 *   or a header given twice: which one would win is exactly what an attacker
 *   probes for (Node keeps the first Authorization and joins other repeats);
 * - an Authorization header that is not well-formed Basic.
 */
import type http from 'node:http';
import { isUtf8 } from 'node:buffer';

export type Credentials =
  | { ok: true; user: string; password: string; presented: boolean }
  /** `malformed`: the request is wrong however it is retried (400); `missing`: no credentials (401). */
  | { ok: false; kind: 'malformed' | 'missing'; reason: string; user: string };

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function count(raw: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++;
  return n;
}

export function readCredentials(req: http.IncomingMessage, url: URL): Credentials {
  const raw = req.rawHeaders;
  const userParam = url.searchParams.getAll('user');
  // Any spelling: `PASSWORD=` is not ClickHouse's parameter, but the secret is in the URL all the same.
  if ([...url.searchParams.keys()].some((k) => k.toLowerCase() === 'password')) {
    return { ok: false, kind: 'malformed', reason: 'a password in the URL is refused (URLs are logged by proxies and shells): send it as Basic auth or the X-ClickHouse-Key header', user: '' };
  }
  const nAuth = count(raw, 'authorization');
  const nUser = count(raw, 'x-clickhouse-user');
  const nKey = count(raw, 'x-clickhouse-key');
  if (nAuth > 1 || nUser > 1 || nKey > 1 || userParam.length > 1) {
    return { ok: false, kind: 'malformed', reason: 'credentials are given more than once (a repeated Authorization, X-ClickHouse-User, X-ClickHouse-Key or user)', user: '' };
  }
  if (nAuth && (nUser || nKey || userParam.length)) {
    return { ok: false, kind: 'malformed', reason: 'credentials are given two ways (Authorization and X-ClickHouse-User/X-ClickHouse-Key or the user parameter): send one', user: '' };
  }
  if (nUser && userParam.length) {
    return { ok: false, kind: 'malformed', reason: 'the user is given two ways (X-ClickHouse-User and the user parameter): send one', user: '' };
  }
  if (nAuth) {
    const h = req.headers.authorization ?? '';
    const m = /^Basic +([^ ]+) *$/i.exec(h);
    if (!m) return { ok: false, kind: 'malformed', reason: 'only Basic authorization is accepted', user: '' };
    const b64 = m[1]!;
    const bytes = B64.test(b64) ? Buffer.from(b64, 'base64') : null;
    const colon = bytes ? bytes.indexOf(0x3a) : -1;
    if (!bytes || !isUtf8(bytes) || colon < 0) return { ok: false, kind: 'malformed', reason: 'the Basic credentials are not base64 of UTF-8 user:password', user: '' };
    const text = bytes.toString('utf8');
    const i = text.indexOf(':');
    return { ok: true, user: text.slice(0, i), password: text.slice(i + 1), presented: true };
  }
  const user = (req.headers['x-clickhouse-user'] as string | undefined) ?? userParam[0];
  const key = req.headers['x-clickhouse-key'] as string | undefined;
  if (user === undefined && key === undefined) return { ok: false, kind: 'missing', reason: 'no credentials: send Basic auth or X-ClickHouse-User/X-ClickHouse-Key', user: '' };
  // ClickHouse's defaults: no user is `default`, no key is the empty password.
  return { ok: true, user: user ?? 'default', password: key ?? '', presented: true };
}
