/**
 * The redaction processor as a pipeline stage, with the bytes fast path.
 *
 * When the config lets the bytes decide (config.ts decidesFromBytes: only the
 * built-in detectors and pseudonymisation) and a payload is still its
 * request bytes (core/payload.ts, `content.kind === 'bytes'`), each request in it is
 * pre-checked (precheck.ts): one that cannot hold a secret stays bytes,
 * undecoded; one that may is decoded, redacted and, if anything changed,
 * encoded again. The payload goes on as bytes either way, so the stages
 * behind (batch, the spool or Kafka queue) keep their bytes-only path.
 *
 * Any other payload (OTLP/JSON, already decoded, patched) and any other
 * config get the records path: the Redactor over the records; the received
 * bytes are dropped when it changed something, so no queue stores them.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import type { LogsData, TracesData } from '../../core/model.ts';
import type { Payload } from '../../core/payload.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { processorMetrics } from '../../core/telemetry/metrics.ts';
import { decidesFromBytes, type RedactionConfig } from './config.ts';
import { loadPseudonymKey, pseudonymizeEnabled } from './pseudonym.ts';
import { Redactor } from './redaction.ts';


const codec = {
  logs: { decode: decodeLogsProto, encode: encodeLogsProto, redact: (r: Redactor, d: LogsData) => r.logs(d) },
  traces: { decode: decodeTracesProto, encode: encodeTracesProto, redact: (r: Redactor, d: TracesData) => r.traces(d) },
};

/** What one call changed and how (metrics, and tests of the fast path). */
export interface Tally {
  removed: number;
  masked: number;
  pseudonymized: number;
  /** Requests passed on as bytes by the pre-check. */
  passed: number;
  /** Requests decoded because the pre-check flagged them ... */
  decoded: number;
  /** ... and of those, the ones something was redacted in (encoded again). */
  changed: number;
}

export const newTally = (): Tally => ({ removed: 0, masked: 0, pseudonymized: 0, passed: 0, decoded: 0, changed: 0 });

function add(t: Tally, r: Redactor): void {
  t.removed += r.removed;
  t.masked += r.masked + r.b.count;
  t.pseudonymized += r.pseudonymized;
}

/**
 * One payload redacted, in place: a payload still in bytes keeps being
 * bytes (flagged requests rewritten, Payload.replaceParts); a decoded
 * one has its records changed.
 */
export function redactPayload<P extends Payload>(r: Redactor, data: P, bytesPath: boolean, t: Tally = newTally()): P {
  type D = LogsData | TracesData;
  const c = codec[data.signal] as unknown as {
    decode(b: Uint8Array): D;
    encode(d: D): Uint8Array;
    redact(r: Redactor, d: D): void;
  };
  const content = data.content;
  const pending = bytesPath && content.kind === 'bytes' && !content.patches ? content : undefined;
  if (pending) {
    let parts: Uint8Array[] | null = null;
    pending.parts.forEach((part, i) => {
      if (!r.b.precheck.mayHold(part)) {
        t.passed++;
        return;
      }
      t.decoded++;
      const decoded = c.decode(part);
      r.resetCounts();
      c.redact(r, decoded);
      if (!r.changed) return; // a false positive: the original bytes stay
      add(t, r);
      t.changed++;
      (parts ??= pending.parts.slice())[i] = c.encode(decoded);
    });
    if (parts) data.replaceParts(parts); // the same payload object: client info and the rest stay
    return data;
  }
  r.resetCounts();
  c.redact(r, data.records());
  if (r.changed) {
    add(t, r);
    data.dropBytes(); // the received bytes still hold what was masked
  }
  return data;
}

export function redactionProcessor(settings: CreateSettings<RedactionConfig>, next: NextConsumers): Component & LogsConsumer & TracesConsumer {
  const cfg = settings.config;
  const bytesPath = decidesFromBytes(cfg);
  const m = processorMetrics(settings.metrics, settings.id);
  const labels = { processor: settings.id };
  const counter = (name: string, help: string) => settings.metrics.counter(`trailhouse_redaction_${name}`, help, labels);
  const metrics = {
    removed: counter('removed_attributes', 'Attributes (and body keys) removed as not allowed.'),
    masked: counter('masked_values', 'Attribute and body values, names and messages masked.'),
    pseudonymized: counter('pseudonymized_values', 'Personal identifiers replaced by their pseudonym.'),
    passed: counter('requests_passed', 'Requests passed on as bytes: the pre-check found nothing to redact.'),
    decoded: counter('requests_decoded', 'Requests decoded because the pre-check found what may be a secret.'),
  };
  // Built at start: a key file is read then (no I/O while the pipeline is built).
  let redactor: Redactor | undefined;
  const make = () => new Redactor(cfg, pseudonymizeEnabled(cfg.pseudonymize) ? loadPseudonymKey(cfg.pseudonymize) : undefined);

  const run = async <P extends Payload>(data: P, forward: (d: P) => Promise<void>): Promise<void> => {
    const signal = data.signal;
    const items = data.count;
    m[signal].incoming.add(items);
    redactor ??= make();
    const t = newTally();
    const out = redactPayload(redactor, data, bytesPath, t);
    for (const k of ['removed', 'masked', 'pseudonymized', 'passed', 'decoded'] as const) if (t[k]) metrics[k].add(t[k]);
    try {
      await forward(out);
      m[signal].outgoing.add(items);
    } catch (err) {
      m[signal].refused.add(items);
      throw err;
    }
  };

  return {
    start: async () => {
      redactor ??= make();
    },
    consumeLogs: (data) => run(data, (d) => next.logs!.consumeLogs(d)),
    consumeTraces: (data) => run(data, (d) => next.traces!.consumeTraces(d)),
    shutdown: once(async () => {}),
  };
}
