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
  schema: s.object({ endpoint: s.endpoint(), path: s.string({ nonEmpty: true }) }),
  defaultConfig: () => ({ endpoint: '127.0.0.1:13133', path: '/' }),
  create: (settings) => new HealthCheckExtension(settings),
};
