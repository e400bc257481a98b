/**
 * Authenticating receivers' senders: the seam between a receiver's HTTP or
 * gRPC server and an authenticator extension (extensions/bearertokenauth,
 * extensions/basicauth), as the Collector's `configauth` does it.
 *
 * Each server calls the hook first, before it reads or decodes a body: HTTP
 * handlers `await auth.http(req, res)` at their top; gRPC servers install
 * `auth.grpcInterceptor()`, which answers before grpc-js reads the message.
 * A refusal is 401 + WWW-Authenticate (503 + Retry-After when the
 * authenticator is saturated) or UNAUTHENTICATED (UNAVAILABLE), with our
 * reason and never the presented credential; it is counted
 * (`trailhouse_receiver_auth_failures`) and raised as a SecurityEvent.
 * A success is the `ClientAuth` the receiver puts on the payload (core/client.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientAuth } from './client.ts';
import { peerIp } from './client.ts';
import type { Host } from './component.ts';
import { isLoopbackHost, type ServerAuthConfig, type ServerAuthSettings } from './auth-config.ts';
import { parseEndpoint } from './net.ts';
import { emitSecurityEvent, nowNanos } from './security-events.ts';
import type { Logger } from './telemetry/logger.ts';
import type { MetricsRegistry } from './telemetry/metrics.ts';
import { receiverAuthMetrics } from './telemetry/metrics.ts';

/** The request's header (HTTP) or metadata (gRPC) values by lowercase name. */
export interface Credentials {
  get(name: string): readonly string[];
}

export interface AuthSuccess {
  subject: string;
  attributes?: ReadonlyMap<string, string>;
}

export type AuthFailureReason = 'missing' | 'malformed' | 'invalid' | 'busy';

/** A refusal. `message` is ours (never the credential); `claimed` is a user name presented, if any. */
export class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    readonly claimed = '',
  ) {
    super(message);
  }
}

/** What an authenticator extension offers receivers. */
export interface ServerAuthenticator {
  /** The lowercase header / metadata key carrying the credential (dropped from the payload's client metadata). */
  readonly credentialHeader: string;
  /** The WWW-Authenticate challenge of a 401 (`Bearer realm="trailhouse"`). */
  readonly challenge: string;
  /** Resolves with the sender or throws AuthFailure. */
  authenticate(creds: Credentials): AuthSuccess | Promise<AuthSuccess>;
}

export function isServerAuthenticator(c: unknown): c is ServerAuthenticator {
  return typeof (c as ServerAuthenticator | undefined)?.authenticate === 'function' && typeof (c as ServerAuthenticator).credentialHeader === 'string';
}

/** A success as receivers pass it to core/client.ts withAuth. */
export interface Authenticated {
  auth: ClientAuth;
  header: string;
}

/** Resolves `auth.authenticator` against the started extensions; throws with the reason. */
export function resolveAuthenticator(host: Host | undefined, cfg: ServerAuthConfig | null, path: string): { id: string; authenticator: ServerAuthenticator } | null {
  if (!cfg) return null;
  path = path ? `${path}.` : '';
  const ext = host?.getExtension(cfg.authenticator);
  if (!ext) throw new Error(`${path}auth.authenticator: extension "${cfg.authenticator}" is not configured under extensions or not listed in service.extensions`);
  if (!isServerAuthenticator(ext)) throw new Error(`${path}auth.authenticator: extension "${cfg.authenticator}" is not an authenticator (use bearertokenauth or basicauth)`);
  return { id: cfg.authenticator, authenticator: ext };
}

/** After a refusal, at most this much of the unread body is drained (so a small sender reads the 401 cleanly); beyond it the connection is cut. */
const DRAIN_LIMIT = 64 * 1024;
const DRAIN_MS = 2000;
const MAX_EVENT_TEXT = 256;

const GRPC_AUTH = new WeakMap<grpc.Metadata, Authenticated>();
const EXPECTS_CONTINUE = new WeakSet<IncomingMessage>();

/** The authenticated sender of a gRPC call whose metadata passed `grpcInterceptor` (undefined without auth). */
export function grpcAuthOf(md: grpc.Metadata): Authenticated | undefined {
  return GRPC_AUTH.get(md);
}

/** How a receiver formats a refusal's body (default: text/plain). */
export type RefusalBody = (status: number, grpcCode: number, message: string) => { contentType: string; body: string | Uint8Array };

const textBody: RefusalBody = (_s, _c, message) => ({ contentType: 'text/plain; charset=utf-8', body: message + '\n' });

/** One server's authentication: `surface` `receiver/otlp`, `transport` `http`/`grpc`/... */
export class ReceiverAuth {
  private readonly failures: ReturnType<typeof receiverAuthMetrics>;

  constructor(
    private readonly authenticatorId: string,
    private readonly authenticator: ServerAuthenticator,
    private readonly receiverId: string,
    private readonly transport: string,
    metrics: MetricsRegistry,
    private readonly log: Logger,
  ) {
    this.failures = receiverAuthMetrics(metrics, receiverId, transport);
  }

  private success(ok: AuthSuccess): Authenticated {
    return {
      auth: { subject: ok.subject, authenticator: this.authenticatorId, attributes: ok.attributes ?? new Map() },
      header: this.authenticator.credentialHeader,
    };
  }

  private refused(err: unknown, source: string, action: string): AuthFailure {
    const f = err instanceof AuthFailure ? err : new AuthFailure('invalid', 'authentication failed');
    if (!(err instanceof AuthFailure)) this.log.error('authenticator failed unexpectedly; request refused', { authenticator: this.authenticatorId, error: String((err as Error)?.message ?? err) });
    this.failures[f.reason].add(1);
    emitSecurityEvent({
      time: nowNanos(),
      category: 'authentication',
      action: action.slice(0, MAX_EVENT_TEXT),
      outcome: 'failure',
      // Both are the client's text: bounded, so a refusal cannot write kilobytes into the audit store.
      subject: f.claimed.slice(0, MAX_EVENT_TEXT),
      source,
      surface: `receiver/${this.receiverId}`,
      reason: f.message,
      details: { receiver: this.receiverId, transport: this.transport, authenticator: this.authenticatorId, failure: f.reason },
    });
    return f;
  }

  /**
   * Authenticates an HTTP request before its body is read. Resolves with the
   * sender, or with undefined after answering the refusal itself (the caller
   * returns): the body is then drained only up to DRAIN_LIMIT, never buffered.
   */
  async http(req: IncomingMessage, res: ServerResponse, format: RefusalBody = textBody): Promise<Authenticated | undefined> {
    const creds: Credentials = { get: (n) => req.headersDistinct[n] ?? [] };
    try {
      const ok = this.success(await this.authenticator.authenticate(creds));
      // The sender waits for this before sending its body (see guardContinue).
      if (EXPECTS_CONTINUE.has(req) && !res.headersSent) res.writeContinue();
      return ok;
    } catch (err) {
      const source = `${peerIp(req.socket.remoteAddress)}:${req.socket.remotePort ?? 0}`;
      const f = this.refused(err, source, `${this.transport} ${req.method ?? ''} ${(req.url ?? '/').split('?')[0]}`);
      const busy = f.reason === 'busy';
      const status = busy ? 503 : 401;
      const { contentType, body } = format(status, busy ? grpc.status.UNAVAILABLE : grpc.status.UNAUTHENTICATED, busy ? f.message : `unauthenticated: ${f.message}`);
      const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(body), connection: 'close' };
      if (busy) headers['retry-after'] = '1';
      else headers['www-authenticate'] = this.authenticator.challenge;
      if (!res.headersSent) res.writeHead(status, headers).end(body);
      let drained = 0;
      const cut = () => req.socket.destroy();
      const t = setTimeout(cut, DRAIN_MS);
      t.unref();
      req.on('data', (c: Buffer) => {
        drained += c.length;
        if (drained > DRAIN_LIMIT) cut();
      });
      req.on('end', () => clearTimeout(t));
      req.on('close', () => clearTimeout(t));
      req.on('error', () => {});
      if (Number(req.headers['content-length'] ?? 0) > DRAIN_LIMIT) res.on('finish', cut);
      req.resume();
      return undefined;
    }
  }

  /**
   * `Expect: 100-continue` (curl sends it for bodies over 1 MiB): Node would
   * answer 100 Continue itself before the handler runs, inviting the body;
   * with this the request goes to the handler unanswered, and `http` sends
   * 100 Continue only once the sender is authenticated.
   */
  guardContinue(server: { on(event: 'checkContinue', l: (req: IncomingMessage, res: ServerResponse) => void): unknown; emit(event: 'request', req: IncomingMessage, res: ServerResponse): boolean }): void {
    server.on('checkContinue', (req, res) => {
      EXPECTS_CONTINUE.add(req);
      server.emit('request', req, res);
    });
  }

  /**
   * A grpc-js server interceptor that authenticates a call from its metadata,
   * before grpc-js starts reading the request message; the credential key is
   * removed from the metadata the handler sees.
   */
  grpcInterceptor(): grpc.ServerInterceptor {
    return (method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next(
            new grpc.ServerListenerBuilder()
              .withOnReceiveMetadata((md, pass) => {
                const creds: Credentials = { get: (n) => md.get(n).filter((v): v is string => typeof v === 'string') };
                void Promise.resolve()
                  .then(() => this.authenticator.authenticate(creds))
                  .then(
                    (ok) => {
                      const authed = this.success(ok);
                      md.remove(authed.header);
                      GRPC_AUTH.set(md, authed);
                      pass(md);
                    },
                    (err: unknown) => {
                      const f = this.refused(err, call.getPeer(), `grpc ${method.path}`);
                      const busy = f.reason === 'busy';
                      call.sendStatus({ code: busy ? grpc.status.UNAVAILABLE : grpc.status.UNAUTHENTICATED, details: busy ? f.message : `unauthenticated: ${f.message}`, metadata: null });
                    },
                  )
                  // A call the client dropped meanwhile must not become an unhandled rejection.
                  .catch((err: unknown) => this.log.warn('gRPC authentication could not complete', { error: String((err as Error)?.message ?? err) }));
              })
              .build(),
          );
        },
      });
  }
}

/**
 * The hook for one server (`server`: its config, with `endpoint`, `auth`,
 * `insecure`), or null without `auth`; resolved at start, before it listens.
 * An unauthenticated non-loopback server (allowed by `insecure: true`) is
 * logged as a warning, so the choice stays visible.
 */
export function receiverAuth(
  host: Host | undefined,
  server: ServerAuthSettings & { endpoint: string },
  path: string,
  settings: { id: string; metrics: MetricsRegistry; logger: Logger },
  transport: string,
): ReceiverAuth | null {
  const r = resolveAuthenticator(host, server.auth, path);
  if (!r && !isLoopbackHost(parseEndpoint(server.endpoint).host)) {
    settings.logger.warn('senders are not authenticated on a non-loopback endpoint (insecure: true)', { endpoint: server.endpoint, transport });
  }
  return r ? new ReceiverAuth(r.id, r.authenticator, settings.id, transport, settings.metrics, settings.logger) : null;
}
