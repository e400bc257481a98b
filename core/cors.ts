/**
 * CORS for an HTTP receiver, with the Collector's settings (confighttp
 * `cors`): `allowed_origins` (exact, `*`, or with `*` wildcards such as
 * `https://*.example.com`), `allowed_headers` (added to the safe defaults;
 * `*` allows any) and `max_age` (seconds a browser may cache a preflight).
 * Browser SDKs send OTLP/HTTP as JSON or protobuf, both of which need a
 * preflight. Empty `allowed_origins` = CORS off: no headers, OPTIONS is 405.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { s, type Schema } from './config/schema.ts';

export interface CorsConfig {
  allowed_origins: string[];
  allowed_headers: string[];
  /** Seconds; 0 = no Access-Control-Max-Age. */
  max_age: number;
}

export const corsDefaults = (): CorsConfig => ({ allowed_origins: [], allowed_headers: [], max_age: 0 });

export const corsSchema: Schema = s.section(
  s.object({ allowed_origins: s.list(s.string({ nonEmpty: true })), allowed_headers: s.list(s.string({ nonEmpty: true })), max_age: s.int({ min: 0 }) }),
  corsDefaults,
);

/** Headers a browser may send without listing them (plus what OTLP senders set). */
const SAFE_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type', 'content-encoding', 'x-requested-with'];

export class Cors {
  private readonly origins: RegExp[];
  private readonly anyHeader: boolean;
  private readonly headers: Set<string>;

  constructor(private readonly cfg: CorsConfig) {
    this.origins = cfg.allowed_origins.map((o) => new RegExp(`^${o.split('*').map(escape).join('.*')}$`, 'i'));
    this.anyHeader = cfg.allowed_headers.includes('*');
    this.headers = new Set([...SAFE_HEADERS, ...cfg.allowed_headers.map((h) => h.toLowerCase())]);
  }

  private allowedOrigin(req: IncomingMessage): string | null {
    const origin = req.headers.origin;
    if (!origin || this.origins.length === 0) return null;
    return this.origins.some((re) => re.test(origin)) ? origin : null;
  }

  /**
   * Handles a preflight (returns true: answered), or adds the CORS headers
   * an allowed origin's actual request needs (returns false: go on).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.origins.length === 0) return false;
    const origin = this.allowedOrigin(req);
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    res.setHeader('vary', 'Origin');
    if (!preflight) {
      if (origin) res.setHeader('access-control-allow-origin', origin);
      return false;
    }
    // A refused preflight gets no CORS headers: the browser then blocks the request.
    const method = String(req.headers['access-control-request-method']).toUpperCase();
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (origin && method === 'POST' && (this.anyHeader || requested.every((h) => this.headers.has(h)))) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-methods', 'POST');
      if (requested.length > 0) res.setHeader('access-control-allow-headers', requested.join(', '));
      if (this.cfg.max_age > 0) res.setHeader('access-control-max-age', String(this.cfg.max_age));
    }
    res.writeHead(204);
    res.end();
    req.resume();
    return true;
  }
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
