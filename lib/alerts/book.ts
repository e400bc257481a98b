/**
 * The alerts still taking repeats: by key, each not resolved and last seen
 * within the repeat window. A signal whose key is here (and within the
 * window of that alert's last sighting) becomes a new version of that alert;
 * any other signal opens a new alert. Loaded from the store at start, so a
 * restart neither forgets an open alert nor opens a duplicate of it.
 *
 * Bounded: beyond `maxOpen` keys the least recently seen one is let go (its
 * next signal opens a new alert; counted). Map order is recency order: an
 * alert is moved to the end when it changes.
 */
import type { AlertSignal } from '../detect/signal.ts';
import { alertFromSignal, withSignal, type Alert } from './alert.ts';

export class AlertBook {
  private readonly byKey = new Map<string, Alert>();
  /** Let go to stay within maxOpen. */
  evicted = 0;

  constructor(
    private readonly windowNs: bigint,
    private readonly maxOpen: number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Takes alerts read back from the store (the newest version of each). */
  load(alerts: readonly Alert[]): void {
    const sorted = [...alerts].sort((a, b) => (a.lastSeen < b.lastSeen ? -1 : a.lastSeen > b.lastSeen ? 1 : 0));
    for (const a of sorted) if (a.status !== 'resolved') this.put(a);
  }

  /** The alert this signal makes: a new one (opened), or the next version of the open one with its key. */
  raise(s: AlertSignal): { alert: Alert; opened: boolean } {
    const open = this.byKey.get(s.key);
    const repeat = open !== undefined && s.time <= open.lastSeen + this.windowNs;
    const alert = repeat ? withSignal(open, s) : alertFromSignal(s);
    this.put(alert);
    return { alert, opened: !repeat };
  }

  /** An alert here by id (the ones taking repeats), or undefined. */
  byId(id: string): Alert | undefined {
    for (const a of this.byKey.values()) if (a.id === id) return a;
    return undefined;
  }

  /** Records a new version of an alert (a status change): resolved ones stop taking repeats. */
  update(a: Alert): void {
    const held = this.byKey.get(a.key);
    if (a.status === 'resolved') {
      if (held?.id === a.id) this.byKey.delete(a.key);
      return;
    }
    if (!held || held.id === a.id) this.put(a);
  }

  /** The alerts here (oldest sighting first). */
  open(): Alert[] {
    return [...this.byKey.values()];
  }

  /** Lets go of alerts last seen before `nowNs - window`: their next signal opens a new alert anyway. */
  prune(nowNs: bigint): void {
    for (const [k, a] of this.byKey) if (a.lastSeen + this.windowNs < nowNs) this.byKey.delete(k);
  }

  private put(a: Alert): void {
    this.byKey.delete(a.key);
    this.byKey.set(a.key, a);
    while (this.byKey.size > this.maxOpen) {
      const oldest = this.byKey.keys().next().value as string;
      this.byKey.delete(oldest);
      this.evicted++;
    }
  }
}
