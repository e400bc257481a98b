/**
 * `npm run bench:peer`: trailhouse's gateway side by side with the
 * OpenTelemetry Collector (built here with its own builder, see collector.ts),
 * same config (configs.ts), same load (loadgen.ts), one local Kafka broker of
 * the bench's own, in interleaved pairs: each round runs both, each as a fresh
 * process, the order alternating per round. Only ratios of interleaved runs
 * mean much on a shared machine.
 *
 *   npm run bench:peer -- [--rounds 3] [--records 300000] [--signals logs,traces]
 *     [--senders 16] [--batch 500] [--partitions 8] [--kafka-port 19092] [--keep]
 *
 * --batch: records per request (even: each mesh request is 2 logs or 2 spans).
 * --keep: leave the state directory (configs, logs, broker data) and print it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseArgs } from '../../../bin/commands/args.ts';
import { createTopics } from '../../../test/kafka-broker.ts';
import { ensureCollector } from './collector.ts';
import { configsFor, measure, type RunResult, type System } from './measure.ts';
import { startBroker, stopAll, type Broker } from './processes.ts';
import { summary, table, TARGETS, type Pair } from './report.ts';
import type { PeerConfigs, Signal } from './configs.ts';

const KNOWN = ['rounds', 'records', 'signals', 'senders', 'batch', 'partitions', 'kafka-port', 'keep'];
const args = parseArgs(process.argv.slice(2), ['keep']);
for (const k of args.flags.keys()) if (!KNOWN.includes(k)) throw new Error(`bench:peer: unknown flag --${k} (known: ${KNOWN.map((x) => `--${x}`).join(' ')})`);
if (args.positional.length) throw new Error(`bench:peer: unexpected argument ${args.positional[0]}`);

function int(name: string, def: number, min: number, max: number): number {
  const raw = flag(args, name);
  const v = raw === undefined ? def : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`bench:peer: --${name} must be an integer in ${min}..${max}, got ${raw}`);
  return v;
}
const rounds = int('rounds', 3, 1, 20);
const records = int('records', 300_000, 1_000, 5_000_000);
const senders = int('senders', 16, 1, 256);
const perRequest = int('batch', 500, 2, 20_000);
if (perRequest % 2) throw new Error('bench:peer: --batch must be even (each mesh request is 2 records)');
const partitions = int('partitions', 8, 1, 64);
const kafkaPort = int('kafka-port', 19092, 1024, 65534);
const keep = args.flags.has('keep');
const signals = (flag(args, 'signals') ?? 'logs,traces').split(',').map((s) => s.trim());
for (const s of signals) if (s !== 'logs' && s !== 'traces') throw new Error(`bench:peer: --signals takes logs and/or traces, got ${s}`);

const say = (s: string): void => console.error(`bench:peer: ${s}`);

/** Both configs checked by their own `validate` first: a refused key stops the bench with the reason. */
function validate(collectorBin: string, configs: PeerConfigs): void {
  mkdirSync(join(root, 'shape'), { recursive: true });
  const checks: Array<[string, string, string[]]> = [
    ['collector', configs.collector, [collectorBin, 'validate', '--config']],
    ['trailhouse', configs.trailhouse, [process.execPath, fileURLToPath(new URL('../../../bin/trailhouse.mjs', import.meta.url)), 'validate', '--config']],
  ];
  for (const [name, text, cmd] of checks) {
    const file = join(root, 'shape', `${name}.yaml`);
    writeFileSync(file, text);
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the ${name} refused the bench's config ${file} (derived from examples/gateway.yaml):\n${`${r.stderr}${r.stdout}`.trim()}`);
  }
}
const root = mkdtempSync(join(tmpdir(), 'th-bench-peer-'));
let broker: Broker | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    await broker?.stop();
    if (keep) say(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    interrupted = true;
    say(`${sig}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  const t0 = Date.now();
  const collectorBin = await ensureCollector(say);
  say(`collector ready (${((Date.now() - t0) / 1000).toFixed(0)} s): ${collectorBin}`);
  // trailhouse as installed runs its bundle (bin/trailhouse.mjs picks it while
  // it is fresh): build it, so the bench measures what a user runs.
  execFileSync(process.execPath, [fileURLToPath(new URL('../../build.mjs', import.meta.url))], { stdio: ['ignore', 'ignore', 'inherit'] });
  say(`starting the bench's Kafka broker on 127.0.0.1:${kafkaPort} (data in ${root}/kafka)`);
  broker = await startBroker(kafkaPort, join(root, 'kafka'));
  // Each run gets fresh topics (same partition count for both systems), so what is on them is its own.
  const topicsFor = async (label: string): Promise<{ logs: string; traces: string }> => {
    const t = { logs: `otlp_logs-${label}`, traces: `otlp_spans-${label}` };
    await createTopics(broker!.brokers, [t.logs, t.traces], partitions);
    return t;
  };
  const topics = { logs: 'otlp_logs', traces: 'otlp_spans' }; // names for the printed shape only

  const shape = (await configsFor({ signal: signals[0] as Signal, root, brokers: broker.brokers, topics }, join(root, 'shape'))).configs;
  validate(collectorBin, shape);
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; trailhouse ${head}, Collector 0.165 (${collectorBin})`);
  console.log(`config (both): OTLP/HTTP → ${shape.processors.join(' → ')} → kafka (${JSON.stringify(shape.exporter.producer)}, partition_traces_by_id ${String(shape.exporter.partition_traces_by_id)}, partition_logs_by_trace_id ${String(shape.exporter.partition_logs_by_trace_id)}, sending_queue ${JSON.stringify(shape.exporter.sending_queue ?? {})})`);
  if (shape.dropped.length) console.log(`left out of both (examples/gateway.yaml has them, this Collector build has no equivalent): ${shape.dropped.join(', ')}`);
  console.log('trailhouse runs from its bundle (dist/trailhouse.mjs, built by the bench as `npm run build` does)');
  console.log('each run: fresh gateway process, fresh topics; its records are counted on the topic afterwards (fewer than acknowledged stops the bench)');
  console.log(`load: ${records} records per run, ${perRequest} per OTLP/HTTP protobuf request, ${senders} senders; ${rounds} interleaved round(s); ${partitions} partitions per topic\n`);

  const results: Record<string, unknown> = {};
  for (const signal of signals as Signal[]) {
    const pairs: Pair[] = [];
    for (let r = 1; r <= rounds; r++) {
      const order: System[] = r % 2 ? ['collector', 'trailhouse'] : ['trailhouse', 'collector'];
      const got: Partial<Record<System, RunResult>> = {};
      for (const system of order) {
        say(`${signal} round ${r}/${rounds}: ${system}`);
        const label = `${signal}-r${r}-${system}`;
        const res = await measure({ system, signal, label, root, brokers: broker.brokers, topics: await topicsFor(label), collectorBin, records, perRequest, senders });
        if (res.sent < res.accepted || res.failed > 0) throw new Error(`${system} accepted ${res.accepted} ${signal} records but reported ${res.sent} sent, ${res.failed} failed`);
        if (res.on_topic < res.accepted) throw new Error(`${system} accepted ${res.accepted} ${signal} records but ${res.on_topic} are on its topic`);
        // At-least-once: a retried send may repeat records; say so, it is not a loss.
        if (res.on_topic > res.accepted) say(`  note: ${res.on_topic - res.accepted} ${signal} records on the topic twice (a retried send)`);
        say(`  ${res.per_cpu_second} records/CPU-s (${res.cpu_seconds} CPU-s, ${res.wall_seconds} s), ack p50 ${res.ack_ms.p50} ms p99 ${res.ack_ms.p99} ms, peak RSS ${res.peak_rss_mib} MiB, ${res.messages} messages, ${res.on_topic} records on the topic`);
        got[system] = res;
      }
      pairs.push({ round: r, order: order.join('→'), collector: got.collector!, trailhouse: got.trailhouse! });
    }
    console.log(table(signal, pairs) + '\n');
    results[signal] = { ...summary(pairs), rounds: pairs };
  }
  console.log(JSON.stringify({ records, per_request: perRequest, senders, rounds, partitions, targets: TARGETS, ...results }));
} catch (err) {
  // After Ctrl-C the run's own errors are the stop's echo, not news.
  if (!interrupted) console.error(`bench:peer: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
