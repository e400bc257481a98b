/**
 * The detectors on a baseline of normal mesh traffic (test/mesh-traffic.ts:
 * services calling their usual endpoints, allowed by policy; an operator on
 * /admin; plain 200s), after a learning period on the same traffic: no
 * signal may be raised (exit 1 if one is). Records are classified from OTLP
 * bytes as the detect processor does (the audit processor's rules), then
 * fed to the engine; a simulated clock moves 1 s per batch of 1000 (a mesh
 * of 1000 requests a second), through a learning period of 15 minutes
 * (900 000 records) and then `--records` more.
 * Reports the CPU per record of detection (classification included), then
 * the memory per tracked key of each kind of state (heap delta after GC).
 *
 *   node --expose-gc --import tsx scripts/bench/detect-baseline.ts [--records 1000000] [--keys 100000]
 */
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { classifyPayload } from '../../processors/audit/audit.ts';
import { compileRules } from '../../processors/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { defaultDetectConfig } from '../../processors/detect/config.ts';
import { DetectEngine } from '../../processors/detect/engine.ts';
import { eachServiceName } from '../../processors/detect/services.ts';
import { Clock, RecordingSink, allowed, denial } from '../../processors/detect/testdata/rows.ts';
import { logsOf, normalTraffic } from '../../test/mesh-traffic.ts';

const args = parseArgs(process.argv.slice(2));
const RECORDS = Number(flag(args, 'records') ?? 1_000_000);
const KEYS = Number(flag(args, 'keys') ?? 100_000);
const BATCH = 1000;
const rules = compileRules(defaultAuditRules());

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// ---- baseline
const cfg = defaultDetectConfig();
cfg.learning_period = 900_000;
const clock = new Clock();
const sink = new RecordingSink();
const engine = new DetectEngine(cfg, rules, sink, clock.now);
// 100 distinct requests of normal traffic (the mix repeats every 100 000 records), sent again and again under new dedup tokens.
const parts = Array.from({ length: 100 }, (_, k) => encodeLogsProto(logsOf(normalTraffic(BATCH, k * BATCH), 'istio-proxy')));
let token = 0;
function run(n: number): number {
  let events = 0;
  for (let i = 0; i < n; i += BATCH) {
    const p = Payload.ofBytes('logs', [parts[(i / BATCH) % parts.length]!], BATCH);
    p.dedupToken = `bench-${token++}`;
    eachServiceName(p, (s) => engine.seen(s));
    const rows = classifyPayload(p, rules);
    events += rows.length;
    engine.observe(rows);
    clock.advance(1000);
  }
  engine.tick();
  return events;
}
run((cfg.learning_period / 1000) * BATCH); // learning
if (engine.learning()) throw new Error('still learning');
const c0 = cpu();
const t0 = performance.now();
const events = run(RECORDS);
const secs = cpu() - c0;
const wall = (performance.now() - t0) / 1000;
console.log(`baseline: ${RECORDS} records (${events} audit events) after learning: ${sink.signals.length} signals`);
console.log(`  detection (classification from bytes + detectors): ${((secs / RECORDS) * 1e6).toFixed(2)} µs CPU per record, ${Math.round(RECORDS / secs)} records per CPU-second (${wall.toFixed(1)} s wall)`);
// The same records classified only: what the audit processor pays anyway, and takes from detect instead (processors/audit/reuse.ts).
const c1 = cpu();
for (let i = 0; i < RECORDS; i += BATCH) {
  const p = Payload.ofBytes('logs', [parts[(i / BATCH) % parts.length]!], BATCH);
  p.dedupToken = `bench-${token++}`;
  classifyPayload(p, rules);
}
const classifySecs = cpu() - c1;
console.log(`  of which classification alone: ${((classifySecs / RECORDS) * 1e6).toFixed(2)} µs; the detectors and service sightings: ${(((secs - classifySecs) / RECORDS) * 1e6).toFixed(2)} µs per record`);
for (const [d, n] of engine.sizes()) console.log(`  ${d}: ${n} keys`);
if (sink.signals.length) {
  for (const s of sink.signals.slice(0, 10)) console.log(`  ! ${s.key}: ${s.reason}`);
  process.exitCode = 1;
}

// ---- memory per key
const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}
function perKey(label: string, fill: (e: DetectEngine, c: Clock) => void): void {
  const c = new Clock();
  const cfg2 = defaultDetectConfig();
  cfg2.learning_period = 1;
  for (const d of Object.values(cfg2.detectors)) if ('max_keys' in d) d.max_keys = KEYS * 2;
  const before = heap();
  const e = new DetectEngine(cfg2, rules, new RecordingSink(), c.now);
  fill(e, c);
  const after = heap();
  const keys = e.sizes().reduce((n, [, k]) => n + k, 0);
  console.log(`  ${label}: ${keys} keys, ${Math.round((after - before) / keys)} bytes per key`);
  if (e.learning() === undefined) console.log(''); // keeps `e` alive until measured
}
console.log(`memory per tracked key${gc ? '' : ' (run with --expose-gc for a stable figure)'}:`);
const principal = (i: number) => `spiffe://cluster.local/ns/team-${i % 97}/sa/workload-${i}`;
perKey('first_seen_access (principal|destination|path → last seen)', (e) => {
  // first_seen_access and sensitive_first_seen hold the same state.
  for (let i = 0; i < KEYS; i++) e.observe([allowed(principal(i), `svc-${i % 50}.shop.svc.cluster.local:8080`, `/api/v1/resource-${i % 1000}`)]);
});
perKey('deny_surge, quiet keys (window counts + baseline)', (e, c) => {
  // Learning (no evidence), each key its own principal and destination: two keys per event.
  c.ms -= 10;
  for (let i = 0; i < KEYS / 2; i++) e.observe([denial(principal(i), `dest-${i}:8080`, '/x')]);
});
perKey('source_silent (service → last seen)', (e) => {
  for (let i = 0; i < KEYS; i++) e.seen(`service-${i}`);
});
