/**
 * trailhouse as an agent, measured: `trailhouse run` with examples/agent.yaml's
 * shape (filelog with offsets in file_storage → otlp exporter, gzip, persistent
 * queue) tailing `--files` files that hold `--lines` mesh access-log lines in
 * all (Istio text and Envoy JSON, half each), written before it starts
 * once the agent runs (so its start-up is not counted), into a sink that acknowledges every Export at once
 * (this process: trailhouse's OTLP receiver, nothing decoded). Reports the
 * agent's lines per CPU-second (its utime + stime from its start until the
 * sink has every line) and its peak RSS.
 *
 *   npm run bench:agent [-- --files 50 --lines 1000000 --parser envoy_json|none --compression gzip|none --max-batch-bytes 768KiB
 *                          --queue-size 4 --consumers 1 --node-flags "--max-semi-space-size=1 --max-old-space-size=64"
 *                          --malloc-env "MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536"]
 *
 * The defaults are examples/agent.yaml's (and the NODE_OPTIONS it documents).
 *
 * Run it after `npm run build` (as `npm install` does): from sources, tsx's
 * transpiler adds tens of MiB to the agent's RSS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Factory } from '../../core/component.ts';
import type { LogsPayload } from '../../core/payload.ts';
import { otlpFactory } from '../../receivers/otlp/index.ts';
import type { OtlpReceiver } from '../../receivers/otlp/otlp.ts';
import { settingsFor } from '../../test/component-config.ts';
import { testHost } from '../../test/helpers.ts';
import { Trailhouse, freePort } from '../../test/process.ts';
import { cpuSeconds, peakRssMiB } from './proc.ts';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const FILES = Number(flag('files', '50'));
const LINES = Number(flag('lines', '1000000'));
const PARSER = flag('parser', 'envoy_json');
/** filelog's max_batch_bytes, and max_log_size with it (default: the receiver's). */
const BATCH = flag('max-batch-bytes', '768KiB');

const ISTIO = (i: number) =>
  `[2024-05-14T09:12:10.000Z] "GET /status/${i} HTTP/1.1" 200 - via_upstream - "-" 0 0 4 3 "-" "curl/8.5.0" "84961386-6d84-929d-98bd-${String(i).padStart(12, '0')}" "httpbin:8000" "10.244.1.7:80" inbound|80|| 127.0.0.6:41211 10.244.1.7:80 10.244.0.12:46520 outbound_.8000_._.httpbin.foo.svc.cluster.local default`;
const ENVOY = (i: number) =>
  JSON.stringify({ start_time: '2024-05-14T09:12:03.456Z', method: 'GET', path: `/api/${i}`, protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', response_code_details: 'via_upstream', bytes_sent: 19, duration: 2, x_request_id: `2c6c1a0f-${i}`, authority: 'httpbin.foo:8000', upstream_host: '10.244.1.7:80', upstream_cluster: 'inbound|80||' });

const root = mkdtempSync(join(tmpdir(), 'th-bench-agent-'));
const logs = join(root, 'logs');
mkdirSync(logs);
let received = 0;
const sink = { consumeLogs: async (p: LogsPayload) => void (received += p.count) };
const gw = otlpFactory.create(settingsFor(otlpFactory as Factory, { protocols: { grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 64 } } }), { logs: sink, bytesOnly: { logs: true } }) as OtlpReceiver;
await gw.start(testHost());

const cfg = {
  receivers: { filelog: { include: [join(logs, '*.log')], start_at: 'beginning', storage: 'file_storage', operators: PARSER === 'envoy_json' ? [{ type: 'envoy_json_parser', on_error: 'send_quiet' }] : [], ...(BATCH ? { max_batch_bytes: BATCH, max_log_size: BATCH } : {}) } },
  processors: { memory_limiter: { check_interval: '1s', limit_mib: 56, spike_limit_mib: 12 } },
  exporters: { otlp: { endpoint: gw.grpc!.address, tls: { insecure: true }, compression: flag('compression', 'gzip'), sending_queue: { storage: 'file_storage', queue_size: Number(flag('queue-size', '4')), num_consumers: Number(flag('consumers', '1')) } } },
  extensions: { file_storage: { directory: join(root, 'data') } },
  service: { extensions: ['file_storage'], telemetry: { logs: { level: 'warn' }, metrics: { address: `127.0.0.1:${await freePort()}` } }, pipelines: { logs: { receivers: ['filelog'], processors: ['memory_limiter'], exporters: ['otlp'] } } },
};
writeFileSync(join(root, 'agent-config.yaml'), stringify(cfg));
// Level info for the start line Trailhouse.start waits for; warn afterwards is not adjustable at runtime, so keep info.
cfg.service.telemetry.logs.level = 'info';
const began = Date.now();
// examples/agent.yaml's settings and NODE_OPTIONS by default (queue, consumers, memory_limiter, V8 flags).
const nodeFlags = flag('node-flags', '--max-semi-space-size=1 --max-old-space-size=64').split(' ').filter(Boolean);
// The glibc settings the example documents ('' for glibc's defaults).
const mallocEnv = Object.fromEntries(flag('malloc-env', 'MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536').split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const agent = await Trailhouse.start(root, 'agent', stringify(cfg), mallocEnv, nodeFlags);
const pid = agent.proc.pid!;
const idleRss = peakRssMiB(pid);
const cpu0 = cpuSeconds(pid);
const wrote = Date.now();
let bytes = 0;
const perFile = Math.ceil(LINES / FILES);
for (let f = 0, n = 0; f < FILES; f++) {
  const out: string[] = [];
  for (let i = 0; i < perFile && n < LINES; i++, n++) out.push(n % 2 ? ENVOY(n) : ISTIO(n));
  const text = out.join('\n') + '\n';
  bytes += text.length;
  writeFileSync(join(logs, `pod-${f}.log`), text);
}

const deadline = Date.now() + 30 * 60_000;
while (received < LINES) {
  if (Date.now() > deadline) throw new Error(`timed out with ${received} of ${LINES} lines\n${agent.tail()}`);
  agent.assertRunning();
  await new Promise((r) => setTimeout(r, 50));
}
const cpu = cpuSeconds(pid) - cpu0;
const rss = peakRssMiB(pid);
const wall = (Date.now() - wrote) / 1000;
void began;
await agent.stop();
await gw.shutdown();
rmSync(root, { recursive: true, force: true });
const result = {
  phase: 'filelog→otlp (agent)',
  files: FILES,
  lines: LINES,
  parser: PARSER,
  mib_tailed: +(bytes / 2 ** 20).toFixed(1),
  wall_s: +wall.toFixed(2),
  agent_cpu_s: +cpu.toFixed(2),
  lines_per_cpu_s: Math.round(LINES / cpu),
  peak_rss_mib: rss,
  rss_at_start_mib: idleRss,
  targets: { lines_per_cpu_s: 100_000, peak_rss_mib: 100 },
};
console.log(JSON.stringify(result, null, 2));
