/** The syslog receiver on raw sockets: framing edge cases, bad input, backpressure, config. */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { RefusedError } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sleep, testLogger, waitFor } from '../../test/helpers.ts';
import { defaultSyslogConfig, syslogTcpDefaults, syslogUdpDefaults, validateSyslog, type SyslogConfig } from './config.ts';
import { SyslogReceiver } from './receiver.ts';

const receivers: SyslogReceiver[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.destroy());
  await Promise.all(receivers.splice(0).map((r) => r.shutdown()));
});

async function setup(cfg: Partial<SyslogConfig>, tcpOver: Partial<NonNullable<SyslogConfig['tcp']>> = {}) {
  const sink = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const r = new SyslogReceiver(
    { id: 'syslog', config: { ...defaultSyslogConfig(), tcp: { ...syslogTcpDefaults(), listen_address: '127.0.0.1:0', ...tcpOver }, ...cfg }, logger: testLogger(), metrics },
    { logs: sink },
  );
  await r.start();
  receivers.push(r);
  const port = Number(r.tcpAddress.slice(r.tcpAddress.lastIndexOf(':') + 1));
  const connect = () =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
      sockets.push(s);
    });
  return { r, sink, metrics, connect };
}

const closed = (s: net.Socket, ms = 5000) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

const L = '<14>1 2024-05-14T09:12:05Z host app 1 - - ';
const framed = (m: string) => `${Buffer.byteLength(m)} ${m}`;

describe('syslog TCP framing and bad input', () => {
  it('octet counting, split at every byte, several messages per write', async () => {
    const { sink, connect } = await setup({ enable_octet_counting: true });
    const s = await connect();
    const data = Buffer.from(framed(L + 'one') + framed(L + 'two ünïcode') + framed(L + 'three'));
    for (const b of data) s.write(Buffer.from([b]));
    await waitFor(() => sink.logRecords.length === 3);
    expect(sink.logRecords.map((r) => r.body)).toEqual(['one', 'two ünïcode', 'three']);
  });

  it('a length that is not a number closes that connection only', async () => {
    const { sink, connect } = await setup({ enable_octet_counting: true });
    const bad = await connect();
    const good = await connect();
    bad.write('abc <14>1 - - - - - - x');
    expect(await closed(bad)).toBe(true);
    good.write(framed(L + 'fine'));
    await waitFor(() => sink.logRecords.length === 1);
  });

  it('oversized messages are skipped and counted, in both framings; the stream goes on', async () => {
    const a = await setup({ enable_octet_counting: true, max_octets: 100 });
    const s1 = await a.connect();
    s1.write(framed(L + 'x'.repeat(500)) + framed(L + 'after'));
    await waitFor(() => a.sink.logRecords.length === 1);
    expect(a.sink.logRecords[0]!.body).toBe('after');
    expect(a.metrics.sum('trailhouse_receiver_malformed_messages', { reason: 'oversized' })).toBe(1);

    const b = await setup({}, { max_log_size: 100 });
    const s2 = await b.connect();
    s2.write(L + 'y'.repeat(300));
    s2.write('y'.repeat(300) + '\n' + L + 'next\n');
    await waitFor(() => b.sink.logRecords.length === 1);
    expect(b.sink.logRecords[0]!.body).toBe('next');
  });

  it('NUL trailer', async () => {
    const { sink, connect } = await setup({ non_transparent_framing_trailer: 'NUL' });
    const s = await connect();
    s.write(`${L}a\n still a\0${L}b\0`);
    await waitFor(() => sink.logRecords.length === 2);
    expect(sink.logRecords.map((r) => r.body)).toEqual(['a\n still a', 'b']);
  });

  it('a line that does not parse is kept with the raw line as body, and counted', async () => {
    const { sink, connect, metrics } = await setup({});
    const s = await connect();
    s.write('not syslog at all\n');
    await waitFor(() => sink.logRecords.length === 1);
    expect(sink.logRecords[0]!.body).toBe('not syslog at all');
    expect(sink.logRecords[0]!.attributes).toEqual([]);
    expect(metrics.sum('trailhouse_receiver_malformed_messages', { reason: 'unparsed' })).toBe(1);
  });

  it('a sender that stops mid-message is closed after body_idle_timeout', async () => {
    const { connect } = await setup({ body_idle_timeout: 300 });
    const s = await connect();
    s.write(L + 'no newline yet');
    expect(await closed(s, 3000)).toBe(true);
  });

  it('backpressure: while the pipeline refuses, the batch is held and retried, nothing lost', async () => {
    const { sink, connect } = await setup({});
    sink.failWith = new RefusedError('full', 'queue_full', 1);
    const s = await connect();
    s.write(`${L}held 1\n${L}held 2\n`);
    await sleep(500);
    expect(sink.logPayloads).toHaveLength(0);
    sink.failWith = undefined;
    await waitFor(() => sink.logRecords.length === 2, 5000);
    s.write(`${L}after\n`);
    await waitFor(() => sink.logRecords.length === 3);
    expect(sink.logRecords.map((r) => r.body)).toEqual(['held 1', 'held 2', 'after']);
  });

  it('add_attributes adds the net.* attributes', async () => {
    const { sink, connect } = await setup({}, { add_attributes: true });
    const s = await connect();
    s.write(`${L}x\n`);
    await waitFor(() => sink.logRecords.length === 1);
    const keys = sink.logRecords[0]!.attributes.map((a) => a.key);
    expect(keys).toEqual(expect.arrayContaining(['net.transport', 'net.peer.ip', 'net.peer.port', 'net.host.ip', 'net.host.port']));
  });
});

describe('syslog config', () => {
  const base = defaultSyslogConfig();
  it('fails closed on exposure, bad zones and contradictory framing', () => {
    const paths = (c: SyslogConfig) => validateSyslog(c).map((e) => e.path);
    expect(paths(base)).toEqual(['']);
    expect(paths({ ...base, tcp: { ...syslogTcpDefaults(), listen_address: '0.0.0.0:514' } })).toEqual(['tcp.listen_address']);
    expect(paths({ ...base, tcp: { ...syslogTcpDefaults(), listen_address: '0.0.0.0:514' }, insecure: true })).toEqual([]);
    expect(paths({ ...base, udp: { ...syslogUdpDefaults(), listen_address: '0.0.0.0:514' } })).toEqual(['udp.listen_address']);
    expect(paths({ ...base, tcp: syslogTcpDefaults(), location: 'Mars/Olympus' })).toEqual(['location']);
    expect(paths({ ...base, tcp: syslogTcpDefaults(), enable_octet_counting: true, non_transparent_framing_trailer: 'LF' })).toEqual(['non_transparent_framing_trailer']);
  });
});
