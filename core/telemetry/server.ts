/** Serves self-metrics in Prometheus text format at `/metrics`. */
import { createServer } from 'node:http';
import { closeServer, listen } from '../net.ts';
import type { MetricsRegistry } from './metrics.ts';

export interface MetricsServer {
  address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(endpoint: string, registry: MetricsRegistry, opts: { typeSuffix?: boolean } = {}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' || req.url?.startsWith('/metrics?')) {
      void registry.collect().then(() => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(registry.exposition(opts));
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: self-metrics are served at /metrics\n');
  });
  const address = await listen(server, endpoint);
  return { address, close: () => closeServer(server) };
}
