/**
 * Test and benchmark data for the OTLP codecs: seeded random models that cover
 * every field and value type (for round-trip property tests), and realistic
 * payloads shaped like service-mesh access logs and server/client spans.
 * Not used at runtime.
 */
import { KvList, newLogRecord, newSpan } from '../model.ts';
import type { AnyValue, KeyValue, LogsData, Span, TracesData } from '../model.ts';

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  u32(): number {
    return this.int(2) === 0 ? this.int(300) : Math.floor(this.next() * 4294967296);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  u64(): bigint {
    if (this.chance(0.2)) return 0n;
    return (BigInt(Math.floor(this.next() * 4294967296)) << 32n) | BigInt(Math.floor(this.next() * 4294967296));
  }
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(256).toString(16).padStart(2, '0');
    return /^0+$/.test(s) ? this.hex(bytes) : s;
  }
  id(bytes: number): string {
    return this.chance(0.2) ? '' : this.hex(bytes);
  }
  str(): string {
    const pieces = ['', 'a', 'http.request.method', 'GET', 'ü', '日本語', '😀', 'x'.repeat(50), 'y'.repeat(200), '\n\t"\\', '\u0000'];
    let s = '';
    const n = this.int(4);
    for (let i = 0; i < n; i++) s += this.pick(pieces);
    return s;
  }
}

export function randomValue(rng: Rng, depth = 0): AnyValue {
  switch (rng.int(depth >= 3 ? 6 : 8)) {
    case 0: return rng.str();
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0n, 1n, -1n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n, BigInt(rng.int(1e9))]);
    case 3: return rng.pick([0, 1.5, -2.25, 1e300, 5e-324, NaN, Infinity, -Infinity, rng.next()]);
    case 4: return Uint8Array.from({ length: rng.int(20) }, () => rng.int(256));
    case 5: return undefined;
    case 6: return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: return new KvList(randomAttrs(rng, depth + 1));
  }
}

export function randomAttrs(rng: Rng, depth = 0): KeyValue[] {
  return Array.from({ length: rng.int(5) }, () => ({ key: rng.str(), value: randomValue(rng, depth) }));
}

function randomScope(rng: Rng) {
  return { name: rng.str(), version: rng.str(), attributes: randomAttrs(rng), droppedAttributesCount: rng.u32() };
}

function randomResource(rng: Rng) {
  return { attributes: randomAttrs(rng), droppedAttributesCount: rng.u32() };
}

export function randomLogs(seed: number): LogsData {
  const rng = new Rng(seed);
  return {
    resourceLogs: Array.from({ length: rng.int(3) + 1 }, () => ({
      resource: randomResource(rng),
      schemaUrl: rng.str(),
      scopeLogs: Array.from({ length: rng.int(3) }, () => ({
        scope: randomScope(rng),
        schemaUrl: rng.str(),
        logRecords: Array.from({ length: rng.int(4) }, () => newLogRecord({
          timeUnixNano: rng.u64(),
          observedTimeUnixNano: rng.u64(),
          severityNumber: rng.int(25),
          severityText: rng.str(),
          body: randomValue(rng),
          attributes: randomAttrs(rng),
          droppedAttributesCount: rng.u32(),
          flags: rng.u32(),
          traceId: rng.id(16),
          spanId: rng.id(8),
          eventName: rng.str(),
        })),
      })),
    })),
  };
}

export function randomTraces(seed: number): TracesData {
  const rng = new Rng(seed);
  return {
    resourceSpans: Array.from({ length: rng.int(3) + 1 }, () => ({
      resource: randomResource(rng),
      schemaUrl: rng.str(),
      scopeSpans: Array.from({ length: rng.int(3) }, () => ({
        scope: randomScope(rng),
        schemaUrl: rng.str(),
        spans: Array.from({ length: rng.int(4) }, () => newSpan({
          traceId: rng.id(16),
          spanId: rng.id(8),
          traceState: rng.str(),
          parentSpanId: rng.id(8),
          flags: rng.u32(),
          name: rng.str(),
          kind: rng.int(6),
          startTimeUnixNano: rng.u64(),
          endTimeUnixNano: rng.u64(),
          attributes: randomAttrs(rng),
          droppedAttributesCount: rng.u32(),
          events: Array.from({ length: rng.int(3) }, () => ({
            timeUnixNano: rng.u64(), name: rng.str(), attributes: randomAttrs(rng), droppedAttributesCount: rng.u32(),
          })),
          droppedEventsCount: rng.u32(),
          links: Array.from({ length: rng.int(3) }, () => ({
            traceId: rng.id(16), spanId: rng.id(8), traceState: rng.str(),
            attributes: randomAttrs(rng), droppedAttributesCount: rng.u32(), flags: rng.u32(),
          })),
          droppedLinksCount: rng.u32(),
          status: { message: rng.str(), code: rng.int(3) },
        })),
      })),
    })),
  };
}

// ---------------------------------------------------------------- realistic payloads

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const ROUTES = ['/api/v1/orders', '/api/v1/orders/{id}', '/api/v1/users/{id}/cart', '/healthz', '/api/v2/search'];
const SERVICES = ['checkout', 'cart', 'payments', 'catalog', 'users', 'search'];

const meshResource = {
  attributes: [
    { key: 'service.name', value: 'istio-ingressgateway' },
    { key: 'service.namespace', value: 'istio-system' },
    { key: 'k8s.cluster.name', value: 'prod-eu-west-1' },
    { key: 'k8s.pod.name', value: 'istio-ingressgateway-7c9f8b6d5-x2k4q' },
    { key: 'host.name', value: 'ip-10-0-12-34.eu-west-1.compute.internal' },
  ],
  droppedAttributesCount: 0,
};

/** One request of `n` log records shaped like Envoy/Istio access logs (~12 attributes each). */
export function meshAccessLogs(n: number, seed = 1): LogsData {
  const rng = new Rng(seed);
  const t0 = 1_760_000_000_000_000_000n;
  const logRecords = Array.from({ length: n }, (_, i) => {
    const method = rng.pick(METHODS);
    const route = rng.pick(ROUTES);
    const status = rng.pick([200, 200, 200, 201, 204, 404, 503]);
    const ts = t0 + BigInt(i) * 1_234_567n;
    return newLogRecord({
      timeUnixNano: ts,
      observedTimeUnixNano: ts + 250_000n,
      severityNumber: status >= 500 ? 17 : 9,
      severityText: status >= 500 ? 'ERROR' : 'INFO',
      body: `[${method}] ${route.replace('{id}', String(rng.int(100000)))} HTTP/1.1 ${status}`,
      attributes: [
        { key: 'http.request.method', value: method },
        { key: 'url.path', value: route.replace('{id}', String(rng.int(100000))) },
        { key: 'http.route', value: route },
        { key: 'http.response.status_code', value: BigInt(status) },
        { key: 'network.protocol.version', value: '1.1' },
        { key: 'client.address', value: `10.1.${rng.int(256)}.${rng.int(256)}` },
        { key: 'server.address', value: `${rng.pick(SERVICES)}.prod.svc.cluster.local` },
        { key: 'server.port', value: 8080n },
        { key: 'user_agent.original', value: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36' },
        { key: 'envoy.upstream_cluster', value: `outbound|8080||${rng.pick(SERVICES)}.prod.svc.cluster.local` },
        { key: 'envoy.response_flags', value: status >= 500 ? 'UF' : '-' },
        { key: 'duration_ms', value: BigInt(rng.int(2000)) },
      ],
      flags: 1,
      traceId: rng.hex(16),
      spanId: rng.hex(8),
    });
  });
  return {
    resourceLogs: [{
      resource: meshResource,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [{ scope: { name: 'envoy.access_loggers.open_telemetry', version: '1.31.0', attributes: [], droppedAttributesCount: 0 }, logRecords, schemaUrl: '' }],
    }],
  };
}

/** One request of `n` spans: server/client pairs as a mesh sidecar reports them. */
export function meshSpans(n: number, seed = 2): TracesData {
  const rng = new Rng(seed);
  const t0 = 1_760_000_000_000_000_000n;
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const server = i % 2 === 0;
    const method = rng.pick(METHODS);
    const route = rng.pick(ROUTES);
    const start = t0 + BigInt(i) * 1_000_000n;
    const status = rng.pick([200, 200, 200, 503]);
    spans.push(newSpan({
      traceId: rng.hex(16),
      spanId: rng.hex(8),
      parentSpanId: rng.hex(8),
      flags: 0x101,
      name: `${method} ${route}`,
      kind: server ? 2 : 3,
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(rng.int(50_000_000)),
      attributes: [
        { key: 'http.request.method', value: method },
        { key: 'http.route', value: route },
        { key: 'url.path', value: route.replace('{id}', String(rng.int(100000))) },
        { key: 'http.response.status_code', value: BigInt(status) },
        { key: server ? 'client.address' : 'server.address', value: `10.1.${rng.int(256)}.${rng.int(256)}` },
        { key: 'server.port', value: 8080n },
        { key: 'network.protocol.version', value: '1.1' },
        { key: 'upstream_cluster', value: `outbound|8080||${rng.pick(SERVICES)}.prod.svc.cluster.local` },
        { key: 'istio.mesh_id', value: 'cluster.local' },
        { key: 'component', value: 'proxy' },
      ],
      status: status >= 500 ? { code: 2, message: 'upstream connect error' } : { code: 0, message: '' },
    }));
  }
  return {
    resourceSpans: [{
      resource: meshResource,
      schemaUrl: '',
      scopeSpans: [{ scope: { name: 'envoy', version: '1.31.0', attributes: [], droppedAttributesCount: 0 }, spans, schemaUrl: '' }],
    }],
  };
}
