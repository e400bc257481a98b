/**
 * Every built-in component, registered by kind and type. A new component is
 * one import and one list entry here.
 */
import type { Factory } from './core/component.ts';
import { Registry } from './core/registry.ts';
import { otlpFactory } from './receivers/otlp/index.ts';
import { jaegerFactory } from './receivers/jaeger/index.ts';
import { zipkinFactory } from './receivers/zipkin/index.ts';
import { fluentForwardFactory } from './receivers/fluentforward/index.ts';
import { syslogFactory } from './receivers/syslog/index.ts';
import { filelogFactory } from './receivers/filelog/index.ts';
import { batchFactory } from './processors/batch/index.ts';
import { memoryLimiterFactory } from './processors/memory_limiter/index.ts';
import { auditFactory } from './processors/audit/index.ts';
import { correlateFactory } from './processors/correlate/index.ts';
import { detectFactory } from './processors/detect/index.ts';
import { redactionFactory } from './processors/redaction/index.ts';
import { attributesFactory } from './processors/attributes/index.ts';
import { resourceFactory } from './processors/resource/index.ts';
import { filterFactory } from './processors/filter/index.ts';
import { transformFactory } from './processors/transform/index.ts';
import { debugFactory } from './exporters/debug/index.ts';
import { kafkaExporterFactory } from './exporters/kafka/index.ts';
import { spoolExporterFactory } from './exporters/spool/spool.ts';
import { clickhouseFactory } from './exporters/clickhouse/index.ts';
import { otlpExporterFactory } from './exporters/otlp/index.ts';
import { otlpHttpExporterFactory } from './exporters/otlphttp/index.ts';
import { kafkaReceiverFactory } from './receivers/kafka/index.ts';
import { spoolReceiverFactory } from './receivers/spool/spool.ts';
import { lokiFactory } from './receivers/loki/index.ts';
import { datadogFactory } from './receivers/datadog/index.ts';
import { beatsFactory } from './receivers/beats/index.ts';
import { fileStorageFactory } from './extensions/file_storage/index.ts';
import { healthCheckFactory } from './extensions/health_check/index.ts';
import { clickhouseStoreFactory } from './extensions/clickhouse_store/index.ts';
import { bearerTokenAuthFactory } from './extensions/bearertokenauth/index.ts';
import { basicAuthFactory } from './extensions/basicauth/index.ts';
import { alertsFactory } from './extensions/alerts/index.ts';
import { consoleFactory } from './extensions/console/index.ts';
import { forwardFactory } from './connectors/forward/index.ts';
import { routingFactory } from './connectors/routing/index.ts';

export const builtinFactories: Factory[] = [
  // receivers
  otlpFactory as Factory,
  jaegerFactory as Factory,
  zipkinFactory as Factory,
  kafkaReceiverFactory as Factory,
  spoolReceiverFactory as Factory,
  lokiFactory as Factory,
  datadogFactory as Factory,
  beatsFactory as Factory,
  fluentForwardFactory as Factory,
  syslogFactory as Factory,
  filelogFactory as Factory,

  // processors
  batchFactory as Factory,
  memoryLimiterFactory as Factory,
  auditFactory as Factory,
  correlateFactory as Factory,
  detectFactory as Factory,
  redactionFactory as Factory,
  attributesFactory as Factory,
  resourceFactory as Factory,
  filterFactory as Factory,
  transformFactory as Factory,

  // exporters
  debugFactory as Factory,
  kafkaExporterFactory as Factory,
  spoolExporterFactory as Factory,
  clickhouseFactory as Factory,
  otlpExporterFactory as Factory,
  otlpHttpExporterFactory as Factory,

  // extensions
  healthCheckFactory as Factory,
  fileStorageFactory as Factory,
  alertsFactory as Factory,
  consoleFactory as Factory,
  clickhouseStoreFactory as Factory,
  bearerTokenAuthFactory as Factory,
  basicAuthFactory as Factory,

  // connectors
  forwardFactory as Factory,
  routingFactory as Factory,
];

export function builtinRegistry(): Registry {
  return new Registry(builtinFactories);
}
