/**
 * One measured run of one gateway (trailhouse's or the Collector) for one
 * signal: start it fresh, drive the load generator, bill the process's CPU
 * (all threads, utime + stime) from the first request until the exporter
 * reports every accepted record sent to Kafka (acks=all), then stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../test/process.ts';
import { cpuSeconds, peakRssMiB } from '../proc.ts';
import { peerConfigs, type PeerConfigs, type Signal } from './configs.ts';
import { endOffsets, logTail, startGateway, stopProcess, track } from './processes.ts';
import { recordsOnTopic } from './verify.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));
const TRAILHOUSE = join(REPO, 'bin', 'trailhouse.mjs');
// PEER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/p": node/V8 flags for trailhouse's gateway process (profiling).
const nodeFlags = (process.env.PEER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export type System = 'collector' | 'trailhouse';

export interface RunSpec {
  system: System;
  signal: Signal;
  label: string;
  root: string;
  brokers: string;
  topics: { logs: string; traces: string };
  collectorBin: string;
  records: number;
  perRequest: number;
  senders: number;
}

export interface RunResult {
  system: System;
  accepted: number;
  sent: number;
  failed: number;
  messages: number;
  /** Records counted on the topic afterwards (verify.ts). */
  on_topic: number;
  refusals: number;
  wall_seconds: number;
  cpu_seconds: number;
  per_cpu_second: number;
  ack_ms: { p50: number; p90: number; p99: number; max: number };
  peak_rss_mib: number;
}

/**
 * Sum of a counter's series. The Collector 0.165 exposes counters without the
 * `_total` suffix, older exporters (and trailhouse until it follows) with it:
 * either spelling counts.
 */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.startsWith('_total', name.length) ? name.length + 6 : name.length;
    if (line[rest] === '{' || line[rest] === ' ') sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const SENT = { logs: 'otelcol_exporter_sent_log_records', traces: 'otelcol_exporter_sent_spans' };
const FAILED = { logs: 'otelcol_exporter_send_failed_log_records', traces: 'otelcol_exporter_send_failed_spans' };

async function waitUntil(fn: () => Promise<boolean>, ms: number, what: string, p: ChildProcess, log: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`the gateway exited (${p.exitCode ?? p.signalCode}) while waiting for ${what}; its log ${log}:\n${logTail(log)}`);
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}; the gateway's log ${log}:\n${logTail(log)}`);
}

/** The configs a run uses (also what the bench prints as the shared shape). */
export async function configsFor(spec: Omit<RunSpec, 'system' | 'label' | 'collectorBin' | 'records' | 'perRequest' | 'senders'>, dir: string): Promise<{ configs: PeerConfigs; ports: { http: number; metrics: number; health: number } }> {
  const [http, metrics, health] = [await freePort(), await freePort(), await freePort()];
  const ports = { http, metrics, health };
  return { configs: peerConfigs({ signal: spec.signal, brokers: spec.brokers, topics: spec.topics, dir, ports }), ports };
}

export async function measure(spec: RunSpec): Promise<RunResult> {
  const dir = join(spec.root, spec.label);
  mkdirSync(dir, { recursive: true });
  const { configs, ports } = await configsFor(spec, dir);
  const file = join(dir, `${spec.system}.yaml`);
  writeFileSync(file, spec.system === 'collector' ? configs.collector : configs.trailhouse);
  const log = join(dir, `${spec.system}.log`);
  const topic = spec.signal === 'logs' ? spec.topics.logs : spec.topics.traces;
  let result: RunResult;
  const proc = spec.system === 'collector'
    ? startGateway(spec.collectorBin, ['--config', file], log)
    : startGateway(process.execPath, [...nodeFlags, TRAILHOUSE, 'run', '--config', file], log);
  try {
    // Ready: it takes an empty request for the signal and serves its metrics.
    await waitUntil(async () => {
      const r = await fetch(`http://127.0.0.1:${ports.http}/v1/${spec.signal}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      await r.arrayBuffer();
      return r.ok && (await metric(ports.metrics, 'otelcol_')) >= 0;
    }, 60_000, `${spec.system} to start`, proc, log);
    const before = await endOffsets(spec.brokers, [topic]);

    const gen = track(spawn(process.execPath, ['--import', 'tsx', LOADGEN, `http://127.0.0.1:${ports.http}`, spec.signal, String(spec.records), String(spec.perRequest), String(spec.senders)], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] }));
    let out = '';
    let cpu0 = 0;
    let t0 = 0;
    gen.stdout!.on('data', (c: Buffer) => {
      const had = out.includes('ready\n');
      out += c.toString();
      if (!had && out.includes('ready\n')) {
        cpu0 = cpuSeconds(proc.pid!);
        t0 = performance.now();
        gen.stdin!.end('go\n');
      }
    });
    const code = await new Promise<number>((r) => gen.once('exit', (c) => r(c ?? 1)));
    if (code !== 0) throw new Error(`the load generator failed (exit ${code}) against ${spec.system}; the gateway's log ${log}:\n${logTail(log)}`);
    const sent = JSON.parse(out.trim().split('\n').pop()!) as { accepted: number; refusals: number; ack_ms: RunResult['ack_ms'] };

    let delivered = 0;
    await waitUntil(async () => (delivered = await metric(ports.metrics, SENT[spec.signal])) >= sent.accepted, 300_000,
      `${spec.system} to report all ${sent.accepted} accepted records sent to Kafka`, proc, log);
    const cpu = cpuSeconds(proc.pid!) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    const rss = peakRssMiB(proc.pid!);
    const failed = await metric(ports.metrics, FAILED[spec.signal]);
    const messages = (await endOffsets(spec.brokers, [topic])) - before;
    if (messages <= 0) throw new Error(`${spec.system} reported ${delivered} records sent but no message reached the topics`);
    result = {
      system: spec.system, accepted: sent.accepted, sent: delivered, failed, messages, on_topic: 0, refusals: sent.refusals,
      wall_seconds: +wall.toFixed(2), cpu_seconds: +cpu.toFixed(2), per_cpu_second: Math.round(sent.accepted / cpu),
      ack_ms: sent.ack_ms, peak_rss_mib: rss,
    };
  } finally {
    await stopProcess(proc);
  }
  // Fresh topics per run: everything on it is this run's.
  result.on_topic = await recordsOnTopic(spec.brokers, topic, result.messages);
  return result;
}
