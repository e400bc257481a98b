/**
 * Characters that change how the text around them reads without showing
 * themselves: bidirectional overrides, embeddings, isolates and marks (a
 * principal `admin\u202Egnp.exe` would read as `adminexe.png`), C0/C1
 * controls but newline and tab, and the line/paragraph separators. The
 * report shows each as its code point, so what an auditor reads is what
 * was stored.
 */
const INVISIBLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const visible = (c: string): string => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`;

/** Text for HTML and SVG (element content and quoted attributes alike). */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'))
    .replace(INVISIBLE, visible);
}
