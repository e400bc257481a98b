// Kafka sections written for the Collector load here unchanged, or fail with
// a reason (test/core/config.test.ts covers the config machinery itself).
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { errorsOf } from './config-errors.ts';
import type { KafkaExporterConfig } from '../../exporters/kafka/config.ts';
import { clientTls } from '../../lib/kafka/client.ts';
import type { KafkaReceiverConfig } from '../../receivers/kafka/config.ts';

const registry = builtinRegistry();

function load(yaml: string) {
  return loadConfigText(yaml, registry, {});
}


const pipelines = `
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [kafka]}
    logs: {receivers: [kafka], exporters: [debug]}
`;

describe('Collector kafka sections', () => {
  it('a gateway/ingester pair as the Collector README writes them', () => {
    const cfg = load(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    brokers: ["kafka-1:9092", "kafka-2:9092"]
    protocol_version: 2.1.0
    group_id: ingesters
    initial_offset: earliest
    max_fetch_size: 16MiB
    logs: {topic: otlp_logs, encoding: otlp_proto}
    tls: {ca_file: /etc/kafka/ca.pem, server_name_override: kafka.internal, min_version: "1.3"}
exporters:
  debug:
  kafka:
    brokers: ["kafka-1:9092"]
    protocol_version: 3.7.0
    traces: {topic: otlp_spans}
    partition_traces_by_id: true
    record_headers: {team: payments, env: prod}
    producer: {compression: lz4, allow_auto_topic_creation: false}
    auth:
      sasl: {mechanism: SCRAM-SHA-512, username: svc, password: pw}
      tls: {insecure_skip_verify: true}
${pipelines}`);
    const exp = cfg.exporters.get('kafka')!.config as KafkaExporterConfig;
    expect(exp.protocol_version).toBe('3.7.0');
    expect(exp.record_headers).toEqual({ team: 'payments', env: 'prod' });
    expect(exp.producer).toMatchObject({ compression: 'lz4', allow_auto_topic_creation: false });
    // auth.tls, the Collector's place before v0.124, still works.
    expect(clientTls(exp)).toMatchObject({ insecure_skip_verify: true, min_version: '1.2' });
    const rcv = cfg.receivers.get('kafka')!.config as KafkaReceiverConfig;
    expect(rcv.max_fetch_size).toBe(16 * 1024 * 1024);
    expect(clientTls(rcv)).toMatchObject({ ca_file: '/etc/kafka/ca.pem', server_name_override: 'kafka.internal', min_version: '1.3' });
  });

  it('refuses what it cannot honour, each with its reason', () => {
    const errors = errorsOf(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    protocol_version: latest
    autocommit: {enable: true, interval: 1s}
    message_marking: {after: false, on_error: true}
    max_fetch_size: 1KiB
exporters:
  debug:
  kafka:
    tls: {cert_file: /c.pem}
    auth: {tls: {}}
    record_headers: {trailhouse-id: x}
${pipelines}`);
    expect(errors).toEqual([
      'receivers.kafka.protocol_version: expected a Kafka version like 2.1.0, got "latest"',
      'receivers.kafka.max_fetch_size: must be at least default_fetch_size (4194304), or 0',
      expect.stringMatching(/^receivers\.kafka\.autocommit: not configurable here: offsets are committed only after the pipeline/),
      expect.stringMatching(/^receivers\.kafka\.message_marking: not configurable here/),
      'exporters.kafka.auth.tls: TLS is set both here and in tls: keep the top-level tls only',
      'exporters.kafka.tls: cert_file and key_file must be given together',
      'exporters.kafka.record_headers.trailhouse-id: is the header the exporter names each message with; choose another',
    ]);
  });
});
