/**
 * Where a config splits across two threads (core/pipeline-thread.ts).
 *
 * The pipelines fed by a `spool` receiver (the back: detect, correlate,
 * audit, the store) run on a worker thread; everything else (the front:
 * receivers, memory_limiter, redaction, the spool exporter and its queue)
 * on the main thread. A sender's answer then waits only for the front's own
 * work and the queue's fsync, never behind a correlation window's worth of
 * indexing or a store insert: the two halves already meet at a durable queue
 * that carries bytes, so the seam costs one copy of each batch.
 *
 * A config splits only when the halves share nothing that cannot be built
 * twice. Otherwise `splitAtSpool` says why, and the service runs on one thread
 * as before.
 */
import type { ProcessorFactory } from './component.ts';
import type { ComponentConfig, PipelineConfig, ServiceConfig } from './config/load.ts';

/** Extension types that can run once per thread: stateless authenticators, and storage whose queues are named per component. */
const PER_THREAD = new Set(['file_storage', 'basicauth', 'bearertokenauth']);

export interface Split {
  /** Receivers, the pipelines they feed up to the spool exporters, and the extensions those use (main thread). */
  front: ServiceConfig;
  /** The pipelines behind spool receivers and their extensions (the pipeline thread). */
  back: ServiceConfig;
  /** The spool channels between them. */
  channels: string[];
  /** Nice steps the pipeline thread runs below the front: the fewest its spool receivers ask for (none gets less than it asked). */
  nice: number;
}

const typeOf = (cc: ComponentConfig | undefined): string => (cc?.factory as { type?: string } | undefined)?.type ?? '';

/** Extension ids named anywhere in a component's config (an `authenticator`, a `store`, a `storage`). */
function namedExtensions(config: unknown, ids: ReadonlySet<string>, out: Set<string>, depth = 0): void {
  if (depth > 32) return;
  if (typeof config === 'string') {
    if (ids.has(config)) out.add(config);
  } else if (Array.isArray(config)) {
    for (const v of config) namedExtensions(v, ids, out, depth + 1);
  } else if (config instanceof Map) {
    for (const v of config.values()) namedExtensions(v, ids, out, depth + 1);
  } else if (typeof config === 'object' && config !== null) {
    for (const v of Object.values(config)) namedExtensions(v, ids, out, depth + 1);
  }
}

/** Every extension the pipelines use, with the extensions those name in turn. */
function extensionsOf(cfg: ServiceConfig, pipelines: PipelineConfig[]): Set<string> {
  const ids = new Set(cfg.serviceExtensions);
  const out = new Set<string>();
  for (const p of pipelines) {
    for (const id of p.receivers) namedExtensions((cfg.receivers.get(id) ?? cfg.connectors.get(id))?.config, ids, out);
    for (const id of p.processors) namedExtensions(cfg.processors.get(id)?.config, ids, out);
    for (const id of p.exporters) namedExtensions((cfg.exporters.get(id) ?? cfg.connectors.get(id))?.config, ids, out);
  }
  for (let grew = true; grew; ) {
    const before = out.size;
    for (const id of [...out]) namedExtensions(cfg.extensions.get(id)?.config, ids, out);
    grew = out.size > before;
  }
  return out;
}

function ids(pipelines: PipelineConfig[], key: 'receivers' | 'processors' | 'exporters'): Set<string> {
  return new Set(pipelines.flatMap((p) => p[key]));
}

/** The two halves, or why this config runs on one thread. */
export function splitAtSpool(cfg: ServiceConfig): Split | { reason: string } {
  const isSpool = (id: string) => typeOf(cfg.receivers.get(id)) === 'spool';
  const back = cfg.pipelines.filter((p) => p.receivers.some(isSpool));
  if (back.length === 0) return { reason: 'no pipeline has a spool receiver' };
  const front = cfg.pipelines.filter((p) => !back.includes(p));
  if (front.length === 0) return { reason: 'every pipeline is fed by a spool receiver' };
  for (const p of back) {
    const other = p.receivers.find((id) => !isSpool(id));
    if (other) return { reason: `pipeline ${p.id} has a spool receiver beside ${other}` };
  }
  const channels = new Set<string>();
  let nice = Infinity;
  for (const id of ids(back, 'receivers')) {
    const c = cfg.receivers.get(id)!.config as { name: string; thread?: string; nice?: number };
    if (c.thread === 'main') return { reason: `receiver ${id} has thread: main` };
    channels.add(c.name);
    nice = Math.min(nice, c.nice ?? 0);
  }
  for (const key of ['receivers', 'processors', 'exporters'] as const) {
    const f = ids(front, key);
    for (const id of ids(back, key)) {
      if (cfg.connectors.has(id) && f.has(id)) return { reason: `connector ${id} joins pipelines on both sides of the spool` };
      if (!f.has(id)) continue;
      if (key === 'exporters') return { reason: `exporter ${id} is used on both sides of the spool` };
      if (key === 'processors' && (cfg.processors.get(id)!.factory as ProcessorFactory).shared) return { reason: `processor ${id} is shared and used on both sides of the spool` };
    }
  }
  // The audit trail's writer takes the process's security events; the pipeline thread is where they are sent.
  for (const id of ids(front, 'processors')) if (typeOf(cfg.processors.get(id)) === 'audit') return { reason: `processor ${id} (audit) is in front of the spool` };
  const frontExt = extensionsOf(cfg, front);
  const backExt = extensionsOf(cfg, back);
  for (const id of backExt) {
    if (frontExt.has(id) && !PER_THREAD.has(typeOf(cfg.extensions.get(id)))) return { reason: `extension ${id} is used on both sides of the spool` };
  }
  // An extension no pipeline names goes where what it names is (the
  // console: the store); one that names nothing there (health_check) serves
  // the process from the main thread.
  const allIds = new Set(cfg.serviceExtensions);
  for (const id of cfg.serviceExtensions) {
    if (frontExt.has(id) || backExt.has(id)) continue;
    const named = new Set<string>();
    namedExtensions(cfg.extensions.get(id)?.config, allIds, named);
    const toBack = [...named].some((n) => backExt.has(n) && !frontExt.has(n));
    const toFront = [...named].some((n) => frontExt.has(n) && !backExt.has(n));
    if (toBack && toFront) return { reason: `extension ${id} uses extensions on both sides of the spool` };
    if (toBack) {
      backExt.add(id);
      for (const n of named) backExt.add(n);
    } else frontExt.add(id);
  }
  const keep = (want: Set<string>) => cfg.serviceExtensions.filter((id) => want.has(id));
  return {
    front: { ...cfg, pipelines: front, serviceExtensions: keep(frontExt) },
    back: { ...cfg, pipelines: back, serviceExtensions: keep(backExt) },
    channels: [...channels],
    nice,
  };
}
