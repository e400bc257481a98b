/** What every page handler gets, and what it answers. */
import type { ConsoleQuery, Caller } from '../query.ts';
import type { PageUser } from '../html.ts';

export interface Ctx {
  q: ConsoleQuery;
  caller: Caller;
  who: PageUser;
  url: URL;
}

export interface Answer {
  status: number;
  type: 'html' | 'json' | 'download';
  /** A download's bytes as they are (a signed report file). */
  body: string | Buffer;
  /** Extra headers (a download's Content-Disposition, a report's CSP). */
  headers?: Record<string, string>;
}

export const html = (body: string, status = 200): Answer => ({ status, type: 'html', body });
export const json = (v: unknown, status = 200): Answer => ({ status, type: 'json', body: JSON.stringify(v) });

/** A bad request parameter: 400 with the reason. */
export class BadRequest extends Error {}
