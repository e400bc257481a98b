/**
 * The detectors' state in the store: one row per (detector, key, ingester),
 * the value a detector's own string (a time, or a small JSON object). A
 * ReplacingMergeTree keeps the latest row per key and ingester; reads take
 * argMax(Value, Updated) so they do not wait for merges. Each ingester
 * writes only its own rows; every ingester reads everyone's and merges them
 * (detector.load), at start and on every persist.
 */
import { bytesOf, nativeBlock, Sink } from '../../lib/clickhouse/index.ts';
import type { SqlStore } from '../../lib/clickhouse/sql-store.ts';

export interface StateRow {
  detector: string;
  key: string;
  value: string;
}

export interface LoadedRow extends StateRow {
  ingester: string;
  updated: number;
}

const COLUMNS = ['Detector', 'Key', 'Ingester', 'Value', 'Updated'] as const;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class StateTable {
  constructor(
    private readonly store: SqlStore,
    private readonly database: string,
    private readonly table: string,
    readonly ingester: string,
  ) {}

  private get name(): string {
    return `${this.database}.${this.table}`;
  }

  async create(): Promise<void> {
    await this.store.exec(`CREATE DATABASE IF NOT EXISTS ${this.database}`);
    await this.store.exec(`CREATE TABLE IF NOT EXISTS ${this.name} (
    Detector LowCardinality(String),
    Key String CODEC(ZSTD(1)),
    Ingester LowCardinality(String),
    Value String CODEC(ZSTD(1)),
    Updated UInt64
) ENGINE = ReplacingMergeTree(Updated)
ORDER BY (Detector, Key, Ingester)`);
  }

  /** Rows updated at or after `since` (ms; 0 = all), oldest first; `othersOnly` leaves this ingester's out. */
  async load(since: number, othersOnly: boolean): Promise<LoadedRow[]> {
    const where = [`Updated >= ${Math.floor(since)}`];
    if (othersOnly) where.push(`Ingester != ${quote(this.ingester)}`);
    const rows = await this.store.query<{ Detector: string; Key: string; Ingester: string; Value: string; U: string | number }>(
      `SELECT Detector, Key, Ingester, argMax(Value, Updated) AS Value, max(Updated) AS U FROM ${this.name} WHERE ${where.join(' AND ')} GROUP BY Detector, Key, Ingester ORDER BY U`,
    );
    return rows.map((r) => ({ detector: r.Detector, key: r.Key, ingester: r.Ingester, value: r.Value, updated: Number(r.U) }));
  }

  async write(rows: readonly StateRow[], now: number): Promise<void> {
    if (rows.length === 0) return;
    const json = () => rows.map((r) => JSON.stringify({ Detector: r.detector, Key: r.key, Ingester: this.ingester, Value: r.value, Updated: now })).join('\n');
    const native = () => {
      const n = rows.length;
      const cols = [new Sink(n * 16), new Sink(n * 64), new Sink(n * 16), new Sink(n * 32)];
      const updated = new BigUint64Array(n).fill(BigInt(now));
      for (const r of rows) {
        cols[0]!.str(r.detector);
        cols[1]!.str(r.key);
        cols[2]!.str(this.ingester);
        cols[3]!.str(r.value);
      }
      return nativeBlock(n, [
        ['Detector', 'String', [cols[0]!.data]],
        ['Key', 'String', [cols[1]!.data]],
        ['Ingester', 'String', [cols[2]!.data]],
        ['Value', 'String', [cols[3]!.data]],
        ['Updated', 'UInt64', [bytesOf(updated)]],
      ]);
    };
    await this.store.insert(this.name, COLUMNS, { json, native }, {});
  }
}
