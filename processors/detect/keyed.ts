/**
 * A detector's per-key state, bounded: at most `max` keys, the least
 * recently seen forgotten first (a Map keeps insertion order; touching a
 * key moves it to the end). Keys changed since the last persist are
 * remembered so only they are written.
 */
export class Keyed<V> {
  private readonly map = new Map<string, V>();
  private dirtyKeys = new Set<string>();
  evictions = 0;

  constructor(
    private readonly max: number,
    private readonly onEvict: () => void = () => {},
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The value, moved to the most recently seen end. */
  touch(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** The value without changing its age (timers, tests). */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    this.dirtyKeys.add(key);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.dirtyKeys.delete(oldest);
      this.evictions++;
      this.onEvict();
    }
  }

  /** Marks a value changed in place. */
  dirty(key: string): void {
    if (this.map.has(key)) this.dirtyKeys.add(key);
  }

  delete(key: string): void {
    this.map.delete(key);
    this.dirtyKeys.delete(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  /** The changed entries since the last call (for the state table). */
  takeDirty(): Array<[string, V]> {
    const out: Array<[string, V]> = [];
    for (const k of this.dirtyKeys) {
      const v = this.map.get(k);
      if (v !== undefined) out.push([k, v]);
    }
    this.dirtyKeys = new Set();
    return out;
  }

  /** Loaded from the store: not dirty (already there), oldest first as given. */
  load(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.max) {
      this.map.delete(this.map.keys().next().value as string);
      this.evictions++;
      this.onEvict();
    }
  }
}
