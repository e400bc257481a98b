/**
 * The `spool` receiver: the far end of a `spool` exporter with the same
 * `name` (see exporters/spool). Batches keep the dedup token the spool
 * exporter's queue gave them.
 *
 * `thread: pipeline` (the default): when `trailhouse run` can split the
 * config there (core/service-split.ts), the pipelines behind this receiver
 * run on their own worker thread, so senders' answers never wait behind
 * them. `thread: main` keeps the whole service on one thread.
 *
 * `nice` (Linux, 0–19, default 10): how many nice steps the pipeline thread
 * runs below the front (like `nice -n`, capped at 19); the engine's threads
 * run at the same. The front (receivers, the spool's
 * fsync, the answers) keeps the process's own, so on a busy machine a
 * sender's answer comes before the work behind the spool, which catches up
 * from the queue when the front is idle.
 */
import type { Component, ReceiverFactory } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { RefusedError } from '../../core/errors.ts';
import { observedConsumer } from '../../core/receiver-helper.ts';
import type { TracesPayload } from '../../core/payload.ts';
import { attachSpool } from '../../core/spool-channel.ts';

/** The default steps below the front: favoured less than the front, not starved (19 would be). */
export const PIPELINE_THREAD_NICE = 10;

export interface SpoolReceiverConfig {
  name: string;
  /** Where its pipelines run: their own worker thread (`pipeline`, the default) or the main thread. */
  thread?: 'pipeline' | 'main';
  /** Nice steps the pipeline thread runs below the front (see the header). */
  nice?: number;
}

export const spoolReceiverFactory: ReceiverFactory<SpoolReceiverConfig> = {
  kind: 'receiver',
  type: 'spool',
  signals: ['logs', 'traces'],
  schema: s.object({ name: s.string({ nonEmpty: true }), thread: s.string({ enum: ['pipeline', 'main'] }), nice: s.int({ min: 0, max: 19 }) }),
  defaultConfig: () => ({ name: 'default', thread: 'pipeline', nice: PIPELINE_THREAD_NICE }),
  create: (settings, next): Component => {
    const obs = observedConsumer(settings, next, 'spool');
    let detach: (() => void) | undefined;
    let stopped = false;
    return {
      async start() {
        detach = attachSpool(settings.config.name, (p) => {
          if (stopped) return Promise.reject(new RefusedError('spool receiver is shut down', 'shutting_down'));
          return p.isLogs() ? obs.logs(p) : obs.traces(p as TracesPayload);
        });
      },
      shutdown: once(async () => {
        stopped = true;
        detach?.();
      }),
    };
  },
};
