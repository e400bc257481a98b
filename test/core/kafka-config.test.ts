// Kafka sections written for the Collector load here unchanged, or fail with
// a reason (test/core/config.test.ts covers the config machinery itself).
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { errorsOf } from './config-errors.ts';
import type { KafkaExporterConfig } from '../../exporters/kafka/config.ts';
import { staticHeaders } from '../../exporters/kafka/collector-keys.ts';
import { clientTls } from '../../lib/kafka/client.ts';
import { partitionFetchSize, receiverTopics, type KafkaReceiverConfig } from '../../receivers/kafka/config.ts';

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

  it('a Collector 0.165 ingester section (its README keys and defaults written out) loads unchanged', () => {
    const cfg = load(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    brokers: ["localhost:9092"]
    protocol_version: 2.1.0
    client_id: otel-collector
    group_id: otel-collector
    rack_id: rack-a
    use_leader_epoch: false
    dial_timeout: 10s
    initial_offset: latest
    session_timeout: 10s
    heartbeat_interval: 3s
    min_fetch_size: 1
    max_fetch_size: 1048576
    max_fetch_wait: 250ms
    max_partition_fetch_size: 1048576
    logs:
      topics: [otlp_logs, mesh_logs]
      encoding: otlp_proto
    traces:
      topics: [otlp_spans]
    header_extraction:
      extract_headers: true
      headers: ["x-tenant"]
    error_backoff:
      enabled: true
      initial_interval: 1s
      max_interval: 10s
      multiplier: 1.5
      randomization_factor: 0.2
      max_elapsed_time: 0
    message_marking: {after: true, on_error: false, on_permanent_error: true}
    metadata: {full: true, refresh_interval: 10m}
    telemetry: {metrics: {kafka_receiver_records_delay: {enabled: false}}}
    auth:
      sasl: {mechanism: SCRAM-SHA-512, username: svc, password: pw, version: 1}
exporters:
  debug:
  kafka:
${pipelines}`);
    const rcv = cfg.receivers.get('kafka')!.config as KafkaReceiverConfig;
    expect(receiverTopics(rcv, 'logs')).toEqual(['otlp_logs', 'mesh_logs']);
    expect(receiverTopics(rcv, 'traces')).toEqual(['otlp_spans']);
    // The Collector's default max_fetch_size (1 MiB, below our per-partition default) is taken as written.
    expect(rcv.max_fetch_size).toBe(1024 * 1024);
    expect(partitionFetchSize(rcv)).toBe(1024 * 1024);
    expect(rcv).toMatchObject({ rack_id: 'rack-a', dial_timeout: 10_000, metadata: { refresh_interval: 600_000 } });
    expect(rcv.error_backoff).toMatchObject({ initial_interval: 1_000, max_interval: 10_000, multiplier: 1.5, randomization_factor: 0.2 });
    expect(rcv.auth.sasl).toMatchObject({ mechanism: 'SCRAM-SHA-512', version: 1 });
  });

  it('the older topic still works, and the defaults are the signal topics', () => {
    const cfg = load(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    logs: {topic: legacy_logs}
    default_fetch_size: 2MiB
exporters: {debug: , kafka: }
${pipelines}`);
    const rcv = cfg.receivers.get('kafka')!.config as KafkaReceiverConfig;
    expect(receiverTopics(rcv, 'logs')).toEqual(['legacy_logs']);
    expect(receiverTopics(rcv, 'traces')).toEqual(['otlp_spans']);
    expect(partitionFetchSize(rcv)).toBe(2 * 1024 * 1024);
  });

  // This section also passes `validate` of a Collector 0.165 built with its builder.
  it('a Collector 0.165 gateway section (record_headers as a list, signal_header, required_acks all, linger) loads unchanged', () => {
    const cfg = load(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
exporters:
  debug:
  kafka:
    brokers: ["localhost:9092"]
    client_id: otel-collector
    timeout: 5s
    logs: {topic: otlp_logs, encoding: otlp_proto, topic_from_metadata_key: "", message_key_from_metadata_key: ""}
    traces: {topic: otlp_spans}
    include_metadata_keys: [x-tenant]
    record_headers:
      - {name: some-key, value: some-value}
      - {name: some-key, value: another-value}
      - {name: new-key, value: new-value}
    signal_header: true
    topic_from_attribute: ""
    partition_traces_by_id: true
    partition_logs_by_trace_id: true
    partition_logs_by_resource_attributes: false
    partition_metrics_by_resource_attributes: false
    record_partitioner: {sticky_key: {hasher: sarama_compat}}
    producer:
      max_message_bytes: 1000000
      required_acks: all
      compression: gzip
      compression_params: {level: -1}
      flush_max_messages: 10000
      max_inflight_requests_per_broker: 1
      allow_auto_topic_creation: true
      linger: 10ms
    retry_on_failure: {enabled: true, initial_interval: 5s, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30s, max_elapsed_time: 300s}
    sending_queue:
      enabled: true
      num_consumers: 10
      queue_size: 100000
      sizer: items
      block_on_overflow: false
      wait_for_result: false
      batch: {flush_timeout: 200ms, sizer: items, min_size: 8192, partition: {metadata_keys: [x-tenant]}}
${pipelines}`);
    const exp = cfg.exporters.get('kafka')!.config as KafkaExporterConfig;
    expect(staticHeaders(exp.record_headers)).toEqual({ 'some-key': ['some-value', 'another-value'], 'new-key': 'new-value' });
    expect(exp.signal_header).toBe(true);
    expect(exp.producer).toMatchObject({ required_acks: -1, compression: 'gzip', linger: 10, flush_max_messages: 10_000 });
    expect(exp.sending_queue).toMatchObject({ sizer: 'items', queue_size: 100_000 });
    expect(exp.retry_on_failure.randomization_factor).toBe(0.5);
  });

  it('refuses each Collector key it cannot honour, by name, with the reason', () => {
    const errors = errorsOf(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    autocommit: {enable: true, interval: 1s}
    message_marking: {after: false, on_error: true}
    group_rebalance_strategies: [cooperative-sticky]
    group_instance_id: ingester-1
    partition_processing: {independent: true}
    max_decompress_batch_bytes: 1073741824
    conn_idle_timeout: 9m
    use_leader_epoch: true
    metrics: {topics: [otlp_metrics]}
    logs: {exclude_topics: ["^logs-test$"]}
    auth: {kerberos: {service_name: kafka}}
exporters:
  debug:
  kafka:
    topic_from_attribute: tenant
    signal_header: true
    record_headers: [{name: otelcol.signal, value: x}]
    traces: {topic_from_metadata_key: x-topic}
    record_partitioner: {round_robin: {}}
    producer: {compression_params: {level: 9}, max_inflight_requests_per_broker: 5, max_broker_write_bytes: 104857600}
    sending_queue: {sizer: bytes, block_on_overflow: true, wait_for_result: true, batch: {sizer: bytes, partition: {cache_size: 10}}}
${pipelines}`);
    const byPath = Object.fromEntries(errors.map((e) => [e.slice(0, e.indexOf(': ')), e.slice(e.indexOf(': ') + 2)]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'exporters.kafka.producer.compression_params.level',
        'exporters.kafka.producer.max_broker_write_bytes',
        'exporters.kafka.producer.max_inflight_requests_per_broker',
        'exporters.kafka.record_partitioner.round_robin',
        'exporters.kafka.sending_queue.batch.partition.cache_size',
        'exporters.kafka.sending_queue.batch.sizer',
        'exporters.kafka.sending_queue.block_on_overflow',
        'exporters.kafka.sending_queue.sizer',
        'exporters.kafka.sending_queue.wait_for_result',
        'exporters.kafka.topic_from_attribute',
        'exporters.kafka.traces.topic_from_metadata_key',
        'receivers.kafka.auth.kerberos',
        'receivers.kafka.autocommit',
        'receivers.kafka.conn_idle_timeout',
        'receivers.kafka.group_instance_id',
        'receivers.kafka.group_rebalance_strategies',
        'receivers.kafka.logs.exclude_topics',
        'receivers.kafka.max_decompress_batch_bytes',
        'receivers.kafka.message_marking',
        'receivers.kafka.metrics',
        'receivers.kafka.partition_processing',
        'receivers.kafka.use_leader_epoch',
      ].sort(),
    );
    // Each says why, and what to use instead where there is something.
    expect(byPath['receivers.kafka.autocommit']).toMatch(/offsets are committed only after the pipeline/);
    expect(byPath['receivers.kafka.group_rebalance_strategies']).toMatch(/TrailhouseCoPartitioned/);
    expect(byPath['receivers.kafka.partition_processing']).toMatch(/use max_inflight_batches/);
    expect(byPath['receivers.kafka.auth.kerberos']).toMatch(/no GSSAPI/);
    expect(byPath['exporters.kafka.topic_from_attribute']).toMatch(/routing connector/);
    expect(byPath['exporters.kafka.sending_queue.sizer']).toMatch(/bytes is not offered/);
    expect(byPath['exporters.kafka.sending_queue.block_on_overflow']).toMatch(/429/);
    expect(byPath['exporters.kafka.sending_queue.wait_for_result']).toMatch(/sending_queue\.enabled: false/);
    expect(byPath['exporters.kafka.record_partitioner.round_robin']).toMatch(/use sticky_key/);
  });

  it('checks what it honours: topics form, fetch sizes, backoff, reserved headers', () => {
    const errors = errorsOf(`
receivers:
  otlp: {protocols: {grpc: {}}}
  kafka:
    protocol_version: latest
    logs: {topic: a, topics: [b]}
    traces: {topics: ["^spans-.*", b]}
    default_fetch_size: 1MiB
    max_partition_fetch_size: 1MiB
    min_fetch_size: 2KiB
    max_fetch_size: 1KiB
    error_backoff: {enabled: false, max_elapsed_time: 1m}
exporters:
  debug:
  kafka:
    tls: {cert_file: /c.pem}
    auth: {tls: {}}
    signal_header: true
    include_metadata_keys: [otelcol.signal]
    record_headers: {trailhouse-id: x}
${pipelines}`);
    expect(errors).toEqual([
      'receivers.kafka.protocol_version: expected a Kafka version like 2.1.0, got "latest"',
      'receivers.kafka.logs.topic: set logs.topics or the older logs.topic, not both',
      expect.stringMatching(/^receivers\.kafka\.traces\.topics\[0\]: regex topics \(\^pattern\) are not supported: .*list the topics by name$/),
      'receivers.kafka.traces.topics: must not name a logs topic ("b"): a topic carries one signal here',
      "receivers.kafka.default_fetch_size: set max_partition_fetch_size (the Collector's current name) or default_fetch_size, not both",
      'receivers.kafka.max_fetch_size: must be at least min_fetch_size (2048), or 0',
      expect.stringMatching(/^receivers\.kafka\.error_backoff\.enabled: only true is accepted/),
      expect.stringMatching(/^receivers\.kafka\.error_backoff\.max_elapsed_time: only 0 .*never stored$/),
      'exporters.kafka.auth.tls: TLS is set both here and in tls: keep the top-level tls only',
      'exporters.kafka.tls: cert_file and key_file must be given together',
      'exporters.kafka.record_headers.trailhouse-id: is the header the exporter names each message with; choose another',
      'exporters.kafka.include_metadata_keys[0]: is reserved when signal_header is enabled (the Collector refuses it too)',
    ]);
  });
});
