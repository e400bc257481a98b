/**
 * The syslog receiver with the real senders a host runs: Debian's rsyslog
 * (omfwd: TCP octet-counted RFC 5424, TCP LF-framed RFC 3164, UDP, TLS with
 * a client certificate) and syslog-ng (syslog(): RFC 5424 octet-counted over
 * TCP and TLS; network(): RFC 3164 LF-framed), each run in the foreground
 * with a config in a temp dir and fed by util-linux `logger`. An Istio
 * access line through syslog is classified as the same line over OTLP.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger, waitFor } from '../../test/helpers.ts';
import { compileRules, classifyRecord } from '../../processors/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { ENVOY_RBAC_DENIED, envoyOtel, ISTIO_LINES, istioText } from '../../processors/audit/testdata/fixtures.ts';
import { defaultSyslogConfig, syslogTcpDefaults, syslogUdpDefaults, type SyslogConfig } from './config.ts';
import { SyslogReceiver } from './receiver.ts';
import { logTo, startRsyslog, startSyslogNg, type Peer } from './peers.ts';

const tlsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'testdata', 'tls');
const tlsFile = (n: string) => path.join(tlsDir, n);
const serverTls = { cert_file: tlsFile('server.crt'), key_file: tlsFile('server.key'), client_ca_file: tlsFile('ca.crt'), min_version: '1.2' as const };

const dirs: string[] = [];
const peers: Peer[] = [];
const receivers: SyslogReceiver[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.shutdown()));
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'th-syslog-'));
  dirs.push(d);
  return d;
}

async function receiver(cfg: Partial<SyslogConfig>) {
  const sink = new RecordingConsumer();
  const r = new SyslogReceiver({ id: 'syslog', config: { ...defaultSyslogConfig(), ...cfg }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink });
  await r.start();
  receivers.push(r);
  const port = (a: string) => Number(a.slice(a.lastIndexOf(':') + 1));
  return { r, sink, tcpPort: port(r.tcpAddress), udpPort: port(r.udpAddress) };
}

const tcp = (over: Partial<SyslogConfig['tcp'] & object> = {}) => ({ ...syslogTcpDefaults(), listen_address: '127.0.0.1:0', ...over });
const rules = compileRules(defaultAuditRules());
const withoutTime = (events: { time: bigint }[]) => events.map(({ time: _t, ...e }) => e);

describe('rsyslog → syslog receiver', () => {
  it('TCP octet-counted RFC 5424 (RSYSLOG_SyslogProtocol23Format): fields, severity, and an Istio line classified as over OTLP', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc5424', enable_octet_counting: true, tcp: tcp() });
    const peer = await startRsyslog(tmp(), `action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`);
    peers.push(peer);
    logTo(peer.sock, 'payments', 'card declined', 'local0.warning');
    logTo(peer.sock, 'istio-proxy', ISTIO_LINES.rbacDenied);
    await waitFor(() => sink.logRecords.length === 2, 20_000, 'two records from rsyslog');
    const [a, b] = sink.logRecords;
    expect(a!.body).toBe('card declined');
    expect(a!.severityText).toBe('warning');
    expect(a!.severityNumber).toBe(13);
    expect(getAttr(a!.attributes, 'appname')).toBe('payments');
    expect(getAttr(a!.attributes, 'facility')).toBe(16n);
    expect(getAttr(a!.attributes, 'hostname')).toBe(os.hostname().split('.')[0]);
    expect(a!.timeUnixNano).toBeGreaterThan(0n);
    const overSyslog = classifyRecord(b!, [], rules);
    expect(overSyslog.length).toBeGreaterThan(0);
    expect(withoutTime(overSyslog)).toEqual(withoutTime(classifyRecord(istioText(ISTIO_LINES.rbacDenied), [], rules)));
  });

  it('TCP LF-framed RFC 3164 (the traditional forward format) and a JSON access log', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc3164', tcp: tcp() });
    const peer = await startRsyslog(tmp(), `action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp")`);
    peers.push(peer);
    logTo(peer.sock, 'envoy', JSON.stringify(ENVOY_RBAC_DENIED));
    await waitFor(() => sink.logRecords.length === 1, 20_000);
    const r = sink.logRecords[0]!;
    expect(getAttr(r.attributes, 'appname')).toBe('envoy');
    expect(getAttr(r.attributes, 'response_code_details')).toBe(ENVOY_RBAC_DENIED.response_code_details);
    const events = classifyRecord(r, [], rules);
    expect(events.map((e) => e.category)).toContain('authorization');
    expect(withoutTime(events)).toEqual(withoutTime(classifyRecord(envoyOtel(ENVOY_RBAC_DENIED, false), [], rules)));
  });

  it('UDP', async () => {
    const { sink, udpPort } = await receiver({ protocol: 'rfc3164', udp: { ...syslogUdpDefaults(), listen_address: '127.0.0.1:0' } });
    const peer = await startRsyslog(tmp(), `action(type="omfwd" target="127.0.0.1" port="${udpPort}" protocol="udp")`);
    peers.push(peer);
    for (let i = 0; i < 5; i++) logTo(peer.sock, 'udp-app', `datagram ${i}`);
    await waitFor(() => sink.logRecords.length === 5, 20_000);
    expect(sink.logRecords.map((r) => r.body)).toEqual([0, 1, 2, 3, 4].map((i) => `datagram ${i}`));
  });

  it('TLS (RFC 5425, octet-counted) with a client certificate', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc5424', enable_octet_counting: true, tcp: tcp({ tls: serverTls }) });
    const peer = await startRsyslog(
      tmp(),
      `action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost")`,
      `DefaultNetstreamDriverCAFile="${tlsFile('ca.crt')}" DefaultNetstreamDriverCertFile="${tlsFile('client.crt')}" DefaultNetstreamDriverKeyFile="${tlsFile('client.key')}"`,
    );
    peers.push(peer);
    logTo(peer.sock, 'secure', 'over tls');
    await waitFor(() => sink.logRecords.length === 1, 20_000, 'a record over TLS');
    expect(sink.logRecords[0]!.body).toBe('over tls');
  });
});

describe('syslog-ng → syslog receiver', () => {
  it('syslog() destination: RFC 5424 octet-counted over TCP', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc5424', enable_octet_counting: true, tcp: tcp() });
    const peer = await startSyslogNg(tmp(), `syslog("127.0.0.1" port(${tcpPort}) transport("tcp"))`);
    peers.push(peer);
    logTo(peer.sock, 'istio-proxy', ISTIO_LINES.tlsVerifyFailed, 'daemon.err');
    await waitFor(() => sink.logRecords.length === 1, 20_000, 'a record from syslog-ng');
    const r = sink.logRecords[0]!;
    expect(r.severityText).toBe('err');
    expect(getAttr(r.attributes, 'appname')).toBe('istio-proxy');
    expect(withoutTime(classifyRecord(r, [], rules))).toEqual(withoutTime(classifyRecord(istioText(ISTIO_LINES.tlsVerifyFailed), [], rules)));
  });

  it('network() destination: RFC 3164 LF-framed over TCP', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc3164', tcp: tcp() });
    const peer = await startSyslogNg(tmp(), `network("127.0.0.1" port(${tcpPort}) transport("tcp"))`);
    peers.push(peer);
    logTo(peer.sock, 'app', 'first');
    logTo(peer.sock, 'app', 'second');
    await waitFor(() => sink.logRecords.length === 2, 20_000);
    expect(sink.logRecords.map((r) => r.body)).toEqual(['first', 'second']);
  });

  it('syslog() over TLS with a client certificate', async () => {
    const { sink, tcpPort } = await receiver({ protocol: 'rfc5424', enable_octet_counting: true, tcp: tcp({ tls: serverTls }) });
    const peer = await startSyslogNg(
      tmp(),
      `syslog("127.0.0.1" port(${tcpPort}) transport("tls") tls(ca-file("${tlsFile('ca.crt')}") cert-file("${tlsFile('client.crt')}") key-file("${tlsFile('client.key')}") peer-verify(required-trusted)))`,
    );
    peers.push(peer);
    logTo(peer.sock, 'secure', 'syslog-ng over tls');
    await waitFor(() => sink.logRecords.length === 1, 20_000, 'a record over TLS from syslog-ng');
    expect(sink.logRecords[0]!.body).toBe('syslog-ng over tls');
  });
});
