export { clickhouseFactory, ClickHouseExporterComponent } from './factory.ts';
export { defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
export { ClickHouseExporter, schemaOptions } from './exporter.ts';
export { QueryServer, acquireQueryServer, type QueryServerLease } from './query-server.ts';
