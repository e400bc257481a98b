/**
 * Where and how self-metrics are served (`service.telemetry.metrics`):
 * `address` (the Collector's older key), or its current
 * `readers: [{pull: {exporter: {prometheus: {host, port, ...}}}}]`; not both.
 * Of the prometheus reader's flags, `without_type_suffix` is honoured both
 * ways (the Collector 0.165 defaults it to true: counters without `_total`);
 * the others only with the value that describes our output.
 */
import type { ConfigError } from './schema.ts';

/** The prometheus reader's keys besides host and port: what each accepts, and why not the rest. */
const PROM_FLAGS: Record<string, { accepts: boolean | null; why: string }> = {
  // null: both values honoured.
  without_type_suffix: { accepts: null, why: '' },
  without_units: { accepts: true, why: 'only true is accepted: metric names carry no unit suffix' },
  without_scope_info: { accepts: true, why: 'only true is accepted: series carry no otel_scope_* labels' },
};

export function metricsEndpoint(m: { address: string | null; readers: unknown }, errors: ConfigError[]): { address: string; typeSuffix: boolean } {
  const path = 'service.telemetry.metrics.readers';
  const prom = promReader(m, errors);
  let typeSuffix = false;
  if (prom) {
    for (const [k, v] of Object.entries(prom)) {
      if (k === 'host' || k === 'port') continue;
      const flag = PROM_FLAGS[k];
      const at = `${path}[0].pull.exporter.prometheus.${k}`;
      if (!flag) {
        errors.push({ path: at, message: `not supported (supported: host, port, ${Object.keys(PROM_FLAGS).join(', ')})` });
      } else if (typeof v !== 'boolean') {
        errors.push({ path: at, message: `expected true or false, got ${JSON.stringify(v)}` });
      } else if (flag.accepts !== null && v !== flag.accepts) {
        errors.push({ path: at, message: flag.why });
      } else if (k === 'without_type_suffix') {
        typeSuffix = !v;
      }
    }
  }
  return { address: metricsAddress(m, prom, errors), typeSuffix };
}

function promReader(m: { readers: unknown }, errors: ConfigError[]): Record<string, unknown> | undefined {
  if (m.readers === undefined || m.readers === null) return undefined;
  const r = Array.isArray(m.readers) && m.readers.length === 1 ? (m.readers[0] as Record<string, unknown>) : undefined;
  const pull = isMapping(r) && Object.keys(r).length === 1 ? r.pull : undefined;
  const exporter = isMapping(pull) ? pull.exporter : undefined;
  const prom = isMapping(exporter) && Object.keys(exporter).length === 1 ? exporter.prometheus : undefined;
  if (!isMapping(prom)) {
    errors.push({ path: 'service.telemetry.metrics.readers', message: 'expected one pull reader with a prometheus exporter: [{pull: {exporter: {prometheus: {host, port}}}}]' });
    return undefined;
  }
  return prom;
}

function metricsAddress(m: { address: string | null; readers: unknown }, prom: Record<string, unknown> | undefined, errors: ConfigError[]): string {
  const path = 'service.telemetry.metrics.readers';
  if (m.readers === undefined || m.readers === null) return m.address ?? '127.0.0.1:8888';
  if (m.address) {
    errors.push({ path, message: 'set either address or readers, not both' });
    return m.address;
  }
  if (!prom) return '127.0.0.1:8888';
  const host = prom.host === undefined ? '127.0.0.1' : String(prom.host);
  const port = Number(prom.port ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    errors.push({ path: `${path}[0].pull.exporter.prometheus.port`, message: `expected a port number, got ${JSON.stringify(prom.port)}` });
    return '127.0.0.1:8888';
  }
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
