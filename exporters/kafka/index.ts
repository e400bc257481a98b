export { kafkaExporterFactory } from './factory.ts';
export { KafkaExporter } from './exporter.ts';
export { defaultKafkaExporterConfig, type KafkaExporterConfig, type Encoding } from './config.ts';
export { authDefaults, authSchema, createKafkaClient, validateClient, type AuthConfig } from './client.ts';
export { buildMessages, groupLogsByTrace, groupTracesByTrace, logsCodec, tracesCodec, nameMessages, MESSAGE_ID_HEADER } from './messages.ts';
