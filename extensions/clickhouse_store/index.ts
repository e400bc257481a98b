export { clickhouseStoreFactory, ClickHouseStoreExtension } from './clickhouse-store.ts';
export { defaultClickHouseStoreConfig, type ClickHouseStoreConfig } from './config.ts';
