/**
 * Loads `pipeline.yaml` in the OpenTelemetry Collector's format:
 * `receivers`, `processors`, `exporters`, `extensions` and `service`
 * (`extensions`, `pipelines`, `telemetry`). Every problem is collected with its
 * path and reported at once; nothing here does I/O beyond reading the file.
 */
import { parseLogProcessors, type LogProcessorSpec } from '../telemetry/otel-logs-config.ts';
import { metricsEndpoint } from './metrics-endpoint.ts';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Factory, Kind } from '../component.ts';
import { componentType } from '../component.ts';
import type { Signal } from '../model.ts';
import type { Registry } from '../registry.ts';
import { ConfigValidationError, decode, join, s, type ConfigError } from './schema.ts';
import { expandEnv } from './env.ts';

export interface ComponentConfig {
  id: string;
  factory: Factory;
  config: unknown;
}

export interface PipelineConfig {
  /** `logs`, `traces`, `logs/audit`, … */
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface TelemetryConfig {
  /** `processors`: the process's own logs also as OTLP (core/telemetry/otel-logs.ts). */
  logs: { level: 'debug' | 'info' | 'warn' | 'error'; processors: LogProcessorSpec[] };
  /** `typeSuffix`: counters end in `_total` (the prometheus reader's `without_type_suffix: false`); the Collector 0.165's default is without. */
  metrics: { level: 'none' | 'basic' | 'normal' | 'detailed'; address: string; typeSuffix: boolean };
}

export interface ServiceConfig {
  /** Connectors (`connectors:`): named in some pipelines' exporters and others' receivers. */
  connectors: Map<string, ComponentConfig>;
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  /** Extension ids enabled in `service.extensions`, in start order. */
  serviceExtensions: string[];
  pipelines: PipelineConfig[];
  telemetry: TelemetryConfig;
}

const SECTIONS = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension', connectors: 'connector' } as const;
const TOP_LEVEL = [...Object.keys(SECTIONS), 'service'];
const ID_RE = /^[A-Za-z][A-Za-z0-9_]*(\/[^\s/][^\s]*)?$/;

const telemetrySchema = s.object({
  logs: s.object({ level: s.string({ enum: ['debug', 'info', 'warn', 'error'] }), encoding: s.string({ enum: ['json'] }), processors: s.any() }),
  metrics: s.object({ level: s.string({ enum: ['none', 'basic', 'normal', 'detailed'] }), address: s.optional(s.endpoint()), readers: s.any() }),
});

function telemetryDefaults() {
  return { logs: { level: 'info', encoding: 'json', processors: [] }, metrics: { level: 'normal', address: null, readers: undefined, typeSuffix: false } };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses YAML text; throws ConfigValidationError listing every problem. */
export function loadConfigText(text: string, registry: Registry, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const errors: ConfigError[] = [];
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigValidationError(doc.errors.map((e) => ({ path: '(yaml)', message: e.message })));
  }
  const raw: unknown = expandEnv(doc.toJS({ maxAliasCount: 100 }) ?? {}, env, '', errors);
  if (!isMapping(raw)) throw new ConfigValidationError([{ path: '(root)', message: 'expected a mapping at the top level' }]);

  for (const k of Object.keys(raw)) {
    if (!TOP_LEVEL.includes(k)) errors.push({ path: k, message: `unknown top-level key (valid keys: ${TOP_LEVEL.join(', ')})` });
  }

  const sections = {} as Record<keyof typeof SECTIONS, Map<string, ComponentConfig>>;
  for (const [section, kind] of Object.entries(SECTIONS) as Array<[keyof typeof SECTIONS, Kind]>) {
    sections[section] = decodeSection(raw[section], section, kind, registry, errors);
  }

  const service = raw.service;
  const serviceExtensions: string[] = [];
  const pipelines: PipelineConfig[] = [];
  let telemetry = telemetryDefaults() as unknown as TelemetryConfig;
  if (service === undefined || service === null) {
    errors.push({ path: 'service', message: 'missing: a service section with at least one pipeline is required' });
  } else if (!isMapping(service)) {
    errors.push({ path: 'service', message: 'expected a mapping' });
  } else {
    for (const k of Object.keys(service)) {
      if (!['extensions', 'pipelines', 'telemetry'].includes(k)) {
        errors.push({ path: `service.${k}`, message: 'unknown key (valid keys: extensions, pipelines, telemetry)' });
      }
    }
    telemetry = decode(telemetrySchema, telemetryDefaults(), service.telemetry, 'service.telemetry', errors) as TelemetryConfig;
    telemetry.logs.processors = parseLogProcessors(telemetry.logs.processors, 'service.telemetry.logs.processors', errors);
    const served = metricsEndpoint(telemetry.metrics as unknown as { address: string | null; readers: unknown }, errors);
    telemetry.metrics.address = served.address;
    telemetry.metrics.typeSuffix = served.typeSuffix;
    delete (telemetry.metrics as { readers?: unknown }).readers;
    const exts = service.extensions ?? [];
    if (!Array.isArray(exts)) errors.push({ path: 'service.extensions', message: 'expected a list of extension ids' });
    else {
      exts.forEach((id, i) => {
        if (typeof id !== 'string' || !sections.extensions.has(id)) {
          errors.push({ path: `service.extensions[${i}]`, message: `extension ${JSON.stringify(id)} is not configured under extensions` });
        } else serviceExtensions.push(id);
      });
    }
    decodePipelines(service.pipelines, sections, pipelines, errors);
    checkConnectors(sections.connectors, pipelines, errors);
    checkAuthenticators(sections.receivers, sections.extensions, serviceExtensions, errors);
  }

  if (errors.length > 0) throw new ConfigValidationError(errors);
  return { ...sections, serviceExtensions, pipelines, telemetry };
}

export function loadConfigFile(path: string, registry: Registry, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigValidationError([{ path: '(file)', message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  return loadConfigText(text, registry, env);
}

function decodeSection(
  value: unknown,
  section: string,
  kind: Kind,
  registry: Registry,
  errors: ConfigError[],
): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  if (value === undefined || value === null) return out;
  if (!isMapping(value)) {
    errors.push({ path: section, message: 'expected a mapping of component ids to their config' });
    return out;
  }
  for (const [id, user] of Object.entries(value)) {
    const path = join(section, id);
    if (!ID_RE.test(id)) {
      errors.push({ path, message: 'invalid component id: expected type[/name]' });
      continue;
    }
    const type = componentType(id);
    const factory = registry.get(kind, type);
    if (!factory) {
      errors.push({ path, message: `unknown ${kind} type "${type}" (known: ${registry.types(kind).join(', ')})` });
      continue;
    }
    const before = errors.length;
    const config = decode(factory.schema, factory.defaultConfig(), user, path, errors);
    if (errors.length === before && factory.validate) {
      for (const e of (factory.validate as (c: unknown) => ConfigError[])(config)) {
        errors.push({ path: e.path ? join(path, e.path) : path, message: e.message });
      }
    }
    out.set(id, { id, factory, config });
  }
  return out;
}

/**
 * Every connector is used at both ends, joins pipelines of one signal, and
 * no chain of connectors leads a pipeline back to itself.
 */
function checkConnectors(connectors: Map<string, ComponentConfig>, pipelines: PipelineConfig[], errors: ConfigError[]): void {
  for (const id of connectors.keys()) {
    const from = pipelines.filter((p) => p.exporters.includes(id));
    const to = pipelines.filter((p) => p.receivers.includes(id));
    if (from.length === 0 || to.length === 0) {
      errors.push({ path: join('connectors', id), message: `must be an exporter of one pipeline and a receiver of another (used as ${from.length ? 'an exporter' : to.length ? 'a receiver' : 'neither'} only)` });
      continue;
    }
    // Data keeps its signal through a connector: each end needs a pipeline of the same signal at the other.
    for (const a of from) {
      if (!to.some((b) => b.signal === a.signal)) errors.push({ path: join('connectors', id), message: `${a.id} exports ${a.signal} to it, but no ${a.signal} pipeline receives from it` });
    }
    for (const b of to) {
      if (!from.some((a) => a.signal === b.signal)) errors.push({ path: join('connectors', id), message: `${b.id} receives from it, but no ${b.signal} pipeline exports to it` });
    }
  }
  // A cycle would send data round forever.
  const next = (p: PipelineConfig) => pipelines.filter((q) => p.exporters.some((e) => connectors.has(e) && q.receivers.includes(e)));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: PipelineConfig, path: string[]): void => {
    if (state.get(p.id) === 'done') return;
    if (state.get(p.id) === 'visiting') {
      errors.push({ path: 'service.pipelines', message: `connectors form a cycle: ${[...path.slice(path.indexOf(p.id)), p.id].join(' → ')}` });
      return;
    }
    state.set(p.id, 'visiting');
    for (const q of next(p)) visit(q, [...path, p.id]);
    state.set(p.id, 'done');
  };
  for (const p of pipelines) visit(p, []);
}

function decodePipelines(
  value: unknown,
  sections: Record<keyof typeof SECTIONS, Map<string, ComponentConfig>>,
  out: PipelineConfig[],
  errors: ConfigError[],
): void {
  if (!isMapping(value) || Object.keys(value).length === 0) {
    errors.push({ path: 'service.pipelines', message: 'at least one pipeline is required' });
    return;
  }
  for (const [id, p] of Object.entries(value)) {
    const path = `service.pipelines.${id}`;
    const signal = componentType(id);
    if (signal === 'metrics') {
      errors.push({ path, message: 'metrics pipelines are not supported yet (logs and traces are)' });
      continue;
    }
    if (signal !== 'logs' && signal !== 'traces') {
      errors.push({ path, message: 'pipeline id must be logs[/name] or traces[/name]' });
      continue;
    }
    if (!isMapping(p)) {
      errors.push({ path, message: 'expected a mapping with receivers, processors, exporters' });
      continue;
    }
    for (const k of Object.keys(p)) {
      if (!['receivers', 'processors', 'exporters'].includes(k)) {
        errors.push({ path: `${path}.${k}`, message: 'unknown key (valid keys: receivers, processors, exporters)' });
      }
    }
    const ids = (key: keyof typeof SECTIONS, required: boolean): string[] => {
      const list = p[key] ?? [];
      if (!Array.isArray(list)) {
        errors.push({ path: `${path}.${key}`, message: 'expected a list of component ids' });
        return [];
      }
      if (required && list.length === 0) errors.push({ path: `${path}.${key}`, message: `a pipeline needs at least one of ${key}` });
      const seen = new Set<string>();
      list.forEach((cid, i) => {
        const at = `${path}.${key}[${i}]`;
        const viaConnector = key === 'receivers' || key === 'exporters';
        const own = typeof cid === 'string' ? sections[key].get(cid) : undefined;
        const connector = viaConnector && typeof cid === 'string' ? sections.connectors.get(cid) : undefined;
        if (own && connector) {
          errors.push({ path: at, message: `${JSON.stringify(cid)} is configured both under ${key} and under connectors; rename one` });
          return;
        }
        const comp = own ?? connector;
        if (!comp) {
          errors.push({ path: at, message: `${SECTIONS[key]} ${JSON.stringify(cid)} is not configured under ${key}${viaConnector ? ' or connectors' : ''}` });
          return;
        }
        if (seen.has(cid)) errors.push({ path: at, message: `${JSON.stringify(cid)} appears twice in this pipeline` });
        seen.add(cid);
        const f = comp.factory as { signals?: readonly Signal[] };
        if (f.signals && !f.signals.includes(signal)) {
          errors.push({ path: at, message: `${connector ? 'connector' : SECTIONS[key]} "${cid}" does not support ${signal}` });
        }
      });
      return list.filter((x): x is string => typeof x === 'string');
    };
    out.push({ id, signal, receivers: ids('receivers', true), processors: ids('processors', false), exporters: ids('exporters', true) });
  }
}

/**
 * Every receiver server's `auth.authenticator` names an extension that is
 * configured and enabled in service.extensions (whether it is an
 * authenticator is known only once built: the receiver checks that at start).
 */
function checkAuthenticators(receivers: Map<string, ComponentConfig>, extensions: Map<string, ComponentConfig>, enabled: string[], errors: ConfigError[]): void {
  const visit = (v: unknown, path: string): void => {
    if (!isMapping(v)) return;
    const auth = v.auth;
    if (isMapping(auth) && typeof auth.authenticator === 'string' && auth.authenticator !== '') {
      const id = auth.authenticator;
      if (!extensions.has(id)) errors.push({ path: `${path}.auth.authenticator`, message: `extension ${JSON.stringify(id)} is not configured under extensions` });
      else if (!enabled.includes(id)) errors.push({ path: `${path}.auth.authenticator`, message: `extension ${JSON.stringify(id)} is not listed in service.extensions` });
    }
    for (const [k, sub] of Object.entries(v)) if (k !== 'auth') visit(sub, `${path}.${k}`);
  };
  for (const [id, cc] of receivers) visit(cc.config, join('receivers', id));
}
