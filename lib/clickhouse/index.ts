/**
 * The ClickHouse store as a library below the components: the connection
 * (embedded chDB or a server), the schema of the Collector's tables, the row
 * encoders (Native blocks, JSONEachRow), insert error classification, and the
 * small SQL seam the processors use. Components import it from here; they
 * never import each other.
 */
export { openStore, storeOptionsFor, currentEmbeddedStore, engineDir, type Store, type StoreLease, type StoreOptions, type InsertRequest } from './store.ts';
export { encodeLogs, encodeTraces, LOG_COLUMNS, SPAN_COLUMNS } from './rows.ts';
export { encodeLogsNative, encodeTracesNative, MapColumn, NATIVE_SUPPORTED, nativeBlock, Offsets, Sink, bytesOf, type NativeBlock } from './native.ts';
export { schemaStatements, type SchemaOptions } from './schema.ts';
export { classifyInsertError, clickhouseCode, ErrorCode } from './errors.ts';
export { openSqlStore, type Rows, type SqlStore, type SqlStoreHandle } from './sql-store.ts';
