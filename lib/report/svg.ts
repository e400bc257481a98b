/**
 * Inline SVG charts for the report: no script, no external font, every label
 * escaped (a principal or service name may hold `</svg>` or `<script>`).
 */
import { esc } from './escape.ts';

export interface Stack {
  label: string;
  /** Segment values in the order of `series`. */
  values: number[];
}

const PALETTE = ['#b42318', '#2e7d32', '#8d6e63', '#1565c0', '#6a1b9a', '#ef6c00'];

/** A stacked bar chart: one bar per stack, one segment per series; a legend below. */
export function stackedBars(title: string, series: readonly string[], stacks: readonly Stack[], colors: readonly string[] = PALETTE): string {
  const W = 720;
  const H = 220;
  const left = 56;
  const bottom = 40;
  const top = 10;
  const plotH = H - top - bottom;
  const max = Math.max(1, ...stacks.map((s) => s.values.reduce((a, b) => a + b, 0)));
  const slot = stacks.length ? (W - left - 10) / stacks.length : 0;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H + 24}" role="img" aria-label="${esc(title)}" class="chart">`);
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${W - 5}" y2="${top + plotH}" stroke="#555"/>`);
  out.push(`<text x="${left - 6}" y="${top + 8}" text-anchor="end" font-size="11">${max}</text>`);
  out.push(`<text x="${left - 6}" y="${top + plotH}" text-anchor="end" font-size="11">0</text>`);
  const labelEvery = Math.max(1, Math.ceil(stacks.length / 12));
  stacks.forEach((s, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let y = top + plotH;
    s.values.forEach((v, k) => {
      if (v <= 0) return;
      const h = (v / max) * plotH;
      y -= h;
      out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[k % colors.length]}"><title>${esc(`${s.label} ${series[k]}: ${v}`)}</title></rect>`);
    });
    if (i % labelEvery === 0) out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle" font-size="10">${esc(s.label)}</text>`);
  });
  let lx = left;
  series.forEach((name, k) => {
    out.push(`<rect x="${lx}" y="${H + 6}" width="10" height="10" fill="${colors[k % colors.length]}"/><text x="${lx + 14}" y="${H + 15}" font-size="11">${esc(name)}</text>`);
    lx += 24 + name.length * 7;
  });
  out.push('</svg>');
  return out.join('');
}

/** Horizontal bars, one per item, labelled on the left (long labels cut, the full one in the tooltip). */
export function horizontalBars(title: string, items: readonly { label: string; value: number }[], color = '#b42318'): string {
  const W = 720;
  const row = 18;
  const labelW = 300;
  const H = items.length * row + 8;
  const max = Math.max(1, ...items.map((i) => i.value));
  const out: string[] = [`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" class="chart"><title>${esc(title)}</title>`];
  items.forEach((it, i) => {
    const y = 4 + i * row;
    const w = Math.max(1, (it.value / max) * (W - labelW - 60));
    const short = it.label.length > 46 ? `${it.label.slice(0, 45)}…` : it.label;
    out.push(`<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" font-size="11">${esc(short || '(none)')}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 5}" fill="${color}"><title>${esc(`${it.label}: ${it.value}`)}</title></rect>`);
    out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}" font-size="11">${it.value}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}
