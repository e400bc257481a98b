/**
 * The real Fluent senders for the tests: the official Node client
 * (npm `fluent-logger`, a devDependency) and the official
 * Python client (PyPI `fluent-logger`, in a venv under ~/.cache/trailhouse).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const cache = path.join(os.homedir(), '.cache', 'trailhouse');
const PY_VERSION = '0.11.1';

export interface FluentSenderOptions {
  host?: string;
  port?: number;
  path?: string;
  timeout?: number;
  requireAckResponse?: boolean;
  ackResponseTimeout?: number;
  eventMode?: 'Message' | 'PackedForward' | 'CompressedPackedForward';
  flushInterval?: number;
  tls?: boolean;
  tlsOptions?: Record<string, unknown>;
  security?: { clientHostname: string; sharedKey: string; username?: string; password?: string };
  reconnectInterval?: number;
  internalLogger?: { info(...a: unknown[]): void; error(...a: unknown[]): void };
}

export interface FluentSender {
  emit(label: string, data: Record<string, unknown>, cb?: (err?: Error) => void): void;
  emit(label: string, data: Record<string, unknown>, time: unknown, cb?: (err?: Error) => void): void;
  end(label?: string, data?: unknown, cb?: () => void): void;
  on(event: string, fn: (err: Error) => void): void;
}

export interface FluentLoggerModule {
  createFluentSender(tag: string, opts: FluentSenderOptions): FluentSender;
  EventTime: { now(): unknown; fromDate(d: Date): unknown };
}

/** The npm client (a devDependency). */
export function fluentLogger(): FluentLoggerModule {
  return createRequire(import.meta.url)('fluent-logger') as FluentLoggerModule;
}

/** The venv's python with fluent-logger installed (created on first use). */
export function pythonFluent(): string {
  const venv = path.join(cache, `py-fluent-${PY_VERSION}`);
  const py = path.join(venv, 'bin', 'python');
  if (!existsSync(py)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
    execFileSync(py, ['-m', 'pip', 'install', '-q', `fluent-logger==${PY_VERSION}`], { stdio: 'ignore' });
  }
  return py;
}

/** Emits each record with Python's FluentSender (Message mode; `nanosecond_precision` sends EventTime). */
export function pythonEmit(port: number, tag: string, label: string, records: Record<string, unknown>[]): string {
  const script = [
    'import json, sys',
    'from fluent import sender',
    `s = sender.FluentSender(${JSON.stringify(tag)}, host='127.0.0.1', port=${port}, nanosecond_precision=True)`,
    'ok = True',
    `for r in json.loads(sys.argv[1]):`,
    `    ok = s.emit(${JSON.stringify(label)}, r) and ok`,
    'print("ok" if ok else "error: %s" % s.last_error)',
    's.close()',
  ].join('\n');
  return execFileSync(pythonFluent(), ['-c', script, JSON.stringify(records)]).toString().trim();
}
