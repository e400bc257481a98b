/**
 * The health_check extension: an HTTP endpoint for liveness/readiness probes
 * (default 127.0.0.1:13133, path `/`). 200 while the pipelines run, 503 while
 * they start or stop, with the Collector's response body shape.
 */
import { createServer, type Server } from 'node:http';
import type { Component, CreateSettings, PipelineWatcher } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import { closeServer, listen } from '../../core/net.ts';
import type { ExtensionFactory } from '../../core/component.ts';

export interface HealthCheckConfig {
  endpoint: string;
  path: string;
  /** Static bodies instead of the JSON status (the Collector's `response_body`); null = the JSON. */
  response_body: { healthy: string; unhealthy: string } | null;
  /** The Collector's deprecated pipeline check: accepted only as disabled. */
  check_collector_pipeline: { enabled: boolean; interval: number; exporter_failure_threshold: number };
}

export class HealthCheckExtension implements Component, PipelineWatcher {
  private server: Server | undefined;
  private upSince: Date | undefined;
  address = '';

  constructor(private readonly settings: CreateSettings<HealthCheckConfig>) {}

  async start(): Promise<void> {
    const path = this.settings.config.path;
    this.server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url !== path) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const up = this.upSince;
      const fixed = this.settings.config.response_body;
      if (fixed) {
        res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(up ? fixed.healthy : fixed.unhealthy);
        return;
      }
      const body = up
        ? { status: 'Server available', upSince: up.toISOString(), uptime: `${((Date.now() - up.getTime()) / 1000).toFixed(3)}s` }
        : { status: 'Server not available', upSince: '0001-01-01T00:00:00Z', uptime: '' };
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    this.address = await listen(this.server, this.settings.config.endpoint);
    this.settings.logger.info('health check listening', { address: this.address, path });
  }

  ready(): void {
    this.upSince = new Date();
  }

  notReady(): void {
    this.upSince = undefined;
  }

  readonly shutdown = once(async () => {
    if (this.server) await closeServer(this.server);
  });
}

export const healthCheckFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: 'extension',
  type: 'health_check',
  schema: s.object({
    endpoint: s.endpoint(),
    path: s.string({ nonEmpty: true }),
    response_body: s.section(s.object({ healthy: s.string(), unhealthy: s.string() }), () => ({ healthy: '', unhealthy: '' })),
    check_collector_pipeline: s.object({ enabled: s.bool(), interval: s.duration(), exporter_failure_threshold: s.int({ min: 1 }) }),
  }),
  defaultConfig: () => ({
    endpoint: '127.0.0.1:13133',
    path: '/',
    response_body: null,
    check_collector_pipeline: { enabled: false, interval: 300_000, exporter_failure_threshold: 5 },
  }),
  validate: (c) =>
    c.check_collector_pipeline.enabled
      ? [{ path: 'check_collector_pipeline.enabled', message: 'not supported (the Collector deprecated it as unreliable): the status is the pipelines\' running state; watch otelcol_exporter_send_failed_* in the self-metrics instead' }]
      : [],
  create: (settings) => new HealthCheckExtension(settings),
};
