/**
 * A storage extension's durable values (the Collector's storage client):
 * a component asks for one by name and keeps a small state in it (the
 * filelog receiver's offsets). `set` is atomic: after a crash, `get` gives
 * the old value or the new one, whole. file_storage implements it.
 */
export interface KvStore {
  get(): Promise<Buffer | undefined>;
  set(value: Uint8Array): Promise<void>;
}

export interface KvStorage {
  openKv(name: string): Promise<KvStore>;
}

export function isKvStorage(c: unknown): c is KvStorage {
  return typeof (c as KvStorage | undefined)?.openKv === 'function';
}
