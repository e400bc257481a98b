export { clickhouseFactory, ClickHouseExporterComponent } from './factory.ts';
export { defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
export { ClickHouseExporter, schemaOptions } from './exporter.ts';
export { QueryServer, acquireQueryServer, type QueryServerLease } from '../../lib/clickhouse/query/query-server.ts';
