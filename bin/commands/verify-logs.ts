/**
 * `trailhouse proof`'s reads of the clickhouse exporter's log over otel_logs
 * by connection (the queries: lib/audit/verify-logs-store.ts).
 */
import * as logs from '../../lib/audit/verify-logs-store.ts';
import type { AuditTables } from '../../lib/audit/verify-store.ts';
import type { Conn } from './oncall-http.ts';
import { httpSource } from './verify-store.ts';

export const isLogsTable = (c: Conn, table: string): Promise<boolean> => logs.isLogsTable(httpSource(c), table);
export const logsRowsPage = (c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> => logs.logsRowsPage(httpSource(c), t, origin, from, to);
export const logsLeavesPage = (c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> => logs.logsLeavesPage(httpSource(c), t, origin, from, to);
