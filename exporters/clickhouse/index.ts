export { clickhouseFactory, ClickHouseExporterComponent } from './factory.ts';
export { defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
export { ClickHouseExporter, schemaOptions } from './exporter.ts';
export { openStore, storeOptionsFor, currentEmbeddedStore, engineDir, type Store, type StoreLease, type StoreOptions, type InsertRequest } from './store.ts';
export { QueryServer, acquireQueryServer, type QueryServerLease } from './query-server.ts';
export { encodeLogs, encodeTraces, LOG_COLUMNS, SPAN_COLUMNS } from './rows.ts';
export { asString } from './anyvalue.ts';
export { schemaStatements, type SchemaOptions } from './schema.ts';
export { classifyInsertError, clickhouseCode, ErrorCode } from './errors.ts';
