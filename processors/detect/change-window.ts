/**
 * Change windows for the config_change detector: `<days> <HH:MM>-<HH:MM>`, UTC,
 * e.g. `mon-fri 08:00-18:00`, `sat,sun 10:00-12:00`, `* 22:00-02:00` (a range
 * past midnight wraps into the next day).
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface ChangeWindow {
  /** Bit d set: day d (0 = Sunday) opens the window. */
  days: number;
  /** Minutes after midnight UTC. */
  from: number;
  to: number;
}

function minutes(t: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 24 || min > 59 || (h === 24 && min > 0)) return undefined;
  return h * 60 + min;
}

function daysOf(spec: string): number | undefined {
  if (spec === '*') return 0x7f;
  let bits = 0;
  for (const part of spec.toLowerCase().split(',')) {
    const [a, b] = part.split('-');
    const from = DAYS.indexOf(a ?? '');
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      bits |= 1 << d;
      if (d === to) break;
    }
  }
  return bits;
}

export function parseChangeWindow(text: string): { window?: ChangeWindow; error?: string } {
  const [dayPart, timePart, extra] = text.trim().split(/\s+/);
  const bad = { error: `expected "<days> HH:MM-HH:MM" (UTC; days like mon-fri, sat,sun or *), got ${JSON.stringify(text)}` };
  if (!dayPart || !timePart || extra !== undefined) return bad;
  const days = daysOf(dayPart);
  const [f, t] = timePart.split('-');
  const from = f === undefined ? undefined : minutes(f);
  const to = t === undefined ? undefined : minutes(t);
  if (days === undefined || from === undefined || to === undefined || from === to) return bad;
  return { window: { days, from, to } };
}

/** Whether `ms` (epoch milliseconds) falls in one of the windows. */
export function inChangeWindow(windows: readonly ChangeWindow[], ms: number): boolean {
  const d = new Date(ms);
  const day = d.getUTCDay();
  const min = d.getUTCHours() * 60 + d.getUTCMinutes();
  for (const w of windows) {
    if (w.from < w.to) {
      if (w.days & (1 << day) && min >= w.from && min < w.to) return true;
    } else {
      // Past midnight: the evening of an opening day, or the morning after one.
      if (w.days & (1 << day) && min >= w.from) return true;
      if (w.days & (1 << ((day + 6) % 7)) && min < w.to) return true;
    }
  }
  return false;
}
