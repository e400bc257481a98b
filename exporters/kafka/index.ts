export { kafkaExporterFactory } from './factory.ts';
export { KafkaExporter } from './exporter.ts';
export { defaultKafkaExporterConfig, type KafkaExporterConfig } from './config.ts';
export type { Encoding } from '../../lib/kafka/encoding.ts';
export { authDefaults, authSchema, createKafkaClient, validateClient, type AuthConfig } from '../../lib/kafka/client.ts';
export { buildMessages, groupLogsByTrace, groupTracesByTrace, logsCodec, tracesCodec, nameMessages, MESSAGE_ID_HEADER } from '../../lib/kafka/messages.ts';
