/**
 * Real syslog senders for the tests: Debian's rsyslog and syslog-ng run in
 * the foreground with a config in a temp dir (never as system services),
 * fed through a Unix datagram socket of their own by util-linux `logger`.
 *
 * syslog-ng conflicts with rsyslog as a Debian package, so .ci/run unpacks
 * syslog-ng-core into ~/.cache/trailhouse/syslog-ng (SYSLOG_NG_ROOT) instead
 * of installing it; a syslog-ng on PATH is used when there is one.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../test/helpers.ts';

export interface Peer {
  /** The Unix datagram socket it reads from. */
  sock: string;
  stop(): Promise<void>;
  output(): string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, dir: string, sock: string, name: string): Promise<Peer> {
  let out = '';
  const p: ChildProcess = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  p.once('exit', () => (exited = true));
  const peer: Peer = {
    sock,
    output: () => out,
    stop: async () => {
      if (exited) return;
      p.kill('SIGTERM');
      await waitFor(() => exited, 10_000, `${name} to stop`).catch(() => p.kill('SIGKILL'));
    },
  };
  return waitFor(() => existsSync(sock) || exited, 15_000, `${name} to create ${sock}`).then(() => {
    if (exited) throw new Error(`${name} exited: ${out}`);
    return peer;
  });
}

/** rsyslogd -n with `action` (an omfwd action statement) and optional global() settings. */
export function startRsyslog(dir: string, action: string, global = ''): Promise<Peer> {
  const sock = path.join(dir, 'rsyslog-in.sock');
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}" ${global})`,
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${sock}" RateLimit.Interval="0")`,
      action,
    ].join('\n'),
  );
  return run('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], process.env, dir, sock, 'rsyslogd');
}

export function syslogNg(): { bin: string; env: NodeJS.ProcessEnv; moduleArgs: string[] } {
  const root = process.env.SYSLOG_NG_ROOT ?? path.join(os.homedir(), '.cache', 'trailhouse', 'syslog-ng');
  const local = path.join(root, 'usr', 'sbin', 'syslog-ng');
  if (existsSync(local)) {
    const lib = path.join(root, 'usr', 'lib', 'syslog-ng');
    const modDir = readdirSync(lib).find((d) => /^\d+\.\d+$/.test(d)) ?? '';
    return { bin: local, env: { ...process.env, LD_LIBRARY_PATH: lib }, moduleArgs: [`--module-path=${path.join(lib, modDir)}`] };
  }
  return { bin: 'syslog-ng', env: process.env, moduleArgs: [] };
}

/** syslog-ng -F with `destination` (the body of a destination block: `syslog("127.0.0.1" port(N) ...)`). */
export function startSyslogNg(dir: string, destination: string): Promise<Peer> {
  const sock = path.join(dir, 'sng-in.sock');
  const conf = path.join(dir, 'syslog-ng.conf');
  writeFileSync(
    conf,
    [
      '@version: 3.38',
      'options { use-dns(no); stats-freq(0); };',
      `source s_in { unix-dgram("${sock}"); };`,
      `destination d_out { ${destination}; };`,
      'log { source(s_in); destination(d_out); };',
    ].join('\n'),
  );
  const { bin, env, moduleArgs } = syslogNg();
  const f = (n: string) => path.join(dir, n);
  return run(bin, ['-F', '-f', conf, ...moduleArgs, '-p', f('sng.pid'), '-c', f('sng.ctl'), '-R', f('sng.persist'), '--no-caps'], env, dir, sock, 'syslog-ng');
}

/** util-linux logger: one message to a peer's socket. */
export function logTo(sock: string, tag: string, message: string, priority = 'user.notice'): void {
  execFileSync('logger', ['-u', sock, '-t', tag, '-p', priority, '--', message]);
}
