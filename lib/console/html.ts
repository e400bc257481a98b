/**
 * The console's page frame and the small formatting helpers every page
 * uses. Pages are rendered on the server as plain HTML with no script at all
 * (the CSP forbids any), and every value goes through esc(): principals,
 * resources and log bodies are attacker-controlled text.
 */
import { esc } from '../report/escape.ts';
import type { Role } from '../clickhouse/query/query-users.ts';

export { esc };

export interface PageUser {
  user: string;
  role: Role;
  authenticated: boolean;
  csrf: string;
}

const NAV: ReadonlyArray<{ href: string; label: string; audit: boolean }> = [
  { href: '/audit', label: 'Audit search', audit: true },
  { href: '/alerts', label: 'Alerts', audit: true },
  { href: '/integrity', label: 'Integrity & retention', audit: true },
  { href: '/reports', label: 'Reports', audit: true },
];

export function page(title: string, who: PageUser | null, body: string, active = ''): string {
  const nav = who
    ? `<nav aria-label="Console"><ul>${NAV.filter((n) => n.audit || who.role !== 'auditor')
        .map((n) => `<li><a href="${n.href}"${n.href === active ? ' aria-current="page"' : ''}>${esc(n.label)}</a></li>`)
        .join('')}</ul>
<div class="who">${esc(who.user)} <span class="role">${esc(who.role)}</span>${
        who.authenticated ? `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(who.csrf)}"><button type="submit">Log out</button></form>` : ''
      }</div></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · trailhouse</title><link rel="stylesheet" href="/static/console.css"></head>
<body><a class="skip" href="#main">Skip to content</a><header><a class="brand" href="/">trailhouse</a>${nav}</header>
<main id="main" tabindex="-1"><h1>${esc(title)}</h1>
${body}
</main></body></html>
`;
}

/** Nanoseconds since the epoch (a string or number) as an ISO time with milliseconds. */
export function isoNs(ns: unknown): string {
  try {
    const n = BigInt(String(ns));
    return new Date(Number(n / 1_000_000n)).toISOString();
  } catch {
    return '';
  }
}

/** A duration in nanoseconds, readable. */
export function dur(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns} ns`;
}

/** A map column (attributes) as a definition list. */
export function attrs(m: unknown): string {
  if (!m || typeof m !== 'object') return '';
  const e = Object.entries(m as Record<string, unknown>);
  if (!e.length) return '<p class="muted">none</p>';
  return `<dl class="attrs">${e.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`).join('')}</dl>`;
}

/** A query string from `params` (empty values left out), for links that keep the filters. */
export function qs(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export function notice(kind: 'error' | 'info', text: string): string {
  return `<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${esc(text)}</p>`;
}

/** A 16- or 32-hex-digit id (trace, span, alert): anything else is refused before it reaches SQL or a link. */
export const TRACE_ID = /^[0-9a-f]{32}$/;
export const SPAN_ID = /^[0-9a-f]{16}$/;
