/**
 * The console's HTTP server: login, sessions, the pages and their JSON,
 * the one write (alert triage). Server-rendered HTML without any script;
 * every answer carries a strict Content-Security-Policy and no-store.
 *
 * Who may do what:
 * - with users (the store's query_users): nothing but /login and the
 *   stylesheet without a session; a page answers a redirect to /login, a
 *   JSON endpoint 401;
 * - without users: anyone who reaches it reads as the anonymous `reader`
 *   (the listener refuses a non-loopback address unless `insecure`), and
 *   triage is refused (it needs an authenticated `responder`);
 * - reads go through the query interface's admission for the user's role
 *   (query.ts): an auditor's trace or log page is refused by the same rule
 *   that refuses their SELECT on the query interface (403);
 * - POSTs (logout, triage) need the session's CSRF token, a same-origin
 *   Origin when one is sent, and a form body of at most 16 KiB.
 * Odd paths (dot segments, encoded slashes, backslashes) are refused (400)
 * rather than normalised.
 */
import http from 'node:http';
import https from 'node:https';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { httpsOptions, loadTls, type TlsServerConfig } from '../../core/tls.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { TriageService } from '../alerts/triage.ts';
import type { ConsoleAuth } from './auth.ts';
import { notice, page, type PageUser } from './html.ts';
import { alertsPage, triagePost } from './pages/alerts.ts';
import { auditApi, auditPage } from './pages/audit.ts';
import { BadRequest, html, json, type Answer, type Ctx } from './pages/context.ts';
import { integrityPage } from './pages/integrity.ts';
import { NotKept, renderReport, reportSetFile, reportSetPage, reportsPage, type Reporting } from './pages/reports.ts';
import { ReportSets, type ReportSetFile } from './report-sets.ts';
import type { SharedIntegrity } from '../audit/shared-integrity.ts';
import type { VerifySource } from '../audit/verify-store.ts';
import { traceApi, tracePage } from './pages/trace.ts';
import { ConsoleQueryError, type Caller, type ConsoleQuery } from './query.ts';
import { csrfOk, Sessions, type SessionLimits } from './sessions.ts';
import { CONSOLE_CSS } from './style.ts';

export interface ConsoleServerOptions {
  endpoint: string;
  tls: TlsServerConfig | null;
  insecure: boolean;
  query: ConsoleQuery;
  auth: ConsoleAuth;
  sessions: SessionLimits;
  triage: TriageService | null;
  logger: Logger;
  /** The pipeline's signed audit log (its key signs the reports), asked per request; default none. */
  integrity?: () => SharedIntegrity | undefined;
  /** The pipeline's own store for the reports' verify run; default none. */
  verifySource?: VerifySource | null;
}

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const MAX_URL = 8192;
const MAX_FORM = 16 * 1024;
const ODD_PATH = /(^|\/)(\.|%2e){1,2}(\/|$)|%2f|%5c|\\|\/\/|%00/i;

class HttpAnswer extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return Promise.reject(new HttpAnswer(415, 'expected a form (application/x-www-form-urlencoded)'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new HttpAnswer(408, 'the form did not arrive within 10 s'));
    }, 10_000);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM) {
        clearTimeout(timer);
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpAnswer(413, `the form is larger than ${MAX_FORM} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export class ConsoleServer {
  private server: http.Server | undefined;
  private readonly sessions: Sessions;
  private secure = false;
  private readonly reporting: Reporting;

  constructor(private readonly o: ConsoleServerOptions) {
    this.sessions = new Sessions(o.sessions);
    this.reporting = { sets: new ReportSets(), integrity: o.integrity ?? (() => undefined), verifySource: o.verifySource ?? null };
  }

  async start(): Promise<void> {
    const i = this.o.endpoint.lastIndexOf(':');
    const host = this.o.endpoint.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(this.o.endpoint.slice(i + 1));
    if (!this.o.auth.required && !isLoopbackHost(host) && !this.o.insecure) {
      throw new Error(`console endpoint ${this.o.endpoint}: refusing to serve the store without users on a non-loopback address: configure query_users on the store, bind the console to 127.0.0.1, or set insecure: true`);
    }
    const handler: http.RequestListener = (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.o.logger.warn('console request failed', { error: err });
        res.destroy();
      });
    };
    const server = this.o.tls ? https.createServer(httpsOptions(await loadTls(this.o.tls, 'console.tls')), handler) : http.createServer({ maxHeaderSize: 16 * 1024 }, handler);
    this.secure = !!this.o.tls;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException) => reject(new Error(`console endpoint ${this.o.endpoint}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`, { cause: err }));
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        resolve();
      });
    });
    this.server = server;
    this.o.logger.info('console listening', { url: this.url, authentication: this.o.auth.required ? 'required' : 'none (loopback reader)', tls: this.secure });
    if (!isLoopbackHost(host) && !this.secure) this.o.logger.warn('console passwords and session cookies cross the network in clear text: set console tls', { url: this.url });
  }

  get url(): string {
    const a = this.server?.address();
    if (typeof a !== 'object' || !a) return '';
    return `${this.secure ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  private send(res: http.ServerResponse, a: Answer): void {
    res.statusCode = a.status;
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Content-Type', a.type === 'json' ? 'application/json; charset=UTF-8' : 'text/html; charset=UTF-8');
    for (const [k, v] of Object.entries(a.headers ?? {})) res.setHeader(k, v);
    res.setHeader('Content-Length', Buffer.byteLength(a.body));
    res.end(a.body);
  }

  private redirect(res: http.ServerResponse, to: string, cookie?: string): void {
    res.statusCode = 303;
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Location', to);
    if (cookie) res.setHeader('Set-Cookie', cookie);
    res.end();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on our own form POSTs.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'no-store');
    if (this.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    const remote = req.socket.remoteAddress ?? '';
    const raw = req.url ?? '/';
    const method = req.method ?? 'GET';
    const apiPath = raw.startsWith('/api/');
    const fail = (status: number, message: string, who: PageUser | null = null) => {
      if (!req.complete) req.resume();
      this.send(res, apiPath ? json({ error: message }, status) : html(page('Not possible', who, `${notice('error', message)}<p><a href="/">Back to the console</a></p>`), status));
    };
    if (raw.length > MAX_URL) return fail(414, `the URL is longer than ${MAX_URL} characters`);
    const pathOnly = raw.split('?')[0]!;
    if (!raw.startsWith('/') || ODD_PATH.test(pathOnly)) return fail(400, 'this path is not served (no dot segments, encoded or doubled slashes)');
    let url: URL;
    try {
      url = new URL(raw, 'http://console.invalid');
    } catch {
      return fail(400, 'the URL does not parse');
    }
    const path = url.pathname;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return fail(405, 'GET, HEAD or POST only');
    if (path === '/static/console.css') {
      req.resume();
      res.setHeader('Cache-Control', 'max-age=3600');
      return this.send(res, { status: 200, type: 'html', body: CONSOLE_CSS, headers: { 'Content-Type': 'text/css; charset=UTF-8' } });
    }
    if (method === 'POST') {
      // A cross-site form is also stopped by SameSite=Strict and the CSRF token; a foreign Origin is refused outright.
      const origin = req.headers.origin;
      const host = req.headers.host ?? '';
      if (origin !== undefined && origin !== `${this.secure ? 'https' : 'http'}://${host}`) {
        this.o.auth.refused(remote, 'csrf', `cross-origin POST from ${origin.slice(0, 200)}`);
        return fail(403, 'a POST from another origin is refused');
      }
    }
    if (path === '/login') return this.login(req, res, method, url);
    // A source blocked for failed logins or forged cookies gets nothing but the login page's 429.
    const wait = this.o.auth.blockedFor(remote);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      return fail(429, `too many failed logins or refused requests from this address: retry after ${wait}s`);
    }
    const found = this.sessions.find(req.headers.cookie);
    let caller: Caller;
    let who: PageUser;
    if (this.o.auth.required) {
      if (!found) {
        req.resume();
        if (req.headers.cookie?.includes('th_console=')) this.o.auth.refused(remote, 'session', 'unknown, expired or malformed session cookie');
        if (apiPath) return this.send(res, json({ error: 'log in first (POST /login)' }, 401));
        return this.redirect(res, `/login${path === '/' || method !== 'GET' ? '' : `?next=${encodeURIComponent(path + url.search)}`}`);
      }
      caller = { user: found.session.user, role: found.session.role, remote, authenticated: true };
      who = { user: caller.user, role: caller.role, authenticated: true, csrf: found.session.csrf };
    } else {
      caller = { user: 'default', role: 'reader', remote, authenticated: false };
      who = { user: 'default', role: 'reader', authenticated: false, csrf: '' };
    }
    const ctx: Ctx = { q: this.o.query, caller, who, url };
    try {
      if (method === 'POST') {
        const form = await readForm(req);
        if (!found || !csrfOk(found.session, form.get('csrf') ?? undefined)) {
          this.o.auth.refused(remote, 'csrf', 'a POST without the session\'s CSRF token', caller.user);
          return fail(403, found ? 'the form is missing its CSRF token (reload the page)' : 'log in first: this needs an authenticated user', who);
        }
        if (path === '/logout') {
          this.sessions.end(found.id);
          return this.redirect(res, '/login', Sessions.cleared(this.secure));
        }
        const m = /^\/alerts\/([^/]+)\/triage$/.exec(path);
        if (!m) return fail(404, 'nothing to POST here', who);
        const r = await triagePost(ctx, this.o.triage, this.o.logger, m[1]!, form);
        return 'redirect' in r ? this.redirect(res, r.redirect) : this.send(res, r);
      }
      req.resume();
      return this.send(res, await this.route(ctx, path));
    } catch (err) {
      if (err instanceof HttpAnswer) return fail(err.status, err.message, who);
      if (err instanceof BadRequest) return fail(400, err.message, who);
      if (err instanceof NotKept) return fail(404, err.message, who);
      if (err instanceof ConsoleQueryError) {
        if (err.refused) return fail(403, `your role (${caller.role}) may not read this: ${err.message}`, who);
        if (err.code === 202) {
          res.setHeader('Retry-After', '1');
          return fail(503, 'the store is busy: retry shortly', who);
        }
        return fail(err.missing ? 404 : 500, err.message, who);
      }
      this.o.logger.error('console page failed', { path, error: err });
      return fail(500, 'the page could not be built: see the pipeline log', who);
    }
  }

  private async route(ctx: Ctx, path: string): Promise<Answer> {
    if (path === '/') return { status: 303, type: 'html', body: '', headers: { Location: '/audit' } };
    if (path === '/audit') return auditPage(ctx);
    if (path === '/api/audit') return auditApi(ctx);
    let m = /^\/trace\/([^/]*)$/.exec(path);
    if (m) return tracePage(ctx, m[1]!);
    m = /^\/api\/trace\/([^/]*)$/.exec(path);
    if (m) return traceApi(ctx, m[1]!);
    if (path === '/alerts') return alertsPage(ctx, this.o.triage);
    if (path === '/integrity') return integrityPage(ctx);
    if (path === '/reports') return reportsPage(ctx, this.reporting);
    if (path === '/reports/render') return renderReport(ctx, this.reporting);
    m = /^\/reports\/([0-9a-f]{32})(?:\/(view|report\.html|report\.json|report\.sig))?$/.exec(path);
    if (m) return m[2] ? reportSetFile(ctx, this.reporting, m[1]!, m[2] as ReportSetFile | 'view') : reportSetPage(ctx, this.reporting, m[1]!);
    throw new HttpAnswer(404, `no page ${path.slice(0, 100)}`);
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse, method: string, url: URL): Promise<void> {
    if (!this.o.auth.required) {
      req.resume();
      return this.redirect(res, '/audit');
    }
    const next = url.searchParams.get('next') ?? '';
    // Only a path of this console: never another site (open redirect).
    const safeNext = /^\/(?!\/)[\x21-\x5b\x5d-\x7e]*$/.test(next) && !ODD_PATH.test(next.split('?')[0]!) ? next : '/audit';
    const form = (message: string) =>
      page('Log in', null, `${message}<form class="login" method="post" action="/login${next ? `?next=${encodeURIComponent(safeNext)}` : ''}">
<label>User<input name="user" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form><p class="muted">The users and roles of the store's query interface (query_users).</p>`);
    if (method !== 'POST') {
      req.resume();
      return this.send(res, html(form('')));
    }
    let body: URLSearchParams;
    try {
      body = await readForm(req);
    } catch (err) {
      const status = err instanceof HttpAnswer ? err.status : 400;
      return this.send(res, html(form(notice('error', (err as Error).message)), status));
    }
    const r = await this.o.auth.login(body.get('user') ?? '', body.get('password') ?? '', req.socket.remoteAddress ?? '');
    if (!r.ok) {
      if (r.retryAfter) res.setHeader('Retry-After', String(r.retryAfter));
      return this.send(res, html(form(notice('error', r.reason)), r.status));
    }
    // A fresh id at every login: a cookie planted before it is never adopted.
    const old = this.sessions.find(req.headers.cookie);
    if (old) this.sessions.end(old.id);
    const { id } = this.sessions.create(r.user, r.role);
    return this.redirect(res, safeNext, this.sessions.cookie(id, this.secure));
  }
}
