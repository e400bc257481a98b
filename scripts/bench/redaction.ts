/**
 * The redaction processor's cost per record, in process, over mesh access
 * logs and spans (scripts/bench/workload.ts; 12 attributes and a string
 * body per log record), requests of 500 traces (1000 records each):
 *
 * - `fast_path`: the default pipeline.yaml's rules on requests still in
 *   bytes (as the OTLP, Zipkin and Jaeger receivers hand them on): the
 *   pre-check alone, nothing decoded.
 * - `one_secret_per_request`: the same with one record per request holding
 *   a bearer token: that request is decoded, redacted and encoded again.
 * - `records_path`: the default rules over decoded records (OTLP/JSON).
 * - `gateway_rules_before`: the regex rules examples/gateway.yaml had
 *   before the built-in ones (every record decoded, walked, encoded).
 *
 * CPU time per record, median of the rounds after two warm-ups.
 *
 *   node --import tsx scripts/bench/redaction.ts
 */
import { cloneLogs, cloneTraces, logRecordCount, spanCount, type LogsData, type TracesData } from '../../core/model.ts';
import { decodeLogsProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { defaultRedactionConfig, type RedactionConfig } from '../../processors/redaction/config.ts';
import { redactPayload } from '../../processors/redaction/processor.ts';
import { Redactor } from '../../processors/redaction/redaction.ts';
import { makeBatch } from './workload.ts';
import { Payload } from '../../core/payload.ts';

const defaults: RedactionConfig = { ...defaultRedactionConfig(), allow_all_keys: true, mask_credentials: true, mask_payment_cards: true, summary: 'debug' };
const gatewayBefore: RedactionConfig = {
  ...defaultRedactionConfig(),
  allow_all_keys: true,
  blocked_key_patterns: ['(?i)(authorization|cookie|x-api-key|password|secret)'],
  blocked_values: ['(?i)(access_token|api_key|token)=[^&\\s]+', '\\b4[0-9]{12}(?:[0-9]{3})?\\b', '\\b5[1-5][0-9]{14}\\b'],
  summary: 'info',
};

const ROUNDS = 9;
const batches = Array.from({ length: 8 }, (_, i) => makeBatch(500, i));
const logBytes = batches.map((b) => encodeLogsProto(b.logs));
const spanBytes = batches.map((b) => encodeTracesProto(b.traces));
const dirtyLogBytes = batches.map((b) => {
  const d = decodeLogsProto(encodeLogsProto(b.logs));
  d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.push({ key: 'url.full', value: 'https://x/cb?access_token=AbC123xyz' });
  return encodeLogsProto(d);
});
const logRecords = batches.reduce((n, b) => n + logRecordCount(b.logs), 0);
const spanRecords = batches.reduce((n, b) => n + spanCount(b.traces), 0);

function median(fn: () => number): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS + 2; round++) {
    const v = fn();
    if (round >= 2) rounds.push(v);
  }
  rounds.sort((a, b) => a - b);
  return +rounds[Math.floor(rounds.length / 2)]!.toFixed(3);
}

function cpu<T>(prepare: () => T[], run: (x: T) => void, records: number): number {
  const inputs = prepare();
  const t0 = process.cpuUsage();
  for (const x of inputs) run(x);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / records;
}

const r = new Redactor(defaults);
const fastLogs = () => cpu(() => logBytes.map((b) => Payload.scan('logs', b)), (d) => redactPayload(r, d, true), logRecords);
const fastSpans = () => cpu(() => spanBytes.map((b) => Payload.scan('traces', b)), (d) => redactPayload(r, d, true), spanRecords);
const dirtyLogs = () => cpu(() => dirtyLogBytes.map((b) => Payload.scan('logs', b)), (d) => redactPayload(r, d, true), logRecords);
const recordsLogs = (cfg: RedactionConfig) => {
  const rr = new Redactor(cfg);
  return () => cpu(() => batches.map((b) => cloneLogs(b.logs)), (d: LogsData) => rr.logs(d), logRecords);
};
const recordsSpans = () => {
  const rr = new Redactor(defaults);
  return cpu(() => batches.map((b) => cloneTraces(b.traces)), (d: TracesData) => rr.traces(d), spanRecords);
};

console.log(JSON.stringify({
  records_per_round: { logs: logRecords, spans: spanRecords },
  bytes_per_record: { logs: Math.round(logBytes.reduce((n, b) => n + b.length, 0) / logRecords), spans: Math.round(spanBytes.reduce((n, b) => n + b.length, 0) / spanRecords) },
  us_per_record: {
    fast_path_logs: median(fastLogs),
    fast_path_spans: median(fastSpans),
    one_secret_per_request_logs: median(dirtyLogs),
    records_path_logs: median(recordsLogs(defaults)),
    records_path_spans: median(recordsSpans),
    gateway_rules_before_records_path_logs: median(recordsLogs(gatewayBefore)),
  },
}, null, 2));
