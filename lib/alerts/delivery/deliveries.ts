/**
 * The configured delivery targets of the alerts extension, each with its own
 * persistent queue in the named file_storage extension
 * (`<directory>/<extension id>-<target>`), and Alertmanager's re-sends:
 * alerts still firing are queued to it again every `resend_interval`, as
 * Alertmanager expects of a client (it resolves an alert not heard of for
 * its resolve_timeout).
 */
import type { CreateSettings, Host } from '../../../core/component.ts';
import { isQueueStorage } from '../../../core/exporter-helper.ts';
import type { Alert } from '../alert.ts';
import type { AlertsConfig } from '../options.ts';
import { Deliverer } from './deliverer.ts';
import { alertmanagerTarget, otlpTarget, webhookTarget, type Target } from './targets.ts';

export class Deliveries {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly all: Deliverer[],
    private readonly resendMs: number,
  ) {}

  get targets(): string[] {
    return this.all.map((d) => d.target.name);
  }

  /** Depth of each target's queue. */
  depth(name: string): number {
    return this.all.find((d) => d.target.name === name)?.depth ?? 0;
  }

  enqueue(a: Alert): void {
    for (const d of this.all) d.enqueue(a);
  }

  /** Every resend interval, queues the alerts `firing()` gives to Alertmanager again. */
  resendFiring(firing: () => Alert[]): void {
    const am = this.all.find((d) => d.target.name === 'alertmanager');
    if (!am || this.resendMs <= 0) return;
    this.timer = setInterval(() => {
      for (const a of firing()) if (a.status !== 'resolved') am.enqueue(a);
    }, this.resendMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.all.map((d) => d.close()));
  }
}

/** The deliveries the config names (undefined when none), their queues open and their loops running. */
export async function openDeliveries(c: AlertsConfig, host: Host, settings: Pick<CreateSettings<unknown>, 'id' | 'logger' | 'metrics'>): Promise<Deliveries | undefined> {
  const targets: Target[] = [];
  if (c.alertmanager) targets.push(alertmanagerTarget(c.alertmanager, c.external_url));
  if (c.webhook) targets.push(webhookTarget(c.webhook, c.external_url));
  if (c.otlp) targets.push(otlpTarget(c.otlp, c.external_url));
  if (!targets.length) return undefined;
  const ext = c.storage ? host.getExtension(c.storage) : undefined;
  if (!isQueueStorage(ext)) throw new Error(`alerts.storage: "${c.storage ?? ''}" is not a started file_storage extension (the delivery queues live there)`);
  const all: Deliverer[] = [];
  try {
    for (const t of targets) {
      const queue = await ext.openQueue(`${settings.id}-${t.name}`, c.queue_size, settings.logger);
      all.push(new Deliverer(t, queue, { initialMs: c.retry.initial_interval, maxMs: c.retry.max_interval }, settings.logger, settings.metrics));
    }
  } catch (err) {
    for (const d of all) await d.close();
    throw err;
  }
  for (const d of all) d.start();
  return new Deliveries(all, c.resend_interval);
}
