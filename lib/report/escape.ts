/** Text for HTML and SVG (element content and quoted attributes alike). */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}
